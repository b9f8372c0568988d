"""The composition root: Settings in, everything a process needs out.

The server, the worker and the CLI all build from here, once per process:
the database (whose write units of work hand timeline events to the
notifications' fan-out and run every subsystem's write checks), the OpenID
Connect client, the mailer and the webhook sender. Nothing else constructs
them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property

from sqlalchemy.orm import Session

from storyline import subsystems
from storyline.accounts.oidc import OidcClient
from storyline.accounts.web_sessions import server_secret
from storyline.config import Settings
from storyline.kernel.checks import WriteChecks
from storyline.kernel.db import Database, make_engine
from storyline.notifications import fanout
from storyline.notifications.mailer import Mailer
from storyline.notifications.webhook_sender import WebhookSender
from storyline.notifications.worker import Job


@dataclass
class Container:
    settings: Settings
    db: Database
    oidc: OidcClient
    mailer: Mailer
    webhooks: WebhookSender
    # The subsystems' periodic jobs, which the worker runs on every pass.
    jobs: tuple[Job, ...] = ()

    @cached_property
    def web_secret(self) -> str:
        """The key that signs the pages' CSRF tokens. Made on first use: only
        the pages need it, and the file it may create belongs to a server,
        not to every CLI command."""
        return server_secret(self.settings)


def write_checks() -> WriteChecks:
    """Every subsystem's rules on other subsystems' writes, from its
    optional `checks` module (`storyline.kernel.checks`)."""
    modules = subsystems.parts("checks")
    return WriteChecks(tasks=tuple(c for m in modules for c in getattr(m, "TASK_CHECKS", ())))


def periodic_jobs() -> tuple[Job, ...]:
    """Every subsystem's periodic jobs, from its optional `jobs` module (`JOBS`)."""
    return tuple(job for m in subsystems.parts("jobs") for job in getattr(m, "JOBS", ()))


def build(settings: Settings) -> Container:
    database = Database(
        make_engine(settings), event_listeners=[fanout.on_event], write_checks=write_checks()
    )
    return Container(
        settings=settings,
        db=database,
        oidc=OidcClient(settings),
        mailer=Mailer(settings),
        webhooks=WebhookSender(settings),
        jobs=periodic_jobs(),
    )


@contextmanager
def command_container() -> Iterator[Container]:
    """The container a command works with: built from the environment, with
    the schema upgraded first (a command run right after the code was
    upgraded finds its tables), its connections closed at the end."""
    from storyline.kernel import migrate

    container = build(Settings.from_env())
    try:
        migrate.upgrade(container.db.engine)
        yield container
    finally:
        container.db.dispose()


@contextmanager
def command_session(*, write: bool) -> Iterator[Session]:
    """One unit of work for a command, a write or a read."""
    with (
        command_container() as container,
        container.db.write() if write else container.db.read() as session,
    ):
        yield session
