"""Online backups and restores of the whole database.

A backup is taken while the server and the workers keep running, and is one
consistent snapshot: every transaction committed before it started is in it,
nothing half-written is. On SQLite it is the online backup API run inside one
read transaction (in WAL mode writers carry on meanwhile, and the snapshot
includes what is still in the `-wal` file); the result is a SQLite file. On
PostgreSQL it is `pg_dump --format=custom`, which reads everything in one
repeatable-read snapshot. Either way the file is written under a temporary
name, flushed to disk and renamed, so a crash during a backup never leaves a
truncated file under the name of a good one.

A restore goes into an empty database (a freshly created one, or one whose
schema holds no rows): it refuses to overwrite data unless forced. The
backup's schema revision is read from the file before anything is written:
a revision this code does not know (a newer version's backup) is refused; an
older one is upgraded with `migrate.upgrade` once the data is in.

Uploaded files do not exist in Storyline; the session secret and the other
settings live outside the database and are not part of a backup.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, inspect, text

from storyline.errors import ConfigurationError, Conflict, InvalidInput, StorylineError
from storyline.kernel import migrate

# progress(done, total): steps done so far out of an estimated total.
Progress = Callable[[int, int], None]

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
# Pages copied per step of the SQLite backup API: about 4 MiB at the default
# page size, so progress moves often without slowing the copy down.
SQLITE_PAGES_PER_STEP = 1024
VERSION_TABLE = "alembic_version"


@dataclass(frozen=True)
class BackupInfo:
    """What `backup` wrote."""

    path: Path
    dialect: str
    revision: str | None
    size: int


@dataclass(frozen=True)
class RestoreInfo:
    """What `restore` did: the backup's revision and the database's after."""

    dialect: str
    backup_revision: str
    revision: str | None
    upgraded: list[migrate.Revision]


def _quiet(done: int, total: int) -> None:
    del done, total


def backup_failed(message: str) -> StorylineError:
    return StorylineError(message, code="backup_failed")


def backup(engine: Engine, target: Path, *, progress: Progress = _quiet) -> BackupInfo:
    """Write a consistent copy of the database to `target` (replaced if it
    exists, but only once the new copy is complete)."""
    if engine.dialect.name == "sqlite" and not _sqlite_path(engine).is_file():
        raise ConfigurationError(
            f"there is no database at {_sqlite_path(engine)}: check STORYLINE_DATABASE_URL"
        )
    if migrate.current(engine) is None:
        raise backup_failed(
            "the database has no schema, so there is nothing to back up: check "
            "STORYLINE_DATABASE_URL"
        )
    target = target.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    # Readable by its owner only: a backup holds password hashes, webhook
    # secrets and sessions. The tools write into the file made here.
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    try:
        if engine.dialect.name == "sqlite":
            _backup_sqlite(engine, partial, progress)
            revision = _sqlite_revision(partial)
        elif engine.dialect.name == "postgresql":
            _pg_dump(engine, partial, progress)
            revision = _pg_dump_revision(partial)
        else:
            raise ConfigurationError(f"cannot back up a {engine.dialect.name} database")
        _fsync(partial)
        os.replace(partial, target)
        _fsync(target.parent)
    finally:
        partial.unlink(missing_ok=True)
    return BackupInfo(
        path=target, dialect=engine.dialect.name, revision=revision, size=target.stat().st_size
    )


def restore(
    engine: Engine, source: Path, *, force: bool = False, progress: Progress = _quiet
) -> RestoreInfo:
    """Load the backup at `source` into the database of `engine`, then
    upgrade it to the newest revision if it is older. Refuses a database that
    holds rows unless `force`, which replaces everything in it."""
    if not source.is_file():
        raise InvalidInput.field("file", f"{source} does not exist or is not a file")
    dialect = kind_of(source)
    if dialect != engine.dialect.name:
        raise InvalidInput.field(
            "file",
            f"{source} is a {dialect} backup and the database is {engine.dialect.name}: "
            "restore it into a database of the same kind (STORYLINE_DATABASE_URL)",
        )
    revision = _sqlite_revision(source) if dialect == "sqlite" else _pg_dump_revision(source)
    known = [r.id for r in migrate.history()]
    if revision is None:
        raise InvalidInput.field(
            "file", f"{source} holds no schema revision: it is not a Storyline backup"
        )
    if revision not in known:
        raise InvalidInput.field(
            "file",
            f"{source} is at schema revision {revision}, which this version of Storyline does "
            "not have (a newer version made it): restore it with that version",
        )
    holding = tables_with_rows(engine)
    if holding and not force:
        shown = ", ".join(holding[:5]) + (", ..." if len(holding) > 5 else "")
        raise Conflict(
            f"the database is not empty (rows in {shown}): restore into a new, empty "
            "database, or pass --force to replace everything in this one",
            code="database_not_empty",
            details={"tables": holding},
        )
    if dialect == "sqlite":
        _restore_sqlite(engine, source, progress)
    else:
        _drop_tables(engine)
        _pg_restore(engine, source, progress)
    todo = migrate.pending(engine)
    if todo:
        migrate.upgrade(engine)
    return RestoreInfo(
        dialect=dialect,
        backup_revision=revision,
        revision=migrate.current(engine),
        upgraded=todo,
    )


def kind_of(path: Path) -> str:
    """`sqlite` or `postgresql`, from the first bytes of a backup file."""
    with path.open("rb") as handle:
        start = handle.read(len(SQLITE_MAGIC))
    if start.startswith(SQLITE_MAGIC):
        return "sqlite"
    if start.startswith(PG_DUMP_MAGIC):
        return "postgresql"
    raise InvalidInput.field(
        "file",
        f"{path} is neither a SQLite database nor a pg_dump custom-format file: "
        "it was not written by `storyline db backup`",
    )


def tables_with_rows(engine: Engine) -> list[str]:
    """The tables of the database that hold rows, the schema's version table
    and SQLite's full-text index internals aside."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            # Only ordinary tables: FTS5 keeps rows in its shadow tables even
            # when nothing is indexed.
            names = [
                row[1]
                for row in connection.exec_driver_sql("PRAGMA main.table_list")
                if row[2] == "table" and not str(row[1]).startswith("sqlite_")
            ]
        else:
            names = inspect(connection).get_table_names()
        preparer = engine.dialect.identifier_preparer
        return sorted(
            name
            for name in names
            if name != VERSION_TABLE
            and connection.execute(text(f"SELECT 1 FROM {preparer.quote(name)} LIMIT 1")).first()
            is not None
        )


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# SQLite


