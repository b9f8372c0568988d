"""`storyline db backup` and `db restore`, the way an operator runs them:
every row and value comes back, an older backup is upgraded, and a restore
never overwrites data by accident."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from storyline.app import create_app
from storyline.bootstrap import build
from storyline.cli.main import app
from storyline.config import Settings
from storyline.errors import Conflict, InvalidInput, StorylineError
from storyline.kernel import backup, migrate
from storyline.kernel.db import make_engine
from tests.migrations import realistic, rows
from tests.ops.conftest import NewDatabase


def _env(settings: Settings) -> dict[str, str]:
    return {
        "STORYLINE_DATABASE_URL": settings.database_url,
        "STORYLINE_DATA_DIR": str(settings.data_dir),
        "COLUMNS": "200",
    }


def _run(settings: Settings, *args: str) -> str:
    result = CliRunner().invoke(app, list(args), env=_env(settings))
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def _fails(settings: Settings, *args: str) -> BaseException | None:
    result = CliRunner().invoke(app, list(args), env=_env(settings))
    assert result.exit_code != 0, result.output
    return result.exception


def _filled(settings: Settings, revision: str = "head") -> tuple[Engine, dict[str, list[rows.Row]]]:
    """A database at `revision` with rows in every table (and a realistic story)."""
    engine = make_engine(settings)
    migrate.upgrade(engine, revision)
    with engine.begin() as connection:
        metadata = rows.reflect(connection)
        inserted = rows.fill(connection, metadata, realistic.rows_for(metadata))
    return engine, inserted


def _serves_the_realistic_story(settings: Settings) -> None:
    container = build(settings)
    try:
        with TestClient(create_app(container)) as client:
            story = client.get(f"/v1/stories/{realistic.STORY_ID}")
            assert story.status_code == 200, story.text
            assert story.json()["title"] == realistic.ROWS["stories"][0]["title"]
            found = client.get("/v1/stories/search", params={"q": realistic.SEARCH_WORD}).json()
            assert realistic.STORY_ID in [s["id"] for s in found]
    finally:
        container.db.dispose()


@pytest.mark.parametrize("start", ["head", migrate.history()[0].id])
def test_restore_brings_back_every_row_and_upgrades_an_older_backup(
    new_database: NewDatabase, tmp_path: Path, start: str
) -> None:
    source = new_database("source")
    engine, inserted = _filled(source, start)
    with engine.connect() as connection:
        metadata = rows.reflect(connection)
    at = migrate.current(engine)
    engine.dispose()
    file = tmp_path / "storyline.backup"

    output = _run(source, "db", "backup", str(file))
    assert f"at revision {at} to {file}" in output
    assert file.is_file()
    assert file.stat().st_mode & 0o777 == 0o600
    assert not list(tmp_path.glob(".*.partial"))

    target = new_database("target")
    output = _run(target, "db", "restore", str(file))
    assert f"Restored {file} (revision {at})." in output
    assert ("Upgraded it to" in output) == (at != migrate.head())
    restored = make_engine(target)
    try:
        assert migrate.current(restored) == migrate.head()
        with restored.connect() as connection:
            found = rows.snapshot(connection, rows.reflect(connection))
        assert rows.differences(metadata, inserted, found) == []
    finally:
        restored.dispose()
    _run(target, "db", "check")
    _serves_the_realistic_story(target)


def test_restore_into_a_database_with_an_empty_schema(
    new_database: NewDatabase, tmp_path: Path
) -> None:
    # What `storyline serve` leaves behind on its first start: tables, no rows.
    source = new_database("source")
    _filled(source)[0].dispose()
    file = tmp_path / "storyline.backup"
    _run(source, "db", "backup", str(file))
    target = new_database("target")
    _run(target, "db", "upgrade")
    _run(target, "db", "restore", str(file))
    _serves_the_realistic_story(target)


def test_restore_refuses_a_database_with_data_unless_forced(
    new_database: NewDatabase, tmp_path: Path
) -> None:
    source = new_database("source")
    _filled(source)[0].dispose()
    file = tmp_path / "storyline.backup"
    _run(source, "db", "backup", str(file))
    target = new_database("target")
    _run(target, "admin", "create-user", "--name", "Already Here", "--email", "here@example.org")

    error = _fails(target, "db", "restore", str(file))
    assert isinstance(error, Conflict)
    assert error.code == "database_not_empty"
    assert "users" in error.details["tables"]
    assert "--force" in error.message
    engine = make_engine(target)
    try:
        assert backup.tables_with_rows(engine) == error.details["tables"]
    finally:
        engine.dispose()

    _run(target, "db", "restore", "--force", str(file))
    _serves_the_realistic_story(target)
    engine = make_engine(target)
    try:
        with engine.connect() as connection:
            emails = connection.scalars(text("SELECT email FROM users")).all()
        assert "here@example.org" not in emails
    finally:
        engine.dispose()


def test_a_backup_from_a_newer_version_is_refused_before_anything_is_written(
    new_database: NewDatabase, tmp_path: Path
) -> None:
    source = new_database("source")
    engine, _ = _filled(source)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    file = tmp_path / "newer.backup"
    _run(source, "db", "backup", str(file))
    target = new_database("target")

    error = _fails(target, "db", "restore", str(file))
    assert isinstance(error, InvalidInput)
    assert "revision 9999" in error.message
    engine = make_engine(target)
    try:
        assert migrate.current(engine) is None
        assert backup.tables_with_rows(engine) == []
    finally:
        engine.dispose()


def test_files_that_are_not_backups_are_refused(new_database: NewDatabase, tmp_path: Path) -> None:
    target = new_database("target")
    text_file = tmp_path / "notes.txt"
    text_file.write_text("not a backup\n")
    error = _fails(target, "db", "restore", str(text_file))
    assert isinstance(error, InvalidInput)
    assert "not written by `storyline db backup`" in error.message
    error = _fails(target, "db", "restore", str(tmp_path / "missing.backup"))
    assert isinstance(error, InvalidInput)
    assert "does not exist" in error.message
    # A backup of the other kind of database.
    other = tmp_path / "other.backup"
    if target.is_sqlite:
        other.write_bytes(backup.PG_DUMP_MAGIC + b"\x01" * 64)
    else:
        sqlite_settings = Settings(database_url=f"sqlite:///{tmp_path / 'other.db'}")
        engine = make_engine(sqlite_settings)
        migrate.upgrade(engine)
        backup.backup(engine, other)
        engine.dispose()
    error = _fails(target, "db", "restore", str(other))
    assert isinstance(error, InvalidInput)
    assert "restore it into a database of the same kind" in error.message


def test_a_backup_replaces_an_older_file_only_once_it_is_complete(
    new_database: NewDatabase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = new_database("source")
    engine, _ = _filled(source)
    file = tmp_path / "nightly.backup"
    first = backup.backup(engine, file)
    assert first.revision == migrate.head()
    good = file.read_bytes()
    steps: list[tuple[int, int]] = []

    def fail_halfway(done: int, total: int) -> None:
        steps.append((done, total))
        raise StorylineError("interrupted", code="backup_failed")

    with pytest.raises(StorylineError):
        backup.backup(engine, file, progress=fail_halfway)
    engine.dispose()
    assert steps
    assert file.read_bytes() == good
    assert not list(tmp_path.glob(".*.partial"))


def test_nothing_to_back_up(new_database: NewDatabase, tmp_path: Path) -> None:
    empty = new_database("empty")
    error = _fails(empty, "db", "backup", str(tmp_path / "empty.backup"))
    assert isinstance(error, StorylineError)
    if empty.is_sqlite:
        # A mistyped path names no database; none is created by asking.
        assert "there is no database at" in error.message
        assert not Path(empty.database_url.removeprefix("sqlite:///")).exists()
    else:
        assert error.code == "backup_failed"
        assert "no schema" in error.message
    assert not (tmp_path / "empty.backup").exists()


def test_the_postgresql_tools_must_be_there_and_new_enough(
    new_database: NewDatabase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = new_database("source")
    if source.is_sqlite:
        pytest.skip("pg_dump only backs up PostgreSQL")
    _filled(source)[0].dispose()
    tools = tmp_path / "bin"
    tools.mkdir()
    monkeypatch.setenv("PATH", str(tools))
    error = _fails(source, "db", "backup", str(tmp_path / "a.backup"))
    assert isinstance(error, StorylineError)
    assert error.code == "configuration_error"
    assert "pg_dump is not on PATH" in error.message

    old = tools / "pg_dump"
    old.write_text("#!/bin/sh\necho 'pg_dump (PostgreSQL) 9.6.24'\n")
    old.chmod(0o755)
    error = _fails(source, "db", "backup", str(tmp_path / "a.backup"))
    assert isinstance(error, StorylineError)
    assert error.code == "configuration_error"
    assert "use the client tools of version" in error.message
    assert not (tmp_path / "a.backup").exists()
