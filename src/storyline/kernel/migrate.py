"""Alembic, driven from code so that the installed package needs no ini file.

Revisions are append-only. Each one is numbered after its place in the
history (0001, 0002, ...), each revises the one before it, and once a release
ships a revision its file never changes again: `released.txt` records every
released revision with the release that shipped it and the sha256 of its file,
and `audit()` reports any departure from these rules (`storyline db check`
and `scripts/check-migrations` run it). `new_revision()` writes the next
revision by comparing the models with a scratch database built by the
revisions that exist.

Every function takes the migrations folder as `location` so that tests can
work on a copy of it; the default is the folder shipped inside the package.
"""

from __future__ import annotations

import ast
import hashlib
import re
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine

from storyline.errors import InvalidInput, SchemaMismatch, StorylineError

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
RELEASED = "released.txt"
# Revision ids are the revision's place in the history, four digits wide.
REVISION_ID = re.compile(r"\d{4}")


@dataclass(frozen=True)
class Revision:
    """One revision file: its id, the one it revises, its message (the first
    line of its docstring) and the release that shipped it, if any."""

    id: str
    down_revision: str | None
    message: str
    path: Path
    release: str | None


@dataclass(frozen=True)
class Released:
    """One line of released.txt."""

    revision: str
    release: str
    sha256: str


def alembic_config(database_url: str, location: Path = MIGRATIONS) -> Config:
    config = Config()
    config.set_main_option("script_location", str(location))
    # Alembic's config is interpolated with ConfigParser; escape percent signs.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def _scripts(location: Path) -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config("sqlite://", location))


def file_digest(path: Path) -> str:
    """The sha256 of a revision file. Line endings are normalised first so
    that a checkout that turns them into CRLF does not look like an edit."""
    return hashlib.sha256(path.read_bytes().replace(b"\r\n", b"\n")).hexdigest()


def released(location: Path = MIGRATIONS) -> list[Released]:
    """The revisions shipped in a release, oldest first."""
    path = location / RELEASED
    if not path.exists():
        return []
    entries = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        fields = line.split()
        if len(fields) != 3:
            raise InvalidInput(
                f"{path}:{number}: expected 'REVISION RELEASE SHA256', found {raw.strip()!r}"
            )
        entries.append(Released(*fields))
    return entries


def _down(script: Script) -> str | None:
    down = script.down_revision
    if down is None or isinstance(down, str):
        return down
    # A merge revision revises several; audit() refuses it, history() shows the first.
    return sorted(down)[0] if down else None


def _message(script: Script) -> str:
    lines = (script.doc or "").strip().splitlines()
    return lines[0] if lines else ""


def history(location: Path = MIGRATIONS) -> list[Revision]:
    """Every revision, oldest first."""
    releases = {entry.revision: entry.release for entry in released(location)}
    scripts = list(_scripts(location).walk_revisions("base", "heads"))
    return [
        Revision(
            id=script.revision,
            down_revision=_down(script),
            message=_message(script),
            path=Path(script.path),
            release=releases.get(script.revision),
        )
        for script in reversed(scripts)
    ]


def heads(location: Path = MIGRATIONS) -> list[str]:
    return sorted(_scripts(location).get_heads())


def head(location: Path = MIGRATIONS) -> str | None:
    """The newest revision (Alembic refuses when the history has several heads)."""
    return _scripts(location).get_current_head()


