"""Subscriptions: who follows what (a story, task, project, project group,
worklist or board).

A kernel concept because every subsystem filters by it ("stories I follow",
`subscriber_id` on the StoryBoard lists) and notifications fan out from it;
the feed and the email it leads to are the notifications subsystem's.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Select, delete, select
from sqlalchemy.orm import Session

from storyline.accounts.models import User
from storyline.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from storyline.kernel.access import Actor, can_see, require_user
from storyline.kernel.models import Subscription
from storyline.kernel.paging import Page, PageRequest, paginate
from storyline.kernel.validation import Id, Name

TARGET_TYPES = ("story", "task", "project", "project_group", "worklist", "board")

SUBSCRIPTION_SORT = {
    "id": Subscription.id,
    "created_at": Subscription.created_at,
    "updated_at": Subscription.updated_at,
    "target_type": Subscription.target_type,
    "target_id": Subscription.target_id,
    "user_id": Subscription.user_id,
}


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    target_type: Name
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


def owner_of(actor: Actor, user_id: int | None) -> int:
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
    stmt = select(Subscription).where(Subscription.user_id == owner_of(actor, filters.user_id))
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
    user_id = owner_of(actor, data.user_id)
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


def followed(kind: str, user_id: int) -> Select[int]:
    """Ids of the `kind`s `user_id` follows: the `subscriber_id` filters of
    the lists (stories, projects, worklists, …)."""
    return select(Subscription.target_id).where(
        Subscription.target_type == kind, Subscription.user_id == user_id
    )


def subscription_to(session: Session, *, actor: Actor, kind: str, target_id: int) -> int | None:
    """The id of the actor's own subscription to one thing, if any."""
    if actor.user_id is None:
        return None
    return session.scalar(
        select(Subscription.id).where(
            Subscription.user_id == actor.user_id,
            Subscription.target_type == kind,
            Subscription.target_id == target_id,
        )
    )


def follow(session: Session, *, user_id: int, kind: str, target_id: int) -> None:
    """Subscribe a user to something just created on their behalf (a story's
    creator follows it); the caller has checked what it may."""
    session.add(Subscription(user_id=user_id, target_type=kind, target_id=target_id))


def forget(session: Session, *, kind: str, target_id: int) -> None:
    """Remove every subscription to something being deleted: subscriptions
    point at their targets without a foreign key."""
    session.execute(
        delete(Subscription).where(
            Subscription.target_type == kind, Subscription.target_id == target_id
        )
    )
