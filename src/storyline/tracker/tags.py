"""Tags and the tags of stories.

As in StoryBoard, anyone signed in may create tags and tag the stories they
can see; tag names are shared by all stories. Reads go through the
visibility gate: the tags of a private story are as invisible as the story,
and a tag that only private stories carry is listed to no one else
(`access.tag_visibility`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, field_validator
from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storyline.domain import events
from storyline.errors import Conflict, InvalidInput, NotFound
from storyline.kernel import timeline
from storyline.kernel.access import (
    Actor,
    get_story,
    require_user,
    story_visibility,
    tag_visibility,
)
from storyline.kernel.paging import Page, PageRequest, paginate
from storyline.kernel.schema import utcnow
from storyline.kernel.text import contains
from storyline.tracker.models import Story, StoryTag, Tag

MAX_TAG_LENGTH = 255
# More than this in one request is a script gone wrong, not tagging.
MAX_TAGS_PER_REQUEST = 100

TAG_SORT = {
    "id": Tag.id,
    "name": Tag.name,
    "created_at": Tag.created_at,
    "updated_at": Tag.updated_at,
}


def check_tag_name(value: str) -> str:
    """The tag name to store, or ValueError with what is wrong with it.

    Commas are refused because tags travel as comma-separated lists in URLs
    and in the web client's tag input; surrounding whitespace is dropped.
    """
    name = value.strip()
    if not name:
        raise ValueError("must not be empty")
    if len(name) > MAX_TAG_LENGTH:
        raise ValueError(f"must be at most {MAX_TAG_LENGTH} characters")
    if "," in name:
        raise ValueError("must not contain commas")
    return name


class TagIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: str

    _name = field_validator("name")(check_tag_name)

    @classmethod
    def from_body(cls, body: dict[str, object]) -> TagIn:
        """StoryBoard's field is `tag_name`; python-storyboardclient sends
        `name`. Both are accepted, and errors name `tag_name`."""
        name = body.get("tag_name", body.get("name"))
        if name is None:
            raise InvalidInput.field("tag_name", "is required")
        if not isinstance(name, str):
            raise InvalidInput.field("tag_name", "must be a string")
        try:
            return cls(name=check_tag_name(name))
        except ValueError as error:
            raise InvalidInput.field("tag_name", str(error)) from None


@dataclass(frozen=True, kw_only=True)
class TagFilter:
    story_id: int | None = None
    name: str | None = None


def list_tags(
    session: Session, *, actor: Actor, filters: TagFilter, page: PageRequest
) -> Page[Tag]:
    stmt = select(Tag).where(tag_visibility(actor))
    if filters.story_id is not None:
        get_story(session, actor=actor, story_id=filters.story_id)
        stmt = stmt.where(
            Tag.id.in_(select(StoryTag.tag_id).where(StoryTag.story_id == filters.story_id))
        )
    if filters.name:
        stmt = stmt.where(contains(Tag.name, filters.name))
    return paginate(session, stmt, model=Tag, page=page, sortable=TAG_SORT)


def get_tag(session: Session, *, tag_id: int, actor: Actor, story_id: int | None = None) -> Tag:
    """A tag by id, if `actor` may see it; with `story_id`, only if that story
    is visible to them and carries the tag."""
    stmt = select(Tag).where(Tag.id == tag_id, tag_visibility(actor))
    if story_id is not None:
        get_story(session, actor=actor, story_id=story_id)
        stmt = stmt.where(Tag.id.in_(select(StoryTag.tag_id).where(StoryTag.story_id == story_id)))
    tag = session.scalars(stmt).one_or_none()
    if tag is None:
        raise NotFound.of("tag", tag_id)
    return tag


def popularity(session: Session, *, actor: Actor, tag_ids: Iterable[int]) -> dict[int, int]:
    """How many stories `actor` can see carry each tag, in one query.

    Only visible stories count, so a number never hints at private ones.
    """
    ids = list(tag_ids)
    if not ids:
        return {}
    stmt = (
        select(StoryTag.tag_id, func.count())
        .join(Story, Story.id == StoryTag.story_id)
        .where(StoryTag.tag_id.in_(ids), story_visibility(actor))
        .group_by(StoryTag.tag_id)
    )
    counts: dict[int, int] = dict.fromkeys(ids, 0)
    for tag_id, count in session.execute(stmt):
        counts[tag_id] = count
    return counts


def create_tag(session: Session, *, actor: Actor, data: TagIn) -> Tag:
    require_user(actor)
    if _find(session, [data.name]):
        raise Conflict(f"A tag named {data.name!r} already exists.", details={"field": "name"})
    return _get_or_create(session, data.name)


def story_tag_names(session: Session, *, story_ids: Iterable[int]) -> dict[int, list[str]]:
    """The tag names of many stories, in one query, sorted by name."""
    ids = list(story_ids)
    result: dict[int, list[str]] = {story_id: [] for story_id in ids}
    if not ids:
        return result
    stmt = (
        select(StoryTag.story_id, Tag.name)
        .join(Tag, Tag.id == StoryTag.tag_id)
        .where(StoryTag.story_id.in_(ids))
        .order_by(StoryTag.story_id, Tag.name)
    )
    for story_id, name in session.execute(stmt):
        result[story_id].append(name)
    return result


def _check_names(names: Sequence[str]) -> list[str]:
    """Validated, de-duplicated (ignoring case) names in the order given."""
    if len(names) > MAX_TAGS_PER_REQUEST:
        raise InvalidInput.field("tags", f"at most {MAX_TAGS_PER_REQUEST} tags at a time")
    result: list[str] = []
    seen: set[str] = set()
    for raw in names:
        try:
            name = check_tag_name(raw)
        except ValueError as error:
            raise InvalidInput.field("tags", f"{raw!r} {error}") from None
        if name.lower() not in seen:
            seen.add(name.lower())
            result.append(name)
    return result


def _find(session: Session, names: Sequence[str]) -> dict[str, Tag]:
    """Existing tags for `names`, keyed by lower-cased name.

    Matching ignores case so that "Bug" and "bug" stay one tag, as they were
    in StoryBoard's case-insensitive MySQL collation.
    """
    if not names:
        return {}
    stmt = select(Tag).where(func.lower(Tag.name).in_([n.lower() for n in names]))
    return {tag.name.lower(): tag for tag in session.scalars(stmt)}


def _get_or_create(session: Session, name: str) -> Tag:
    # Two requests may add the same new tag at once (PostgreSQL; SQLite
    # serializes writers): the loser of the race takes the winner's row.
    try:
        with session.begin_nested():
            tag = Tag(name=name)
            session.add(tag)
            session.flush()
        return tag
    except IntegrityError:
        return session.scalars(select(Tag).where(Tag.name == name)).one()


def ensure_tags(session: Session, names: Sequence[str]) -> list[Tag]:
    """The tags with these names (validated; field `tags`), creating the
    missing ones. The one place where tags come into existence for stories."""
    wanted = _check_names(names)
    existing = _find(session, wanted)
    return [existing.get(name.lower()) or _get_or_create(session, name) for name in wanted]


def add_story_tags(session: Session, *, actor: Actor, story_id: int, names: Sequence[str]) -> Story:
    """Tag a story, creating tags that don't exist yet; records `tags_added`."""
    user_id = require_user(actor)
    story = get_story(session, actor=actor, story_id=story_id)
    tags = ensure_tags(session, names)
    present = set(
        session.scalars(select(StoryTag.tag_id).where(StoryTag.story_id == story.id)).all()
    )
    added = [tag for tag in tags if tag.id not in present]
    if added:
        session.execute(
            insert(StoryTag), [{"story_id": story.id, "tag_id": tag.id} for tag in added]
        )
        timeline.record(
            session,
            event_type=events.TAGS_ADDED,
            author_id=user_id,
            story_id=story.id,
            info={"story_title": story.title, "tags": [tag.name for tag in added]},
        )
        story.updated_at = utcnow()
        session.flush()
    return story