def _sqlite_path(engine: Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:":
        raise ConfigurationError("an in-memory SQLite database has nothing to back up or restore")
    return Path(database)


def _copy_sqlite(
    source: sqlite3.Connection, target: sqlite3.Connection, progress: Progress
) -> None:
    def step(status: int, remaining: int, total: int) -> None:
        del status
        progress(total - remaining, total)

    # One read transaction around every step: each step then copies pages of
    # the same snapshot, so writers committing meanwhile (to the WAL) neither
    # restart the copy nor end up half in it.
    source.execute("BEGIN")
    try:
        source.execute("SELECT count(*) FROM sqlite_schema").fetchone()
        source.backup(target, pages=SQLITE_PAGES_PER_STEP, progress=step)
    finally:
        source.execute("COMMIT")


def _backup_sqlite(engine: Engine, partial: Path, progress: Progress) -> None:
    source = sqlite3.connect(_sqlite_path(engine), isolation_level=None, timeout=30)
    target = sqlite3.connect(partial, isolation_level=None)
    try:
        _copy_sqlite(source, target, progress)
        # The copy is read once more before it counts as a backup.
        problems = [row[0] for row in target.execute("PRAGMA quick_check")]
        if problems != ["ok"]:
            raise backup_failed(f"the copy failed its integrity check: {problems[:3]}")
    finally:
        target.close()
        source.close()


def _sqlite_revision(path: Path) -> str | None:
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        row = connection.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchone()
    except sqlite3.DatabaseError:
        return None
    finally:
        connection.close()
    return None if row is None else str(row[0])


def _restore_sqlite(engine: Engine, source: Path, progress: Progress) -> None:
    # Through the backup API into the database file itself, not a file copy:
    # it takes the database's locks and goes through its WAL, so a stale
    # `-wal` file can never be replayed over the restored pages.
    engine.dispose()
    backup_file = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    target = sqlite3.connect(_sqlite_path(engine), isolation_level=None, timeout=30)
    try:
        _copy_sqlite(backup_file, target, progress)
    finally:
        target.close()
        backup_file.close()


# PostgreSQL


def _libpq(engine: Engine) -> tuple[str, dict[str, str]]:
    """A connection URI for the PostgreSQL tools and their environment; the
    password goes in the environment, not on a command line others can see."""
    url = engine.url.set(drivername="postgresql")
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
        url = url.set(password=None)
    return url.render_as_string(hide_password=False), env


def _tool(name: str, engine: Engine) -> str:
    path = shutil.which(name)
    if path is None:
        raise ConfigurationError(
            f"{name} is not on PATH: install the PostgreSQL client tools of the server's "
            "major version or newer (Debian and Ubuntu: the postgresql-client package)"
        )
    output = subprocess.run([path, "--version"], capture_output=True, text=True, check=False)
    match = re.search(r"(\d+)(?:\.\d+)?", output.stdout)
    with engine.connect() as connection:
        server = int(connection.execute(text("SHOW server_version_num")).scalar_one()) // 10000
    if match is None or int(match.group(1)) < server:
        raise ConfigurationError(
            f"{path} is {output.stdout.strip() or 'of an unknown version'} and the server is "
            f"PostgreSQL {server}: use the client tools of version {server} or newer "
            "(put them first on PATH)"
        )
    return path


def _run_tool(
    command: list[str], env: dict[str, str], marker: str, total: int, progress: Progress, what: str
) -> None:
    """Run pg_dump or pg_restore with --verbose, counting the tables it
    reports (lines containing `marker`) as progress."""
    done = 0
    lines: list[str] = []
    with subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    ) as process:
        assert process.stderr is not None
        try:
            for line in process.stderr:
                if marker in line:
                    done += 1
                    progress(min(done, total), total)
                elif "error" in line.lower() or "fatal" in line.lower():
                    lines.append(line.strip())
        except BaseException:
            # Interrupted (Ctrl-C, a failing progress display): stop the tool too.
            process.kill()
            raise
        code = process.wait()
    if code != 0:
        raise backup_failed(
            f"{what} failed (exit status {code}): " + (" | ".join(lines[-5:]) or "no message")
        )
    progress(total, total)


