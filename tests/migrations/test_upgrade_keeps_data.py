"""Upgrading a database that holds data keeps every row and every value.

The database is built at an older revision (the one before the newest, and
the last revision of each release, which is what installations run), every
table gets rows generated from the schema of that revision (rows.py) plus
hand-written ones (realistic.py), and after the upgrade to the newest
revision every row must be there with the values it had, and the
application must read and find the hand-written story.

A revision that changes data on purpose declares it below, in GONE (tables
or "table.column" it drops) or CHANGED (how it rewrites a column's values).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from storyline.app import create_app
from storyline.bootstrap import build
from storyline.config import Settings
from storyline.kernel import migrate
from tests.migrations import realistic, rows

# Tables and "table.column"s that a revision drops on purpose, with the revision.
GONE: dict[str, str] = {}
# ("table", "column") -> old value to the value expected after the upgrade.
CHANGED: dict[tuple[str, str], Callable[[Any], Any]] = {}


def starting_points() -> list[str]:
    """The revision before the newest, and the newest of every release."""
    history = migrate.history()
    newest = history[-1].id
    points = {history[-2].id} if len(history) > 1 else set()
    last_of_release: dict[str, str] = {}
    for revision in history:
        if revision.release is not None:
            last_of_release[revision.release] = revision.id
    points |= set(last_of_release.values())
    return sorted(points - {newest})


def test_there_is_something_to_upgrade_from() -> None:
    assert starting_points(), "a history of one revision has no upgrade to test"


@pytest.mark.parametrize("start", starting_points())
def test_every_row_survives_the_upgrade(engine: Engine, settings: Settings, start: str) -> None:
    migrate.upgrade(engine, start)
    with engine.begin() as connection:
        before = rows.reflect(connection)
        inserted = rows.fill(connection, before, realistic.rows_for(before))
    assert all(inserted[name] for name in before.tables), "every table gets rows"

    migrate.upgrade(engine)

    assert migrate.current(engine) == migrate.head()
    with engine.connect() as connection:
        after = rows.reflect(connection)
        found = rows.snapshot(connection, after)
    assert rows.differences(before, inserted, found, gone=GONE, changed=CHANGED) == []

    container = build(settings)
    with TestClient(create_app(container)) as client:
        story = client.get(f"/v1/stories/{realistic.STORY_ID}")
        assert story.status_code == 200, story.text
        assert story.json()["title"] == realistic.ROWS["stories"][0]["title"]
        tasks = client.get(f"/v1/stories/{realistic.STORY_ID}/tasks").json()
        assert [task["title"] for task in tasks] == ["Check free memory before resizing"]
        found_stories = client.get("/v1/stories/search", params={"q": realistic.SEARCH_WORD}).json()
        assert realistic.STORY_ID in [s["id"] for s in found_stories]
    container.db.dispose()
