"""The timeline: events written by the services in the same transaction as
the change they describe, and read through the access gate.

`record` hands every event to the listeners of the unit of work (set up by
the composition root: notifications fan out from there), so the kernel does
not know who listens.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from storyline.domain import events as event_types
from storyline.errors import InvalidInput, NotFound
from storyline.kernel.access import Actor, event_visibility, get_story, visible_refs
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


class Stored(Protocol):
    """A stored event, or a feed's copy of one."""

    @property
    def event_type(self) -> str: ...

    @property
    def event_info(self) -> str | None: ...


def infos_for(session: Session, *, actor: Actor, events: Sequence[Stored]) -> list[str | None]:
    """The `event_info` of each event as `actor` may read it.

    An event is visible with its subject (a story, a worklist, a board), but
    it may name other things: the far end of a story link, a story or task
    put on a list, a list a card moved to, a board's lanes. Those the reader
    may not see are blanked (ids and titles), by the payload's own `hide`,
    so an event never tells of a private story that its subject's readers
    may not see. Every path that hands events out (API, feeds, pages, email,
    webhooks) reads them through here.
    """
    parsed: list[tuple[Any, dict[str, Any]] | None] = []
    refs: set[tuple[str, int]] = set()
    for event in events:
        kind = event_types.REGISTRY.get(event.event_type)
        info = _loads(event.event_info)
        if kind is None or info is None:
            parsed.append(None)
            continue
        found = kind.payload.refs(info)
        parsed.append((kind, info) if found else None)
        refs.update(found)
    if not refs:
        return [event.event_info for event in events]
    seen = visible_refs(session, actor=actor, refs=refs)
    result: list[str | None] = []
    for event, entry in zip(events, parsed, strict=True):
        if entry is None:
            result.append(event.event_info)
            continue
        kind, info = entry
        shown = kind.payload.hide(info, seen.__contains__)
        result.append(event.event_info if shown == info else json.dumps(shown, sort_keys=True))
    return result


def _loads(raw: str | None) -> dict[str, Any] | None:
    if not raw:
        return None
    try:
        info = json.loads(raw)
    except ValueError:
        return None
    return info if isinstance(info, dict) else None


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


def last_author(session: Session, *, actor: Actor, filters: EventFilter) -> int | None:
    """Who recorded the latest event matching `filters` that `actor` may see:
    the person an edit form names when what it shows was changed meanwhile."""
    stmt = event_query(actor, filters).order_by(Event.id.desc()).limit(1)
    event = session.scalars(stmt).first()
    return None if event is None else event.author_id
