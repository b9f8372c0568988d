"""Migration 0002 on an empty database of its own: rows that exist before it
runs become searchable, and its downgrade removes every full-text object."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from storyline.kernel import migrate

PG_ENV = "STORYLINE_TEST_DATABASE_URL"


@pytest.fixture
def engine(tmp_path: Path, worker_id: str) -> Iterator[Engine]:
    base = os.environ.get(PG_ENV)
    if not base:
        engine = create_engine(f"sqlite:///{tmp_path / 'fts.db'}")
        yield engine
        engine.dispose()
        return
    name = f"storyline_test_fts_{os.getpid()}_{worker_id}"
    url = make_url(base).set(drivername="postgresql+psycopg")
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_engine(url.set(database=name))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _downgrade(engine: Engine, revision: str) -> None:
    config = migrate.alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def _fts_objects(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            sql = "SELECT name FROM sqlite_master WHERE name LIKE '%\\_fts%' ESCAPE '\\'"
        else:
            sql = (
                "SELECT indexname FROM pg_indexes WHERE indexname LIKE '%\\_fts%' UNION "
                "SELECT column_name FROM information_schema.columns "
                "WHERE column_name LIKE '%\\_fts%'"
            )
        return sorted(conn.execute(text(sql)).scalars())


def _search_count(engine: Engine, word: str) -> int:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            sql = "SELECT count(*) FROM stories_fts WHERE stories_fts MATCH :q"
            return conn.execute(text(sql), {"q": f'"{word}"*'}).scalar_one()
        sql = "SELECT count(*) FROM stories WHERE search_fts @@ to_tsquery('simple', :q)"
        return conn.execute(text(sql), {"q": f"{word}:*"}).scalar_one()


def test_existing_rows_are_indexed_and_downgrade_removes_everything(engine: Engine) -> None:
    migrate.upgrade(engine, "0001")
    assert _fts_objects(engine) == []
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO stories (title, is_bug, story_type_id, private, security, status, "
                "todo_count, inprogress_count, review_count, merged_count, invalid_count) "
                "VALUES ('Frobnicator crash', true, 1, false, false, 'invalid', 0, 0, 0, 0, 0)"
            )
        )
    migrate.upgrade(engine, "0002")
    assert _fts_objects(engine)
    assert _search_count(engine, "frob") == 1
    _downgrade(engine, "0001")
    assert _fts_objects(engine) == []
    migrate.upgrade(engine)
    assert _search_count(engine, "frob") == 1
