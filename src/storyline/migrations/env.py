"""Alembic environment. Runs with a connection handed over by storyline.kernel.migrate,
or builds its own engine from the configured URL (for the `alembic` command)."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from sqlalchemy import create_engine

from storyline.kernel.schema import Base, UTCDateTime
from storyline.subsystems import import_models

import_models()
config = context.config
target_metadata = Base.metadata


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    # Full-text search structures are created by hand in migrations (FTS5
    # virtual tables and their shadow tables on SQLite, GIN expression
    # indexes on PostgreSQL); they have no model to compare with.
    return not (name is not None and "_fts" in name)


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    # Revisions must not import application code: UTCDateTime is stored as a
    # plain DateTime, so that is what a revision creates.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime()"
    return False


def _run(connection: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=include_object,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as conn:
        _run(conn)
