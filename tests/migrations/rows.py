"""Rows for every table of a database at whatever revision it is, made from
the schema the database has (reflected), not from today's models.

Each table gets ROWS rows, plus the hand-written ones in `realistic.py`.
Values follow the column types and lengths; references point at rows that
exist (a table's rows refer to the same-numbered row of the parent, so
combinations of references stay unique); the last generated row leaves every
nullable column NULL. What a CHECK constraint needs beyond that is in RULES.
`snapshot()` reads everything back for comparison after an upgrade.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Float,
    ForeignKeyConstraint,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    select,
    text,
)
from sqlalchemy.types import Enum

ROWS = 4
Row = dict[str, Any]

# What a table's CHECK constraints need that the generator cannot know.
RULES: dict[str, Callable[[int, Row, Mapping[str, list[Row]]], None]] = {}


def _one_item(n: int, row: Row, rows: Mapping[str, list[Row]]) -> None:
    # ck_worklist_items_one_item: a worklist item is a story or a task.
    if n % 2:
        row["story_id"] = None
        row["task_id"] = row["task_id"] or rows["tasks"][0]["id"]
    else:
        row["task_id"] = None
        row["story_id"] = row["story_id"] or rows["stories"][0]["id"]


RULES["worklist_items"] = _one_item


def reflect(connection: Connection) -> MetaData:
    """The database's own tables, without Alembic's and the full-text
    structures (FTS5 tables and their shadow tables, generated columns)."""
    metadata = MetaData()
    metadata.reflect(
        connection, only=lambda name, _: name != "alembic_version" and "_fts" not in name
    )
    return metadata


def columns(table: Table) -> list[Column[Any]]:
    """The columns rows are made of: not the generated full-text columns."""
    return [c for c in table.columns if c.computed is None and "_fts" not in c.name]


def _text(n: int, table: str, column: Column[Any], *, long: bool) -> str:
    value = f"{n}·{table}.{column.name} ünïcødé ✓"
    if long:
        value += "\n\n* a list item with `code`\n* and a [link](https://example.org/?a=1&b=2)\n"
    length = getattr(column.type, "length", None)
    return value[:length] if length else value


def value(n: int, table: Table, column: Column[Any]) -> Any:
    """A value of column's type for the n-th row, distinct from other rows'."""
    kind = column.type
    seconds = sum(map(ord, column.name))
    if isinstance(kind, Boolean):
        return n % 2 == 0
    if isinstance(kind, BigInteger):
        # Past 32 bits, so that a narrowed column would show.
        return 2**40 + n
    if isinstance(kind, Integer):
        return n + 1 if column.primary_key else 10 * n + len(column.name)
    if isinstance(kind, DateTime):
        return dt.datetime(2026, 1, 2, 3, 4, 5, 123456) + dt.timedelta(days=n, seconds=seconds)
    if isinstance(kind, Date):
        return dt.date(2026, 1, 2) + dt.timedelta(days=n)
    if isinstance(kind, Float):
        return n + 0.5
    if isinstance(kind, Numeric):
        return Decimal(n) + Decimal("0.25")
    if isinstance(kind, JSON):
        return {"row": n, "text": "ü ✓", "list": [1, 2, None]}
    if isinstance(kind, LargeBinary):
        return bytes([n % 256, 0, 255])
    if isinstance(kind, Enum) and kind.enums:
        return kind.enums[n % len(kind.enums)]
    if isinstance(kind, String):
        return _text(n, table.name, column, long=isinstance(kind, Text))
    raise AssertionError(f"no value for {table.name}.{column.name} of type {kind!r}")


def make_row(
    n: int, table: Table, rows: Mapping[str, list[Row]], overrides: Row | None = None
) -> Row:
    """The n-th row of table: overrides, over references to existing rows,
    over generated values."""
    overrides = overrides or {}
    last = n == ROWS - 1 and not overrides
    row: Row = {}
    to_self: list[ForeignKeyConstraint] = []
    for fk in sorted(table.foreign_key_constraints, key=lambda c: c.name or ""):
        names = [element.parent.name for element in fk.elements]
        if any(name in overrides for name in names):
            continue
        nullable = all(table.c[name].nullable for name in names)
        parent = fk.referred_table.name
        # A table that refers to itself refers to its previous row.
        candidates = rows[parent][-1:] if parent == table.name else rows[parent]
        if (last or not candidates) and nullable:
            row.update(dict.fromkeys(names))
            continue
        if not candidates and parent == table.name:
            to_self.append(fk)
            continue
        assert candidates, f"{table.name} refers to {parent}, which has no rows yet"
        target = candidates[n % len(candidates)]
        for element in fk.elements:
            row[element.parent.name] = target[element.column.name]
    for column in columns(table):
        if column.name in row or column.name in overrides:
            continue
        if last and column.nullable and not column.primary_key:
            row[column.name] = None
        else:
            row[column.name] = value(n, table, column)
    row.update(overrides)
    for fk in to_self:
        # The first row of a table whose rows must refer to one of its own.
        for element in fk.elements:
            row[element.parent.name] = row[element.column.name]
    if table.name in RULES and not overrides:
        RULES[table.name](n, row, rows)
    return row


def fill(
    connection: Connection, metadata: MetaData, extra: Mapping[str, list[Row]] | None = None
) -> dict[str, list[Row]]:
    """Insert ROWS generated rows into every table (and the extra rows,
    merged over generated ones), parents first; returns what was inserted."""
    extra = extra or {}
    rows: dict[str, list[Row]] = {name: [] for name in metadata.tables}
    for table in metadata.sorted_tables:
        wanted = [None] * ROWS + list(extra.get(table.name, []))
        for n, overrides in enumerate(wanted):
            row = make_row(n, table, rows, overrides)
            connection.execute(table.insert().values(row))
            rows[table.name].append(row)
    unknown = set(extra) - set(metadata.tables)
    assert not unknown, f"hand-written rows for tables the schema lacks: {sorted(unknown)}"
    if connection.dialect.name == "postgresql":
        _advance_sequences(connection, metadata)
    return rows


def _advance_sequences(connection: Connection, metadata: MetaData) -> None:
    # Rows were inserted with their ids, as a restored dump would; a real
    # database's sequences are past them, and a data migration that inserts
    # rows relies on that.
    for table in metadata.sorted_tables:
        key = list(table.primary_key.columns)
        if len(key) != 1 or not isinstance(key[0].type, Integer):
            continue
        sequence = connection.scalar(
            text("SELECT pg_get_serial_sequence(:table, :column)"),
            {"table": table.name, "column": key[0].name},
        )
        if sequence:
            highest = f'SELECT max("{key[0].name}") FROM "{table.name}"'
            connection.execute(
                text(f"SELECT setval(:sequence, ({highest}))"), {"sequence": sequence}
            )


def key_of(table: Table, row: Row) -> tuple[Any, ...]:
    return tuple(row[column.name] for column in table.primary_key.columns)


def snapshot(connection: Connection, metadata: MetaData) -> dict[str, dict[tuple[Any, ...], Row]]:
    """Every row of every table, by primary key."""
    found: dict[str, dict[tuple[Any, ...], Row]] = {}
    for table in metadata.sorted_tables:
        result = connection.execute(select(*columns(table))).mappings()
        found[table.name] = {key_of(table, dict(row)): dict(row) for row in result}
    return found


def differences(
    before: MetaData,
    inserted: Mapping[str, list[Row]],
    found: Mapping[str, Mapping[tuple[Any, ...], Row]],
    *,
    gone: Mapping[str, str] | None = None,
    changed: Mapping[tuple[str, str], Callable[[Any], Any]] | None = None,
) -> list[str]:
    """What is missing or different in `found` (a snapshot) compared with
    the rows inserted into the tables of `before`; `gone` and `changed` are
    what revisions drop or rewrite on purpose."""
    gone = gone or {}
    changed = changed or {}
    problems = []
    for table in before.sorted_tables:
        if table.name in gone:
            continue
        if table.name not in found:
            problems.append(f"table {table.name} disappeared")
            continue
        if len(found[table.name]) != len(inserted[table.name]):
            problems.append(
                f"{table.name} had {len(inserted[table.name])} rows, has {len(found[table.name])}"
            )
        for row in inserted[table.name]:
            key = key_of(table, row)
            now = found[table.name].get(key)
            if now is None:
                problems.append(f"{table.name} row {key} is gone")
                continue
            for column, old in row.items():
                if f"{table.name}.{column}" in gone:
                    continue
                if column not in now:
                    problems.append(f"{table.name}.{column} disappeared")
                    continue
                expected = changed.get((table.name, column), lambda v: v)(old)
                if now[column] != expected:
                    problems.append(f"{table.name}.{column}: {expected!r} became {now[column]!r}")
    return problems
