"""Every path agrees with the access gate, over random permission graphs.

Each example builds a world through the API (so its events, feeds and
outbox rows are the real ones), then asks, as every actor in it (anonymous,
an administrator, each user): every list (items and X-Total), every get (200
or 404), the searches, the timelines and what their events name, the feeds,
the tags, the pages, the worklists, boards and due dates with their filters,
and the gate's own `can_see` and `readers` for fan-out; and compares each
answer with the reference model of `world.py`.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from sqlalchemy import select, text

from storyline.app import create_app
from storyline.bootstrap import Container, build
from storyline.config import Settings
from storyline.kernel.access import actor_for, can_see, readers
from storyline.kernel.schema import Base
from storyline.notifications.models import SubscriptionEvent
from tests.access import world as w
from tests.conftest import PG_ENV
from tests.factories import Factory, TestUser
from tests.web.tracker_browser import Browser, browser

Fresh = Callable[[], Any]


@pytest.fixture
def fresh(database_template: str, tmp_path: Path) -> Fresh:
    """A new, empty database and a client per hypothesis example."""

    @contextmanager
    def make() -> Iterator[tuple[Container, TestClient]]:
        if database_template.startswith("sqlite"):
            target = tmp_path / f"{uuid.uuid4().hex}.db"
            shutil.copyfile(database_template.removeprefix("sqlite:///"), target)
            url = f"sqlite:///{target}"
        else:
            url = database_template
        container = build(Settings(database_url=url, data_dir=tmp_path))
        try:
            with TestClient(create_app(container)) as client:
                yield container, client
        finally:
            if container.db.dialect == "postgresql":
                tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
                with container.db.engine.begin() as conn:
                    conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            container.db.dispose()
            if database_template.startswith("sqlite"):
                target.unlink(missing_ok=True)

    return make


class Asker:
    """GETs as one actor, with the answers the checks need."""

    def __init__(self, client: TestClient, who: TestUser | None) -> None:
        self.client = client
        self.headers = who.headers if who else {}

    def status(self, path: str) -> int:
        return self.client.get(path, headers=self.headers).status_code

    def ids(self, path: str, key: str = "id", **params: Any) -> set[int]:
        # Story links come in one page, without paging parameters.
        paged = {} if path.endswith("/links") else {"limit": 500}
        response = self.client.get(path, params={**paged, **params}, headers=self.headers)
        assert response.status_code == 200, (path, response.text)
        found = {row[key] for row in response.json()}
        if "X-Total" in response.headers:
            assert int(response.headers["X-Total"]) == len(found), (path, params)
        return found

    def ids_or_404(self, path: str, visible: bool, key: str = "id") -> set[int] | None:
        if not visible:
            assert self.status(path) == 404, path
            return None
        return self.ids(path, key)


def _check_tracker(ask: Asker, model: w.Model, who: int | None) -> None:
    stories = {s for s in model.stories if model.story(who, s)}
    tasks = {t for t in model.tasks if model.task(who, t)}
    assert ask.ids("/v1/stories") == stories
    assert ask.ids("/v1/stories/search", q=w.WORD) == stories
    assert ask.ids("/v1/tasks") == tasks
    assert ask.ids("/v1/tasks/search", q=w.WORD) == tasks
    for story in model.stories:
        visible = model.story(who, story)
        assert ask.status(f"/v1/stories/{story}") == (200 if visible else 404)
        story_tasks = ask.ids_or_404(f"/v1/stories/{story}/tasks", visible)
        if story_tasks is not None:
            assert story_tasks == {t for t, s in model.tasks.items() if s == story}
        comments = ask.ids_or_404(f"/v1/stories/{story}/comments", visible)
        if comments is not None:
            assert comments == {c for c, s in model.comments.items() if s == story}
        links = ask.ids_or_404(f"/v1/stories/{story}/links", visible)
        if links is not None:
            assert links == {
                link
                for link, ends in model.links.items()
                if story in ends and all(model.story(who, end) for end in ends)
            }
    for task in model.tasks:
        assert ask.status(f"/v1/tasks/{task}") == (200 if model.task(who, task) else 404)
    tags = ask.client.get("/v1/tags", params={"limit": 500}, headers=ask.headers)
    assert {t["name"] for t in tags.json()} == model.tag_names(who)
    assert int(tags.headers["X-Total"]) == len(model.tag_names(who))
    for story, names in model.tags.items():
        response = ask.client.get(f"/v1/stories/{story}/tags", headers=ask.headers)
        if model.story(who, story):
            assert {t["name"] for t in response.json()} == names
        else:
            assert response.status_code == 404


def _check_events(
    ask: Asker, model: w.Model, who: int | None, events: list[dict[str, Any]]
) -> None:
    expected = {e["id"] for e in events if model.event(who, e)}
    assert ask.ids("/v1/events") == expected
    # A few of each, to keep the run short: the single gets share the list's
    # clause, and the hidden ones are those that matter.
    hidden = [e["id"] for e in events if e["id"] not in expected]
    for event_id in [*hidden[:4], *sorted(expected)[:2]]:
        assert ask.status(f"/v1/events/{event_id}") == (200 if event_id in expected else 404)
    for story in model.stories:
        nested = ask.ids_or_404(f"/v1/stories/{story}/events", model.story(who, story))
        if nested is not None:
            assert nested == {e for e in expected if _by_id(events, e)["story_id"] == story}


def _by_id(events: list[dict[str, Any]], event_id: int) -> dict[str, Any]:
    return next(e for e in events if e["id"] == event_id)


def _check_lists(ask: Asker, model: w.Model, who: int | None) -> None:
    lists = {i for i in model.worklists if model.worklist(who, i)}
    boards = {b for b in model.boards if model.board(who, b)}
    dates = {d for d in model.due_dates if model.due_date(who, d)}
    assert ask.ids("/v1/worklists") == lists
    assert ask.ids("/v1/boards") == boards
    assert ask.ids("/v1/due_dates") == dates

    def cards(list_id: int) -> set[int]:
        return {
            item
            for item, (owner, _, _) in model.items.items()
            if owner == list_id and model.item(who, item)
        }

    for list_id in model.worklists:
        items = ask.ids_or_404(f"/v1/worklists/{list_id}/items", list_id in lists)
        if items is not None:
            assert items == cards(list_id)
    for board in model.boards:
        response = ask.client.get(f"/v1/boards/{board}", headers=ask.headers)
        assert response.status_code == (200 if board in boards else 404)
        if board not in boards:
            assert ask.ids("/v1/worklists", board_id=board) == set()
            assert ask.ids("/v1/due_dates", board_id=board) == set()
            continue
        shown = {lane["list_id"]: lane["worklist"] for lane in response.json()["lanes"]}
        lanes = {lane for lane in model.lanes[board] if lane in lists}
        assert set(shown) == lanes
        for lane, worklist in shown.items():
            assert {item["id"] for item in worklist["items"]} == cards(lane)
        on_board = model.board_dates.get(board, set()) & dates
        assert {d["id"] for d in response.json()["due_dates"]} == on_board
        assert ask.ids("/v1/worklists", board_id=board) == lanes
        assert ask.ids("/v1/due_dates", board_id=board) == on_board
    # Stories and tasks on no list match nothing for anyone; those on lists
    # must match only for those who may see them.
    for kind, target in {(k, t) for _, k, t in model.items.values()}:
        if True:
            holding = {
                owner
                for item, (owner, k, t) in model.items.items()
                if k == kind and t == target and model.item(who, item)
            }
            assert ask.ids("/v1/worklists", **{f"{kind}_id": target}) == holding & lists
            assert ask.ids("/v1/boards", **{f"{kind}_id": target}) == {
                board for board in boards if holding & set(model.lanes[board])
            }


def _check_pages(ask: Browser, model: w.Model, who: int | None) -> None:
    """The pages answer as the API does: a hidden story, list or board is a
    404 page, and no page lists what its reader may not see."""
    for story in model.stories:
        page = ask.get(f"/stories/{story}")
        assert page.status_code == (200 if model.story(who, story) else 404), story
    for list_id in model.worklists:
        page = ask.get(f"/worklists/{list_id}")
        assert page.status_code == (200 if model.worklist(who, list_id) else 404), list_id
    for board in model.boards:
        page = ask.get(f"/boards/{board}")
        assert page.status_code == (200 if model.board(who, board) else 404), board
    found = ask.get("/search", params={"q": w.WORD})
    assert found.status_code == 200
    for story in model.stories:
        shown = f'/stories/{story}"' in found.text
        assert shown == model.story(who, story), (story, who)


def _check_event_references(
    ask: Asker, model: w.Model, who: int | None, events: list[dict[str, Any]]
) -> None:
    """What a visible event names besides its subject is either visible to the
    reader or blanked."""
    as_read = ask.client.get("/v1/events", params={"limit": 500}, headers=ask.headers).json()
    for event in as_read:
        info = json.loads(event["event_info"] or "{}")
        if event["event_type"] in ("story_link_added", "story_link_removed"):
            for key in ("story_id", "target_story_id", "other_story_id"):
                assert info[key] is None or model.story(who, info[key]), (event, who)
        if event["event_type"] == "worklist_contents_changed":
            for change in (info.get(k) for k in ("added", "updated", "removed")):
                if change and change.get("item_id") is not None:
                    seen = model.story if change["item_type"] == "story" else model.task
                    assert seen(who, change["item_id"]), (event, who)


def _check_gate(container: Container, world: w.World, events: list[dict[str, Any]]) -> None:
    """`can_see` for every actor, and `readers` of everything for everyone."""
    model = world.model
    everyone = {model.admin, *(u.id for u in world.users)}
    objects: list[tuple[str, int]] = [
        *(("story", i) for i in model.stories),
        *(("task", i) for i in model.tasks),
        *(("comment", i) for i in model.comments),
        *(("worklist", i) for i in model.worklists),
        *(("board", i) for i in model.boards),
        *(("due_date", i) for i in model.due_dates),
    ]
    with container.db.read() as session:
        for kind, object_id in objects:
            expected = {u for u in everyone if model.sees(u, kind, object_id)}
            found = readers(session, kind=kind, object_id=object_id, users=everyone)
            assert found == expected, (kind, object_id)
            for user in everyone:
                actor = actor_for(session, user)
                seen = can_see(session, actor=actor, kind=kind, object_id=object_id)
                assert seen == (user in expected), (kind, object_id, user)
        for event in events:
            expected = {u for u in everyone if model.event(u, event)}
            assert readers(session, kind="event", object_id=event["id"], users=everyone) == expected


def _check_feeds(client: TestClient, container: Container, world: w.World) -> None:
    """Each subscriber's feed holds the rows whose event they may see now;
    each row was written for someone who could see it when it happened."""
    events = {
        e["id"]: e
        for e in client.get("/v1/events", params={"limit": 500}, headers=world.admin.headers).json()
    }
    for user in world.users:
        with container.db.read() as session:
            rows = session.execute(
                select(SubscriptionEvent.id, SubscriptionEvent.event_id).where(
                    SubscriptionEvent.subscriber_id == user.id
                )
            ).all()
        expected = {row for row, event in rows if world.model.event(user.id, events[event])}
        assert Asker(client, user).ids("/v1/subscription_events") == expected
        for row, _ in rows:
            status = client.get(f"/v1/subscription_events/{row}", headers=user.headers)
            assert status.status_code == (200 if row in expected else 404)


@pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
@settings(
    # Each example is a fresh database and a few hundred requests; on
    # PostgreSQL (a TRUNCATE per example) fewer keep the module near a minute.
    max_examples=6 if os.environ.get(PG_ENV) else 10,
    derandomize=True,
    deadline=None,
    # Shrinking rebuilds a database per attempt and can take minutes; the
    # failing world is printed whole, and it is small anyway.
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=w.worlds())
def test_every_path_agrees_with_the_gate(fresh: Fresh, spec: w.WorldSpec) -> None:
    with fresh() as (container, client):
        world = w.build(client, Factory(container, client), spec)
        events = client.get("/v1/events", params={"limit": 500}, headers=world.admin.headers).json()
        # The administrator's "everything" is checked through the gate below
        # (can_see, readers) and the event list; HTTP checks take the time.
        for who in [None, *world.users]:
            ask = Asker(client, who)
            user_id = who.id if who else None
            _check_tracker(ask, world.model, user_id)
            _check_events(ask, world.model, user_id, events)
            _check_lists(ask, world.model, user_id)
            _check_event_references(ask, world.model, user_id, events)
            page_browser = browser(client.app, container, who)
            try:
                _check_pages(page_browser, world.model, user_id)
            finally:
                page_browser.client.__exit__(None, None, None)
        _check_gate(container, world, events)
        _check_feeds(client, container, world)
