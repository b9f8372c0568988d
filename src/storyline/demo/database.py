"""The database side of a load: one raw transaction, indexes and triggers set
aside while the rows go in, sequences and statistics brought up to date after.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, inspect, select, text

from storyline.kernel.schema import Base


def is_empty(engine: Engine) -> bool:
    """Whether the database holds no users, projects or stories yet."""
    with engine.connect() as connection:
        for table in ("users", "projects", "stories"):
            if connection.execute(
                select(text("1")).select_from(Base.metadata.tables[table]).limit(1)
            ).first():
                return False
    return True


def loaded_tables(engine: Engine) -> list[str]:
    """The model tables present in the database, parents first (a model whose
    migration has not been applied yet is left alone)."""
    present = set(inspect(engine).get_table_names())
    return [table.name for table in Base.metadata.sorted_tables if table.name in present]


class SecondaryIndexes:
    """Secondary indexes and triggers set aside during the load.

    Inserting into tables without their secondary indexes and building each
    index once at the end is several times faster than maintaining them row
    by row, and full-text triggers are replaced by one rebuild."""

    def __init__(self, cursor: Any, dialect: str) -> None:
        self.cursor = cursor
        self.dialect = dialect
        self.saved: list[str] = []
        self.fts_tables: list[str] = []

    def set_aside(self, tables: Sequence[str]) -> None:
        cursor = self.cursor
        if self.dialect == "sqlite":
            marks = ", ".join("?" for _ in tables)
            cursor.execute(
                "SELECT type, name, sql FROM sqlite_master "
                f"WHERE type IN ('index', 'trigger') AND tbl_name IN ({marks}) AND sql IS NOT NULL",
                tuple(tables),
            )
            for kind, name, sql in cursor.fetchall():
                self.saved.append(sql)
                cursor.execute(f'DROP {kind.upper()} "{name}"')
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND sql LIKE 'CREATE VIRTUAL TABLE%USING fts5%'"
            )
            self.fts_tables = [name for (name,) in cursor.fetchall()]
        else:
            cursor.execute(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i "
                "WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s) "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
                (list(tables),),
            )
            for name, definition in cursor.fetchall():
                self.saved.append(definition)
                cursor.execute(f'DROP INDEX "{name}"')

    def restore(self) -> None:
        for sql in self.saved:
            self.cursor.execute(sql)
        for name in self.fts_tables:
            # External-content FTS5 tables rebuild themselves from their content table.
            self.cursor.execute(f'INSERT INTO "{name}"("{name}") VALUES (\'rebuild\')')


# How long a bulk load waits for the database to itself (below).
JOURNAL_SWITCH_WAIT = 10.0


def _journal_mode(cursor: Any, mode: str) -> None:
    """Switch SQLite's journal mode, which needs the database to itself and
    fails at once ("database is locked", no busy handler) while any other
    connection is in it: the checkpoint thread's (`kernel.db.checkpoint`)
    is, for a moment after each write."""
    deadline = time.monotonic() + JOURNAL_SWITCH_WAIT
    while True:
        try:
            cursor.execute(f"PRAGMA journal_mode={mode}")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
        time.sleep(0.01)


@contextmanager
def raw_transaction(engine: Engine) -> Iterator[tuple[Any, Any]]:
    """The driver's connection and a cursor in one transaction, tuned for a
    bulk load: the whole load commits or nothing does."""
    raw = engine.raw_connection()
    try:
        connection = raw.driver_connection
        assert connection is not None
        if engine.dialect.name == "sqlite":
            cursor = connection.cursor()
            # Foreign keys are guaranteed by construction; checking them row by
            # row would double the load time. The rollback journal (instead of
            # WAL) writes each page once for a transaction this size.
            cursor.execute("PRAGMA foreign_keys=OFF")
            _journal_mode(cursor, "DELETE")
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.execute("PRAGMA cache_size=-1000000")
            cursor.execute("BEGIN IMMEDIATE")
            try:
                yield connection, cursor
                cursor.execute("COMMIT")
            except BaseException:
                cursor.execute("ROLLBACK")
                raise
            finally:
                _journal_mode(cursor, "WAL")
                cursor.execute("PRAGMA foreign_keys=ON")
                cursor.close()
        else:
            cursor = connection.cursor()
            try:
                # Skips the per-row foreign key triggers when we may (superuser).
                cursor.execute("SAVEPOINT replica")
                try:
                    cursor.execute("SET LOCAL session_replication_role = replica")
                    cursor.execute("RELEASE SAVEPOINT replica")
                except Exception:
                    cursor.execute("ROLLBACK TO SAVEPOINT replica")
                # Index builds (GIN above all) are much faster with room to sort.
                cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
                yield connection, cursor
                connection.commit()
            except BaseException:
                connection.rollback()
                raise
            finally:
                cursor.close()
    finally:
        raw.close()


def empty(cursor: Any, dialect: str, tables: Sequence[str]) -> None:
    if dialect == "postgresql":
        names = ", ".join(f'"{name}"' for name in tables)
        cursor.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    else:
        for name in reversed(tables):
            cursor.execute(f'DELETE FROM "{name}"')


def reset_sequences(cursor: Any, tables: Sequence[str]) -> None:
    for name in tables:
        if "id" not in Base.metadata.tables[name].columns:
            continue
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence(%s, 'id'), "
            f'COALESCE((SELECT max(id) FROM "{name}"), 0) + 1, false)',
            (name,),
        )


def analyze(engine: Engine) -> None:
    # Fresh statistics, or the planners guess on tables that grew from nothing.
    # On PostgreSQL also VACUUM: only it sets the visibility map, without
    # which counts cannot use index-only scans (8 ms instead of 1.5 ms for
    # the stories of tier S) until autovacuum happens to come by.
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
        return
    with engine.connect() as connection:
        connection.exec_driver_sql("ANALYZE")
        connection.commit()