def remove_story_tags(
    session: Session, *, actor: Actor, story_id: int, names: Sequence[str]
) -> Story:
    """Untag a story; names it doesn't carry are ignored. Records `tags_deleted`
    (StoryBoard's name)."""
    user_id = require_user(actor)
    story = get_story(session, actor=actor, story_id=story_id)
    wanted = _check_names(names)
    if not wanted:
        return story
    lowered = [name.lower() for name in wanted]
    rows = session.execute(
        select(Tag.id, Tag.name)
        .join(StoryTag, StoryTag.tag_id == Tag.id)
        .where(StoryTag.story_id == story.id, func.lower(Tag.name).in_(lowered))
        .order_by(Tag.name)
    ).all()
    if rows:
        session.execute(
            delete(StoryTag).where(
                StoryTag.story_id == story.id, StoryTag.tag_id.in_([tag_id for tag_id, _ in rows])
            )
        )
        if story.private:
            drop_unused(session, [tag_id for tag_id, _ in rows])
        timeline.record(
            session,
            event_type=events.TAGS_DELETED,
            author_id=user_id,
            story_id=story.id,
            info={"story_title": story.title, "tags": [name for _, name in rows]},
        )
        story.updated_at = utcnow()
        session.flush()
    return story


def drop_unused(session: Session, tag_ids: Iterable[int]) -> None:
    """Delete those of these tags that no story carries any more.

    Called when tags leave a private story: a tag on no story is listed to
    everyone, and one that only a private story ever carried would otherwise
    show its name once the story lets go of it.
    """
    ids = list(tag_ids)
    if ids:
        used = select(StoryTag.tag_id).where(StoryTag.tag_id.in_(ids))
        session.execute(delete(Tag).where(Tag.id.in_(ids), Tag.id.not_in(used)))
