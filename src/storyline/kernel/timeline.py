"""The timeline: events written by the services in the same transaction as
the change they describe, and read through the access gate.

`record` hands every event to the listeners of the unit of work (set up by
the composition root: notifications fan out from there), so the kernel does
not know who listens.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from storyline.domain import events as event_types
from storyline.errors import InvalidInput, NotFound
from storyline.kernel.access import Actor, event_visibility, get_story
from storyline.kernel.db import EVENT_LISTENERS
from storyline.kernel.models import Event
from storyline.kernel.paging import Page, PageRequest, paginate


def record(
    session: Session,
    *,
    event_type: str,
    author_id: int | None,
    story_id: int | None = None,
    comment_id: int | None = None,
    worklist_id: int | None = None,
    board_id: int | None = None,
    info: dict[str, Any] | None = None,
) -> Event:
    # Only registered kinds, each with the payload it declares: what the
    # timeline, email and webhooks know how to tell.
    event_types.check(event_type, info)
    event = Event(
        event_type=event_type,
        author_id=author_id,
        story_id=story_id,
        comment_id=comment_id,
        worklist_id=worklist_id,
        board_id=board_id,
        event_info=json.dumps(info, sort_keys=True) if info is not None else None,
    )
    session.add(event)
    session.flush()
    # The one place where changes reach subscribers and webhooks: every
    # service that changes something records its event here, and the
    # listeners the composition root gave the unit of work (notifications)
    # see it in the same transaction.
    for listener in session.info.get(EVENT_LISTENERS, ()):
        listener(session, event)
    return event


# Reading the timeline: the events the actor may see (the gate's rule).


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
