"""The feed: what happened to the things a user follows
(`/v1/subscription_events`), written by `notifications.fanout`."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from storyline.domain import events as event_types
from storyline.errors import InvalidInput, NotFound
from storyline.kernel.access import Actor, require_user
from storyline.kernel.paging import Page, PageRequest, paginate
from storyline.kernel.subscriptions import owner_of
from storyline.notifications.models import SubscriptionEvent

FEED_SORT = {
    "id": SubscriptionEvent.id,
    "created_at": SubscriptionEvent.created_at,
    "updated_at": SubscriptionEvent.updated_at,
    "event_type": SubscriptionEvent.event_type,
    "author_id": SubscriptionEvent.author_id,
}


@dataclass(frozen=True, kw_only=True)
class FeedFilter:
    event_type: tuple[str, ...] = ()
    subscriber_id: int | None = None

    def __post_init__(self) -> None:
        for name in self.event_type:
            if name not in event_types.ALL:
                raise InvalidInput.field("event_type", f"{name!r} is not an event type")


def feed_query(actor: Actor, filters: FeedFilter) -> Select[SubscriptionEvent]:
    stmt = select(SubscriptionEvent).where(
        SubscriptionEvent.subscriber_id == owner_of(actor, filters.subscriber_id)
    )
    if filters.event_type:
        stmt = stmt.where(SubscriptionEvent.event_type.in_(filters.event_type))
    return stmt


def list_feed(
    session: Session, *, actor: Actor, filters: FeedFilter, page: PageRequest
) -> Page[SubscriptionEvent]:
    return paginate(
        session, feed_query(actor, filters), model=SubscriptionEvent, page=page, sortable=FEED_SORT
    )


def get_feed_event(session: Session, *, actor: Actor, event_id: int) -> SubscriptionEvent:
    if actor.user_id is None:
        require_user(actor)
    row = session.get(SubscriptionEvent, event_id)
    if row is None or (row.subscriber_id != actor.user_id and not actor.is_superuser):
        raise NotFound.of("subscription event", event_id)
    return row


def delete_feed_event(session: Session, *, actor: Actor, event_id: int) -> None:
    require_user(actor)
    row = get_feed_event(session, actor=actor, event_id=event_id)
    session.delete(row)
    session.flush()
