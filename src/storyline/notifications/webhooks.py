"""Webhooks: HTTP endpoints told about every change in a project or group.

Administrators add them: a webhook sends a project's activity to a server
outside, so it is the installation's decision (Storyline has no project
owners to delegate it to), and each project or group holds a bounded
number (`Settings.webhooks_per_scope`). The owner of a webhook (whoever
added it) and administrators see and change it and read its delivery log.
Only what anyone may see is sent: events of private stories, worklists and
boards never are. The worker calls each receiving host at a bounded rate.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from storyline.domain import events as event_types
from storyline.errors import Conflict, InvalidInput, NotFound
from storyline.kernel import outbox
from storyline.kernel.access import ANONYMOUS, Actor, can_see, require_superuser, require_user
from storyline.kernel.models import Event, OutboxMessage
from storyline.kernel.paging import Page, PageRequest, paginate
from storyline.kernel.schema import utcnow
from storyline.kernel.validation import Id, Name, WebUrl, validate
from storyline.notifications.models import Webhook, WebhookDelivery
from storyline.tracker.models import Project, ProjectGroup

WEBHOOK_SORT = {"id": Webhook.id, "created_at": Webhook.created_at, "url": Webhook.url}
DELIVERY_SORT = {"id": WebhookDelivery.id, "created_at": WebhookDelivery.created_at}
PING = "ping"


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    url: WebUrl = Field(min_length=1, max_length=2000)
    project_id: Id | None = None
    project_group_id: Id | None = None
    secret: str | None = Field(default=None, min_length=16, max_length=200)
    description: str | None = Field(default=None, max_length=255)
    event_types: list[Name] = Field(default_factory=list)
    active: bool = True

    @field_validator("event_types")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        unknown = [name for name in value if name not in event_types.ALL]
        if unknown:
            raise ValueError(f"unknown event type {unknown[0]!r}")
        return value


def _visible(actor: Actor) -> Select[Webhook]:
    stmt = select(Webhook)
    if not actor.is_superuser:
        stmt = stmt.where(Webhook.owner_id == actor.user_id)
    return stmt


def list_webhooks(
    session: Session,
    *,
    actor: Actor,
    project_id: int | None,
    project_group_id: int | None,
    page: PageRequest,
) -> Page[Webhook]:
    require_user(actor)
    stmt = _visible(actor)
    if project_id is not None:
        stmt = stmt.where(Webhook.project_id == project_id)
    if project_group_id is not None:
        stmt = stmt.where(Webhook.project_group_id == project_group_id)
    return paginate(session, stmt, model=Webhook, page=page, sortable=WEBHOOK_SORT)


def get_webhook(session: Session, *, actor: Actor, webhook_id: int) -> Webhook:
    require_user(actor)
    hook = session.scalars(_visible(actor).where(Webhook.id == webhook_id)).one_or_none()
    if hook is None:
        raise NotFound.of("webhook", webhook_id)
    return hook


def _check_scope(session: Session, data: WebhookIn) -> None:
    if (data.project_id is None) == (data.project_group_id is None):
        raise InvalidInput.field("project_id", "name exactly one of project_id or project_group_id")
    if data.project_id is not None and session.get(Project, data.project_id) is None:
        raise InvalidInput.field("project_id", f"no project with id {data.project_id}")
    if (
        data.project_group_id is not None
        and session.get(ProjectGroup, data.project_group_id) is None
    ):
        raise InvalidInput.field(
            "project_group_id", f"no project group with id {data.project_group_id}"
        )


def create_webhook(session: Session, *, actor: Actor, data: WebhookIn, limit: int) -> Webhook:
    user_id = require_superuser(actor)
    _check_scope(session, data)
    _check_room(session, data, limit=limit)
    hook = Webhook(
        owner_id=user_id,
        url=data.url,
        project_id=data.project_id,
        project_group_id=data.project_group_id,
        secret=data.secret or secrets.token_urlsafe(32),
        description=data.description,
        event_types=",".join(data.event_types),
        active=data.active,
    )
    session.add(hook)
    session.flush()
    return hook


def _check_room(
    session: Session, data: WebhookIn, *, limit: int, leaving: int | None = None
) -> None:
    """A project or group holds at most `limit` webhooks (`leaving`: the one
    being moved there, not counted)."""
    if data.project_id is not None:
        where, scope = Webhook.project_id == data.project_id, "project"
    else:
        where, scope = Webhook.project_group_id == data.project_group_id, "project group"
    stmt = select(func.count()).select_from(Webhook).where(where)
    if leaving is not None:
        stmt = stmt.where(Webhook.id != leaving)
    if (session.scalar(stmt) or 0) >= limit:
        raise Conflict(
            f"This {scope} already has {limit} webhooks, the most allowed; "
            "remove one, or point several receivers at one webhook.",
            details={"limit": limit},
        )


def update_webhook(
    session: Session, *, actor: Actor, webhook_id: int, changes: dict[str, Any], limit: int
) -> Webhook:
    require_user(actor)
    hook = get_webhook(session, actor=actor, webhook_id=webhook_id)
    current = {
        "url": hook.url,
        "project_id": hook.project_id,
        "project_group_id": hook.project_group_id,
        "secret": hook.secret,
        "description": hook.description,
        "event_types": [t for t in hook.event_types.split(",") if t],
        "active": hook.active,
    }
    data = validate(WebhookIn, {**current, **changes})
    _check_scope(session, data)
    if (data.project_id, data.project_group_id) != (hook.project_id, hook.project_group_id):
        # Pointing a webhook at another project is adding one there.
        require_superuser(actor)
        _check_room(session, data, limit=limit, leaving=hook.id)
    hook.url = data.url
    hook.project_id = data.project_id
    hook.project_group_id = data.project_group_id
    hook.secret = data.secret or hook.secret
    hook.description = data.description
    hook.event_types = ",".join(data.event_types)
    hook.active = data.active
    hook.updated_at = utcnow()
    session.flush()
    return hook


def delete_webhook(session: Session, *, actor: Actor, webhook_id: int) -> None:
    require_user(actor)
    hook = get_webhook(session, actor=actor, webhook_id=webhook_id)
    session.delete(hook)
    session.flush()


def send_test(session: Session, *, actor: Actor, webhook_id: int) -> OutboxMessage:
    """Queue a `ping` delivery (the web page's "test delivery" button)."""
    require_user(actor)
    hook = get_webhook(session, actor=actor, webhook_id=webhook_id)
    key = f"webhook:{hook.id}:ping:{uuid.uuid4().hex}"
    return outbox.enqueue(
        session,
        kind="webhook",
        key=key,
        webhook_id=hook.id,
        payload={
            "delivery_id": key,
            "event_type": PING,
            "body": {
                "delivery_id": key,
                "event_type": PING,
                "webhook_id": hook.id,
                "created_at": utcnow().isoformat(timespec="seconds"),
            },
        },
    )


def list_deliveries(
    session: Session, *, actor: Actor, webhook_id: int, page: PageRequest
) -> Page[WebhookDelivery]:
    get_webhook(session, actor=actor, webhook_id=webhook_id)
    stmt = select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id)
    return paginate(session, stmt, model=WebhookDelivery, page=page, sortable=DELIVERY_SORT)


