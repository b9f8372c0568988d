"""Links between stories: blocks, depends on, duplicates, relates.

A link is stored once, from the story it was added on (`story_id`) to its
target, and read from both ends: "A blocks B" is shown on B as "blocked by A".
Both stories go through the visibility gate: a link is listed only when the
reader may see the story at its other end, so a link never reveals that a
private story exists. Adding or removing a link needs both stories visible.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from pydantic import BaseModel, ConfigDict
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from storyline.domain import events
from storyline.errors import Conflict, InvalidInput, NotFound
from storyline.kernel import timeline
from storyline.kernel.access import Actor, get_story, require_user, story_visibility
from storyline.kernel.validation import Id, Name
from storyline.tracker.models import Story, StoryLink

# kind -> (what the source story says, what the target story says)
LINK_KINDS: Final[dict[str, tuple[str, str]]] = {
    "blocks": ("blocks", "blocked by"),
    "depends_on": ("depends on", "needed by"),
    "duplicates": ("duplicates", "duplicated by"),
    "relates": ("relates to", "relates to"),
}
# A story has a handful of links; this bounds one page of them anyway.
MAX_LINKS = 500


class StoryLinkIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    target_story_id: Id
    kind: Name


@dataclass(frozen=True)
class LinkView:
    """A link as seen from one story: the label reads from that story."""

    link: StoryLink
    # True when the link was added on the story it is read from.
    outgoing: bool
    other: Story

    @property
    def label(self) -> str:
        forward, backward = LINK_KINDS.get(self.link.kind, (self.link.kind, self.link.kind))
        return forward if self.outgoing else backward


def list_links(session: Session, *, actor: Actor, story_id: int) -> list[LinkView]:
    """The links of a story whose other end `actor` may see, in one query."""
    get_story(session, actor=actor, story_id=story_id)
    other_id = StoryLink.target_story_id
    stmt = (
        select(StoryLink, Story)
        .join(
            Story,
            or_(
                (StoryLink.story_id == story_id) & (Story.id == StoryLink.target_story_id),
                (StoryLink.target_story_id == story_id) & (Story.id == StoryLink.story_id),
            ),
        )
        .where(
            or_(StoryLink.story_id == story_id, other_id == story_id),
            story_visibility(actor),
        )
        .order_by(StoryLink.kind, StoryLink.id)
        .limit(MAX_LINKS)
    )
    return [
        LinkView(link=link, outgoing=link.story_id == story_id, other=other)
        for link, other in session.execute(stmt)
    ]


def add_link(session: Session, *, actor: Actor, story_id: int, data: StoryLinkIn) -> LinkView:
    user_id = require_user(actor)
    if data.kind not in LINK_KINDS:
        raise InvalidInput.field("kind", f"must be one of {', '.join(LINK_KINDS)}")
    story = get_story(session, actor=actor, story_id=story_id)
    if data.target_story_id == story.id:
        raise InvalidInput.field("target_story_id", "a story cannot be linked to itself")
    try:
        target = get_story(session, actor=actor, story_id=data.target_story_id)
    except NotFound:
        # The same answer for a missing and an invisible story.
        raise InvalidInput.field(
            "target_story_id", f"no story with id {data.target_story_id}"
        ) from None
    existing = session.scalar(
        select(StoryLink.id).where(
            or_(
                (StoryLink.story_id == story.id) & (StoryLink.target_story_id == target.id),
                (StoryLink.story_id == target.id) & (StoryLink.target_story_id == story.id),
            ),
            StoryLink.kind == data.kind,
        )
    )
    if existing is not None:
        raise Conflict(
            f"Story {story.id} and story {target.id} are already linked that way.",
            details={"link_id": existing},
        )
    link = StoryLink(
        story_id=story.id, target_story_id=target.id, kind=data.kind, creator_id=user_id
    )
    session.add(link)
    session.flush()
    _record(session, events.STORY_LINK_ADDED, user_id, link, story, target)
    return LinkView(link=link, outgoing=True, other=target)


def remove_link(session: Session, *, actor: Actor, story_id: int, link_id: int) -> None:
    """Remove a link from either of its stories; both must be visible."""
    user_id = require_user(actor)
    get_story(session, actor=actor, story_id=story_id)
    link = session.get(StoryLink, link_id)
    if link is None or story_id not in (link.story_id, link.target_story_id):
        raise NotFound.of("story link", link_id)
    other_id = link.target_story_id if link.story_id == story_id else link.story_id
    try:
        get_story(session, actor=actor, story_id=other_id)
    except NotFound:
        raise NotFound.of("story link", link_id) from None
    source = session.get(Story, link.story_id)
    target = session.get(Story, link.target_story_id)
    assert source is not None
    assert target is not None
    session.delete(link)
    session.flush()
    _record(session, events.STORY_LINK_REMOVED, user_id, link, source, target)


def _record(
    session: Session, event_type: str, user_id: int, link: StoryLink, source: Story, target: Story
) -> None:
    # One event on each story, so that both timelines tell the story. Ids
    # only, no titles: a reader of one story may not see the other, and the
    # pages resolve the other story through the gate when they show it.
    for story, other in ((source, target), (target, source)):
        timeline.record(
            session,
            event_type=event_type,
            author_id=user_id,
            story_id=story.id,
            info={
                "link_id": link.id,
                "kind": link.kind,
                "story_id": link.story_id,
                "target_story_id": link.target_story_id,
                "other_story_id": other.id,
            },
        )
