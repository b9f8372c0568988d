"""Engine creation and the unit of work.

The edge (a request, a job, a CLI command) opens one unit of work, calls
services with its session, and the unit of work commits or rolls back. Errors
that mean "the database is not there" become `ServiceUnavailable` here, once,
so that no caller mistakes an outage for bad input.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final, TypeVar

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.orm import Session, sessionmaker

from storyline.config import Settings
from storyline.errors import Conflict, ServiceUnavailable

T = TypeVar("T")

# How many times a write is retried after a deadlock or serialization failure.
WRITE_ATTEMPTS = 3


def make_engine(settings: Settings) -> Engine:
    url = settings.database_url
    if url.startswith("sqlite"):
        return _sqlite_engine(url, echo=settings.echo_sql)
    return create_engine(
        url,
        echo=settings.echo_sql,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=10,
        connect_args={
            # Fail fast when the server is gone instead of hanging the request.
            "connect_timeout": 5,
            # The visibility gate's cost estimate pushes plain page queries over
            # the JIT threshold; compiling them costs 30-50 ms and saves nothing
            # on queries that touch a page of rows.
            "options": "-c jit=off",
        },
    )


def _sqlite_engine(url: str, *, echo: bool) -> Engine:
    path = url.split("///", 1)[1] if "///" in url else ""
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, echo=echo, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # Take transaction control away from the driver so that we can issue
        # BEGIN IMMEDIATE for writes (below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A write transaction takes the write lock up front. Otherwise two
        # readers that both decide to write deadlock on the lock upgrade, and
        # SQLite answers "database is locked" at once instead of waiting.
        if connection.get_execution_options().get("storyline_write"):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")

    return engine


def is_unavailable(error: BaseException) -> bool:
    """True when the error means the database cannot be reached or is busy."""
    if isinstance(error, exc.DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, exc.InterfaceError | exc.TimeoutError):
        return True
    if isinstance(error, exc.OperationalError):
        text = str(error.orig).lower()
        # SQLite's "database is locked"; not PostgreSQL's deadlock report,
        # whose "blocked by process" would match a bare "locked".
        if "is locked" in text or "unable to open" in text or "disk i/o" in text:
            return True
        if isinstance(error.orig, sqlite3.Error):
            # Anything else from SQLite ("no such table", a bad statement) is
            # a bug or an unmigrated database, not an outage to wait out.
            return False
        pgcode = getattr(error.orig, "sqlstate", None)
        # Class 08: connection exceptions; 57P: operator intervention
        # (server shutting down); 53: insufficient resources.
        if pgcode is None or str(pgcode).startswith(("08", "57P", "53")):
            return True
    return False


def _is_retryable(error: BaseException) -> bool:
    sqlstate = getattr(getattr(error, "orig", None), "sqlstate", None)
    # 40001 serialization failure, 40P01 deadlock detected.
    return sqlstate in {"40001", "40P01"}


# Where a write unit of work keeps the callables that see every timeline
# event it records (`storyline.kernel.timeline.record`).
EVENT_LISTENERS: Final = "storyline.event_listeners"


class Database:
    """The engine plus the two kinds of unit of work.

    `event_listeners` are called with (session, event) for every timeline
    event a write records, in its transaction; the composition root passes
    the notifications' fan-out here, so that the kernel needs no import of it.
    """

    def __init__(
        self, engine: Engine, *, event_listeners: Sequence[Callable[..., None]] = ()
    ) -> None:
        self.engine = engine
        self._read = sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)
        self._write = sessionmaker(
            bind=engine.execution_options(storyline_write=True),
            expire_on_commit=False,
            autoflush=True,
            info={EVENT_LISTENERS: tuple(event_listeners)},
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only unit of work. Closing the session ends the transaction
        without expiring the loaded objects, so they can be serialized after
        the block."""
        try:
            with self._read() as session:
                yield session
        except exc.DBAPIError as error:
            raise _translate(error) from error

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A unit of work that commits when the block ends without error."""
        try:
            with self._write() as session, session.begin():
                yield session
        except exc.DBAPIError as error:
            raise _translate(error) from error

    def run_write(self, work: Callable[[Session], T]) -> T:
        """Run `work` in a write unit of work, retrying deadlocks."""
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                with self.write() as session:
                    return work(session)
            except Conflict as error:
                cause = error.__cause__
                if attempt == WRITE_ATTEMPTS or cause is None or not _is_retryable(cause):
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def dispose(self) -> None:
        self.engine.dispose()


def _translate(error: exc.DBAPIError) -> Exception:
    if is_unavailable(error):
        return ServiceUnavailable(
            "The database is not available right now; try again in a moment.",
            details={"reason": type(error.orig).__name__},
        )
    if isinstance(error, exc.IntegrityError):
        return Conflict(
            "The change conflicts with existing data (a duplicate or a missing reference).",
            details={"reason": type(error.orig).__name__},
        )
    if _is_retryable(error):
        return Conflict(
            "The change collided with a concurrent change; try again.",
            details={"reason": type(error.orig).__name__},
        )
    return error
