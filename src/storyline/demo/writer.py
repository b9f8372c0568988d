"""Rows written as tuples straight into the tables, as fast as the driver allows.

SQLite gets one `executemany` per batch, PostgreSQL `COPY ... FROM STDIN`.
Values are encoded once, in a form both databases read the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np
from sqlalchemy import Table
from sqlalchemy.engine.interfaces import Dialect

from storyline.demo.sampling import IntArray
from storyline.kernel.schema import Base


class BulkWriter:
    """Writes rows as tuples, in the column order given, as fast as the driver allows."""

    def __init__(self, dbapi_connection: Any, dialect: Dialect) -> None:
        self.connection = dbapi_connection
        self.dialect = dialect
        self.is_pg = dialect.name == "postgresql"
        self.rows: dict[str, int] = {}

    def write(
        self, table: Table | str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]
    ) -> int:
        """Writes `rows` into `table` (a model table's name, or an association
        table) and counts them in `self.rows`."""
        if isinstance(table, str):
            table = Base.metadata.tables[table]
        columns, rows = self._with_defaults(table, columns, rows)
        count = 0
        quote = self.dialect.identifier_preparer.quote
        if self.is_pg:
            names = ", ".join(quote(c) for c in columns)
            with (
                self.connection.cursor() as cursor,
                cursor.copy(f"COPY {quote(table.name)} ({names}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
                    count += 1
        else:
            # Built by hand because a compiled insert() orders the columns as
            # the table does, not as the tuples do.
            names = ", ".join(quote(c) for c in columns)
            marks = ", ".join("?" for _ in columns)
            statement = f"INSERT INTO {quote(table.name)} ({names}) VALUES ({marks})"
            cursor = self.connection.cursor()
            for batch in _batches(rows, 20_000):
                cursor.executemany(statement, batch)
                count += len(batch)
            cursor.close()
        self.rows[table.name] = self.rows.get(table.name, 0) + count
        return count

    @staticmethod
    def _with_defaults(
        table: Table, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]
    ) -> tuple[list[str], Iterable[tuple[Any, ...]]]:
        # Columns added to the models later (with a scalar default) get that
        # default, so that the generator keeps working as the schema grows.
        extra = [
            (column.name, column.default.arg)  # type: ignore[attr-defined]
            for column in table.columns
            if column.name not in columns
            and column.default is not None
            and column.default.is_scalar
        ]
        if not extra:
            return list(columns), rows
        values = tuple(value for _name, value in extra)
        return [*columns, *(name for name, _value in extra)], (row + values for row in rows)


def _batches(rows: Iterable[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def timestamps(seconds: IntArray) -> list[str]:
    """Naive-UTC text timestamps, the format SQLAlchemy stores on SQLite and
    PostgreSQL parses, so one representation serves both databases."""
    text_values = np.datetime_as_string(seconds.astype("datetime64[s]"), unit="s")
    return [value.replace("T", " ") + ".000000" for value in text_values.tolist()]


def optional(ids: IntArray) -> list[int | None]:
    # The generator marks "none" (no assignee, not a reply) with 0.
    return [value or None for value in ids.tolist()]
