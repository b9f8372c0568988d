"""The delivery loop: `storyline worker`, or a thread of `storyline serve` on SQLite.

Each pass writes the digests that are due and runs the other subsystems'
periodic jobs (`Runtime.jobs`), then claims due outbox rows in
small batches (a short write transaction), delivers each one outside any
transaction, and records the outcome (another short transaction). See
kernel/outbox.py for the guarantees. Every read and write goes through a
service; the worker only owns the units of work and the network calls.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from storyline.config import Settings
from storyline.kernel import outbox
from storyline.kernel.db import Database
from storyline.kernel.schema import utcnow
from storyline.notifications import email, fanout, webhooks
from storyline.notifications.mailer import Mailer
from storyline.notifications.webhook_sender import WebhookSender

log = logging.getLogger(__name__)


# A periodic job of another subsystem (the deadline of freeze exceptions,
# the clones of remote repositories), run on every pass with the database,
# the settings and the worker's time. A job owns its units of work, as an
# edge does: most run one write unit of work; one that waits on the network
# must not hold a transaction open meanwhile. The composition root collects
# them (`Runtime.jobs`), since this subsystem cannot import the ones that
# come after it.
Job = Callable[[Database, Settings, dt.datetime], object]


class Runtime(Protocol):
    """What the worker needs from the composition root."""

    @property
    def settings(self) -> Settings: ...
    @property
    def db(self) -> Database: ...
    @property
    def mailer(self) -> Mailer: ...
    @property
    def webhooks(self) -> WebhookSender: ...
    @property
    def jobs(self) -> tuple[Job, ...]: ...


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
        runtime: Runtime,
        *,
        batch_size: int = 20,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.settings = runtime.settings
        self.db = runtime.db
        self.mailer = runtime.mailer
        self.webhooks = runtime.webhooks
        self.jobs = runtime.jobs
        self.batch_size = batch_size
        self._clock = clock
        # Receiving host -> when this worker called it in the last minute.
        self._calls: dict[str, deque[dt.datetime]] = {}

    def now(self) -> dt.datetime:
        return self._clock() if self._clock is not None else utcnow()

    def run_once(self, *, max_batches: int = 1000) -> int:
        """Deliver everything that is due now; answers how many messages were handled."""
        with self.db.write() as session:
            fanout.enqueue_due_digests(session, now=self.now())
        for job in self.jobs:
            # Before delivery, so that the events a job records go out in
            # this same pass.
            job(self.db, self.settings, self.now())
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
                    render = email.render_digest
                elif "notice" in payload:
                    render = email.render_notice
                else:
                    render = email.render_event
                rendered = render(
                    session,
                    self.settings,
                    key=message.key,
                    recipient_id=message.recipient_id,
                    payload=payload,
                )
            self.mailer.send(rendered.message, to=rendered.to)
        except email.NothingToSend as reason:
            self._finish(message, error=None, note=str(reason))
        except email.Undeliverable as reason:
            self._finish(message, error=str(reason), permanent=True)
        except Exception as error:  # Any other failure is retried later.
            self._finish(message, error=f"{type(error).__name__}: {error}")
        else:
            self._finish(message, error=None)

    def _call_webhook(self, message: Claimed, payload: dict[str, object]) -> None:
        body = payload.get("body")
        with self.db.read() as session:
            target = webhooks.delivery_target(session, webhook_id=message.webhook_id)
            public = webhooks.still_public(session, body=body if isinstance(body, dict) else {})
        if target is None:
            self._finish(message, error=None, note="the webhook was removed or turned off")
            return
        if not public:
            self._finish(message, error=None, note="what it tells is no longer public")
            return
        wait = self._turn_at(target.url)
        if wait is not None:
            with self.db.write() as session:
                outbox.postpone(session, message_id=message.id, until=wait)
            return
        event_type = str(payload.get("event_type", ""))
        outcome = self.webhooks.deliver(
            url=target.url,
            secret=target.secret,
            key=message.key,
            event_type=event_type,
            body=body if isinstance(body, dict) else {},
        )
        with self.db.write() as session:
            webhooks.record_delivery(
                session,
                message_id=message.id,
                event_type=event_type,
                status_code=outcome.status_code,
                error=outcome.error,
                duration_ms=outcome.duration_ms,
            )
            self._record(
                session,
                message,
                error=outcome.error if not outcome.ok else None,
                permanent=outcome.permanent,
            )

    def _turn_at(self, url: str) -> dt.datetime | None:
        """None when a call to `url`'s host may go now (it is counted), else
        when it may: at most `webhook_calls_per_minute` calls a minute to one
        host from this worker, however many webhooks point there, so that a
        burst of changes does not flood a receiver (or make Storyline a tool
        to flood one)."""
        host = (urlsplit(url).hostname or "").lower()
        now, window = self.now(), dt.timedelta(minutes=1)
        calls = self._calls.setdefault(host, deque())
        while calls and calls[0] <= now - window:
            calls.popleft()
        if len(calls) >= self.settings.webhook_calls_per_minute:
            return calls[0] + window
        calls.append(now)
        return None

    def _finish(
        self,
        message: Claimed,
        *,
        error: str | None,
        permanent: bool = False,
        note: str | None = None,
    ) -> None:
        with self.db.write() as session:
            self._record(session, message, error=error, permanent=permanent, note=note)

    def _record(
        self,
        session: Session,
        message: Claimed,
        *,
        error: str | None,
        permanent: bool = False,
        note: str | None = None,
    ) -> None:
        if error is None:
            outbox.mark_sent(session, message_id=message.id, now=self.now(), note=note)
            return
        log.warning("delivery of outbox message %s failed: %s", message.id, error)
        outbox.mark_failed_attempt(
            session,
            message_id=message.id,
            error=error,
            now=self.now(),
            settings=self.settings,
            permanent=permanent,
        )


def start_in_thread(runtime: Runtime) -> tuple[threading.Thread, threading.Event]:
    """Run the worker beside the server (the embedded SQLite setup)."""
    stop = threading.Event()
    thread = threading.Thread(
        target=Worker(runtime).run_forever, args=(stop,), name="storyline-worker", daemon=True
    )
    thread.start()
    return thread, stop
