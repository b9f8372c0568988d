"""Stories: the filter shared by the list, the search and the web pages,
creation and update (with the private-story ACL), and loading a page of
stories with their tags and ACL in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import (
    ARRAY,
    BindParameter,
    ColumnElement,
    CompoundSelect,
    Integer,
    ScalarSelect,
    Select,
    and_,
    any_,
    bindparam,
    case,
    delete,
    func,
    literal,
    not_,
    null,
    select,
    union_all,
)
from sqlalchemy.orm import InstrumentedAttribute, Session

from storyline.accounts.models import Team, User
from storyline.domain import events
from storyline.domain.statuses import STORY_STATUSES, TASK_STATUSES, story_lifecycle
from storyline.errors import InvalidInput
from storyline.kernel import subscriptions, timeline
from storyline.kernel.access import (
    Actor,
    get_story,
    read_story,
    require_superuser,
    require_user,
    story_probe,
    story_visibility,
    visible_stories,
)
from storyline.kernel.db import PREPARED
from storyline.kernel.models import Subscription
from storyline.kernel.paging import COUNT_ALL_UP_TO, COUNT_CAP, Page, PageRequest, Total, paginate
from storyline.kernel.schema import utcnow
from storyline.kernel.text import contains
from storyline.kernel.validation import Id, LongText, Name, validate
from storyline.tracker import story_acl
from storyline.tracker.models import (
    Story,
    StoryAclTeam,
    StoryAclUser,
    StoryTag,
    Tag,
    Task,
    project_group_mapping,
)
from storyline.tracker.tags import drop_unused, ensure_tags

STORY_SORT = {
    "id": Story.id,
    "title": Story.title,
    "created_at": Story.created_at,
    "updated_at": Story.updated_at,
    "status": Story.status,
    "creator_id": Story.creator_id,
    "story_type_id": Story.story_type_id,
    "is_bug": Story.is_bug,
    "private": Story.private,
}

# StoryBoard's seeded story types. 3 and 4 (the vulnerability types) exist in
# its database but its API refuses them; a private bug is how security issues
# are filed.
STORY_TYPE_BUG = 1
STORY_TYPE_FEATURE = 2
_REFUSED_STORY_TYPES = {
    3: "private_vulnerability",
    4: "public_vulnerability",
}
TAGS_FILTER_TYPES = ("all", "any")


def _ids(value: Any) -> Any:
    """Accept `[3, 4]` as well as `[{"id": 3, ...}]`: clients send back the
    user and team objects they received."""
    if not isinstance(value, list):
        return value
    return [item.get("id") if isinstance(item, dict) else item for item in value]


class StoryIn(BaseModel):
    """A new story (POST /v1/stories)."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=255)
    description: LongText | None = None
    is_bug: bool = True
    story_type_id: Id = STORY_TYPE_BUG
    private: bool = False
    tags: list[Name] = Field(default_factory=list)
    users: list[Id] = Field(default_factory=list)
    teams: list[Id] = Field(default_factory=list)

    _user_ids = field_validator("users", "teams", mode="before")(_ids)


