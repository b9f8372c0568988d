"""Alembic environment. Runs with a connection handed over by storyline.kernel.migrate,
or builds its own engine from the configured URL (for the `alembic` command)."""

from __future__ import annotations

from collections.abc import Callable
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


def _sqlite_schema(connection: Any) -> tuple[dict[str, int], dict[str, tuple[str, str]]]:
    """Each table's root page, and each trigger's table and SQL."""
    rows = connection.exec_driver_sql(
        "SELECT type, name, tbl_name, rootpage, sql FROM sqlite_master "
        "WHERE type IN ('table', 'trigger')"
    ).fetchall()
    tables = {name: rootpage for kind, name, _, rootpage, _ in rows if kind == "table"}
    triggers = {name: (table, sql) for kind, name, table, _, sql in rows if kind == "trigger"}
    return tables, triggers


def _keep_sqlite_triggers(connection: Any) -> Callable[..., None]:
    """Put back the triggers a revision's batch operation lost.

    On SQLite, batch mode changes a table by building a copy and dropping the
    original, and the original's triggers go with it: the full-text index of
    stories would silently stop following them. A table that got a new root
    page in a revision was rebuilt; its triggers that vanished in that
    revision are created again from the SQL they had before it.
    """
    state = [_sqlite_schema(connection)]

    def after_revision(**_: Any) -> None:
        tables_before, triggers_before = state[0]
        tables, triggers = _sqlite_schema(connection)
        for name, (table, sql) in triggers_before.items():
            rebuilt = table in tables and tables[table] != tables_before.get(table)
            if name not in triggers and rebuilt:
                connection.exec_driver_sql(sql)
        state[0] = _sqlite_schema(connection)

    return after_revision


def _run(connection: Any) -> None:
    sqlite = connection.dialect.name == "sqlite"
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=include_object,
        render_as_batch=sqlite,
        compare_type=True,
        render_item=render_item,
        on_version_apply=_keep_sqlite_triggers(connection) if sqlite else None,
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
