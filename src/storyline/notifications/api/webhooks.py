"""/v1/webhooks (per project or group), their delivery log and test button,
and /v1/outbox: what the worker has not managed to deliver (administrators)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Response
from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from storyline.api.deps import Context, ContextDep, PageDep, Timestamp, set_page_headers
from storyline.api.preconditions import IfMatch, IfMatchDep
from storyline.kernel import outbox
from storyline.kernel.outbox import OutboxFilter
from storyline.kernel.validation import Id
from storyline.notifications import webhooks as service
from storyline.notifications.models import Webhook
from storyline.notifications.webhooks import WebhookIn

router = APIRouter(tags=["webhooks"])


class WebhookOut(BaseModel):
    id: int
    created_at: Timestamp
    updated_at: Timestamp | None
    owner_id: int
    project_id: int | None
    project_group_id: int | None
    url: str
    description: str | None
    event_types: list[str]
    active: bool
    # Shown to the webhook's owner (the only one who can read it), who needs
    # it to check the X-Storyline-Signature header.
    secret: str

    @classmethod
    def of(cls, hook: Webhook) -> WebhookOut:
        return cls(
            id=hook.id,
            created_at=hook.created_at,
            updated_at=hook.updated_at,
            owner_id=hook.owner_id,
            project_id=hook.project_id,
            project_group_id=hook.project_group_id,
            url=hook.url,
            description=hook.description,
            event_types=[t for t in hook.event_types.split(",") if t],
            active=hook.active,
            secret=hook.secret,
        )


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: Timestamp
    webhook_id: int
    outbox_id: int | None
    idempotency_key: str
    event_type: str
    attempt: int
    status_code: int | None
    error: str | None
    duration_ms: int


class OutboxOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: Timestamp
    kind: str
    idempotency_key: str
    status: str
    attempts: int
    next_attempt_at: Timestamp
    last_error: str | None
    sent_at: Timestamp | None
    recipient_id: int | None
    webhook_id: int | None


@router.get("/webhooks", response_model=list[WebhookOut])
def list_webhooks(
    ctx: ContextDep,
    paging: PageDep,
    response: Response,
    project_id: Id | None = None,
    project_group_id: Id | None = None,
) -> Any:
    with ctx.db.read() as session:
        page = service.list_webhooks(
            session,
            actor=ctx.actor,
            project_id=project_id,
            project_group_id=project_group_id,
            page=paging.request(ctx.settings),
        )
    set_page_headers(response, page)
    return [WebhookOut.of(h) for h in page.items]


@router.post("/webhooks", response_model=WebhookOut)
def create_webhook(ctx: ContextDep, body: WebhookIn) -> Any:
    with ctx.db.write() as session:
        return WebhookOut.of(
            service.create_webhook(
                session, actor=ctx.actor, data=body, limit=ctx.settings.webhooks_per_scope
            )
        )


@router.get("/webhooks/{webhook_id}", response_model=WebhookOut)
def get_webhook(ctx: ContextDep, webhook_id: Id) -> Any:
    with ctx.db.read() as session:
        return WebhookOut.of(service.get_webhook(session, actor=ctx.actor, webhook_id=webhook_id))


def _check(session: Session, ctx: Context, if_match: IfMatch, webhook_id: int) -> None:
    if_match.check(
        session,
        Webhook.id,
        webhook_id,
        lambda: WebhookOut.of(service.get_webhook(session, actor=ctx.actor, webhook_id=webhook_id)),
    )


@router.put("/webhooks/{webhook_id}", response_model=WebhookOut)
def update_webhook(
    ctx: ContextDep, webhook_id: Id, body: Annotated[dict[str, Any], Body()], if_match: IfMatchDep
) -> Any:
    writable = set(WebhookIn.model_fields)
    changes = {k: v for k, v in body.items() if k in writable}
    with ctx.db.write() as session:
        _check(session, ctx, if_match, webhook_id)
        return WebhookOut.of(
            service.update_webhook(
                session,
                actor=ctx.actor,
                webhook_id=webhook_id,
                changes=changes,
                limit=ctx.settings.webhooks_per_scope,
            )
        )


@router.delete("/webhooks/{webhook_id}", status_code=204)
def delete_webhook(ctx: ContextDep, webhook_id: Id, if_match: IfMatchDep) -> Response:
    with ctx.db.write() as session:
        _check(session, ctx, if_match, webhook_id)
        service.delete_webhook(session, actor=ctx.actor, webhook_id=webhook_id)
    return Response(status_code=204)


@router.post("/webhooks/{webhook_id}/test", response_model=OutboxOut)
def test_webhook(ctx: ContextDep, webhook_id: Id) -> Any:
    """Queue a `ping` delivery; its attempts show up in the delivery log."""
    with ctx.db.write() as session:
        return service.send_test(session, actor=ctx.actor, webhook_id=webhook_id)


@router.get("/webhooks/{webhook_id}/deliveries", response_model=list[DeliveryOut])
def list_deliveries(ctx: ContextDep, webhook_id: Id, paging: PageDep, response: Response) -> Any:
    with ctx.db.read() as session:
        page = service.list_deliveries(
            session,
            actor=ctx.actor,
            webhook_id=webhook_id,
            page=paging.request(ctx.settings, default_sort_dir="desc"),
        )
    set_page_headers(response, page)
    return page.items


@router.get("/outbox", response_model=list[OutboxOut])
def list_outbox(
    ctx: ContextDep,
    paging: PageDep,
    response: Response,
    status: str | None = None,
    kind: str | None = None,
    webhook_id: Id | None = None,
) -> Any:
    filters = OutboxFilter(status=status, kind=kind, webhook_id=webhook_id)
    with ctx.db.read() as session:
        page = outbox.list_messages(
            session, actor=ctx.actor, filters=filters, page=paging.request(ctx.settings)
        )
    set_page_headers(response, page)
    return page.items


class RetriedOut(BaseModel):
    retried: int


@router.post("/outbox/{message_id}/retry", response_model=RetriedOut)
def retry_message(ctx: ContextDep, message_id: Id) -> Any:
    with ctx.db.write() as session:
        return RetriedOut(retried=outbox.retry(session, actor=ctx.actor, message_ids=[message_id]))


__all__ = ["OutboxOut", "WebhookOut", "router"]
