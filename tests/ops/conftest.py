"""Databases made on demand, as many as a test needs (the one backed up, the
ones restored into): SQLite files, or PostgreSQL databases when
STORYLINE_TEST_DATABASE_URL names a server, all dropped at the end."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from storyline.config import Settings

PG_ENV = "STORYLINE_TEST_DATABASE_URL"
NewDatabase = Callable[[str], Settings]


@pytest.fixture
def new_database(tmp_path: Path, worker_id: str) -> Iterator[NewDatabase]:
    base = os.environ.get(PG_ENV)
    made: list[str] = []
    serial = itertools.count(1)
    admin = (
        create_engine(
            make_url(base).set(drivername="postgresql+psycopg", database="postgres"),
            isolation_level="AUTOCOMMIT",
        )
        if base
        else None
    )

    def new(label: str) -> Settings:
        if admin is None:
            return Settings(
                database_url=f"sqlite:///{tmp_path / f'{label}.db'}", data_dir=tmp_path / label
            )
        assert base is not None
        name = f"storyline_test_ops_{os.getpid()}_{worker_id}_{next(serial)}_{label}"
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        url = make_url(base).set(drivername="postgresql+psycopg", database=name)
        return Settings(
            database_url=url.render_as_string(hide_password=False), data_dir=tmp_path / label
        )

    try:
        yield new
    finally:
        if admin is not None:
            with admin.connect() as connection:
                for name in made:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