class StoryChanges(BaseModel):
    """A partial update (PUT /v1/stories/{id}); only the fields sent change."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    title: str = Field(default="", min_length=1, max_length=255)
    description: LongText | None = None
    is_bug: bool = True
    story_type_id: Id = STORY_TYPE_BUG
    private: bool = False
    users: list[Id] = Field(default_factory=list)
    teams: list[Id] = Field(default_factory=list)

    _user_ids = field_validator("users", "teams", mode="before")(_ids)


@dataclass(frozen=True, kw_only=True)
class StoryFilter:
    """One definition of "which stories", shared by the list, the search, the
    web pages and the CLI."""

    title: str | None = None
    description: str | None = None
    status: tuple[str, ...] = ()
    assignee_id: int | None = None
    creator_id: int | None = None
    project_group_id: int | None = None
    project_id: int | None = None
    subscriber_id: int | None = None
    tags: tuple[str, ...] = ()
    tags_filter_type: str = "all"
    updated_since: dt.datetime | None = None

    def __post_init__(self) -> None:
        for status in self.status:
            if status not in STORY_STATUSES:
                raise InvalidInput.field(
                    "status", f"{status!r} is not a story status; use {', '.join(STORY_STATUSES)}"
                )
        if self.tags_filter_type not in TAGS_FILTER_TYPES:
            raise InvalidInput.field("tags_filter_type", "must be all or any")


def story_conditions(filters: StoryFilter, *, correlated: bool = False) -> list[Any]:
    """WHERE clauses on `Story` for `filters`, without the visibility gate.

    Filters that go through tasks, tags or subscriptions are `id IN (...)`
    subqueries by default, which is best when few stories match. With
    `correlated`, they are EXISTS probes per story instead, which is best
    when many match: walking stories in page order then stops after one
    page instead of collecting every matching id first.
    """
    clauses: list[Any] = []

    def story_ids(subquery: Select[Any], column: Any) -> Any:
        if correlated:
            return subquery.where(column == Story.id).exists()
        return Story.id.in_(subquery)

    if filters.title:
        clauses.append(contains(Story.title, filters.title))
    if filters.description:
        clauses.append(contains(Story.description, filters.description))
    if filters.status:
        clauses.append(Story.status.in_(filters.status))
    if filters.creator_id is not None:
        clauses.append(Story.creator_id == filters.creator_id)
    if filters.assignee_id is not None:
        clauses.append(
            story_ids(
                select(Task.story_id).where(Task.assignee_id == filters.assignee_id), Task.story_id
            )
        )
    if filters.project_id is not None:
        clauses.append(
            story_ids(
                select(Task.story_id).where(Task.project_id == filters.project_id), Task.story_id
            )
        )
    if filters.project_group_id is not None:
        group_projects = select(project_group_mapping.c.project_id).where(
            project_group_mapping.c.project_group_id == filters.project_group_id
        )
        clauses.append(
            story_ids(
                select(Task.story_id).where(Task.project_id.in_(group_projects)), Task.story_id
            )
        )
    if filters.subscriber_id is not None:
        clauses.append(
            story_ids(
                subscriptions.followed("story", filters.subscriber_id),
                Subscription.target_id,
            )
        )
    if filters.tags:
        names = tuple(dict.fromkeys(filters.tags))
        groups = [names] if filters.tags_filter_type == "any" else [(name,) for name in names]
        for group in groups:
            clauses.append(story_ids(_stories_tagged(group), StoryTag.story_id))
    if filters.updated_since is not None:
        since = filters.updated_since
        if since.tzinfo is None:
            since = since.replace(tzinfo=dt.UTC)
        clauses.append(Story.updated_at > since)
    return clauses


def story_query(actor: Actor, filters: StoryFilter) -> Select[Story]:
    """The stories `actor` may see that match `filters`, unordered."""
    return visible_stories(actor).where(*story_conditions(filters))


def _through_tasks_only(filters: StoryFilter) -> Select[Any] | None:
    """The tasks subquery when the only filter is one that goes through tasks."""
    set_fields = {
        name for name, value in filters.__dict__.items() if value not in (None, (), "all")
    }
    if set_fields == {"project_id"}:
        return select(Task.story_id).where(Task.project_id == filters.project_id)
    if set_fields == {"assignee_id"}:
        return select(Task.story_id).where(Task.assignee_id == filters.assignee_id)
    return None


def count_stories(session: Session, *, actor: Actor, filters: StoryFilter) -> tuple[Total, int]:
    """How many stories `actor` may see that match `filters`: exact up to
    `COUNT_CAP` matches, estimated beyond; and the highest story id (see
    `estimate_total`)."""
    tasks_only = _through_tasks_only(filters)
    if tasks_only is not None:
        # Walked in story order on the (project_id, story_id) or
        # (assignee_id, story_id) index, without reading a story row.
        matches = tasks_only.distinct()
    elif filters == StoryFilter():
        matches = select(Story.id)
    else:
        matches = select(Story.id).where(*story_conditions(filters))
    return estimate_total(session, actor=actor, matches=matches)


# The highest story id: one index probe, and never less than the number of
# stories.
def highest_story_id() -> ScalarSelect[int]:
    return select(func.max(Story.id)).scalar_subquery()


def while_small(count: ColumnElement[int]) -> ColumnElement[int | None]:
    """`count` while the stories table is small (`COUNT_ALL_UP_TO`), else
    NULL without counting: both databases evaluate a subquery in a CASE
    branch only when the branch is taken, so the choice costs no statement
    of its own."""
    small = func.coalesce(highest_story_id(), 0) <= COUNT_ALL_UP_TO
    return case((small, count), else_=null())


def estimate_total(
    session: Session,
    *,
    actor: Actor,
    matches: Select[Any],
    descending: bool = False,
    visible: bool = False,
) -> tuple[Total, int]:
    """The number of stories `actor` may see among `matches` (a select of one
    column of story ids, which `visible` says are already only those the
    actor may see): exact while the stories table is small (`while_small`) or
    when there are at most `COUNT_CAP`, an estimate otherwise.

    Counting every match costs a pass over all of them (a project of 240k
    stories, a word in half of a million stories: 50 to 500 ms at tier L),
    so in a large table only the first `COUNT_CAP` + 1 visible matches in id
    order (the last ones with `descending`) are read. When there are more,
    the matches are taken to be as dense over all story ids as over those
    read: `read * max(id) / (ids spanned by those read)`. The estimate is
    made of visible stories only, so it tells nothing about private ones. At
    tier L it was within 3% for the busiest project and 0.1% for a common
    word. The highest story id, which the same statement reads, comes with
    it: callers that weigh a count against the table's size need no query of
    their own for it (on PostgreSQL a round trip and 0.3 to 0.5 ms).
    """
    column = matches.selected_columns[0]
    gate = None
    gated = not visible and not actor.is_superuser
    if gated:
        # A probe on the stories table itself would not correlate.
        gate = story_visibility(actor) if _on_stories(column) else story_probe(actor, column)
    top, total = session.execute(
        select(highest_story_id(), while_small(_count_all(matches, actor if gated else None)))
    ).one()
    top = top or 0
    if total is not None:
        return Total(total), top
    if gate is not None:
        matches = matches.where(gate)
    order = column.desc() if descending else column.asc()
    first = matches.order_by(order).limit(COUNT_CAP + 1).subquery()
    story_id = first.c[0]
    read, low, high = session.execute(
        select(func.count(), func.min(story_id), func.max(story_id)).select_from(first)
    ).one()
    return total_from_first(read=read, low=low, high=high, top=top, descending=descending), top


def _count_all(matches: Select[Any], actor: Actor | None) -> ColumnElement[int]:
    """All of `matches` less those `actor` may not see (None: sees them all).
    The first count reads only the filters' own indexes, and the second
    starts from the few private stories, so no match pays for a visibility
    probe."""
    everything = select(func.count()).select_from(matches.subquery()).scalar_subquery()
    if actor is None:
        return everything
    column = matches.selected_columns[0]
    hidden_story = and_(Story.private.is_(True), not_(story_visibility(actor)))
    if _on_stories(column):
        # Filters on the stories themselves: the hidden ones among them.
        hidden = select(func.count()).select_from(matches.where(hidden_story).subquery())
    else:
        # Filters through another table (tasks, tags, subscriptions): each
        # hidden story probed for one match. Collecting the matches first
        # read every one of them, the busiest project's 7,800 tasks at tier
        # S on PostgreSQL (2.6 ms, against 0.3).
        hidden = select(func.count()).where(
            hidden_story, matches.where(column == Story.id).exists()
        )
    return everything - hidden.scalar_subquery()


def _on_stories(column: Any) -> bool:
    """Whether a column of story ids is the stories table's own."""
    return getattr(column, "table", None) is Story.__table__


