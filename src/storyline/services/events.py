"""Reading the timeline: events of the stories the actor may see.

Events are written by the services that make the changes
(`services.timeline.record`), in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, and_, exists, not_, or_, select, true
from sqlalchemy.orm import Session

from storyline.db.models import Board, Event, Story, Worklist
from storyline.domain import events as event_types
from storyline.errors import InvalidInput, NotFound
from storyline.services.access import Actor, get_story, story_visibility
from storyline.services.boards import board_visibility
from storyline.services.paging import Page, PageRequest, paginate
from storyline.services.worklists import worklist_visibility

EVENT_SORT = {
    "id": Event.id,
    "created_at": Event.created_at,
    "updated_at": Event.updated_at,
    "event_type": Event.event_type,
    "author_id": Event.author_id,
    "story_id": Event.story_id,
}


@dataclass(frozen=True, kw_only=True)
class EventFilter:
    story_id: int | None = None
    worklist_id: int | None = None
    board_id: int | None = None
    event_type: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in self.event_type:
            if name not in event_types.ALL:
                raise InvalidInput.field("event_type", f"{name!r} is not an event type")


def event_visibility(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause on `Event` keeping the events `actor` may see.

    Each event follows the visibility of what it belongs to, through that
    aggregate's own rule (the same ones the story, worklist and board lists
    use): a story's events its story's, a worklist's the worklist's, a
    board's the board's. An event whose worklist or board no longer exists
    stays visible, as StoryBoard's events outlive what they describe.
    """
    if actor.is_superuser:
        return true()
    hidden_worklist = exists().where(
        Worklist.id == Event.worklist_id, not_(worklist_visibility(actor))
    )
    hidden_board = exists().where(Board.id == Event.board_id, not_(board_visibility(actor)))
    # A correlated probe rather than "story_id IN (every visible story)": a
    # story's timeline then costs a lookup per event, not a list of all the
    # visible stories (40 ms at tier M).
    visible_story = exists().where(Story.id == Event.story_id, story_visibility(actor))
    return and_(
        or_(Event.story_id.is_(None), visible_story),
        or_(Event.worklist_id.is_(None), not_(hidden_worklist)),
        or_(Event.board_id.is_(None), not_(hidden_board)),
    )


def event_query(actor: Actor, filters: EventFilter) -> Select[Event]:
    """The events `actor` may see that match `filters`, unordered."""
    stmt = select(Event).where(event_visibility(actor))
    if filters.story_id is not None:
        stmt = stmt.where(Event.story_id == filters.story_id)
    if filters.worklist_id is not None:
        stmt = stmt.where(Event.worklist_id == filters.worklist_id)
    if filters.board_id is not None:
        stmt = stmt.where(Event.board_id == filters.board_id)
    if filters.event_type:
        stmt = stmt.where(Event.event_type.in_(filters.event_type))
    return stmt


def list_events(
    session: Session, *, actor: Actor, filters: EventFilter, page: PageRequest
) -> Page[Event]:
    return paginate(
        session, event_query(actor, filters), model=Event, page=page, sortable=EVENT_SORT
    )


def list_story_events(
    session: Session, *, actor: Actor, story_id: int, filters: EventFilter, page: PageRequest
) -> Page[Event]:
    """The nested timeline: an invisible story is a 404, not an empty list."""
    get_story(session, actor=actor, story_id=story_id)
    nested = EventFilter(story_id=story_id, event_type=filters.event_type)
    return list_events(session, actor=actor, filters=nested, page=page)


def get_event(
    session: Session, *, actor: Actor, event_id: int, story_id: int | None = None
) -> Event:
    stmt = event_query(actor, EventFilter(story_id=story_id)).where(Event.id == event_id)
    event = session.scalars(stmt).one_or_none()
    if event is None:
        raise NotFound.of("event", event_id)
    return event
