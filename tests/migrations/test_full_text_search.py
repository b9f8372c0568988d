"""Migration 0002 on an empty database of its own: rows that exist before it
runs become searchable, and its downgrade removes every full-text object."""

from __future__ import annotations

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