def total_from_first(
    *, read: int, low: int | None, high: int | None, top: int, descending: bool
) -> Total:
    """`estimate_total` from the first visible matches read: how many, and
    the lowest and highest of their ids; `top` is the highest story id."""
    if read <= COUNT_CAP or low is None or high is None:
        return Total(read, exact=True)
    top = max(top, high)
    spanned = top - low + 1 if descending else high
    return Total(round(read * top / spanned), exact=False)


def _stories_tagged(names: Sequence[str]) -> Select[int]:
    # Tag names are unique regardless of case (tracker/tags.py), so the
    # filter matches them regardless of case too.
    lowered = [name.lower() for name in names]
    return (
        select(StoryTag.story_id)
        .join(Tag, Tag.id == StoryTag.tag_id)
        .where(func.lower(Tag.name).in_(lowered))
    )


# Reading


@dataclass(frozen=True)
class StoryView:
    """A story with everything its JSON needs, loaded up front so that
    serializing it never queries."""

    story: Story
    tags: list[str] = field(default_factory=list)
    users: list[User] = field(default_factory=list)
    teams: list[Team] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        return self.story.task_counts

    @property
    def task_statuses(self) -> list[dict[str, Any]]:
        counts = self.counts
        return [{"key": key, "count": counts[key]} for key in TASK_STATUSES]

    @property
    def lifecycle(self) -> str:
        return story_lifecycle(self.counts)


