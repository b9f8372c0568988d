"""`storyline worker` and `storyline outbox failures|retry`."""

from __future__ import annotations

import signal
import threading
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from storyline.bootstrap import build
from storyline.config import Settings
from storyline.kernel import outbox
from storyline.kernel.outbox import OutboxFilter
from storyline.kernel.paging import PageRequest

app = typer.Typer(help="See and retry undelivered emails and webhook calls.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    """Add `storyline worker` and `storyline outbox ...` to the command line."""
    root.add_typer(app, name="outbox")
    root.command("worker")(worker)


console = Console()


def worker(
    once: Annotated[bool, typer.Option("--once", help="Deliver what is due, then exit.")] = False,
    batch: Annotated[int, typer.Option(help="Messages claimed per transaction.")] = 20,
) -> None:
    """Deliver the outbox: emails, digests and webhook calls (at least once)."""
    from storyline.notifications.worker import Worker

    container = build(Settings.from_env())
    runner = Worker(container, batch_size=batch)
    if once:
        try:
            handled = runner.run_once()
        finally:
            container.db.dispose()
        console.print(f"Handled {handled} message{'s' if handled != 1 else ''}.")
        return
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    console.print("Worker running; Ctrl-C to stop.")
    runner.run_forever(stop)


@app.command("failures")
def failures(
    limit: Annotated[int, typer.Option(help="How many to show.")] = 50,
) -> None:
    """List messages that gave up after their last attempt."""
    container = build(Settings.from_env())
    from storyline.kernel.access import Actor

    admin = Actor(user_id=0, is_superuser=True, can_write=True)
    try:
        with container.db.read() as session:
            page = outbox.list_messages(
                session,
                actor=admin,
                filters=OutboxFilter(status="failed"),
                page=PageRequest(limit=limit),
            )
    finally:
        container.db.dispose()
    table = Table("id", "kind", "attempts", "key", "last error")
    for message in page.items:
        table.add_row(
            str(message.id),
            message.kind,
            str(message.attempts),
            message.idempotency_key,
            (message.last_error or "")[:120],
        )
    console.print(table)
    console.print(f"{page.total} failed message{'s' if page.total != 1 else ''}.")


@app.command("retry")
def retry(
    ids: Annotated[
        list[int] | None, typer.Argument(help="Message ids (default: all failed).")
    ] = None,
) -> None:
    """Queue failed messages again for a fresh series of attempts."""
    container = build(Settings.from_env())
    try:
        with container.db.write() as session:
            wanted = ids or outbox.failed_ids(session)
            count = outbox.retry(session, actor=None, message_ids=wanted)
    finally:
        container.db.dispose()
    console.print(f"Queued {count} message{'s' if count != 1 else ''} again.")