def current(engine: Engine) -> str | None:
    """The database's revision; None for a database the migrations never ran on."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def pending(engine: Engine, location: Path = MIGRATIONS) -> list[Revision]:
    """The revisions `upgrade()` would apply, oldest first. Raises
    `SchemaMismatch` when the database is at a revision this code does not
    have (a newer release upgraded it)."""
    revisions = history(location)
    ids = [revision.id for revision in revisions]
    at = current(engine)
    if at is None:
        return revisions
    if at not in ids:
        raise SchemaMismatch(
            f"the database is at revision {at}, which this version of Storyline does not "
            "have: a newer version upgraded it. Run that version, or restore the backup "
            "taken before the upgrade",
            details={"current": at, "head": ids[-1] if ids else None},
        )
    return revisions[ids.index(at) + 1 :]


@contextmanager
def _migrating(engine: Engine) -> Iterator[Connection]:
    """One transaction to run revisions in.

    On SQLite, foreign keys are switched off meanwhile: Alembic's batch mode
    changes a table by copying it and dropping the original, and with foreign
    keys on, dropping a table deletes its rows first and cascades to every
    table that refers to it (a story's tasks and comments). The pragma only
    takes effect outside a transaction; `PRAGMA foreign_key_check` then proves
    that the revisions left every reference valid before the commit.
    """
    with engine.connect() as connection:
        raw = connection.connection.driver_connection
        sqlite = isinstance(raw, sqlite3.Connection)
        enforced = False
        if isinstance(raw, sqlite3.Connection):
            enforced = raw.execute("PRAGMA foreign_keys").fetchone() == (1,)
            raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                yield connection
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        table, rowid, parent, _ = broken[0]
                        raise StorylineError(
                            f"the migration left {len(broken)} broken references, e.g. "
                            f"{table} row {rowid} refers to a missing {parent} row",
                            code="migration_failed",
                        )
        finally:
            if isinstance(raw, sqlite3.Connection) and enforced:
                raw.execute("PRAGMA foreign_keys=ON")


def upgrade(engine: Engine, revision: str = "head", location: Path = MIGRATIONS) -> None:
    """Apply revisions up to `revision`, all in one transaction (both
    databases run DDL transactionally, so a failed upgrade leaves nothing)."""
    config = alembic_config(engine.url.render_as_string(hide_password=False), location)
    with _migrating(engine) as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str, location: Path = MIGRATIONS) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False), location)
    with _migrating(engine) as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def fingerprint() -> str:
    """A short hash of every revision's source: changes whenever the schema
    the migrations build can change."""
    return fingerprints()[-1]


def fingerprints() -> list[str]:
    """The `fingerprint` of each prefix of the history, oldest first: the
    first revision alone, the first two, ..., all of them.

    A database built at the history of an earlier entry upgrades to the
    current schema by running the revisions after it, since revisions are
    append-only (the benchmark upgrades its cached tiers so)."""
    digest = hashlib.sha256()
    prints = []
    # Revisions only: the package's __init__.py would sort after them and
    # keep the hash of an older history from being a prefix of a newer one.
    for path in sorted((MIGRATIONS / "versions").glob("[0-9]*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
        prints.append(digest.copy().hexdigest()[:12])
    return prints


def check(engine: Engine, location: Path = MIGRATIONS) -> None:
    """Raise if the models and the migrated schema differ (alembic check)."""
    config = alembic_config(engine.url.render_as_string(hide_password=False), location)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.check(config)


def backup_sqlite(engine: Engine, target: Path) -> None:
    """Copy a SQLite database, consistently even while others use it (the
    online backup API, which also copies what is still in the WAL file)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with engine.connect() as connection:
        source = connection.connection.driver_connection
        assert isinstance(source, sqlite3.Connection)
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
        finally:
            copy.close()


def audit(location: Path = MIGRATIONS) -> list[str]:
    """What breaks the append-only rules, one sentence each; empty when all is well."""
    scripts = _scripts(location)
    problems: list[str] = []
    all_heads = sorted(scripts.get_heads())
    if len(all_heads) > 1:
        problems.append(
            f"the history has {len(all_heads)} heads ({', '.join(all_heads)}): renumber the "
            "newer revision so that it revises the newest one"
        )
    everything = list(scripts.walk_revisions("base", "heads"))
    for script in everything:
        if script.is_merge_point:
            problems.append(
                f"revision {script.revision} merges branches: rebase it onto the newest "
                "revision instead"
            )
        if script.is_branch_point:
            children = ", ".join(sorted(script.nextrev))
            problems.append(f"revision {script.revision} has several children ({children})")
    if problems:
        return problems
    chain = history(location)
    for place, revision in enumerate(chain, start=1):
        expected = f"{place:04d}"
        if revision.id != expected:
            problems.append(
                f"revision {revision.id} is number {place} in the history: its id must be "
                f"{expected!r}"
            )
        if not revision.path.name.startswith(f"{revision.id}_"):
            problems.append(f"{revision.path.name}: the file name must start with {revision.id}_")
        problems.extend(_imports_application_code(revision.path))
    problems.extend(_released_problems(location, chain))
    return problems


def _imports_application_code(path: Path) -> list[str]:
    # A revision must build the same schema forever; application code changes
    # under it (the StoryBoard data migration that called live code broke
    # once that code moved on).
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    bad = sorted(n for n in names if n == "storyline" or n.startswith("storyline."))
    return [f"{path.name} imports application code ({', '.join(bad)})"] if bad else []


def _released_problems(location: Path, chain: Sequence[Revision]) -> list[str]:
    problems: list[str] = []
    by_id = {revision.id: revision for revision in chain}
    entries = released(location)
    seen: set[str] = set()
    for entry in entries:
        if entry.revision in seen:
            problems.append(f"{RELEASED} lists revision {entry.revision} twice")
        seen.add(entry.revision)
        revision = by_id.get(entry.revision)
        if revision is None:
            problems.append(
                f"revision {entry.revision}, released in {entry.release}, is missing: "
                "released revisions are never deleted"
            )
        elif file_digest(revision.path) != entry.sha256:
            problems.append(
                f"{revision.path.name}, released in {entry.release}, was edited: released "
                "revisions never change; restore it and put the change in a new revision"
            )
    # Released revisions are the oldest ones: nothing unreleased may sit below them.
    released_ids = [r.id for r in chain if r.id in seen]
    expected = [r.id for r in chain[: len(released_ids)]]
    if released_ids != expected:
        problems.append(
            f"{RELEASED} must list the oldest revisions in order; it lists "
            f"{', '.join(released_ids)} but the history starts {', '.join(expected)}"
        )
    if [e.revision for e in entries if e.revision in by_id] != released_ids:
        problems.append(f"{RELEASED} must list the revisions in the order of the history")
    return problems


def mark_released(release: str, location: Path = MIGRATIONS) -> list[Revision]:
    """Record every unreleased revision as shipped in `release` (when a
    release is cut); returns them."""
    if not re.fullmatch(r"[0-9A-Za-z][0-9A-Za-z.+-]*", release):
        raise InvalidInput.field("release", "must be a version such as 0.2.0")
    problems = audit(location)
    if problems:
        raise InvalidInput("the migrations break the rules: " + "; ".join(problems))
    fresh = [revision for revision in history(location) if revision.release is None]
    if fresh:
        with (location / RELEASED).open("a", encoding="utf-8") as out:
            for revision in fresh:
                out.write(f"{revision.id} {release} {file_digest(revision.path)}\n")
    return fresh


def next_id(location: Path = MIGRATIONS) -> str:
    return f"{len(history(location)) + 1:04d}"


def new_revision(message: str, *, empty: bool = False, location: Path = MIGRATIONS) -> Path | None:
    """Write the next revision: what the models have that the revisions do
    not build yet, found by Alembic's autogenerate against a scratch SQLite
    database at the newest revision. Returns the new file, or None when the
    models hold nothing new (and `empty` does not ask for a blank revision,
    the start of a data migration)."""
    message = " ".join(message.split())
    if not message:
        raise InvalidInput.field("message", "say what the revision does")
    problems = audit(location)
    if problems:
        raise InvalidInput("fix the migrations first: " + "; ".join(problems))

    def keep_unless_empty(context: Any, revision: Any, directives: list[Any]) -> None:
        # Emptying the directives makes Alembic write no file.
        if not empty and all(ops.is_empty() for ops in directives[0].upgrade_ops_list):
            directives[:] = []

    with tempfile.TemporaryDirectory() as scratch:
        url = f"sqlite:///{Path(scratch) / 'scratch.db'}"
        engine = create_engine(url)
        try:
            upgrade(engine, location=location)
            config = alembic_config(url, location)
            with engine.begin() as connection:
                config.attributes["connection"] = connection
                result = command.revision(
                    config,
                    message=message,
                    autogenerate=True,
                    rev_id=next_id(location),
                    process_revision_directives=keep_unless_empty,
                )
        finally:
            engine.dispose()
    scripts: Iterable[Script | None] = result if isinstance(result, list) else [result]
    paths = [Path(script.path) for script in scripts if script is not None]
    return paths[0] if paths else None