# Built once: the page loaders run on every list, and an expanding bind
# parameter keeps one cached statement whatever the page size. Rows are
# sorted in Python because an ORDER BY on the joined table makes SQLite walk
# that whole table instead of the page's few links.
_PAGE_IDS: BindParameter[int] = bindparam("story_ids", expanding=True)
# PostgreSQL takes the page's ids as one array: planning the IN list of a
# 100-story page (a parameter each, in three branches) took 1 ms against
# 0.3 to run it, and one statement text whatever the page size can be
# prepared (index probes, whatever the ids).
_PAGE_ID_ARRAY: BindParameter[Any] = bindparam("story_ids", type_=ARRAY(Integer))


def _references(
    of: Callable[[InstrumentedAttribute[int]], ColumnElement[bool]],
) -> CompoundSelect[int, str, str | None, int | None]:
    """Tags and ACL references of the stories `of` picks, in one statement,
    as (story id, kind, tag name, user or team id) rows: most stories have no
    ACL, so the users and teams behind it are loaded only when one does. On
    PostgreSQL every statement is a round trip; one statement instead of
    three took about a third off a single story's read."""
    return union_all(
        select(
            StoryTag.story_id.label("story_id"),
            literal("tag").label("kind"),
            Tag.name.label("name"),
            null().label("ref"),
        )
        .join(Tag, Tag.id == StoryTag.tag_id)
        .where(of(StoryTag.story_id)),
        select(StoryAclUser.story_id, literal("user"), null(), StoryAclUser.user_id).where(
            of(StoryAclUser.story_id)
        ),
        select(StoryAclTeam.story_id, literal("team"), null(), StoryAclTeam.team_id).where(
            of(StoryAclTeam.story_id)
        ),
    )


_REFERENCES_OF = {
    "sqlite": _references(lambda story_id: story_id.in_(_PAGE_IDS)),
    "postgresql": _references(lambda story_id: story_id == any_(_PAGE_ID_ARRAY)).execution_options(
        **{PREPARED: True}
    ),
}


def load_story_views(session: Session, stories: Sequence[Story]) -> list[StoryView]:
    """Tags, ACL users and ACL teams for many stories: one query, and one
    more each for the users and teams of the stories that have an ACL."""
    if not stories:
        return []
    rows = session.execute(
        _REFERENCES_OF[session.get_bind().dialect.name],
        {"story_ids": [story.id for story in stories]},
    )
    return _views(session, stories, rows)


def _views(
    session: Session,
    stories: Sequence[Story],
    references: Iterable[tuple[int, str | None, str | None, int | None]],
) -> list[StoryView]:
    """The stories' views from their references: (story id, kind, tag name,
    user or team id) rows, as `_references` gives them."""
    tags: dict[int, list[str]] = defaultdict(list)
    user_refs: dict[int, list[int]] = defaultdict(list)
    team_refs: dict[int, list[int]] = defaultdict(list)
    for story_id, kind, name, ref in references:
        if name is not None:
            tags[story_id].append(name)
        elif ref is not None:
            (user_refs if kind == "user" else team_refs)[story_id].append(ref)
    users = _by_ids(session, User, user_refs)
    teams = _by_ids(session, Team, team_refs)
    return [
        StoryView(
            s,
            sorted(tags[s.id]),
            sorted((users[ref] for ref in user_refs[s.id]), key=_by_id),
            sorted((teams[ref] for ref in team_refs[s.id]), key=_by_id),
        )
        for s in stories
    ]


