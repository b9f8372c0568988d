"""The feed: what happened to the things a user follows
(`/v1/subscription_events`), written by `notifications.fanout`."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, and_, exists, not_, or_, select
from sqlalchemy.orm import Session

from storyline.domain import events as event_types
from storyline.errors import InvalidInput, NotFound
from storyline.kernel.access import Actor, actor_for, event_probe, require_user, story_probe
from storyline.kernel.models import Event
from storyline.kernel.paging import Page, PageRequest, paginate
from storyline.kernel.subscriptions import owner_of
from storyline.notifications.models import SubscriptionEvent
from storyline.tracker.models import Story

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


def still_visible(subscriber: Actor) -> ColumnElement[bool]:
    """A WHERE clause on `SubscriptionEvent` keeping the rows whose event
    `subscriber` may see now, by the gate's rule.

    A row was written for those who could see the event then; a story made
    private since, or an ACL that lost them, hides it from then on. A row
    whose event is gone (its story or comment was deleted) stays while its
    story is gone too or still visible.
    """
    event_gone = not_(exists().where(Event.id == SubscriptionEvent.event_id))
    story_gone = not_(exists().where(Story.id == SubscriptionEvent.story_id))
    return or_(
        event_probe(subscriber, SubscriptionEvent.event_id),
        and_(
            event_gone,
            or_(
                SubscriptionEvent.story_id.is_(None),
                story_gone,
                story_probe(subscriber, SubscriptionEvent.story_id),
            ),
        ),
    )


def is_still_visible(session: Session, row: SubscriptionEvent) -> bool:
    """Whether the row's subscriber may still see what it tells (for the
    emails, checked when they are sent)."""
    subscriber = actor_for(session, row.subscriber_id)
    stmt = select(SubscriptionEvent.id).where(
        SubscriptionEvent.id == row.id, still_visible(subscriber)
    )
    return session.scalar(stmt) is not None


def feed_query(session: Session, actor: Actor, filters: FeedFilter) -> Select[SubscriptionEvent]:
    subscriber_id = owner_of(actor, filters.subscriber_id)
    # What the subscriber may see, even when an administrator reads the feed.
    subscriber = actor_for(session, subscriber_id)
    stmt = select(SubscriptionEvent).where(
        SubscriptionEvent.subscriber_id == subscriber_id, still_visible(subscriber)
    )
    if filters.event_type:
        stmt = stmt.where(SubscriptionEvent.event_type.in_(filters.event_type))
    return stmt


def list_feed(
    session: Session, *, actor: Actor, filters: FeedFilter, page: PageRequest
) -> Page[SubscriptionEvent]:
    return paginate(
        session,
        feed_query(session, actor, filters),
        model=SubscriptionEvent,
        page=page,
        sortable=FEED_SORT,
    )


def get_feed_event(session: Session, *, actor: Actor, event_id: int) -> SubscriptionEvent:
    if actor.user_id is None:
        require_user(actor)
    row = session.get(SubscriptionEvent, event_id)
    if row is None or (row.subscriber_id != actor.user_id and not actor.is_superuser):
        raise NotFound.of("subscription event", event_id)
    if not is_still_visible(session, row):
        raise NotFound.of("subscription event", event_id)
    return row


def delete_feed_event(session: Session, *, actor: Actor, event_id: int) -> None:
    require_user(actor)
    row = get_feed_event(session, actor=actor, event_id=event_id)
    session.delete(row)
    session.flush()
