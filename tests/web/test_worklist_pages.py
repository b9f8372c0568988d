"""The worklist and board pages over HTTP: what they show, who may see and
change them (private ones are 404 to others), CSRF on every form, and the
no-JavaScript move buttons, which go through the same services as the API."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from storyline.app import create_app
from storyline.bootstrap import Container
from tests.factories import Factory, TestUser
from tests.web.tracker_browser import Browser, browser

BrowserAs = Callable[[TestUser | None], Browser]
JSON = {"accept": "application/json"}


@pytest.fixture
def browser_as(container: Container) -> Iterator[BrowserAs]:
    app = create_app(container)
    made: list[Browser] = []

    def make(user: TestUser | None) -> Browser:
        made.append(browser(app, container, user))
        return made[-1]

    yield make
    for each in made:
        each.client.__exit__(None, None, None)


def _ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


@dataclass
class Setup:
    owner: TestUser
    mover: TestUser
    other: TestUser
    admin: TestUser
    stories: list[dict[str, Any]]
    board: dict[str, Any]
    lanes: list[int]
    items: list[int]
    worklist: dict[str, Any]
    list_items: list[int]


@pytest.fixture
def setup(client: TestClient, factory: Factory) -> Setup:
    owner, mover, other, admin = (
        factory.user(name="Olga Owner"), factory.user(name="Max Mover"),
        factory.user(name="Otto Other"), factory.admin(),
    )  # fmt: skip
    project = factory.project(admin)
    stories = [factory.story(owner, f"Card {n}") for n in range(4)]
    task = factory.task(
        owner, story_id=stories[0]["id"], project_id=project["id"], title="The task",
        assignee_id=mover.id,
    )  # fmt: skip
    board = _ok(
        client.post(
            "/v1/boards",
            json={"title": "Sprint board", "users": [mover.id],
                  "lanes": [{"worklist": {"title": t}} for t in ("Todo", "Doing", "Done")]},
            headers=owner.headers,
        )
    )  # fmt: skip
    lanes = [lane["list_id"] for lane in board["lanes"]]
    items = []
    for story in stories[:3]:
        added = client.post(
            f"/v1/worklists/{lanes[0]}/items",
            params={"item_id": story["id"], "item_type": "story"},
            headers=owner.headers,
        )
        items.append(_ok(added)["id"])
    added = client.post(
        f"/v1/worklists/{lanes[1]}/items",
        params={"item_id": task["id"], "item_type": "task"},
        headers=owner.headers,
    )
    items.append(_ok(added)["id"])
    worklist = _ok(
        client.post("/v1/worklists", json={"title": "Release blockers"}, headers=owner.headers)
    )
    list_items = []
    for story in stories:
        added = client.post(
            f"/v1/worklists/{worklist['id']}/items",
            params={"item_id": story["id"], "item_type": "story"},
            headers=owner.headers,
        )
        list_items.append(_ok(added)["id"])
    return Setup(owner, mover, other, admin, stories, board, lanes, items, worklist, list_items)


def _order(client: TestClient, list_id: int) -> list[int]:
    return [item["id"] for item in _ok(client.get(f"/v1/worklists/{list_id}"))["items"]]


def _card_ids(html: str, lane: int) -> list[int]:
    start = html.index(f'id="lane-{lane}-cards"')
    end = html.index("</ol>", start)
    return [int(i) for i in re.findall(r'data-card data-row data-item-id="(\d+)"', html[start:end])]


# Reading


def test_board_page_shows_lanes_and_cards(setup: Setup, browser_as: BrowserAs) -> None:
    page = browser_as(None).get(f"/boards/{setup.board['id']}")
    assert page.status_code == 200
    html = page.text
    assert "<h1>Sprint board</h1>" in html
    for title in ("Todo", "Doing", "Done"):
        assert title in html
    assert _card_ids(html, setup.lanes[0]) == setup.items[:3]
    assert _card_ids(html, setup.lanes[1]) == setup.items[3:]
    # A task card shows its status and assignee; strangers get no move controls.
    assert "The task" in html
    assert "Assignee: Max Mover" in html
    assert "Todo" in html
    assert "data-move-form" not in html
    assert "data-sortable" not in html
    assert 'role="status" aria-live="polite"' in html
    mover = browser_as(setup.mover).get(f"/boards/{setup.board['id']}").text
    assert "data-move-form" in mover
    assert "data-sortable" in mover
    # Movers move cards; only owners change the board itself.
    assert "Add lane" not in mover
    assert "Add lane" in browser_as(setup.owner).get(f"/boards/{setup.board['id']}").text


def test_lists_pages_search_and_mine(setup: Setup, browser_as: BrowserAs) -> None:
    anyone = browser_as(None)
    boards = anyone.get("/boards").text
    assert "Sprint board" in boards
    assert "Todo, Doing, Done" in boards
    worklists = anyone.get("/worklists").text
    assert "Release blockers" in worklists
    # Lanes belong to their board: browsing leaves them out.
    assert f'href="/worklists/{setup.lanes[0]}"' not in worklists
    assert "Release blockers" not in anyone.get("/worklists?q=nothing-like-it").text
    other = browser_as(setup.other)
    assert "Release blockers" not in other.get("/worklists?show=mine").text
    assert "Sprint board" not in other.get("/boards?show=mine").text
    owner = browser_as(setup.owner)
    assert "Release blockers" in owner.get("/worklists?show=mine").text
    assert "Sprint board" in owner.get("/boards?show=mine").text
    dashboard = owner.get("/").text
    assert f'href="/worklists/{setup.worklist["id"]}"' in dashboard
    assert f'href="/boards/{setup.board["id"]}"' in dashboard


def test_worklist_page_lists_items_in_order(setup: Setup, browser_as: BrowserAs) -> None:
    html = browser_as(None).get(f"/worklists/{setup.worklist['id']}").text
    titles = re.findall(r'class="card-title">([^<]+)<', html)
    assert titles == ["Card 0", "Card 1", "Card 2", "Card 3"]
    lane = browser_as(None).get(f"/worklists/{setup.lanes[0]}").text
    assert f'href="/boards/{setup.board["id"]}"' in lane


def test_story_page_lists_worklists_and_adds_to_one(
    setup: Setup, browser_as: BrowserAs, client: TestClient
) -> None:
    owner = browser_as(setup.owner)
    story = setup.stories[3]
    html = owner.get(f"/stories/{story['id']}").text
    assert 'id="worklists"' in html
    assert "Release blockers" in html
    # Lanes it is not in yet are offered; the worklist holding it is not.
    assert f'<option value="{setup.lanes[2]}">Done</option>' in html
    assert f'<option value="{setup.worklist["id"]}">' not in html
    added = owner.post(f"/stories/{story['id']}/worklists", {"worklist": str(setup.lanes[2])})
    assert added.status_code == 303
    assert added.headers["location"] == f"/stories/{story['id']}#worklists"
    lane = _ok(client.get(f"/v1/worklists/{setup.lanes[2]}"))
    assert [item["item_id"] for item in lane["items"]] == [story["id"]]
    refused = browser_as(setup.other).post(
        f"/stories/{story['id']}/worklists", {"worklist": str(setup.lanes[2])}
    )
    assert refused.status_code == 403


# Privacy


def test_private_board_and_worklist_are_404_to_others(
    client: TestClient, factory: Factory, browser_as: BrowserAs
) -> None:
    owner, other, admin = factory.user(), factory.user(), factory.admin()
    board = _ok(
        client.post(
            "/v1/boards",
            json={"title": "Secret board", "private": True,
                  "lanes": [{"worklist": {"title": "Hidden lane"}}]},
            headers=owner.headers,
        )
    )  # fmt: skip
    worklist = _ok(
        client.post(
            "/v1/worklists", json={"title": "Secret list", "private": True}, headers=owner.headers
        )
    )
    lane = board["lanes"][0]["list_id"]
    for who in (None, other):
        b = browser_as(who)
        for path in (
            f"/boards/{board['id']}",
            f"/worklists/{worklist['id']}",
            f"/worklists/{lane}",
        ):
            assert b.get(path, headers={"accept": "text/html"}).status_code == 404, path
        assert "Secret board" not in b.get("/boards").text
        assert "Secret list" not in b.get("/worklists").text
    for who in (owner, admin):
        b = browser_as(who)
        assert b.get(f"/boards/{board['id']}").status_code == 200
        assert b.get(f"/worklists/{worklist['id']}").status_code == 200
        assert "Secret board" in b.get("/boards").text
    assert (
        browser_as(other)
        .post(f"/worklists/{worklist['id']}/edit", {"title": "Mine now"})
        .status_code
        == 404
    )


# Changing


def test_forms_need_the_csrf_token(setup: Setup, browser_as: BrowserAs) -> None:
    owner = browser_as(setup.owner)
    owner.get("/boards")
    paths = [
        ("/worklists", {"title": "x"}),
        ("/boards", {"title": "x"}),
        (
            f"/worklists/{setup.worklist['id']}/items/{setup.list_items[1]}/move",
            {"direction": "up"},
        ),
        (f"/worklists/{setup.worklist['id']}/items", {"item": str(setup.stories[0]["id"])}),
        (f"/worklists/{setup.worklist['id']}/archive", {}),
        (f"/boards/{setup.board['id']}/lanes", {"title": "More"}),
        (f"/boards/{setup.board['id']}/archive", {}),
    ]
    before = _order(owner.client, setup.worklist["id"])
    for path, data in paths:
        response = owner.post(path, data, csrf=False)
        assert response.status_code == 403, path
        assert "csrf_failed" in response.text or "another site" in response.text
    assert _order(owner.client, setup.worklist["id"]) == before


def test_no_js_move_up_down_and_to_another_lane(
    setup: Setup, browser_as: BrowserAs, client: TestClient
) -> None:
    mover = browser_as(setup.mover)
    board_url = f"/boards/{setup.board['id']}"
    todo, doing, _ = setup.lanes
    first, second, third, task_card = setup.items
    # "Down" on the first card of Todo.
    moved = mover.post(
        f"/worklists/{todo}/items/{first}/move", {"direction": "down", "back": board_url}
    )
    assert moved.status_code == 303
    assert moved.headers["location"] == f"{board_url}?moved={first}#card-{first}"
    assert _order(client, todo) == [second, first, third]
    # The page the browser comes back to says what happened.
    page = mover.get(f"{board_url}?moved={first}").text
    assert "Moved “Card 0” to position 2." in page
    # "Up" twice stops at the top.
    for _ in range(2):
        mover.post(f"/worklists/{todo}/items/{third}/move", {"direction": "up", "back": board_url})
    assert _order(client, todo) == [third, second, first]
    # "Move to lane": to the top of Doing.
    mover.post(f"/worklists/{todo}/items/{second}/move", {"to_list": str(doing), "back": board_url})
    assert _order(client, todo) == [third, first]
    assert _order(client, doing) == [second, task_card]
    html = mover.get(board_url).text
    assert _card_ids(html, doing) == [second, task_card]
    # Timeline events record the moves, as the API's moves do.
    events = client.get("/v1/events", params={"worklist_id": doing}).json()
    assert any("updated" in (e["event_info"] or "") for e in events)


def test_drag_and_drop_posts_get_json(
    setup: Setup, browser_as: BrowserAs, client: TestClient
) -> None:
    mover = browser_as(setup.mover)
    todo, _doing, done = setup.lanes
    first = setup.items[0]
    answer = mover.post(
        f"/worklists/{done}/items/{first}/move",
        {"position": "0", "to_list": str(done)},
        headers=JSON,
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["list_id"] == done
    assert body["list_position"] == 0
    assert "Done" in body["message"]
    assert _order(client, done) == [first]
    # Within a list: to rank 1 of Todo.
    rest = _order(client, todo)
    answer = mover.post(
        f"/worklists/{todo}/items/{rest[0]}/move",
        {"position": "1", "to_list": str(todo)},
        headers=JSON,
    )
    assert answer.status_code == 200
    assert _order(client, todo) == [rest[1], rest[0]]
    bad = mover.post(f"/worklists/{todo}/items/{rest[0]}/move", {"position": "nope"}, headers=JSON)
    assert bad.status_code == 400
    stranger = browser_as(setup.other).post(
        f"/worklists/{todo}/items/{rest[0]}/move", {"position": "0"}, headers=JSON
    )
    assert stranger.status_code == 403
    assert _order(client, todo) == [rest[1], rest[0]]


def test_worklist_forms_add_remove_archive_permissions(
    setup: Setup, browser_as: BrowserAs, client: TestClient
) -> None:
    owner = browser_as(setup.owner)
    wid = setup.worklist["id"]
    url = f"/worklists/{wid}"
    project = client.get("/v1/projects").json()[0]
    task = client.post(
        "/v1/tasks",
        json={"story_id": setup.stories[1]["id"], "project_id": project["id"], "title": "T2"},
        headers=setup.owner.headers,
    ).json()
    assert (
        owner.post(f"{url}/items", {"item_type": "task", "item": str(task["id"])}).status_code
        == 303
    )
    assert len(_order(client, wid)) == 5
    # Adding again, or something that isn't there, comes back with the message.
    again = owner.post(f"{url}/items", {"item_type": "task", "item": str(task["id"])})
    assert again.status_code == 400
    assert "already in this worklist" in again.text
    missing = owner.post(f"{url}/items", {"item_type": "story", "item": "999999"})
    assert missing.status_code == 400
    assert "no story 999999 that you can see" in missing.text
    assert 'value="999999"' in missing.text
    removed = owner.post(f"{url}/items/{setup.list_items[0]}/remove", {"back": url})
    assert removed.status_code == 303
    assert setup.list_items[0] not in _order(client, wid)
    # Permissions: movers may move, not edit.
    assert (
        owner.post(
            f"{url}/permissions", {"owners": str(setup.owner.id), "users": f"{setup.mover.id}"}
        ).status_code
        == 303
    )
    assert _ok(client.get(url.replace("/worklists", "/v1/worklists")))["users"] == [setup.mover.id]
    mover = browser_as(setup.mover)
    assert mover.post(f"{url}/edit", {"title": "Taken over"}).status_code == 403
    mover_page = mover.get(url).text
    assert "data-move-form" in mover_page
    assert "Save permissions" not in mover_page
    no_owner = owner.post(f"{url}/permissions", {"owners": "", "users": ""})
    assert no_owner.status_code == 400
    assert "at least one owner" in no_owner.text
    assert owner.post(f"{url}/archive", {"archived": "yes"}).status_code == 303
    assert _ok(client.get(f"/v1/worklists/{wid}"))["archived"] is True
    assert "Release blockers" not in browser_as(None).get("/worklists").text
    assert "Release blockers" in browser_as(None).get("/worklists?archived=yes").text


def test_create_worklist_and_automatic_criteria(
    setup: Setup, browser_as: BrowserAs, client: TestClient
) -> None:
    owner = browser_as(setup.owner)
    blank = owner.post("/worklists", {"title": "  "})
    assert blank.status_code == 400
    assert 'aria-invalid="true"' in blank.text
    made = owner.post("/worklists", {"title": "Card 2 watch", "automatic": "on"})
    assert made.status_code == 303
    url = made.headers["location"]
    page = owner.get(url).text
    assert "No criteria yet" in page
    added = owner.post(f"{url}/filters", {"type": "story", "criterion": "title", "value": "Card 2"})
    assert added.status_code == 303
    page = owner.get(url).text
    assert re.findall(r'class="card-title">([^<]+)<', page) == ["Card 2"]
    bad = owner.post(f"{url}/filters", {"type": "story", "criterion": "link", "value": "x"})
    assert bad.status_code == 400
    assert "cannot test" in bad.text
    wid = int(url.rsplit("/", 1)[1])
    [f] = _ok_list(client.get(f"/v1/worklists/{wid}/filters"))
    assert owner.post(f"{url}/filters/{f['id']}/delete", {}).status_code == 303
    assert _ok_list(client.get(f"/v1/worklists/{wid}/filters")) == []


def _ok_list(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    result: list[dict[str, Any]] = response.json()
    return result


def test_create_board_add_lane_archive(
    setup: Setup, browser_as: BrowserAs, client: TestClient
) -> None:
    owner = browser_as(setup.owner)
    made = owner.post("/boards", {"title": "Ops", "lanes": "New, Triaged", "private": "on"})
    assert made.status_code == 303
    board_id = int(made.headers["location"].rsplit("/", 1)[1])
    board = _ok(client.get(f"/v1/boards/{board_id}", headers=setup.owner.headers))
    assert [lane["worklist"]["title"] for lane in board["lanes"]] == ["New", "Triaged"]
    assert board["private"] is True
    assert owner.post(f"/boards/{board_id}/lanes", {"title": "Closed"}).status_code == 303
    board = _ok(client.get(f"/v1/boards/{board_id}", headers=setup.owner.headers))
    assert [lane["worklist"]["title"] for lane in board["lanes"]] == ["New", "Triaged", "Closed"]
    empty = owner.post(f"/boards/{board_id}/lanes", {"title": ""})
    assert empty.status_code == 400
    assert "give the lane a title" in empty.text
    assert (
        browser_as(setup.mover).post(f"/boards/{board_id}/lanes", {"title": "x"}).status_code == 404
    )
    assert owner.post(f"/boards/{board_id}/archive", {"archived": "yes"}).status_code == 303
    assert _ok(client.get(f"/v1/boards/{board_id}", headers=setup.owner.headers))["archived"]


def test_lanes_load_a_page_at_a_time(
    client: TestClient, factory: Factory, browser_as: BrowserAs
) -> None:
    owner = factory.user()
    board = _ok(
        client.post(
            "/v1/boards",
            json={"title": "Big", "lanes": [{"worklist": {"title": "Backlog"}}]},
            headers=owner.headers,
        )
    )
    lane = board["lanes"][0]["list_id"]
    for n in range(30):
        story = factory.story(owner, f"Backlog {n:02d}")
        _ok(
            client.post(
                f"/v1/worklists/{lane}/items",
                params={"item_id": story["id"], "item_type": "story"},
                headers=owner.headers,
            )
        )
    b = browser_as(owner)
    html = b.get(f"/boards/{board['id']}").text
    assert len(_card_ids(html, lane)) == 25
    assert "(30)" in html
    assert "(5 more)" in html
    more = b.get(
        f"/boards/{board['id']}/lanes/{lane}?offset=25", headers={"hx-request": "true"}
    ).text
    assert re.findall(r'class="card-title">([^<]+)<', more) == [
        f"Backlog {n}" for n in range(25, 30)
    ]
    assert 'data-position="25"' in more
    assert "More cards" not in more
    # Without htmx the link leads to the lane's own paged list.
    plain = b.get(f"/boards/{board['id']}/lanes/{lane}?offset=25")
    assert plain.status_code == 303
    assert plain.headers["location"] == f"/worklists/{lane}?page=2"


def test_every_form_carries_the_pages_csrf_token(setup: Setup, browser_as: BrowserAs) -> None:
    owner = browser_as(setup.owner)
    for path in (
        "/worklists",
        "/boards",
        f"/boards/{setup.board['id']}",
        f"/worklists/{setup.worklist['id']}",
        f"/stories/{setup.stories[0]['id']}",
    ):
        html = owner.get(path).text
        token = re.search(r'<meta name="csrf-token" content="([0-9a-f]+)">', html)
        assert token, path
        posts = re.findall(r'<form[^>]*method="post"[^>]*>(.*?)</form>', html, re.S)
        assert posts, path
        for body in posts:
            sent = re.search(r'name="csrf_token" value="([^"]*)"', body)
            assert sent, (path, body[:200])
            assert sent.group(1) == token.group(1), (path, body[:200])
