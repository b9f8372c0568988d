"""/v1/events and /v1/stories/{id}/events (the timeline)"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict

from storyline.api.deps import ContextDep, PageDep, Timestamp, set_page_headers
from storyline.api.timeline import as_read
from storyline.kernel import timeline as service
from storyline.kernel.timeline import EventFilter
from storyline.kernel.validation import Id

router = APIRouter(tags=["events"])


class EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: Timestamp
    updated_at: Timestamp | None
    event_type: str
    author_id: int | None
    story_id: int | None
    comment_id: int | None
    worklist_id: int | None
    board_id: int | None
    # A JSON document in a string, as StoryBoard sends it.
    event_info: str | None


@router.get("/events", response_model=list[EventOut])
def list_events(
    ctx: ContextDep,
    paging: PageDep,
    response: Response,
    story_id: Id | None = None,
    worklist_id: Id | None = None,
    board_id: Id | None = None,
    event_type: Annotated[list[str] | None, Query()] = None,
) -> Any:
    filters = EventFilter(
        story_id=story_id,
        worklist_id=worklist_id,
        board_id=board_id,
        event_type=tuple(event_type or ()),
    )
    with ctx.db.read() as session:
        page = service.list_events(
            session, actor=ctx.actor, filters=filters, page=paging.request(ctx.settings)
        )
        items = as_read(session, actor=ctx.actor, model=EventOut, rows=page.items)
    set_page_headers(response, page)
    return items


@router.get("/events/{event_id}", response_model=EventOut)
def get_event(ctx: ContextDep, event_id: Id) -> Any:
    with ctx.db.read() as session:
        event = service.get_event(session, actor=ctx.actor, event_id=event_id)
        return as_read(session, actor=ctx.actor, model=EventOut, rows=[event])[0]


@router.get("/stories/{story_id}/events", response_model=list[EventOut])
def list_story_events(
    ctx: ContextDep,
    story_id: Id,
    paging: PageDep,
    response: Response,
    event_type: Annotated[list[str] | None, Query()] = None,
) -> Any:
    filters = EventFilter(event_type=tuple(event_type or ()))
    with ctx.db.read() as session:
        page = service.list_story_events(
            session,
            actor=ctx.actor,
            story_id=story_id,
            filters=filters,
            page=paging.request(ctx.settings),
        )
        items = as_read(session, actor=ctx.actor, model=EventOut, rows=page.items)
    set_page_headers(response, page)
    return items


@router.get("/stories/{story_id}/events/{event_id}", response_model=EventOut)
def get_story_event(ctx: ContextDep, story_id: Id, event_id: Id) -> Any:
    with ctx.db.read() as session:
        event = service.get_event(session, actor=ctx.actor, event_id=event_id, story_id=story_id)
        return as_read(session, actor=ctx.actor, model=EventOut, rows=[event])[0]


__all__ = ["EventOut", "router"]
