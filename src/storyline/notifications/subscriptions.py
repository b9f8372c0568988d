"""Subscriptions (what a user follows) and the feed of what happened to it
(`subscription_events`, written by notifications.fanout)."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from storyline.accounts.models import User
from storyline.domain import events as event_types
from storyline.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from storyline.kernel.access import Actor, can_see, require_user
from storyline.kernel.models import Subscription
from storyline.kernel.paging import Page, PageRequest, paginate
from storyline.kernel.validation import Id
from storyline.notifications.models import SubscriptionEvent

TARGET_TYPES = ("story", "task", "project", "project_group", "worklist", "board")

SUBSCRIPTION_SORT = {
    "id": Subscription.id,
    "created_at": Subscription.created_at,
    "updated_at": Subscription.updated_at,
    "target_type": Subscription.target_type,
    "target_id": Subscription.target_id,
    "user_id": Subscription.user_id,
}
FEED_SORT = {
    "id": SubscriptionEvent.id,
    "created_at": SubscriptionEvent.created_at,
    "updated_at": SubscriptionEvent.updated_at,
    "event_type": SubscriptionEvent.event_type,
    "author_id": SubscriptionEvent.author_id,
}


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    target_type: str
    target_id: Id
    user_id: Id | None = None


@dataclass(frozen=True, kw_only=True)
class SubscriptionFilter:
    target_type: tuple[str, ...] = ()
    target_id: int | None = None
    user_id: int | None = None

    def __post_init__(self) -> None:
        for kind in self.target_type:
            if kind not in TARGET_TYPES:
                raise InvalidInput.field(
                    "target_type", f"{kind!r} is not one of {', '.join(TARGET_TYPES)}"
                )


def _owner(actor: Actor, user_id: int | None) -> int:
    """Whose subscriptions: one's own; an administrator may name anyone."""
    me = actor.user_id
    if me is None:
        require_user(actor)
    assert me is not None
    if user_id is None or user_id == me:
        return me
    if not actor.is_superuser:
        raise PermissionDenied("You may only see and change your own subscriptions.")
    return user_id


def subscription_query(actor: Actor, filters: SubscriptionFilter) -> Select[Subscription]:
    stmt = select(Subscription).where(Subscription.user_id == _owner(actor, filters.user_id))
    if filters.target_type:
        stmt = stmt.where(Subscription.target_type.in_(filters.target_type))
    if filters.target_id is not None:
        stmt = stmt.where(Subscription.target_id == filters.target_id)
    return stmt


def list_subscriptions(
    session: Session, *, actor: Actor, filters: SubscriptionFilter, page: PageRequest
) -> Page[Subscription]:
    return paginate(
        session,
        subscription_query(actor, filters),
        model=Subscription,
        page=page,
        sortable=SUBSCRIPTION_SORT,
    )


def get_subscription(session: Session, *, actor: Actor, subscription_id: int) -> Subscription:
    row = session.get(Subscription, subscription_id)
    if row is None or (row.user_id != actor.user_id and not actor.is_superuser):
        require_user(actor)
        raise NotFound.of("subscription", subscription_id)
    return row


def _check_target(session: Session, actor: Actor, target_type: str, target_id: int) -> None:
    """The target exists and the subscriber may see it; otherwise it is
    unknown (a private story is not even confirmed to exist)."""
    if not can_see(session, actor=actor, kind=target_type, object_id=target_id):
        raise InvalidInput.field("target_id", f"no {target_type} with id {target_id}")


def create_subscription(session: Session, *, actor: Actor, data: SubscriptionIn) -> Subscription:
    require_user(actor)
    user_id = _owner(actor, data.user_id)
    if data.target_type not in TARGET_TYPES:
        raise InvalidInput.field("target_type", f"must be one of {', '.join(TARGET_TYPES)}")
    user = session.get(User, user_id)
    if user is None:
        raise InvalidInput.field("user_id", f"no user with id {user_id}")
    # The target must be visible to the subscriber, not only to an admin
    # subscribing them.
    subscriber = Actor(user_id=user_id, is_superuser=user.is_superuser)
    _check_target(session, subscriber, data.target_type, data.target_id)
    existing = session.scalars(
        select(Subscription).where(
            Subscription.user_id == user_id,
            Subscription.target_type == data.target_type,
            Subscription.target_id == data.target_id,
        )
    ).one_or_none()
    if existing is not None:
        raise Conflict(
            "You are already subscribed to this.", details={"subscription_id": existing.id}
        )
    row = Subscription(user_id=user_id, target_type=data.target_type, target_id=data.target_id)
    session.add(row)
    session.flush()
    return row


def delete_subscription(session: Session, *, actor: Actor, subscription_id: int) -> None:
    require_user(actor)
    row = get_subscription(session, actor=actor, subscription_id=subscription_id)
    session.delete(row)
    session.flush()


# The feed


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
        SubscriptionEvent.subscriber_id == _owner(actor, filters.subscriber_id)
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
