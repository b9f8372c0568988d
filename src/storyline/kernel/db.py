"""Engine creation and the unit of work.

The edge (a request, a job, a CLI command) opens one unit of work, calls
services with its session, and the unit of work commits or rolls back. Errors
that mean "the database is not there" become `ServiceUnavailable` here, once,
so that no caller mistakes an outage for bad input.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Final, TypeVar

from sqlalchemy import Engine, create_engine, event, exc, make_url
from sqlalchemy.orm import Session, sessionmaker

from storyline.config import Settings
from storyline.errors import Conflict, ServiceUnavailable
from storyline.kernel.checks import WRITE_CHECKS, WriteChecks
from storyline.kernel.credentials import CredentialCache, epoch_for, watch

T = TypeVar("T")

_log = logging.getLogger(__name__)

# How many times a write is retried after a deadlock or serialization failure.
WRITE_ATTEMPTS = 3
# How long a SQLite writer waits for its turn before the request is answered
# 503, as SQLite's own busy timeout (below) would.
SQLITE_WRITER_WAIT = 30.0
# How often a process waiting for the SQLite writers' turn looks again, and
# how long a process about to take the turn lets waiting ones go first.
SQLITE_TURN_POLL = 0.0005
SQLITE_TURN_YIELD = 0.05


# How long the checkpointer waits after a commit before it checkpoints, and
# the log size (in 4 KiB pages) past which a commit checkpoints itself; see
# `SqliteCheckpointer`.
CHECKPOINT_DELAY = 0.2
CHECKPOINT_FALLBACK_PAGES = 4_000

# A pooled PostgreSQL connection idle for longer than this is checked before
# use; see `_ping_when_idle`.
PING_AFTER_IDLE = 2.0


def make_engine(settings: Settings) -> Engine:
    url = settings.database_url
    if url.startswith("sqlite"):
        return _sqlite_engine(url, echo=settings.echo_sql)
    # The visibility gate's cost estimate pushes plain page queries over the
    # JIT threshold; compiling them costs 30-50 ms and saves nothing on
    # queries that touch a page of rows. Settings the URL gives in its own
    # `options` (docs/operations.md) come after, and so win.
    given = make_url(url).query.get("options", ())
    options = " ".join(("-c jit=off", *((given,) if isinstance(given, str) else given)))
    engine = create_engine(
        url,
        echo=settings.echo_sql,
        pool_size=10,
        max_overflow=10,
        connect_args={
            # Fail fast when the server is gone instead of hanging the request.
            "connect_timeout": 5,
            "options": options,
            # Only statements marked `PREPARED` are prepared (see
            # `_prepare_marked`); None would refuse those too.
            "prepare_threshold": NEVER_BY_COUNT,
        },
    )
    _ping_when_idle(engine)
    _prepare_marked(engine)
    return engine


# The execution option of a statement that PostgreSQL may keep one plan for.
PREPARED: Final = "storyline_prepared"
# psycopg's run count after which it prepares a statement by itself: never.
NEVER_BY_COUNT: Final = 2**62


def _prepare_marked(engine: Engine) -> None:
    """Prepare on the server only the statements marked `PREPARED`.

    A prepared statement may, after five runs, be given one generic plan,
    made without its parameters' values, and psycopg prepares every
    statement it sees five times. Where the best plan depends on the values
    (which words a search has, which viewer, how big a project) the generic
    one can be ruinous: at tier L the signed-in search page went from 30 ms
    to 1 s after about a dozen views. So statements are planned for their
    own values unless marked: the one-story read and its like, whose plan
    is an index probe whatever the values, and which run most often, keep
    the planning they save (about 0.3 ms of a 1 ms read)."""

    @event.listens_for(engine, "do_execute")
    def _execute(cursor: Any, statement: str, parameters: Any, context: Any) -> bool | None:
        if not context.execution_options.get(PREPARED):
            return None  # the dialect's own execute
        cursor.execute(statement, parameters, prepare=True)
        return True


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled connection before use only if it sat idle.

    SQLAlchemy's `pool_pre_ping` checks every checkout: a round trip on
    every request, for a connection that served another a millisecond ago.
    A busy server's connections are never idle for long, so they go
    unchecked; one that waited in the pool (through a restart of the
    server, say) is pinged, and replaced if the ping fails. A connection
    that breaks while busy fails its request with a 503, and SQLAlchemy then
    replaces every connection the pool held."""

    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _check(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception as error:  # whatever the driver raises for a dead socket
            raise exc.DisconnectionError(str(error)) from error
        if not alive:
            raise exc.DisconnectionError("the connection did not answer")


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
        cursor.execute(f"PRAGMA wal_autocheckpoint={CHECKPOINT_FALLBACK_PAGES}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A write transaction takes the write lock up front. Otherwise two
        # readers that both decide to write deadlock on the lock upgrade, and
        # SQLite answers "database is locked" at once instead of waiting.
        # Straight to the driver: through SQLAlchemy's execution path the
        # BEGIN cost as much as a real statement, on every request.
        write = connection.get_execution_options().get("storyline_write")
        connection.connection.driver_connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")

    if path and path != ":memory:" and not path.startswith("file:"):
        event.listen(engine, "commit", lambda _connection: CHECKPOINTS.wanted(path))
    return engine


class SqliteCheckpointer:
    """Copies SQLite's write-ahead logs into their database files off the
    request path: one daemon thread per process, for every file it writes.

    By default SQLite checkpoints in the connection that commits, once the
    log passes 1,000 pages: that write's request then waits for the copy and
    its fsync, and under the one-writer rule every queued writer waits with
    it (tier S, 600 story creations in a row: the slowest 1% took 16 to 19 ms
    against 9 without, the slowest one 331 ms). Here a commit only names its
    file to the thread, which a moment later (so that a burst of writes costs
    one checkpoint) runs a PASSIVE checkpoint: it waits for no reader or
    writer, and two processes' checkpoints simply take turns. Commits still
    checkpoint themselves past `CHECKPOINT_FALLBACK_PAGES`, a bound on the
    log should the thread fall behind a bulk load; SQLite also checkpoints
    when the last connection to a file closes.
    """

    def __init__(self) -> None:
        self._pending: set[str] = set()
        self._changed = threading.Condition()
        self._thread: tuple[int, threading.Thread] | None = None  # (pid, thread)

    def wanted(self, path: str) -> None:
        with self._changed:
            self._pending.add(path)
            self._changed.notify()
            running = self._thread
            # A forked child inherits the record of a thread it does not have.
            if running is None or running[0] != os.getpid() or not running[1].is_alive():
                thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
                self._thread = (os.getpid(), thread)
                thread.start()

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._pending:
                    self._changed.wait()
            time.sleep(CHECKPOINT_DELAY)
            with self._changed:
                paths, self._pending = self._pending, set()
            for path in sorted(paths):
                checkpoint(path)


def checkpoint(path: str) -> None:
    """A PASSIVE checkpoint of the SQLite file at `path`, if it still exists."""
    # A connection of its own, closed at once, so that the thread holds no
    # file open between checkpoints; `mode=rw` never creates a file (a
    # database removed since, by a restore or a test, stays removed).
    if not os.path.exists(path):
        return  # removed since its last write: nothing left to copy
    uri = f"file:{urllib.parse.quote(os.path.abspath(path))}?mode=rw"
    try:
        connection = sqlite3.connect(uri, uri=True, timeout=1)
        try:
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        finally:
            connection.close()
    except sqlite3.Error as error:
        if not os.path.exists(path):
            # Renamed or removed while this looked (a restore, the benchmark
            # putting a built copy in place): nothing left to copy.
            return
        # The next commit asks again; until then the fallback bounds the log.
        _log.warning("SQLite checkpoint of %s failed: %s", path, error)


CHECKPOINTS: Final = SqliteCheckpointer()


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
    `write_checks` are the subsystems' rules on other subsystems' writes
    (`storyline.kernel.checks`), run by the services before they apply one.
    `credentials` remembers what secrets resolved to until a write unit of
    work changes a credential (`storyline.kernel.credentials`).
    """

    def __init__(
        self,
        engine: Engine,
        *,
        event_listeners: Sequence[Callable[..., None]] = (),
        write_checks: WriteChecks = WriteChecks(),
    ) -> None:
        self.engine = engine
        self._writers = SqliteWriters.for_engine(engine)
        # PostgreSQL reads run in autocommit: under READ COMMITTED each
        # statement takes its own snapshot inside a transaction too, so
        # BEGIN and ROLLBACK bought nothing but two round trips a request.
        # SQLite keeps its transaction, which holds one snapshot for the
        # whole read.
        read_bind = (
            engine.execution_options(isolation_level="AUTOCOMMIT")
            if engine.dialect.name == "postgresql"
            else engine
        )
        self._read = sessionmaker(bind=read_bind, expire_on_commit=False, autoflush=False)
        self._write = sessionmaker(
            bind=engine.execution_options(storyline_write=True),
            expire_on_commit=False,
            autoflush=True,
            info={EVENT_LISTENERS: tuple(event_listeners), WRITE_CHECKS: write_checks},
        )
        self.credentials = CredentialCache(epoch_for(engine))
        watch(self._write, self.credentials, notify=engine.dialect.name == "postgresql")

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def reads_in_process(self) -> bool:
        """Whether a read waits on nothing but this process: SQLite's, which
        reads its file through the page cache (`bounded_read`)."""
        return self.engine.dialect.name == "sqlite"

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
            with self._writers.turn(), self._write() as session, session.begin():
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
        self.credentials.close()
        self.engine.dispose()


class SqliteWriters:
    """One SQLite writer at a time, queued rather than polling.

    SQLite lets one transaction write at a time; the others wait in its busy
    handler, which sleeps 1, 2, 5 ... up to 100 ms between tries. Under eight
    concurrent writers that made the slowest 1% of story creations take half a
    second. Writers here queue on a lock of the process, which hands over at
    once, and between the server's processes on a `flock` of a file beside
    the database (`<database>-writers`), polled every half millisecond at
    most. The lock is re-entrant, so that a write unit opened inside another
    (which SQLite would refuse anyway) fails as before instead of hanging
    here. PostgreSQL needs none of this: `for_engine` gives it a turn that
    is free.

    Between processes the turn is handed over fairly. A process whose
    writers queue on its own lock would otherwise keep the `flock`: its next
    writer takes it the moment it is released, before a poller of another
    process wakes up, and at 8 clients on 2 processes the slowest 1% of
    story creations waited 6 to 7 times the median. So a process that waits
    says so, with a shared lock on `<database>-writers-waiting`, and a
    process about to take the turn lets a waiting one go first.
    """

    def __init__(self, path: str | None) -> None:
        self._lock = threading.RLock()
        self._local = threading.local()
        self._path = f"{path}-writers" if path else None
        self._files: tuple[int, int, int] | None = None  # (pid, turn fd, waiting fd)

    @classmethod
    def for_engine(cls, engine: Engine) -> SqliteWriters | _Free:
        if engine.dialect.name != "sqlite":
            return _Free()
        database = engine.url.database
        in_memory = not database or database == ":memory:" or database.startswith("file::memory")
        return cls(None if in_memory else database)

    @contextmanager
    def turn(self) -> Iterator[None]:
        deadline = time.monotonic() + SQLITE_WRITER_WAIT
        if not self._lock.acquire(timeout=SQLITE_WRITER_WAIT):
            raise _busy()
        try:
            depth: int = getattr(self._local, "depth", 0)
            fd = self._flock(deadline) if depth == 0 and self._path else None
            self._local.depth = depth + 1
            try:
                yield
            finally:
                self._local.depth = depth
                if fd is not None:
                    fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            self._lock.release()

    def _flock(self, deadline: float) -> int:
        fd, waiting = self._descriptors()
        _let_waiting_go_first(waiting, deadline)
        if _try_lock(fd, fcntl.LOCK_EX):
            return fd
        fcntl.flock(waiting, fcntl.LOCK_SH)
        try:
            pause = 0.0001
            while not _try_lock(fd, fcntl.LOCK_EX):
                if time.monotonic() > deadline:
                    raise _busy()
                time.sleep(pause)
                pause = min(pause * 2, SQLITE_TURN_POLL)
            return fd
        finally:
            fcntl.flock(waiting, fcntl.LOCK_UN)

    def _descriptors(self) -> tuple[int, int]:
        # One pair per process: a descriptor inherited through fork shares
        # its lock with the parent, which would let both write.
        pid = os.getpid()
        if self._files is None or self._files[0] != pid:
            assert self._path is not None
            flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC
            turn = os.open(self._path, flags, 0o600)
            waiting = os.open(f"{self._path}-waiting", flags, 0o600)
            self._files = (pid, turn, waiting)
        return self._files[1], self._files[2]


def _try_lock(fd: int, kind: int) -> bool:
    try:
        fcntl.flock(fd, kind | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _held_by_others(waiting: int) -> bool:
    """Whether another process is waiting for the turn (holds the shared lock)."""
    if _try_lock(waiting, fcntl.LOCK_EX):
        fcntl.flock(waiting, fcntl.LOCK_UN)
        return False
    return True


def _let_waiting_go_first(waiting: int, deadline: float) -> None:
    """Until the waiting processes have had the turn, or `SQLITE_TURN_YIELD`
    passed (a waiter that stalls cannot stop this process for long)."""
    until = min(deadline, time.monotonic() + SQLITE_TURN_YIELD)
    while _held_by_others(waiting) and time.monotonic() < until:
        time.sleep(SQLITE_TURN_POLL / 2)


class _Free:
    @contextmanager
    def turn(self) -> Iterator[None]:
        yield


def _busy() -> ServiceUnavailable:
    return ServiceUnavailable(
        "The database is busy with other changes; try again in a moment.",
        details={"reason": "writers"},
    )


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