@dataclass(frozen=True)
class DeliveryTarget:
    url: str
    secret: str


def delivery_target(session: Session, *, webhook_id: int | None) -> DeliveryTarget | None:
    """Where the worker sends a webhook message: None when the hook was
    removed or turned off since the message was queued."""
    hook = session.get(Webhook, webhook_id) if webhook_id is not None else None
    if hook is None or not hook.active:
        return None
    return DeliveryTarget(url=hook.url, secret=hook.secret)


def still_public(session: Session, *, body: dict[str, Any]) -> bool:
    """Whether what a queued webhook message tells may still be told to
    anyone: it was public when queued, but its story may have turned private
    before a retry. An event that no longer exists (its story was deleted)
    and a test message have nothing left to hide."""
    event_id = body.get("event_id")
    if not isinstance(event_id, int) or session.get(Event, event_id) is None:
        return True
    return can_see(session, actor=ANONYMOUS, kind="event", object_id=event_id)


def record_delivery(
    session: Session,
    *,
    message_id: int,
    event_type: str,
    status_code: int | None,
    error: str | None,
    duration_ms: int,
) -> None:
    """The worker's log line for one attempt (nothing if the message is gone)."""
    message = session.get(OutboxMessage, message_id)
    if message is None or message.webhook_id is None:
        return
    session.add(
        WebhookDelivery(
            webhook_id=message.webhook_id,
            outbox_id=message.id,
            idempotency_key=message.idempotency_key,
            event_type=event_type,
            attempt=message.attempts,
            status_code=status_code,
            error=error[:2000] if error else None,
            duration_ms=duration_ms,
        )
    )
    session.flush()
