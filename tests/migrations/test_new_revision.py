"""A revision written by `new_revision` (what scripts/new-migration runs),
into a copy of the migrations folder, for models that gained a table and a
column on stories: it is numbered next, imports no application code, and
upgrades and downgrades a database full of rows without losing any of them,
its full-text index, or a bit of the schema it started from."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    Column,
    Engine,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    inspect,
    text,
)

from storyline.kernel import migrate
from storyline.kernel.schema import Base, UTCDateTime
from storyline.subsystems import import_models
from tests.migrations import rows


def _copy_of_the_models() -> MetaData:
    import_models()
    metadata = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.sorted_tables:
        table.to_metadata(metadata)
    return metadata


@pytest.fixture
def models(monkeypatch: pytest.MonkeyPatch) -> MetaData:
    """What env.py compares the revisions with, for this test only."""
    metadata = _copy_of_the_models()
    monkeypatch.setattr(Base, "metadata", metadata)
    return metadata


def _grow(metadata: MetaData) -> None:
    stories = metadata.tables["stories"]
    stories.append_column(Column("estimate", Integer, nullable=True))
    Index("ix_stories_estimate", stories.c.estimate)
    Table(
        "story_reviews",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("story_id", ForeignKey("stories.id", ondelete="CASCADE"), nullable=False),
        Column("verdict", String(20), nullable=False),
        Column("reviewed_at", UTCDateTime(), nullable=False),
        UniqueConstraint("story_id"),
    )


def _schema(engine: Engine) -> dict[str, Any]:
    """Everything about the schema a revision could get wrong."""
    inspector = inspect(engine)
    found: dict[str, Any] = {}
    for table in sorted(inspector.get_table_names()):
        if table == "alembic_version":
            continue
        found[table] = {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"], str(c.get("default")))
                for c in inspector.get_columns(table)
            ],
            "pk": inspector.get_pk_constraint(table)["constrained_columns"],
            "fks": sorted(
                (
                    fk["name"] or "",
                    tuple(fk["constrained_columns"]),
                    fk["referred_table"],
                    tuple(fk["referred_columns"]),
                    str((fk.get("options") or {}).get("ondelete")),
                )
                for fk in inspector.get_foreign_keys(table)
            ),
            "indexes": sorted(
                (i["name"] or "", tuple(map(str, i["column_names"])), bool(i["unique"]))
                for i in inspector.get_indexes(table)
            ),
            "unique": sorted(
                (u["name"] or "", tuple(u["column_names"]))
                for u in inspector.get_unique_constraints(table)
            ),
            "checks": sorted(c["name"] or "" for c in inspector.get_check_constraints(table)),
        }
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            found["triggers"] = sorted(
                connection.exec_driver_sql(
                    "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger'"
                ).fetchall()
            )
    return found


def _search(engine: Engine, word: str) -> list[int]:
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            sql = "SELECT rowid FROM stories_fts WHERE stories_fts MATCH :q ORDER BY rowid"
            return list(connection.execute(text(sql), {"q": f'"{word}"*'}).scalars())
        sql = "SELECT id FROM stories WHERE search_fts @@ to_tsquery('simple', :q) ORDER BY id"
        return list(connection.execute(text(sql), {"q": f"{word}:*"}).scalars())


def test_unchanged_models_give_no_revision(migrations_copy: Path, models: MetaData) -> None:
    assert migrate.new_revision("nothing", location=migrations_copy) is None
    assert [r.id for r in migrate.history(migrations_copy)] == [r.id for r in migrate.history()]


def test_an_empty_revision_for_a_data_migration(migrations_copy: Path, models: MetaData) -> None:
    path = migrate.new_revision("fill estimates", empty=True, location=migrations_copy)
    assert path is not None
    assert path.name == f"{migrate.next_id()}_fill_estimates.py"
    assert migrate.head(migrations_copy) == migrate.next_id()
    assert migrate.audit(migrations_copy) == []


def test_a_new_revision_upgrades_and_downgrades_a_full_database(
    engine: Engine, migrations_copy: Path, models: MetaData
) -> None:
    previous = migrate.head()
    assert previous is not None
    _grow(models)
    path = migrate.new_revision("add story reviews", location=migrations_copy)

    assert path is not None
    assert path.name == f"{migrate.next_id()}_add_story_reviews.py"
    source = path.read_text()
    assert f"down_revision = {previous!r}" in source
    assert "sa.DateTime()" in source  # UTCDateTime, rendered without application code
    assert migrate.audit(migrations_copy) == []
    new = migrate.head(migrations_copy)
    assert new == migrate.next_id()

    migrate.upgrade(engine, location=migrations_copy)
    migrate.downgrade(engine, previous, location=migrations_copy)
    assert migrate.current(engine) == previous
    with engine.begin() as connection:
        before = rows.reflect(connection)
        inserted = rows.fill(connection, before, {"stories": [{"id": 500, "title": "Frob crash"}]})
    schema_before = _schema(engine)
    assert _search(engine, "frob") == [500]

    migrate.upgrade(engine, location=migrations_copy)
    assert migrate.current(engine) == new
    with engine.begin() as connection:
        after = rows.reflect(connection)
        assert {"story_reviews"} == set(after.tables) - set(before.tables)
        assert "estimate" in after.tables["stories"].c
        reviews = after.tables["story_reviews"]
        review = rows.make_row(0, reviews, {"stories": inserted["stories"]})
        connection.execute(reviews.insert().values(review))
        found = rows.snapshot(connection, after)
    assert rows.differences(before, inserted, found) == []

    migrate.downgrade(engine, previous, location=migrations_copy)
    with engine.connect() as connection:
        found = rows.snapshot(connection, before)
    # On SQLite the downgrade rebuilds stories; its children and its full-text
    # triggers must come through that.
    assert rows.differences(before, inserted, found) == []
    assert _schema(engine) == schema_before
    assert _search(engine, "frob") == [500]
    with engine.begin() as connection:
        story = dict(inserted["stories"][0], id=9999, title="Quuxification after downgrade")
        connection.execute(before.tables["stories"].insert().values(story))
    assert _search(engine, "quux") == [9999]

    migrate.upgrade(engine, location=migrations_copy)
    assert migrate.current(engine) == new