# One story's references, joined to the gate's read of it: the story and its
# tags in one statement, a round trip less than reading them after it (on
# PostgreSQL about a fifth of the request). A story with none still has its
# row, with NULLs beside it.
_STORY_ID: BindParameter[int] = bindparam("story_id", type_=Integer)
_REFERENCES_OF_ONE = _references(lambda story_id: story_id == _STORY_ID).subquery(
    "story_references"
)


def _with_references(stmt: Select[tuple[Story]]) -> Select[Any]:
    refs = _REFERENCES_OF_ONE.c
    return stmt.add_columns(refs.kind, refs.name, refs.ref).outerjoin(
        _REFERENCES_OF_ONE, refs.story_id == Story.id
    )


_Member = TypeVar("_Member", User, Team)


def _by_ids(
    session: Session, model: type[_Member], refs: dict[int, list[int]]
) -> dict[int, _Member]:
    wanted = {ref for story_refs in refs.values() for ref in story_refs}
    if not wanted:
        return {}
    return {row.id: row for row in session.scalars(select(model).where(model.id.in_(wanted)))}


def _by_id(row: User | Team) -> int:
    return row.id


def list_stories(
    session: Session, *, actor: Actor, filters: StoryFilter, page: PageRequest
) -> Page[StoryView]:
    total: Total | None = None
    correlated = False
    if page.count:
        total, stories = count_stories(session, actor=actor, filters=filters)
        if _through_tasks_only(filters) is not None:
            # Probing each story in page order finds a page after about
            # limit * stories / matches probes; collecting the matching ids
            # first costs about `matches`. Probe when that is cheaper.
            correlated = total.value * total.value > page.limit * stories
    stmt = visible_stories(actor).where(*story_conditions(filters, correlated=correlated))
    result = paginate(session, stmt, model=Story, page=page, sortable=STORY_SORT, total=total)
    return replace(result, items=load_story_views(session, result.items))


def get_story_view(session: Session, *, actor: Actor, story_id: int) -> StoryView:
    rows: Sequence[Any] = read_story(
        session, actor=actor, story_id=story_id, extend=_with_references
    )
    story: Story = rows[0][0]
    references = [(story.id, kind, name, ref) for _story, kind, name, ref in rows]
    return _views(session, [story], references)[0]


# Writing


def _check_story_type(story_type_id: int) -> None:
    if story_type_id in _REFUSED_STORY_TYPES:
        raise InvalidInput.field(
            "story_type_id",
            f"type {story_type_id} ({_REFUSED_STORY_TYPES[story_type_id]}) cannot be set "
            "through the API; use 1 (bug) or 2 (feature) and mark the story private",
        )
    if story_type_id not in {STORY_TYPE_BUG, STORY_TYPE_FEATURE}:
        raise InvalidInput.field("story_type_id", "must be 1 (bug) or 2 (feature)")


def _type_and_bug(data: BaseModel, *, is_bug: bool, story_type_id: int) -> tuple[bool, int]:
    """Keep `is_bug` and `story_type_id` consistent: when a client sends only
    one of them, the other follows."""
    sent = data.model_fields_set
    if "story_type_id" in sent and "is_bug" not in sent:
        is_bug = story_type_id == STORY_TYPE_BUG
    elif "is_bug" in sent and "story_type_id" not in sent:
        story_type_id = STORY_TYPE_BUG if is_bug else STORY_TYPE_FEATURE
    return is_bug, story_type_id


