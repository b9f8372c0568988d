"""Test fixtures: a real, migrated database per test on SQLite or PostgreSQL.

Set STORYLINE_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1/test to run
the suite on PostgreSQL; each xdist worker gets a database of its own.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from storyline.app import create_app
from storyline.bootstrap import Container, build
from storyline.config import Settings
from storyline.kernel import migrate
from storyline.kernel.schema import Base
from tests.factories import Factory
from tests.openapi import CheckedClient, OpenAPIChecker

PG_ENV = "STORYLINE_TEST_DATABASE_URL"


def _pg_url(base: str, name: str) -> str:
    url = make_url(base).set(drivername="postgresql+psycopg", database=name)
    return url.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Iterator[str]:
    """A migrated database: a SQLite file to copy, or a PostgreSQL database."""
    base = os.environ.get(PG_ENV)
    if base:
        # A suffix keeps concurrent runs on one server (CI jobs, developers)
        # out of each other's databases.
        suffix = os.environ.get("STORYLINE_TEST_DB_SUFFIX", str(os.getpid()))
        name = f"storyline_test_{suffix}_{worker_id}"
        admin = create_engine(_pg_url(base, "postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        url = _pg_url(base, name)
        engine = create_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        yield url
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    else:
        path = tmp_path_factory.mktemp("db") / "template.db"
        url = f"sqlite:///{path}"
        engine = create_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        yield url


@pytest.fixture
def settings(database_template: str, tmp_path: Path) -> Settings:
    if database_template.startswith("sqlite"):
        source = Path(database_template.removeprefix("sqlite:///"))
        target = tmp_path / "storyline.db"
        shutil.copyfile(source, target)
        url = f"sqlite:///{target}"
    else:
        url = database_template
    return Settings(database_url=url, data_dir=tmp_path)


@pytest.fixture
def container(settings: Settings) -> Iterator[Container]:
    container = build(settings)
    try:
        yield container
    finally:
        if container.db.dialect == "postgresql":
            tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
            with container.db.engine.begin() as conn:
                conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        container.db.dispose()


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    checker = OpenAPIChecker(create_app(container), shared=True)
    # The checker wraps the app to see which route served each request.
    with CheckedClient(checker) as test_client:
        test_client.checker = checker
        yield test_client


@pytest.fixture
def factory(container: Container, client: TestClient) -> Factory:
    return Factory(container, client)
