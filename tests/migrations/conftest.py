"""An empty database of its own per test (SQLite file, or a PostgreSQL
database when STORYLINE_TEST_DATABASE_URL names a server), made by the
application's own engine factory so that revisions run exactly as in
`storyline db upgrade`; and a copy of the migrations folder to add to."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from storyline.config import Settings
from storyline.kernel import migrate
from storyline.kernel.db import make_engine

PG_ENV = "STORYLINE_TEST_DATABASE_URL"


@pytest.fixture
def settings(tmp_path: Path, worker_id: str, request: pytest.FixtureRequest) -> Iterator[Settings]:
    base = os.environ.get(PG_ENV)
    if not base:
        yield Settings(database_url=f"sqlite:///{tmp_path / 'migrations.db'}", data_dir=tmp_path)
        return
    name = f"storyline_test_migrations_{os.getpid()}_{worker_id}"
    url = make_url(base).set(drivername="postgresql+psycopg")
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield Settings(
            database_url=url.set(database=name).render_as_string(hide_password=False),
            data_dir=tmp_path,
        )
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def migrations_copy(tmp_path: Path) -> Path:
    """A copy of the shipped migrations folder, to add revisions to or break."""
    target = tmp_path / "migrations"
    shutil.copytree(
        migrate.MIGRATIONS, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    return target


@pytest.fixture
def released_copy(migrations_copy: Path) -> Path:
    """The copy as of the first release (0001, 0002): the append-only tests
    number the revisions they add from there, whatever main has gained since."""
    for path in (migrations_copy / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"):
        if path.name[:4] > "0002":
            path.unlink()
    return migrations_copy
