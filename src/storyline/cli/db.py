"""`storyline db`: where the schema is, how it got there, upgrading it, and
backing the database up and restoring it (`kernel/backup.py`).

Also the schema step of `storyline serve` (`prepare`): an empty database gets
the schema; an embedded SQLite database that is behind is copied aside and
upgraded, as `make run` has always done; a PostgreSQL database that is behind
is left alone and the server refuses to start, because several app servers
share it and upgrading is a deploy step (`storyline db upgrade`), not
something each of them should race to do.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import Engine

from storyline.bootstrap import build
from storyline.config import Settings
from storyline.errors import InvalidInput, SchemaMismatch
from storyline.kernel import backup as backups
from storyline.kernel import migrate

app = typer.Typer(help="Manage the database schema.", no_args_is_help=True)
# Messages are not cut into lines: the terminal wraps them, and a path or a
# command stays whole for copying (and for the tests, whatever the width).
console = Console(soft_wrap=True)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _listing(revisions: list[migrate.Revision]) -> str:
    return ", ".join(f"{r.id} {r.message}" for r in revisions)


def backup_path(engine: Engine, revision: str) -> Path | None:
    """Where the copy of a SQLite file at `revision` goes: beside the file.
    None for databases that are not a SQLite file."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    return Path(f"{database}.{revision}.backup")


def upgrade(engine: Engine, *, revision: str = "head", backup: bool = True) -> None:
    """Apply what is pending and say what happened. A SQLite file that
    already holds a schema is copied aside first, so that a failed or
    regretted upgrade is one file copy away from undone."""
    if revision != "head" and revision not in {r.id for r in migrate.history()}:
        raise InvalidInput.field("revision", "no such revision (`storyline db history`)")
    todo = migrate.pending(engine)
    at = migrate.current(engine)
    if revision != "head":
        ids = [r.id for r in todo]
        todo = todo[: ids.index(revision) + 1] if revision in ids else []
    if not todo:
        console.print(f"Database at revision {at or 'base'}: nothing to do.")
        return
    target = backup_path(engine, at) if at is not None and backup else None
    if target is not None:
        migrate.backup_sqlite(engine, target)
        console.print(f"Copied the database at revision {at} to {target}.")
    migrate.upgrade(engine, revision)
    console.print(
        f"Upgraded the database from {at or 'empty'} to {migrate.current(engine)} "
        f"({_plural(len(todo), 'revision')}: {_listing(todo)})."
    )


def prepare(engine: Engine, config: Settings, *, upgrade_schema: bool | None) -> None:
    """The schema step before the server starts. `upgrade_schema` None is the
    default policy (module docstring); True always upgrades, False never
    touches the schema. Raises `SchemaMismatch` when the server must not start."""
    todo = migrate.pending(engine)
    if not todo:
        return
    at = migrate.current(engine)
    head = todo[-1].id
    if upgrade_schema is not False and (at is None or upgrade_schema or config.is_sqlite):
        upgrade(engine)
        return
    if at is None:
        raise SchemaMismatch(
            "the database is empty: run `storyline db upgrade` to create the schema",
            details={"current": None, "head": head},
        )
    raise SchemaMismatch(
        f"the database is at revision {at} and this version needs {head} "
        f"({_plural(len(todo), 'revision')} to apply: {_listing(todo)}). Back up the "
        "database, then run `storyline db upgrade` (or start once with `serve --upgrade`)",
        details={"current": at, "head": head},
    )


@app.command("upgrade")
def db_upgrade(
    revision: Annotated[
        str, typer.Option(help="Stop at this revision (default: the newest).")
    ] = "head",
    backup: Annotated[
        bool,
        typer.Option(help="On SQLite, copy the file aside first (FILE.REVISION.backup)."),
    ] = True,
) -> None:
    """Create the schema, or upgrade it to the newest revision."""
    container = build(Settings.from_env())
    try:
        upgrade(container.db.engine, revision=revision, backup=backup)
    finally:
        container.db.dispose()


