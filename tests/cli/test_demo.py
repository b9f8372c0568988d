"""`storyline demo load`: exact tier sizes, derived data consistent with the
tasks, the same rows for the same seed, and searchable right away."""

from __future__ import annotations

import hashlib
import sqlite3

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Table, func, inspect, select
from typer.testing import CliRunner

from storyline import demo
from storyline.bootstrap import Container
from storyline.cli.main import app
from storyline.demo import database as demo_database
from storyline.errors import Conflict
from storyline.kernel.models import Event
from storyline.kernel.schema import Base
from storyline.tracker.models import Branch, Project, Story, StoryAclUser, Task
from tests.factories import Factory

XS = demo.TIERS["XS"]


def _count(container: Container, table: str) -> int:
    with container.db.engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(Base.metadata.tables[table])) or 0


def _fingerprint(container: Container) -> dict[str, str]:
    """A digest of every row of every table, in primary-key order."""
    digests = {}
    present = set(inspect(container.db.engine).get_table_names())
    with container.db.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            if table.name == "access_tokens" or table.name not in present:
                continue
            digests[table.name] = _digest(connection, table)
    return digests


def _digest(connection: object, table: Table) -> str:
    rows = connection.execute(  # type: ignore[attr-defined]
        select(table).order_by(*table.primary_key.columns)
    ).all()
    return hashlib.sha256(repr([tuple(row) for row in rows]).encode()).hexdigest()


def test_tier_sizes_and_derived_story_data(container: Container) -> None:
    report = demo.load(container.db.engine, tier="XS", seed=3)
    assert report.rows["stories"] == _count(container, "stories") == XS.stories
    assert _count(container, "tasks") == XS.tasks
    assert _count(container, "comments") == XS.comments
    assert _count(container, "projects") == XS.projects
    assert _count(container, "users") == XS.users
    with container.db.read() as session:
        # Each story's status and counts match its tasks.
        counts = {
            (story_id, status): n
            for story_id, status, n in session.execute(
                select(Task.story_id, Task.status, func.count()).group_by(
                    Task.story_id, Task.status
                )
            )
        }
        stories = session.scalars(select(Story)).all()
        for story in stories:
            expected = {
                key: counts.get((story.id, key), 0)
                for key in ("todo", "inprogress", "review", "merged", "invalid")
            }
            assert story.todo_count == expected["todo"]
            assert story.inprogress_count == expected["inprogress"]
            assert story.review_count == expected["review"]
            assert story.merged_count == expected["merged"]
            assert story.invalid_count == expected["invalid"]
            assert story.status == demo.story_status(expected)
        assert {s.status for s in stories} == {"active", "merged", "invalid"}
        # Every story has its story_created event first.
        first_events = session.execute(
            select(Event.story_id, Event.event_type).where(
                Event.id.in_(select(func.min(Event.id)).group_by(Event.story_id))
            )
        ).all()
        assert len(first_events) == XS.stories
        assert {event_type for _story, event_type in first_events} == {"story_created"}
        # A master branch per project, private stories with an ACL.
        masters = session.scalar(
            select(func.count()).select_from(Branch).where(Branch.name == "master")
        )
        assert masters == session.scalar(select(func.count()).select_from(Project))
        private = session.scalars(select(Story.id).where(Story.private.is_(True))).all()
        assert 0 < len(private) < XS.stories * 0.06
        with_acl = set(session.scalars(select(StoryAclUser.story_id)))
        assert set(private) <= with_acl
        # Some projects are much busier than others.
        per_project = sorted(
            session.scalars(select(func.count()).select_from(Task).group_by(Task.project_id)),
            reverse=True,
        )
        assert per_project[0] > 5 * per_project[len(per_project) // 2]


def test_same_seed_same_rows_and_force_replaces(container: Container) -> None:
    demo.load(container.db.engine, tier="XS", seed=5)
    first = _fingerprint(container)
    with pytest.raises(Conflict):
        demo.load(container.db.engine, tier="XS", seed=5)
    demo.load(container.db.engine, tier="XS", seed=5, force=True)
    assert _fingerprint(container) == first
    demo.load(container.db.engine, tier="XS", seed=6, force=True)
    assert _fingerprint(container)["stories"] != first["stories"]


def test_loaded_stories_are_searchable_and_served(
    container: Container, client: TestClient, factory: Factory
) -> None:
    demo.load(container.db.engine, tier="XS", seed=3)
    with container.db.read() as session:
        story = session.scalars(
            select(Story).where(Story.private.is_(False)).order_by(Story.id.desc()).limit(1)
        ).one()
    word = max(story.title.split(), key=len).lower()
    found = client.get("/v1/stories/search", params={"q": word, "limit": 500})
    assert found.status_code == 200, found.text
    assert story.id in [s["id"] for s in found.json()]
    fetched = client.get(f"/v1/stories/{story.id}").json()
    assert fetched["status"] == story.status
    # New rows continue after the loaded ids (PostgreSQL's sequences are reset).
    user = factory.user()
    created = client.post("/v1/stories", json={"title": "After the load"}, headers=user.headers)
    assert created.status_code == 200, created.text
    assert created.json()["id"] == XS.stories + 1


def test_cli_load_refuses_a_database_with_data(container: Container) -> None:
    env = {"STORYLINE_DATABASE_URL": container.settings.database_url, "COLUMNS": "200"}
    result = CliRunner().invoke(app, ["demo", "load", "--tier", "xs", "--seed", "2"], env=env)
    assert result.exit_code == 0, (result.output, result.exception)
    assert "Loaded in" in result.output
    assert _count(container, "stories") == XS.stories
    again = CliRunner().invoke(app, ["demo", "load", "--tier", "XS"], env=env)
    assert isinstance(again.exception, Conflict)
    unknown = CliRunner().invoke(app, ["demo", "load", "--tier", "XXL"], env=env)
    assert unknown.exit_code != 0


def test_a_bulk_load_waits_while_another_connection_holds_the_file() -> None:
    """Leaving WAL for a load needs the file to itself, and SQLite refuses
    at once while another connection is in it: the checkpoint thread's is,
    for a moment after each write. The switch is tried again meanwhile; any
    other error is not."""
    statements: list[str] = []

    class Busy:
        refusals = 2

        def execute(self, statement: str) -> None:
            statements.append(statement)
            if self.refusals:
                self.refusals -= 1
                raise sqlite3.OperationalError("database is locked")

    demo_database._journal_mode(Busy(), "DELETE")
    assert statements == ["PRAGMA journal_mode=DELETE"] * 3

    class Broken:
        def execute(self, statement: str) -> None:
            raise sqlite3.OperationalError("disk I/O error")

    with pytest.raises(sqlite3.OperationalError, match="disk"):
        demo_database._journal_mode(Broken(), "DELETE")