def create_story(session: Session, *, actor: Actor, data: StoryIn) -> StoryView:
    user_id = require_user(actor)
    _check_story_type(data.story_type_id)
    is_bug, story_type_id = _type_and_bug(
        data, is_bug=data.is_bug, story_type_id=data.story_type_id
    )
    user_ids = story_acl.check_users(session, data.users)
    team_ids = story_acl.check_teams(session, data.teams)
    if data.private:
        user_ids = story_acl.keep_access(session, actor=actor, user_ids=user_ids, team_ids=team_ids)
    tags = ensure_tags(session, data.tags)
    story = Story(
        title=data.title,
        description=data.description,
        is_bug=is_bug,
        story_type_id=story_type_id,
        private=data.private,
        security=False,
        creator_id=user_id,
        status="invalid",
        todo_count=0,
        inprogress_count=0,
        review_count=0,
        merged_count=0,
        invalid_count=0,
    )
    session.add(story)
    session.flush()
    session.add_all(StoryTag(story_id=story.id, tag_id=tag.id) for tag in tags)
    session.add_all(StoryAclUser(story_id=story.id, user_id=uid) for uid in user_ids)
    session.add_all(StoryAclTeam(story_id=story.id, team_id=tid) for tid in team_ids)
    subscriptions.follow(session, user_id=user_id, kind="story", target_id=story.id)
    timeline.record(
        session,
        event_type=events.STORY_CREATED,
        author_id=user_id,
        story_id=story.id,
        info={"story_id": story.id, "story_title": story.title},
    )
    # The view of what was just written, not read back: the tags are at
    # hand, and a story without an ACL needs no query at all.
    users = _by_ids(session, User, {story.id: user_ids})
    teams = _by_ids(session, Team, {story.id: team_ids})
    return StoryView(
        story,
        sorted(tag.name for tag in tags),
        sorted(users.values(), key=_by_id),
        sorted(teams.values(), key=_by_id),
    )


_DETAIL_FIELDS = ("title", "description", "is_bug", "story_type_id", "private")


def update_story(
    session: Session, *, actor: Actor, story_id: int, changes: dict[str, Any]
) -> StoryView:
    user_id = require_user(actor)
    story = get_story(session, actor=actor, story_id=story_id, for_update=True)
    data = validate(StoryChanges, changes)
    sent = data.model_fields_set
    if "story_type_id" in sent:
        _check_story_type(data.story_type_id)
    is_bug, story_type_id = _type_and_bug(
        data,
        is_bug=data.is_bug if "is_bug" in sent else story.is_bug,
        story_type_id=data.story_type_id if "story_type_id" in sent else story.story_type_id,
    )
    new: dict[str, Any] = {
        "title": data.title if "title" in sent else story.title,
        "description": data.description if "description" in sent else story.description,
        "is_bug": is_bug,
        "story_type_id": story_type_id,
        "private": data.private if "private" in sent else story.private,
    }
    old_values = {name: getattr(story, name) for name in _DETAIL_FIELDS}
    changed = [name for name in _DETAIL_FIELDS if new[name] != old_values[name]]

    acl_change = story_acl.replace(
        session,
        actor=actor,
        story=story,
        users=data.users if "users" in sent else None,
        teams=data.teams if "teams" in sent else None,
        private=new["private"],
    )
    for name in changed:
        setattr(story, name, new[name])
    if changed or acl_change is not None:
        story.updated_at = utcnow()
    session.flush()
    # The events are recorded once the story has its new privacy and ACL:
    # their readers (feeds, emails, webhooks) are decided from the story as
    # it now is, so those who just lost access are not told what changed.
    if acl_change is not None:
        timeline.record(
            session,
            event_type=events.STORY_PRIVACY_CHANGED,
            author_id=actor.user_id,
            story_id=story.id,
            info=acl_change,
        )
    if changed:
        timeline.record(
            session,
            event_type=events.STORY_DETAILS_CHANGED,
            author_id=user_id,
            story_id=story.id,
            info={
                "story_id": story.id,
                "story_title": story.title,
                "old": {name: old_values[name] for name in changed},
                "new": {name: new[name] for name in changed},
            },
        )
    session.flush()
    return load_story_views(session, [story])[0]


def delete_story(session: Session, *, actor: Actor, story_id: int) -> None:
    require_superuser(actor)
    story = get_story(session, actor=actor, story_id=story_id, for_update=True)
    # Subscriptions point at stories without a foreign key; everything else
    # that belongs to the story goes with it through ON DELETE CASCADE.
    subscriptions.forget(session, kind="story", target_id=story.id)
    tag_ids = list(session.scalars(select(StoryTag.tag_id).where(StoryTag.story_id == story.id)))
    session.execute(delete(Story).where(Story.id == story.id))
    if story.private:
        drop_unused(session, tag_ids)
    session.expunge(story)