def _pg_dump(engine: Engine, partial: Path, progress: Progress) -> None:
    tool = _tool("pg_dump", engine)
    uri, env = _libpq(engine)
    with engine.connect() as connection:
        total = max(1, len(inspect(connection).get_table_names()))
    _run_tool(
        [tool, "--format=custom", "--verbose", f"--file={partial}", f"--dbname={uri}"],
        env,
        "dumping contents of table",
        total,
        progress,
        "pg_dump",
    )


def _pg_dump_revision(path: Path) -> str | None:
    """The schema revision inside a custom-format dump, read without
    restoring it: the data of its version table, printed as SQL."""
    tool = shutil.which("pg_restore")
    if tool is None:
        raise ConfigurationError(
            "pg_restore is not on PATH: install the PostgreSQL client tools "
            "(Debian and Ubuntu: the postgresql-client package)"
        )
    output = subprocess.run(
        [tool, "--data-only", f"--table={VERSION_TABLE}", "--file=-", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    if output.returncode != 0:
        raise InvalidInput.field(
            "file", f"{path} cannot be read by pg_restore: {output.stderr.strip()[:300]}"
        )
    copying = False
    for line in output.stdout.splitlines():
        if line.startswith("COPY ") and VERSION_TABLE in line:
            copying = True
        elif copying:
            return None if line == "\\." else line.strip()
    return None


def _drop_tables(engine: Engine) -> None:
    """Empty the database for pg_restore: every table (their sequences and
    indexes go with them). Only reached for a database without rows, or with
    --force."""
    with engine.begin() as connection:
        preparer = engine.dialect.identifier_preparer
        for name in inspect(connection).get_table_names():
            connection.execute(text(f"DROP TABLE IF EXISTS {preparer.quote(name)} CASCADE"))


def _pg_restore(engine: Engine, source: Path, progress: Progress) -> None:
    tool = _tool("pg_restore", engine)
    uri, env = _libpq(engine)
    listing = subprocess.run(
        [tool, "--list", str(source)], capture_output=True, text=True, check=False
    )
    total = max(1, sum(" TABLE DATA " in line for line in listing.stdout.splitlines()))
    engine.dispose()
    _run_tool(
        [
            tool,
            "--verbose",
            # One transaction: a failed restore leaves the database empty.
            "--single-transaction",
            "--exit-on-error",
            # The roles of the server the backup came from need not exist here.
            "--no-owner",
            "--no-privileges",
            f"--dbname={uri}",
            str(source),
        ],
        env,
        "processing data for table",
        total,
        progress,
        "pg_restore",
    )