@app.command("current")
def db_current() -> None:
    """Print the database's schema revision and what an upgrade would apply."""
    container = build(Settings.from_env())
    try:
        at = migrate.current(container.db.engine)
        todo = migrate.pending(container.db.engine)
    finally:
        container.db.dispose()
    release = {r.id: r.release for r in migrate.history()}.get(at or "")
    label = f"{at} (released in {release})" if release else (at or "empty")
    if not todo:
        console.print(f"{label}: up to date")
        return
    if at is None:
        console.print(
            f"empty: no schema yet; `storyline db upgrade` creates it "
            f"({_plural(len(todo), 'revision')}: {_listing(todo)})."
        )
        return
    console.print(
        f"{label}: behind (newest is {todo[-1].id}); {_plural(len(todo), 'revision')} "
        f"to apply: {_listing(todo)}. Run `storyline db upgrade`."
    )


@app.command("history")
def db_history() -> None:
    """List every schema revision, oldest first, with the release that shipped it."""
    table = Table(title="Schema revisions")
    for column in ("revision", "release", "what it does"):
        table.add_column(column)
    for revision in migrate.history():
        table.add_row(revision.id, revision.release or "unreleased", revision.message)
    console.print(table)


@app.command("check")
def db_check() -> None:
    """Fail if the revisions break the append-only rules, or if the models and
    the migrations disagree (alembic check)."""
    problems = migrate.audit()
    if problems:
        for problem in problems:
            console.print(f"[red]migrations[/red]: {problem}")
        raise typer.Exit(1)
    console.print(f"Revisions: {len(migrate.history())}, linear, released ones unchanged.")
    container = build(Settings.from_env())
    try:
        migrate.upgrade(container.db.engine)
        migrate.check(container.db.engine)
    finally:
        container.db.dispose()
    console.print("Models and migrations agree.")


def _progress(description: str) -> tuple[Progress, Callable[[int, int], None]]:
    """A progress bar on stderr (stdout keeps the one-line result) and the
    callback that moves it."""
    bar = Progress(
        TextColumn(description),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    task = bar.add_task(description, total=None)

    def advance(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)

    return bar, advance


def _size(count: int) -> str:
    value = float(count)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:,.0f} {unit}" if unit == "bytes" else f"{value:,.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")  # pragma: no cover


@app.command("backup")
def db_backup(
    file: Annotated[
        Path, typer.Argument(help="Where to write the backup (replaced if it exists).")
    ],
) -> None:
    """Back up the whole database to FILE while the server keeps running: a
    SQLite copy, or a pg_dump custom-format file on PostgreSQL."""
    container = build(Settings.from_env())
    bar, advance = _progress("Backing up")
    try:
        with bar:
            info = backups.backup(container.db.engine, file, progress=advance)
    finally:
        container.db.dispose()
    console.print(
        f"Backed up the {info.dialect} database at revision {info.revision or 'empty'} "
        f"to {info.path} ({_size(info.size)})."
    )


@app.command("restore")
def db_restore(
    file: Annotated[Path, typer.Argument(help="A file written by `storyline db backup`.")],
    force: Annotated[
        bool,
        typer.Option("--force", help="Replace everything in a database that holds data."),
    ] = False,
) -> None:
    """Restore FILE into the database (which must be empty unless --force),
    then upgrade it if the backup is from an older version."""
    container = build(Settings.from_env())
    bar, advance = _progress("Restoring")
    try:
        with bar:
            info = backups.restore(container.db.engine, file, force=force, progress=advance)
    finally:
        container.db.dispose()
    console.print(f"Restored {file} (revision {info.backup_revision}).")
    if info.upgraded:
        console.print(
            f"Upgraded it to {info.revision} ({_plural(len(info.upgraded), 'revision')}: "
            f"{_listing(info.upgraded)})."
        )
