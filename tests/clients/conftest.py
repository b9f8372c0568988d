"""A real `storyline serve` process for the client tests.

The server runs against a temporary SQLite file, or against a database of
its own on the server named by STORYLINE_TEST_DATABASE_URL, with a superuser
created by `storyline admin create-user --superuser --token`."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from storyline.bench import running_server

# python-storyboardclient asks pbr for the version of "storyboardclient", but
# the distribution is "python-storyboardclient"; pbr accepts an override. It
# must be set before the package is first imported.
os.environ.setdefault("PBR_VERSION", "0.2.0")

PG_ENV = "STORYLINE_TEST_DATABASE_URL"


@dataclass(frozen=True)
class LiveServer:
    base_url: str
    api_url: str
    admin_token: str
    database_url: str


def _pg(base: str, name: str) -> str:
    url = make_url(base).set(drivername="postgresql+psycopg", database=name)
    return url.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def server_database(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Iterator[str]:
    base = os.environ.get(PG_ENV)
    if not base:
        yield f"sqlite:///{tmp_path_factory.mktemp('live') / 'storyline.db'}"
        return
    name = f"storyline_live_{os.getpid()}_{worker_id}"
    admin = create_engine(_pg(base, "postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield _pg(base, name)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _storyline(database_url: str, *args: str) -> str:
    env = {**os.environ, "STORYLINE_DATABASE_URL": database_url}
    completed = subprocess.run(
        [sys.executable, "-m", "storyline", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr + completed.stdout
    return completed.stdout


@pytest.fixture(scope="session")
def live_server(
    server_database: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    output = _storyline(
        server_database,
        "admin",
        "create-user",
        "--name",
        "Client Admin",
        "--email",
        "client-admin@example.org",
        "--superuser",
        "--token",
    )
    # The secret is printed alone on the last line.
    token = output.strip().splitlines()[-1].strip()
    log = Path(tmp_path_factory.mktemp("live-log")) / "server.log"
    with running_server(server_database, workers=1, log_path=log, ready_seconds=60) as base:
        yield LiveServer(
            base_url=base,
            api_url=f"{base}/v1",
            admin_token=token,
            database_url=server_database,
        )
