"""Who a secret stands for, remembered by each process and forgotten by
every process the moment a credential changes.

An authenticated request used to look its bearer token (or the pages' session
cookie) up in the database before anything else: a statement, a session and,
for the API, a hop to the thread pool. That was half of what reading one
story cost (0.5 ms of 1.0 in process on SQLite, 0.8 of 1.3 on PostgreSQL).
Each process now keeps what a secret resolved to, keyed by the secret's
hash, until something that could change the answer commits.

What can change it is a change to a credential table (`CREDENTIAL_TABLES`):
a token revoked, a user disabled or made an administrator, a session ended.
`watch` marks every write unit of work that changes one (ORM flushes and
bulk UPDATE and DELETE alike, so no service has to remember to), and when it
commits the database's `Epoch` moves on, in every process:

- SQLite: the processes share a machine, so they share a file beside the
  database (`<database>-credentials`); a change appends a byte to it, and
  the epoch is the file's identity and size, one `stat` per lookup.
- PostgreSQL: the servers may be several machines, so a change sends
  `NOTIFY storyline_credentials` in its own transaction (delivered only if
  it commits), and each process listens on a connection of its own. While
  that connection is down the process caches nothing.

Writes that only record use (`TOUCH_COLUMNS`: a token's last use, a
session's last page view) change no answer and move no epoch. Whatever the
epoch misses (an operator's hand-written SQL, a restored backup) is bounded
by `TTL`: no entry is trusted for longer. The number of entries is bounded
too, and only secrets that resolved are kept, so a flood of made-up tokens
costs memory nothing.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
import weakref
from collections.abc import Hashable
from typing import Any, Final, Protocol

from sqlalchemy import Engine, event, inspect, text
from sqlalchemy.orm import ORMExecuteState, Session, sessionmaker

_log = logging.getLogger(__name__)

CREDENTIAL_TABLES: Final = frozenset({"users", "access_tokens", "web_sessions"})
# Columns written to record use, not to change who may do what.
TOUCH_COLUMNS: Final = frozenset({"last_used_at", "last_seen_at", "last_login", "updated_at"})
CHANNEL: Final = "storyline_credentials"

# How long an entry is trusted at most, and how many a process keeps.
TTL = 30.0
MAX_ENTRIES = 10_000
# How often the PostgreSQL listener checks that its connection is alive
# (and notices that its database is gone), and how long it waits before
# connecting again after a failure.
LISTEN_CHECK = 1.0
LISTEN_RETRY = 2.0
# How long the first lookup of a process waits for the listener to connect,
# so that caching starts with the first requests (a few milliseconds when
# the database is up; when it is not, the requests fail anyway).
LISTEN_FIRST_WAIT = 1.0

_CHANGED: Final = "storyline.credentials_changed"


class Epoch(Protocol):
    def current(self) -> Hashable | None:
        """The epoch now, or None when this process cannot know whether a
        credential changed (then nothing is cached)."""

    def moved(self) -> None:
        """A credential change committed in this process."""

    def close(self) -> None: ...


class LocalEpoch:
    """A database only this process opens (SQLite in memory)."""

    def __init__(self) -> None:
        self._changes = 0

    def current(self) -> Hashable | None:
        return self._changes

    def moved(self) -> None:
        self._changes += 1

    def close(self) -> None:
        pass


class FileEpoch:
    """A SQLite file's processes: a file beside it that grows by a byte per
    change. Its size only grows, so two changes can never look like none,
    as two writes within one tick of the file's clock would by mtime; a file
    removed and made again has a new inode."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._changes = 0

    def current(self) -> Hashable | None:
        try:
            found = os.stat(self._path)
        except FileNotFoundError:
            return (self._changes, 0, 0)
        except OSError:
            return None
        return (self._changes, found.st_ino, found.st_size)

    def moved(self) -> None:
        self._changes += 1
        try:
            fd = os.open(self._path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                os.write(fd, b".")
            finally:
                os.close(fd)
        except OSError as error:
            # Other processes then learn of it by `TTL`; this one already knows.
            _log.warning("Could not record a credential change in %s: %s", self._path, error)

    def close(self) -> None:
        pass


class ListenEpoch:
    """PostgreSQL: a thread per process that listens on `CHANNEL`.

    The epoch is (changes seen, connection generation) while the listener is
    connected, None otherwise: a notification sent while it was away is lost,
    so nothing remembered before a reconnection is trusted after it. The
    thread holds the epoch weakly and ends with it, or with `close`."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._changes = 0
        self._generation = 0
        self._live = False
        self._closed = False
        self._started: int | None = None  # the pid that started the thread
        self._lock = threading.Lock()
        self._tried = threading.Event()  # set once the first connection was tried

    def current(self) -> Hashable | None:
        if self._started != os.getpid():
            self._start()
        if not self._live:
            return None
        return (self._changes, self._generation)

    def moved(self) -> None:
        self._changes += 1

    def close(self) -> None:
        self._closed = True
        self._live = False

    def _start(self) -> None:
        with self._lock:
            # A forked child inherits the record of a thread it does not have.
            if self._started == os.getpid() or self._closed:
                return
            self._started = os.getpid()
            self._live = False
            self._tried.clear()
            thread = threading.Thread(
                target=_listen, args=(weakref.ref(self),), name="credentials-listener", daemon=True
            )
            thread.start()
        self._tried.wait(LISTEN_FIRST_WAIT)


def _listen(ref: weakref.ref[ListenEpoch]) -> None:
    while (epoch := ref()) is not None and not epoch._closed:
        connection: Any = None
        try:
            raw = epoch._engine.raw_connection()
            connection = raw.driver_connection
            raw.detach()  # ours alone: the pool neither shares nor resets it
            connection.autocommit = True
            connection.execute(f"LISTEN {CHANNEL}")
            epoch._generation += 1
            epoch._live = True
            epoch._tried.set()
            del epoch
            while (epoch := ref()) is not None and not epoch._closed:
                for _notice in connection.notifies(timeout=LISTEN_CHECK):
                    epoch._changes += 1
                connection.execute("SELECT 1")
                del epoch
        except Exception as error:  # whatever the driver raises for a lost server
            epoch = ref()
            if epoch is not None and not epoch._closed:
                epoch._live = False
                epoch._tried.set()
                _log.warning("Credential change listener lost its connection: %s", error)
            del epoch
            time.sleep(LISTEN_RETRY)
        finally:
            if connection is not None:
                # Closing a broken connection may fail too.
                with contextlib.suppress(Exception):
                    connection.close()
    epoch = ref()
    if epoch is not None:
        epoch._live = False


def epoch_for(engine: Engine) -> Epoch:
    if engine.dialect.name == "postgresql":
        return ListenEpoch(engine)
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return LocalEpoch()
    return FileEpoch(f"{database}-credentials")


class CredentialCache:
    """Resolved secrets of one database, per process. Read `epoch()` before
    looking a secret up in the database and `put` the answer with it: a
    change that commits in between then makes the entry stale at once."""

    def __init__(self, epoch: Epoch) -> None:
        self._epoch = epoch
        self._entries: dict[Hashable, tuple[Hashable, float, Any]] = {}

    def epoch(self) -> Hashable | None:
        return self._epoch.current()

    def get(self, key: Hashable) -> Any | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        epoch, deadline, value = entry
        if deadline < time.monotonic() or epoch != self._epoch.current():
            self._entries.pop(key, None)
            return None
        return value

    def put(self, key: Hashable, epoch: Hashable | None, value: Any) -> None:
        if epoch is None:
            return
        entries = self._entries
        entries.pop(key, None)
        while len(entries) >= MAX_ENTRIES:
            # The oldest entry goes (dicts keep insertion order).
            entries.pop(next(iter(entries)), None)
        entries[key] = (epoch, time.monotonic() + TTL, value)

    def forget(self, key: Hashable) -> None:
        self._entries.pop(key, None)

    def changed(self) -> None:
        self._entries.clear()
        self._epoch.moved()

    def close(self) -> None:
        self._epoch.close()


def watch(factory: sessionmaker[Session], cache: CredentialCache, *, notify: bool) -> None:
    """Move the epoch when a unit of work from `factory` that changed a
    credential commits; with `notify` (PostgreSQL), tell the other processes
    in the same transaction. A unit of work that rolls back moves nothing
    (its session is not used again)."""

    @event.listens_for(factory, "after_flush")
    def _flushed(session: Session, _context: Any) -> None:
        if any(_is_credential(obj) for obj in session.deleted) or any(
            _changes_credentials(obj) for obj in session.dirty
        ):
            session.info[_CHANGED] = True

    @event.listens_for(factory, "do_orm_execute")
    def _executed(state: ORMExecuteState) -> None:
        if (state.is_update or state.is_delete) and _statement_changes_credentials(state):
            state.session.info[_CHANGED] = True

    @event.listens_for(factory, "before_commit")
    def _committing(session: Session) -> None:
        if notify:
            # What is still pending flushes only after this hook; flushed
            # now, its changes are seen before the notification is sent.
            session.flush()
            if session.info.get(_CHANGED):
                session.execute(text(f"NOTIFY {CHANNEL}"))

    @event.listens_for(factory, "after_commit")
    def _committed(session: Session) -> None:
        if session.info.pop(_CHANGED, False):
            cache.changed()


def _is_credential(obj: object) -> bool:
    table = getattr(inspect(obj).mapper.persist_selectable, "name", None)
    return table in CREDENTIAL_TABLES


def _changes_credentials(obj: object) -> bool:
    if not _is_credential(obj):
        return False
    return any(
        attr.key not in TOUCH_COLUMNS and attr.history.has_changes() for attr in inspect(obj).attrs
    )


def _statement_changes_credentials(state: ORMExecuteState) -> bool:
    statement: Any = state.statement
    table = getattr(statement, "table", None)
    if getattr(table, "name", None) not in CREDENTIAL_TABLES:
        return False
    if state.is_delete:
        return True
    # `values()` of an UPDATE: column (or its name) -> value.
    columns = {getattr(key, "key", key) for key in (statement._values or {})}
    return not columns or not columns <= TOUCH_COLUMNS
