"""The outbox: messages that leave the process (email, digests, webhook calls).

A service writes an outbox row in the same transaction as the change it
reports, so a message exists if and only if the change was committed. The
worker (storyline.notifications.worker) claims rows, delivers them, and marks them
sent; a failed attempt is retried later with exponential backoff until
`outbox_max_attempts`, after which the row is `failed` and shows up for
administrators (API, web, `storyline outbox failures`).

Claiming sets a lease (`locked_until`) instead of holding a row lock during
delivery: on PostgreSQL several workers claim with FOR UPDATE SKIP LOCKED,
and a worker that dies mid-batch (even SIGKILL) leaves its rows to be
claimed again when the lease runs out. Delivery is therefore at least once;
the row's fixed `idempotency_key` goes with every attempt so that receivers
can drop the duplicates.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from storyline.config import Settings
from storyline.errors import InvalidInput, NotFound
from storyline.kernel.access import Actor, require_superuser
from storyline.kernel.models import OUTBOX_FAILED, OUTBOX_PENDING, OUTBOX_SENT, OutboxMessage
from storyline.kernel.paging import Page, PageRequest, paginate
from storyline.kernel.schema import utcnow

OUTBOX_SORT = {
    "id": OutboxMessage.id,
    "created_at": OutboxMessage.created_at,
    "updated_at": OutboxMessage.updated_at,
    "next_attempt_at": OutboxMessage.next_attempt_at,
    "attempts": OutboxMessage.attempts,
}
STATUSES = (OUTBOX_PENDING, OUTBOX_SENT, OUTBOX_FAILED)
KINDS = ("email", "digest", "webhook")


def enqueue(
    session: Session,
    *,
    kind: str,
    key: str,
    payload: dict[str, Any],
    recipient_id: int | None = None,
    webhook_id: int | None = None,
) -> OutboxMessage:
    """Add a message, or answer the one already written under `key`."""
    if kind not in KINDS:
        raise ValueError(f"unknown outbox kind {kind!r}")
    existing = session.scalars(
        select(OutboxMessage).where(OutboxMessage.idempotency_key == key)
    ).one_or_none()
    if existing is not None:
        return existing
    message = OutboxMessage(
        kind=kind,
        idempotency_key=key,
        payload=json.dumps(payload, sort_keys=True),
        status=OUTBOX_PENDING,
        attempts=0,
        next_attempt_at=utcnow(),
        recipient_id=recipient_id,
        webhook_id=webhook_id,
    )
    session.add(message)
    session.flush()
    return message


def claim(
    session: Session, *, now: dt.datetime, lease: dt.timedelta, limit: int
) -> list[OutboxMessage]:
    """Take up to `limit` due messages for this worker until `now + lease`."""
    stmt = (
        select(OutboxMessage)
        .where(
            OutboxMessage.status == OUTBOX_PENDING,
            OutboxMessage.next_attempt_at <= now,
            or_(OutboxMessage.locked_until.is_(None), OutboxMessage.locked_until <= now),
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    messages = list(session.scalars(stmt))
    for message in messages:
        message.locked_until = now + lease
        message.attempts += 1
    session.flush()
    return messages


def backoff(settings: Settings, attempts: int) -> dt.timedelta:
    """Delay before the next attempt after `attempts` failed ones: doubling."""
    delay: dt.timedelta = settings.outbox_retry_base * (2 ** max(0, attempts - 1))
    return min(delay, settings.outbox_retry_max)


def mark_sent(
    session: Session, *, message_id: int, now: dt.datetime, note: str | None = None
) -> None:
    """Done: delivered, or (with `note`, which says why) nothing left to send."""
    message = session.get(OutboxMessage, message_id)
    if message is None:
        return
    message.status = OUTBOX_SENT
    message.sent_at = now
    message.locked_until = None
    message.last_error = f"not sent: {note}" if note is not None else None


def postpone(session: Session, *, message_id: int, until: dt.datetime) -> None:
    """Not now, and not a failure: give back the claim and the attempt it
    counted (a receiver's rate limit was reached)."""
    message = session.get(OutboxMessage, message_id)
    if message is None:
        return
    message.locked_until = None
    message.attempts = max(0, message.attempts - 1)
    message.next_attempt_at = until


def mark_failed_attempt(
    session: Session,
    *,
    message_id: int,
    error: str,
    now: dt.datetime,
    settings: Settings,
    permanent: bool = False,
) -> None:
    message = session.get(OutboxMessage, message_id)
    if message is None:
        return
    message.last_error = error[:2000]
    message.locked_until = None
    if permanent or message.attempts >= settings.outbox_max_attempts:
        message.status = OUTBOX_FAILED
    else:
        message.next_attempt_at = now + backoff(settings, message.attempts)


def pending_count(session: Session, *, now: dt.datetime | None = None) -> int:
    stmt = select(func.count()).where(OutboxMessage.status == OUTBOX_PENDING)
    if now is not None:
        stmt = stmt.where(OutboxMessage.next_attempt_at <= now)
    return int(session.scalar(stmt) or 0)


# Administration


@dataclass(frozen=True, kw_only=True)
class OutboxFilter:
    status: str | None = None
    kind: str | None = None
    webhook_id: int | None = None

    def __post_init__(self) -> None:
        if self.status is not None and self.status not in STATUSES:
            raise InvalidInput.field("status", f"must be one of {', '.join(STATUSES)}")
        if self.kind is not None and self.kind not in KINDS:
            raise InvalidInput.field("kind", f"must be one of {', '.join(KINDS)}")


def outbox_query(filters: OutboxFilter) -> Select[OutboxMessage]:
    stmt = select(OutboxMessage)
    if filters.status is not None:
        stmt = stmt.where(OutboxMessage.status == filters.status)
    if filters.kind is not None:
        stmt = stmt.where(OutboxMessage.kind == filters.kind)
    if filters.webhook_id is not None:
        stmt = stmt.where(OutboxMessage.webhook_id == filters.webhook_id)
    return stmt


def list_messages(
    session: Session, *, actor: Actor, filters: OutboxFilter, page: PageRequest
) -> Page[OutboxMessage]:
    require_superuser(actor)
    return paginate(
        session, outbox_query(filters), model=OutboxMessage, page=page, sortable=OUTBOX_SORT
    )


def retry(session: Session, *, actor: Actor | None, message_ids: Sequence[int]) -> int:
    """Put failed messages back in the queue for a fresh series of attempts.
    `actor` None is the CLI on the server itself. Answers how many."""
    if actor is not None:
        require_superuser(actor)
    count = 0
    for message_id in message_ids:
        message = session.get(OutboxMessage, message_id)
        if message is None:
            raise NotFound.of("outbox message", message_id)
        if message.status == OUTBOX_SENT:
            continue
        message.status = OUTBOX_PENDING
        message.attempts = 0
        message.next_attempt_at = utcnow()
        message.locked_until = None
        count += 1
    session.flush()
    return count


def failed_ids(session: Session) -> list[int]:
    return list(
        session.scalars(
            select(OutboxMessage.id)
            .where(OutboxMessage.status == OUTBOX_FAILED)
            .order_by(OutboxMessage.id)
        )
    )
