"""full-text search

SQLite: FTS5 external-content tables over the searched columns, kept in step
by triggers, with prefix indexes for the short prefixes people type.

PostgreSQL: a stored generated tsvector column per searched document
(to_tsvector('simple', ...)) with a GIN index on it. A GIN index on the bare
to_tsvector(...) expression was measured first and rejected: every row the
index cannot settle alone (phrase rechecks, and any plan that filters while
walking the primary key for ORDER BY id LIMIT n) recomputes the expression,
about 0.1 ms a row, so a phrase search at 15k stories took 200 ms. Reading
the stored vector costs microseconds. The columns are not in the models (no
dialect-only types there); the ORM never selects them.

Both databases split words at every character that is not a letter or a
digit, and neither folds accents, so the two find the same rows. Every object
name contains "_fts" so that `alembic check` leaves it alone (see env.py).

Hand-written (FTS5 tables and generated columns have no models), and
self-contained: it imports no application code.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# table -> searched columns
SEARCHED: dict[str, tuple[str, ...]] = {
    "stories": ("title", "description"),
    "tasks": ("title",),
    "projects": ("name", "description"),
    "users": ("full_name", "email"),
    "comments": ("content",),
}

# SQLite: columns indexed beside the searched ones, never searched by the
# words people type (the search service names the searched columns). A
# story's private flag, indexed as the token 0 or 1, lets FTS5 count the
# private matches of a query without reading any story row.
SQLITE_EXTRA: dict[str, tuple[str, ...]] = {"stories": ("private",)}

# PostgreSQL: table -> {generated column: document columns}. Email
# addresses are private, so people other than administrators search user
# names alone, which needs a vector of its own. (On SQLite an FTS5 column
# filter on users_fts does the same.) The search service names these columns.
PG_COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    **{table: {"search_fts": columns} for table, columns in SEARCHED.items()},
    "users": {"search_fts": ("full_name", "email"), "name_search_fts": ("full_name",)},
}

# PostgreSQL's parser keeps "user@example.org", "openstack/nova" or "1.5" as
# one token; FTS5's unicode61 splits them. Turning ASCII punctuation (and the
# typographic marks people paste) into spaces first makes PostgreSQL split
# the same way.
PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~\u2018\u2019\u201c\u201d\u2013\u2014\u2026"


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _pg_document(columns: tuple[str, ...]) -> str:
    joined = " || ' ' || ".join(f"coalesce({column}, '')" for column in columns)
    return (
        "to_tsvector('simple'::regconfig, translate("
        f"{joined}, {_sql_string(PUNCTUATION)}, {_sql_string(' ' * len(PUNCTUATION))}))"
    )


def _sqlite_upgrade(table: str, columns: tuple[str, ...]) -> None:
    fts = f"{table}_fts"
    columns = columns + SQLITE_EXTRA.get(table, ())
    names = ", ".join(columns)
    new = ", ".join(f"new.{column}" for column in columns)
    old = ", ".join(f"old.{column}" for column in columns)
    # remove_diacritics 0: PostgreSQL's 'simple' configuration keeps accents.
    op.execute(
        f"CREATE VIRTUAL TABLE {fts} USING fts5({names}, content='{table}', "
        "content_rowid='id', tokenize='unicode61 remove_diacritics 0', prefix='2 3')"
    )
    op.execute(
        f"CREATE TRIGGER {fts}_insert AFTER INSERT ON {table} BEGIN "
        f"INSERT INTO {fts}(rowid, {names}) VALUES (new.id, {new}); END"
    )
    op.execute(
        f"CREATE TRIGGER {fts}_delete AFTER DELETE ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, {names}) VALUES ('delete', old.id, {old}); END"
    )
    # Only updates of the indexed columns touch the index: a story's status
    # counts change far more often than its text.
    op.execute(
        f"CREATE TRIGGER {fts}_update AFTER UPDATE OF {names} ON {table} BEGIN "
        f"INSERT INTO {fts}({fts}, rowid, {names}) VALUES ('delete', old.id, {old}); "
        f"INSERT INTO {fts}(rowid, {names}) VALUES (new.id, {new}); END"
    )
    # Index the rows that exist already.
    op.execute(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")


def _sqlite_downgrade(table: str) -> None:
    fts = f"{table}_fts"
    for suffix in ("insert", "delete", "update"):
        op.execute(f"DROP TRIGGER IF EXISTS {fts}_{suffix}")
    op.execute(f"DROP TABLE IF EXISTS {fts}")


def _pg_upgrade(table: str, column: str, columns: tuple[str, ...]) -> None:
    # Adding a stored generated column computes it for the rows that exist.
    op.execute(
        f"ALTER TABLE {table} ADD COLUMN {column} tsvector "
        f"GENERATED ALWAYS AS ({_pg_document(columns)}) STORED"
    )
    op.execute(f"CREATE INDEX ix_{table}_{column} ON {table} USING gin ({column})")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for table, columns in SEARCHED.items():
            _sqlite_upgrade(table, columns)
    elif dialect == "postgresql":
        for table, documents in PG_COLUMNS.items():
            for column, columns in documents.items():
                _pg_upgrade(table, column, columns)
    else:
        raise NotImplementedError(f"full-text search is not available on {dialect}")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for table in SEARCHED:
            _sqlite_downgrade(table)
    else:
        for table, documents in PG_COLUMNS.items():
            for column in documents:
                # Dropping the column drops its index.
                op.execute(f"ALTER TABLE {table} DROP COLUMN IF EXISTS {column}")
