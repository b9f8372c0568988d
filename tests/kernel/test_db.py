"""The unit of work's edges: SQLite writers queue, PostgreSQL reads skip the
transaction, and pooled connections are checked only after they idled."""

from __future__ import annotations

import itertools
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.pool import NullPool

from storyline.bootstrap import Container
from storyline.config import Settings
from storyline.errors import ServiceUnavailable
from storyline.kernel import db as db_module
from storyline.kernel.db import SqliteWriters


def test_sqlite_writers_take_turns_without_losing_a_write(container: Container) -> None:
    if container.db.dialect != "sqlite":
        pytest.skip("SQLite's writer queue")
    with container.db.write() as session:
        session.execute(text("CREATE TABLE counter (n INTEGER NOT NULL)"))
        session.execute(text("INSERT INTO counter VALUES (0)"))
    inside = 0
    most_inside = 0
    guard = threading.Lock()

    def bump(times: int) -> None:
        nonlocal inside, most_inside
        for _ in range(times):
            with container.db.write() as session:
                with guard:
                    inside += 1
                    most_inside = max(most_inside, inside)
                value = session.execute(text("SELECT n FROM counter")).scalar_one()
                time.sleep(0.001)  # widen the window a lost update needs
                session.execute(text("UPDATE counter SET n = :n"), {"n": value + 1})
                with guard:
                    inside -= 1

    threads = [threading.Thread(target=bump, args=(25,)) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    with container.db.read() as session:
        assert session.execute(text("SELECT n FROM counter")).scalar_one() == 200
    assert most_inside == 1


def test_a_writer_of_another_process_holds_the_turn(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The queue spans the server's processes: while another process holds
    the turn, a write here waits, and gives up with a 503 after the wait."""
    if container.db.dialect != "sqlite":
        pytest.skip("SQLite's writer queue")
    database = container.db.engine.url.database
    assert database
    script = (
        "import fcntl, os, sys\n"
        f"fd = os.open({database + '-writers'!r}, os.O_RDWR | os.O_CREAT)\n"
        "fcntl.flock(fd, fcntl.LOCK_EX)\n"
        "print('held', flush=True)\n"
        "sys.stdin.readline()\n"
    )
    with subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as holder:
        assert holder.stdin is not None
        assert holder.stdout is not None
        try:
            assert holder.stdout.readline().strip() == "held"
            monkeypatch.setattr(db_module, "SQLITE_WRITER_WAIT", 0.3)
            started = time.monotonic()
            with pytest.raises(ServiceUnavailable), container.db.write():
                pass
            assert time.monotonic() - started >= 0.3
            # Released, the next write goes through at once.
            holder.stdin.write("\n")
            holder.stdin.flush()
            holder.wait(10)
            with container.db.write() as session:
                session.execute(text("SELECT 1"))
        finally:
            if holder.poll() is None:
                holder.kill()


def test_a_nested_write_does_not_hang_on_the_queue(tmp_path: Any) -> None:
    writers = SqliteWriters(str(tmp_path / "x.db"))
    with writers.turn(), writers.turn():
        pass
    # And the turn was given back: another thread gets it.
    taken = threading.Event()

    def take() -> None:
        with writers.turn():
            taken.set()

    thread = threading.Thread(target=take)
    thread.start()
    thread.join(5)
    assert taken.is_set()


def test_postgresql_reads_send_no_begin_or_rollback(container: Container) -> None:
    if container.db.dialect != "postgresql":
        pytest.skip("PostgreSQL reads run in autocommit")
    seen: list[str] = []
    engine = container.db.engine
    with container.db.read() as session:
        session.execute(text("SELECT 1"))  # the pool connects here
    event.listen(engine, "begin", lambda *a: seen.append("BEGIN"))
    event.listen(engine, "rollback", lambda *a: seen.append("ROLLBACK"))
    with container.db.read() as session:
        assert session.execute(text("SHOW transaction_isolation")).scalar_one()
        status = session.connection().connection.dbapi_connection.info.transaction_status  # type: ignore[union-attr]
    # psycopg's status IDLE (0): the statement ran outside a transaction.
    assert int(status) == 0
    with container.db.write() as session:
        status = session.connection().connection.dbapi_connection.info.transaction_status  # type: ignore[union-attr]
        session.execute(text("SELECT 1"))
        status = session.connection().connection.dbapi_connection.info.transaction_status  # type: ignore[union-attr]
    assert int(status) == 2  # INTRANS: writes keep their transaction


def test_postgresql_connections_are_pinged_only_after_idling(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    if container.db.dialect != "postgresql":
        pytest.skip("the pool of the PostgreSQL engine")
    engine = container.db.engine
    pings: list[int] = []
    original = engine.dialect.do_ping

    def counting_ping(dbapi_connection: Any) -> bool:
        pings.append(1)
        return original(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counting_ping)
    for _ in range(3):
        with container.db.read() as session:
            pid = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
    assert pings == []  # busy connections go unchecked
    # The server ends the connection while it waits in the pool; once it has
    # idled, it is pinged, found dead, and replaced: the request succeeds.
    other = create_engine(engine.url, poolclass=NullPool)
    with other.connect() as connection:
        assert connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid}).scalar()
    other.dispose()
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE", 0.0)
    time.sleep(0.05)
    for _ in range(3):
        with container.db.read() as session:
            assert session.execute(text("SELECT 1")).scalar_one() == 1
    assert pings


def test_postgresql_settings_in_the_url_reach_the_server(container: Container) -> None:
    if container.db.dialect != "postgresql":
        pytest.skip("PostgreSQL's connection options")
    url = container.db.engine.url.set(query={"options": "-c synchronous_commit=off"})
    engine = db_module.make_engine(Settings(database_url=url.render_as_string(False)))
    try:
        with engine.connect() as connection:
            show = connection.exec_driver_sql
            # The URL's own setting, and Storyline's, which it does not replace.
            assert show("SHOW synchronous_commit").scalar_one() == "off"
            assert show("SHOW jit").scalar_one() == "off"
    finally:
        engine.dispose()


def test_sqlite_commits_leave_checkpoints_to_a_thread(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    if container.db.dialect != "sqlite":
        pytest.skip("SQLite's write-ahead log")
    monkeypatch.setattr(db_module, "CHECKPOINT_DELAY", 0.01)
    path = container.db.engine.url.database
    done = threading.Event()
    threads: list[str] = []
    original = db_module.checkpoint

    def watched(checkpointed: str) -> None:
        original(checkpointed)
        if checkpointed == path:
            threads.append(threading.current_thread().name)
            done.set()

    monkeypatch.setattr(db_module, "checkpoint", watched)
    with container.db.write() as session:
        # A commit checkpoints by itself only past the fallback's bound.
        pages = session.execute(text("PRAGMA wal_autocheckpoint")).scalar_one()
        assert pages == db_module.CHECKPOINT_FALLBACK_PAGES
        session.execute(text("CREATE TABLE scratch (n INTEGER)"))
    assert done.wait(5), "no checkpoint after a commit"
    assert threads == ["sqlite-checkpoint"]
    # One thread per process, whatever the databases.
    names = [thread.name for thread in threading.enumerate()]
    assert names.count("sqlite-checkpoint") == 1


def test_the_checkpointer_never_creates_a_database(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    gone = tmp_path / "removed.db"
    db_module.checkpoint(str(gone))
    assert not gone.exists()
    # A database removed after its last write is no failure worth a warning.
    assert caplog.records == []


def test_processes_take_the_sqlite_writers_turn_in_turn(tmp_path: Path) -> None:
    """A process whose writers keep queueing does not keep the turn from
    another process's writer: each time one waits, it goes next."""
    database = str(tmp_path / "x.db")
    log = tmp_path / "turns"
    log.touch()
    other = (
        "import sys, time\n"
        "from storyline.kernel.db import SqliteWriters\n"
        f"writers = SqliteWriters({database!r})\n"
        "print('ready', flush=True)\n"
        "sys.stdin.readline()\n"
        "for _ in range(15):\n"
        "    with writers.turn():\n"
        f"        with open({str(log)!r}, 'a') as out:\n"
        "            out.write('B')\n"
        "        time.sleep(0.002)\n"
    )
    writers = SqliteWriters(database)
    done = threading.Event()

    def write() -> None:
        while not done.is_set():
            with writers.turn():
                with log.open("a") as out:
                    out.write("A")
                time.sleep(0.002)

    with subprocess.Popen(
        [sys.executable, "-c", other], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as second:
        assert second.stdin is not None
        assert second.stdout is not None
        assert second.stdout.readline().strip() == "ready"
        threads = [threading.Thread(target=write) for _ in range(3)]
        try:
            for thread in threads:
                thread.start()
            time.sleep(0.05)
            second.stdin.write("go\n")
            second.stdin.flush()
            assert second.wait(60) == 0
        finally:
            done.set()
            for thread in threads:
                thread.join(10)
            if second.poll() is None:
                second.kill()
    turns = log.read_text()
    assert turns.count("B") == 15
    # While both processes had a writer waiting at every moment, the turn
    # went back and forth: AB or AAB, a longer run only when a waiter was not
    # scheduled within `SQLITE_TURN_YIELD` (seen under a load of 4 busy
    # processes on 2 cores). Before the hand-over, the first to get it kept
    # it: A's three writers passed it among themselves, then B took it 15
    # times running.
    during = turns[turns.index("B") : turns.rindex("B") + 1]
    assert max(len(list(run)) for _, run in itertools.groupby(during)) <= 4, turns


def test_postgresql_prepares_only_marked_statements(container: Container) -> None:
    """A prepared statement may get one plan for every value of its
    parameters, which for a search or a big project's list can be a plan
    hundreds of times slower; only statements marked `PREPARED` (an index
    probe whatever the values) are prepared."""
    if container.db.dialect != "postgresql":
        pytest.skip("PostgreSQL's prepared statements")
    engine = db_module.make_engine(container.settings)
    prepared = text("SELECT statement FROM pg_prepared_statements")
    try:
        with engine.connect() as connection:
            for n in range(12):
                connection.execute(text("SELECT 1 + :n"), {"n": n})
            assert connection.execute(prepared).scalars().all() == []
            marked = text("SELECT 2 + :n").execution_options(**{db_module.PREPARED: True})
            for n in range(2):
                assert connection.execute(marked, {"n": n}).scalar_one() == 2 + n
            assert connection.execute(prepared).scalars().all() == ["SELECT 2 + $1"]
    finally:
        engine.dispose()


def test_a_checkpoint_of_a_file_moved_away_meanwhile_is_no_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # The thread checkpoints a moment after a commit; by then the file may
    # have been renamed (a copy put in place) while the thread opened it.
    path = tmp_path / "moved.db"
    path.write_bytes(b"")
    opened = db_module.sqlite3.connect

    def moved_while_opening(*args: Any, **kwargs: Any) -> Any:
        path.rename(tmp_path / "elsewhere.db")
        raise db_module.sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(db_module.sqlite3, "connect", moved_while_opening)
    db_module.checkpoint(str(path))
    assert caplog.records == []
    # A file that is still there and fails is worth a warning.
    path.write_bytes(b"not a database")
    monkeypatch.setattr(db_module.sqlite3, "connect", opened)
    db_module.checkpoint(str(path))
    assert [record.levelname for record in caplog.records] == ["WARNING"]
