"""/v1/subscriptions, /v1/subscription_events and the one-click unsubscribe link."""

from __future__ import annotations

import html
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ConfigDict

from storyline.api.deps import ContextDep, PageDep, Timestamp, set_page_headers
from storyline.api.timeline import as_read
from storyline.errors import NotFound
from storyline.kernel import subscriptions as service
from storyline.kernel.subscriptions import SubscriptionFilter, SubscriptionIn
from storyline.kernel.validation import Id
from storyline.notifications import fanout as notifications
from storyline.notifications import feed
from storyline.notifications.feed import FeedFilter

router = APIRouter(tags=["subscriptions"])


class SubscriptionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: Timestamp
    updated_at: Timestamp | None
    user_id: int
    target_type: str
    target_id: int


class SubscriptionEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: Timestamp
    updated_at: Timestamp | None
    subscriber_id: int
    author_id: int | None
    event_type: str
    # A JSON document in a string, as StoryBoard sends it.
    event_info: str | None


@router.get("/subscriptions", response_model=list[SubscriptionOut])
def list_subscriptions(
    ctx: ContextDep,
    paging: PageDep,
    response: Response,
    target_type: Annotated[list[str] | None, Query()] = None,
    target_id: Id | None = None,
    user_id: Id | None = None,
) -> Any:
    filters = SubscriptionFilter(
        target_type=tuple(target_type or ()), target_id=target_id, user_id=user_id
    )
    with ctx.db.read() as session:
        page = service.list_subscriptions(
            session, actor=ctx.actor, filters=filters, page=paging.request(ctx.settings)
        )
    set_page_headers(response, page)
    return page.items


@router.post("/subscriptions", response_model=SubscriptionOut)
def create_subscription(ctx: ContextDep, body: SubscriptionIn) -> Any:
    with ctx.db.write() as session:
        return service.create_subscription(session, actor=ctx.actor, data=body)


@router.get("/subscriptions/{subscription_id}", response_model=SubscriptionOut)
def get_subscription(ctx: ContextDep, subscription_id: Id) -> Any:
    with ctx.db.read() as session:
        return service.get_subscription(session, actor=ctx.actor, subscription_id=subscription_id)


@router.delete("/subscriptions/{subscription_id}", status_code=204)
def delete_subscription(ctx: ContextDep, subscription_id: Id) -> Response:
    with ctx.db.write() as session:
        service.delete_subscription(session, actor=ctx.actor, subscription_id=subscription_id)
    return Response(status_code=204)


@router.get("/subscription_events", response_model=list[SubscriptionEventOut])
def list_subscription_events(
    ctx: ContextDep,
    paging: PageDep,
    response: Response,
    event_type: Annotated[list[str] | None, Query()] = None,
    subscriber_id: Id | None = None,
) -> Any:
    filters = FeedFilter(event_type=tuple(event_type or ()), subscriber_id=subscriber_id)
    with ctx.db.read() as session:
        page = feed.list_feed(
            session, actor=ctx.actor, filters=filters, page=paging.request(ctx.settings)
        )
        items = as_read(session, actor=ctx.actor, model=SubscriptionEventOut, rows=page.items)
    set_page_headers(response, page)
    return items


@router.get("/subscription_events/{event_id}", response_model=SubscriptionEventOut)
def get_subscription_event(ctx: ContextDep, event_id: Id) -> Any:
    with ctx.db.read() as session:
        row = feed.get_feed_event(session, actor=ctx.actor, event_id=event_id)
        return as_read(session, actor=ctx.actor, model=SubscriptionEventOut, rows=[row])[0]


@router.delete("/subscription_events/{event_id}", status_code=204)
def delete_subscription_event(ctx: ContextDep, event_id: Id) -> Response:
    with ctx.db.write() as session:
        feed.delete_feed_event(session, actor=ctx.actor, event_id=event_id)
    return Response(status_code=204)


# One-click unsubscribe (RFC 8058): mail clients POST to the link from the
# List-Unsubscribe header. A GET (a person clicking the link in the body, or
# a link scanner) only shows a button, so prefetching never unsubscribes.


class UnsubscribedOut(BaseModel):
    target_type: str
    target_id: int


@router.get("/unsubscribe/{token}", response_class=HTMLResponse, include_in_schema=False)
def unsubscribe_page(token: str) -> HTMLResponse:
    safe = html.escape(token, quote=True)
    return HTMLResponse(
        "<!doctype html><html lang=en><meta charset=utf-8><title>Unsubscribe</title>"
        "<body><h1>Stop these emails?</h1>"
        f'<form method=post action="/v1/unsubscribe/{safe}">'
        '<input type=hidden name="List-Unsubscribe" value="One-Click">'
        "<button type=submit>Unsubscribe</button></form></body></html>"
    )


@router.post("/unsubscribe/{token}", response_model=UnsubscribedOut)
def unsubscribe(ctx: ContextDep, token: str) -> Any:
    with ctx.db.write() as session:
        target = notifications.unsubscribe(session, token=token)
    if target is None:
        raise NotFound.of("unsubscribe link", "")
    return UnsubscribedOut(target_type=target[0], target_id=target[1])


__all__ = ["SubscriptionEventOut", "SubscriptionOut", "router"]
