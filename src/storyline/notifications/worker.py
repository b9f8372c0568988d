"""The delivery loop: `storyline worker`, or a thread of `storyline serve` on SQLite.

Each pass writes the digests that are due, then claims due outbox rows in
small batches (a short write transaction), delivers each one outside any
transaction, and records the outcome (another short transaction). See
kernel/outbox.py for the guarantees.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from storyline.bootstrap import Container
from storyline.kernel import outbox
from storyline.kernel.models import OutboxMessage
from storyline.kernel.schema import utcnow
from storyline.notifications import email
from storyline.notifications import fanout as notifications
from storyline.notifications import webhook_calls as webhooks
from storyline.notifications import webhooks as webhook_service
from storyline.notifications.models import Webhook

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claimed:
    id: int
    kind: str
    key: str
    payload: str
    recipient_id: int | None
    webhook_id: int | None


class Worker:
    def __init__(
        self,
        container: Container,
        *,
        batch_size: int = 20,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.container = container
        self.settings = container.settings
        self.db = container.db
        self.batch_size = batch_size
        self._clock = clock

    def now(self) -> dt.datetime:
        return self._clock() if self._clock is not None else utcnow()

    def run_once(self, *, max_batches: int = 1000) -> int:
        """Deliver everything that is due now; answers how many messages were handled."""
        with self.db.write() as session:
            notifications.enqueue_due_digests(session, now=self.now())
        handled = 0
        for _ in range(max_batches):
            batch = self._claim()
            if not batch:
                break
            for message in batch:
                self._deliver(message)
                handled += 1
        return handled

    def run_forever(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.run_once(max_batches=50)
            except Exception:
                # A database outage or a bug in one pass must not end the loop.
                log.exception("outbox pass failed")
            stop.wait(self.settings.worker_poll_interval)

    def _claim(self) -> list[Claimed]:
        with self.db.write() as session:
            rows = outbox.claim(
                session, now=self.now(), lease=self.settings.outbox_lease, limit=self.batch_size
            )
            return [
                Claimed(r.id, r.kind, r.idempotency_key, r.payload, r.recipient_id, r.webhook_id)
                for r in rows
            ]

    def _deliver(self, message: Claimed) -> None:
        payload = json.loads(message.payload)
        try:
            if message.kind == "webhook":
                self._call_webhook(message, payload)
                return
            with self.db.read() as session:
                if message.kind == "digest":
                    rendered = email.render_digest(
                        session,
                        self.settings,
                        key=message.key,
                        recipient_id=message.recipient_id,
                        payload=payload,
                    )
                else:
                    rendered = email.render_event(
                        session,
                        self.settings,
                        key=message.key,
                        recipient_id=message.recipient_id,
                        payload=payload,
                    )
            email.send(self.settings, rendered)
        except email.NothingToSend as reason:
            self._finish(message, error=None, note=str(reason))
        except email.Undeliverable as reason:
            self._finish(message, error=str(reason), permanent=True)
        except Exception as error:  # Any other failure is retried later.
            self._finish(message, error=f"{type(error).__name__}: {error}")
        else:
            self._finish(message, error=None)

    def _call_webhook(self, message: Claimed, payload: dict[str, object]) -> None:
        with self.db.read() as session:
            hook = session.get(Webhook, message.webhook_id) if message.webhook_id else None
            target = (hook.url, hook.secret, hook.active) if hook is not None else None
        if target is None or not target[2]:
            self._finish(message, error=None, note="the webhook was removed or turned off")
            return
        event_type = str(payload.get("event_type", ""))
        body = payload.get("body")
        outcome = webhooks.deliver(
            self.settings,
            url=target[0],
            secret=target[1],
            key=message.key,
            event_type=event_type,
            body=body if isinstance(body, dict) else {},
        )
        with self.db.write() as session:
            row = session.get(OutboxMessage, message.id)
            if row is not None:
                webhook_service.record_delivery(
                    session,
                    message=row,
                    event_type=event_type,
                    status_code=outcome.status_code,
                    error=outcome.error,
                    duration_ms=outcome.duration_ms,
                )
                self._outcome(
                    session,
                    message.id,
                    outcome.error if not outcome.ok else None,
                    outcome.permanent,
                )

    def _finish(
        self,
        message: Claimed,
        *,
        error: str | None,
        permanent: bool = False,
        note: str | None = None,
    ) -> None:
        with self.db.write() as session:
            self._outcome(session, message.id, error, permanent)
            if note is not None:
                row = session.get(OutboxMessage, message.id)
                if row is not None:
                    row.last_error = f"not sent: {note}"

    def _outcome(
        self, session: Session, message_id: int, error: str | None, permanent: bool
    ) -> None:
        if error is None:
            outbox.mark_sent(session, message_id=message_id, now=self.now())
        else:
            log.warning("delivery of outbox message %s failed: %s", message_id, error)
            outbox.mark_failed_attempt(
                session,
                message_id=message_id,
                error=error,
                now=self.now(),
                settings=self.settings,
                permanent=permanent,
            )


def start_in_thread(container: Container) -> tuple[threading.Thread, threading.Event]:
    """Run the worker beside the server (the embedded SQLite setup)."""
    stop = threading.Event()
    thread = threading.Thread(
        target=Worker(container).run_forever, args=(stop,), name="storyline-worker", daemon=True
    )
    thread.start()
    return thread, stop
