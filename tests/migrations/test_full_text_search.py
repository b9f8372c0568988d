"""Migrations 0002 and 0004 on an empty database of their own: rows that exist
before 0002 runs become searchable, its downgrade removes every full-text
object, and 0004 turns the PostgreSQL indexes' pending lists off and back on."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text

from storyline.kernel import migrate


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
    migrate.downgrade(engine, "0001")
    assert _fts_objects(engine) == []
    migrate.upgrade(engine)
    assert _search_count(engine, "frob") == 1


def _pending_lists(engine: Engine) -> dict[str, bool]:
    """Whether each PostgreSQL full-text index takes new rows into a pending list."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT c.relname, coalesce(c.reloptions, '{}') FROM pg_class c "
                "JOIN pg_am a ON a.oid = c.relam WHERE a.amname = 'gin'"
            )
        )
        return {name: "fastupdate=off" not in options for name, options in rows}


def test_search_indexes_keep_no_pending_list(engine: Engine) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("FTS5 has no pending list")
    migrate.upgrade(engine, "0003")
    before = _pending_lists(engine)
    assert len(before) == 6
    assert all(before.values())
    migrate.upgrade(engine)
    assert not any(_pending_lists(engine).values())
    migrate.downgrade(engine, "0003")
    assert _pending_lists(engine) == before
