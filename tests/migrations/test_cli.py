"""`storyline db upgrade | current | history | check`, and the schema step of
`storyline serve`, on SQLite and on PostgreSQL, the way an operator runs them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from typer.testing import CliRunner

from storyline.cli.main import app
from storyline.config import Settings
from storyline.errors import InvalidInput, SchemaMismatch
from storyline.kernel import migrate


@pytest.fixture
def env(settings: Settings, tmp_path: Path) -> dict[str, str]:
    return {
        "STORYLINE_DATABASE_URL": settings.database_url,
        "STORYLINE_DATA_DIR": str(tmp_path),
        "STORYLINE_WORKER_IN_PROCESS": "false",
        # Wide enough that no line is wrapped.
        "COLUMNS": "300",
    }


def _run(env: dict[str, str], *args: str) -> str:
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def _fails(env: dict[str, str], *args: str) -> BaseException | None:
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code != 0, result.output
    return result.exception


def _backups(tmp_path: Path) -> list[Path]:
    return sorted(tmp_path.glob("*.backup"))


def test_history_lists_every_revision_with_its_release(env: dict[str, str]) -> None:
    output = _run(env, "db", "history")
    lines = [line for line in output.splitlines() if "│" in line]
    assert [cell.strip() for cell in lines[0].split("│")[1:4]] == [
        "0001",
        "0.1.0",
        "initial schema",
    ]
    assert [cell.strip() for cell in lines[1].split("│")[1:4]] == [
        "0002",
        "0.1.0",
        "full-text search",
    ]
    assert len(lines) == len(migrate.history())


def test_upgrade_step_by_step(env: dict[str, str], engine: Engine, tmp_path: Path) -> None:
    newest = migrate.head()
    assert "empty: no schema yet; `storyline db upgrade` creates it" in _run(env, "db", "current")

    output = _run(env, "db", "upgrade", "--revision", "0001")
    assert "Upgraded the database from empty to 0001 (1 revision: 0001 initial schema)" in output
    assert _backups(tmp_path) == []  # nothing to keep from an empty database
    assert _run(env, "db", "current").startswith(
        f"0001 (released in 0.1.0): behind (newest is {newest})"
    )

    output = _run(env, "db", "upgrade")
    assert f"Upgraded the database from 0001 to {newest}" in output
    if engine.dialect.name == "sqlite":
        [backup] = _backups(tmp_path)
        assert backup.name == "migrations.db.0001.backup"
        assert f"Copied the database at revision 0001 to {backup}." in output.splitlines()
        copy = create_engine(f"sqlite:///{backup}")
        assert migrate.current(copy) == "0001"
        copy.dispose()
    else:
        assert "Copied" not in output
    assert migrate.current(engine) == newest
    assert _run(env, "db", "current").strip().endswith(": up to date")
    assert f"Database at revision {newest}: nothing to do." in _run(env, "db", "upgrade")


def test_upgrade_without_a_backup(env: dict[str, str], engine: Engine, tmp_path: Path) -> None:
    migrate.upgrade(engine, "0001")
    _run(env, "db", "upgrade", "--no-backup")
    assert _backups(tmp_path) == []
    assert migrate.current(engine) == migrate.head()


def test_upgrade_to_an_unknown_revision(env: dict[str, str]) -> None:
    error = _fails(env, "db", "upgrade", "--revision", "0999")
    assert isinstance(error, InvalidInput)
    assert "no such revision" in error.message


def _pretend_newer(engine: Engine) -> None:
    migrate.upgrade(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0999'"))


def test_a_database_from_a_newer_version_is_refused(env: dict[str, str], engine: Engine) -> None:
    _pretend_newer(engine)
    for command in (["db", "current"], ["db", "upgrade"], ["serve"]):
        error = _fails(env, *command)
        assert isinstance(error, SchemaMismatch), command
        assert "revision 0999, which this version of Storyline does not have" in error.message


def test_check_passes(env: dict[str, str]) -> None:
    output = _run(env, "db", "check")
    assert "linear, released ones unchanged" in output
    assert "Models and migrations agree." in output


# `storyline serve`, up to the point where it would start listening.


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    import uvicorn

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: calls.append(kwargs))
    return calls


def test_serve_creates_the_schema_of_an_empty_database(
    env: dict[str, str], engine: Engine, started: list[dict[str, Any]]
) -> None:
    output = _run(env, "serve", "--port", "8123")
    assert migrate.current(engine) == migrate.head()
    assert "Upgraded the database from empty to" in output
    assert [call["port"] for call in started] == [8123]


def test_serve_on_an_older_database(
    env: dict[str, str], engine: Engine, tmp_path: Path, started: list[dict[str, Any]]
) -> None:
    migrate.upgrade(engine, "0001")
    if engine.dialect.name == "sqlite":
        # The embedded database is the whole installation: upgrade it, keeping a copy.
        _run(env, "serve")
        assert migrate.current(engine) == migrate.head()
        assert [b.name for b in _backups(tmp_path)] == ["migrations.db.0001.backup"]
        assert len(started) == 1
        return
    # A shared database is upgraded by a deploy step, not by whichever server starts first.
    error = _fails(env, "serve")
    assert isinstance(error, SchemaMismatch)
    assert error.message.startswith(
        f"the database is at revision 0001 and this version needs {migrate.head()}"
    )
    assert "Back up the database, then run `storyline db upgrade`" in error.message
    assert migrate.current(engine) == "0001"
    assert started == []


def test_serve_upgrade_forces_the_upgrade(
    env: dict[str, str], engine: Engine, started: list[dict[str, Any]]
) -> None:
    migrate.upgrade(engine, "0001")
    _run(env, "serve", "--upgrade")
    assert migrate.current(engine) == migrate.head()
    assert len(started) == 1


def test_serve_no_upgrade_never_touches_the_schema(
    env: dict[str, str], engine: Engine, started: list[dict[str, Any]]
) -> None:
    error = _fails(env, "serve", "--no-upgrade")
    assert isinstance(error, SchemaMismatch)
    assert "the database is empty: run `storyline db upgrade`" in error.message
    migrate.upgrade(engine, "0001")
    error = _fails(env, "serve", "--no-upgrade")
    assert isinstance(error, SchemaMismatch)
    assert migrate.current(engine) == "0001"
    migrate.upgrade(engine)
    _run(env, "serve", "--no-upgrade")
    assert len(started) == 1
