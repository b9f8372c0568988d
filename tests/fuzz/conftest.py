"""A seeded app of each fuzzing module's own, on SQLite or PostgreSQL.

Seeding a database per generated request would cost more than the fuzzing,
so each module shares one, with a little of everything in it (see `world`).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from storyline.app import create_app
from storyline.bootstrap import Container, build
from storyline.config import Settings
from tests.factories import Factory, TestUser


@dataclass(frozen=True)
class World:
    """The app under test, its container, and who is in it."""

    app: FastAPI
    container: Container
    admin: TestUser
    user: TestUser
    project_name: str


@pytest.fixture(scope="module")
def fuzz_database(
    database_template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated database of the module's own, shared by all its tests."""
    if database_template.startswith("sqlite"):
        target = tmp_path_factory.mktemp("fuzz") / "storyline.db"
        shutil.copyfile(database_template.removeprefix("sqlite:///"), target)
        yield f"sqlite:///{target}"
        return
    url = make_url(database_template)
    name = f"{url.database}_fuzz"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{url.database}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="module")
def world(fuzz_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """An app on a database with a little of everything, each row with id 1
    at least: an administrator with a token, a user, a project, a story with
    a tag, a task and a comment, a worklist, a board, a team, a project
    group, and a private story of the user's."""
    settings = Settings(database_url=fuzz_database, data_dir=tmp_path_factory.mktemp("data"))
    container = build(settings)
    app = create_app(container)
    with TestClient(app) as client:
        factory = Factory(container, client)
        admin = factory.admin()
        user = factory.user()
        project = factory.project(admin)
        story = factory.story(admin, tags=["fuzz"])
        factory.task(admin, story_id=story["id"], project_id=project["id"])
        for path, body in (
            (f"/v1/stories/{story['id']}/comments", {"content": "A comment."}),
            ("/v1/worklists", {"title": "A worklist"}),
            ("/v1/boards", {"title": "A board", "lanes": []}),
            ("/v1/teams", {"name": "a-team"}),
            ("/v1/project_groups", {"name": "a-group", "title": "A group"}),
        ):
            response = client.post(path, json=body, headers=admin.headers)
            assert response.status_code == 200, response.text
        factory.story(user, private=True, users=[user.id])
    yield World(app=app, container=container, admin=admin, user=user, project_name=project["name"])
    container.db.dispose()
