from __future__ import annotations

import random
import threading
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from storyline.bench import running_server
from storyline.bootstrap import Container
from storyline.lists.models import WorklistItem
from tests.factories import Factory, TestUser


def _board(client: TestClient, user: TestUser, lanes: int = 3, **fields: Any) -> dict[str, Any]:
    body = {
        "title": "Sprint",
        "lanes": [{"worklist": {"title": f"Lane {i}"}, "position": i} for i in range(lanes)],
        **fields,
    }
    response = client.post("/v1/boards", json=body, headers=user.headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _cards(client: TestClient, board_id: int, user: TestUser | None = None) -> dict[int, list[int]]:
    board = client.get(f"/v1/boards/{board_id}", headers=user.headers if user else None)
    assert board.status_code == 200, board.text
    return {
        lane["list_id"]: [item["item_id"] for item in lane["worklist"]["items"]]
        for lane in board.json()["lanes"]
    }


def test_board_lanes_cards_moves_and_permissions(client: TestClient, factory: Factory) -> None:
    owner, mover, stranger = factory.user(), factory.user(), factory.user()
    stories = [factory.story(owner) for _ in range(3)]
    board = _board(client, owner, users=[mover.id])
    assert [lane["worklist"]["title"] for lane in board["lanes"]] == ["Lane 0", "Lane 1", "Lane 2"]
    todo, doing, done = (lane["list_id"] for lane in board["lanes"])
    items = []
    for story in stories:
        response = client.post(
            f"/v1/worklists/{todo}/items",
            params={"item_id": story["id"], "item_type": "story"},
            headers=owner.headers,
        )
        assert response.status_code == 200, response.text
        items.append(response.json())
    # A board mover may move cards between lanes (the lane is the board's).
    moved = client.put(
        f"/v1/worklists/{todo}/items",
        params={"item_id": items[0]["id"], "list_id": doing, "list_position": 0},
        headers=mover.headers,
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["list_id"] == doing
    assert _cards(client, board["id"]) == {
        todo: [stories[1]["id"], stories[2]["id"]],
        doing: [stories[0]["id"]],
        done: [],
    }
    denied = client.put(
        f"/v1/worklists/{todo}/items",
        params={"item_id": items[1]["id"], "list_id": done, "list_position": 0},
        headers=stranger.headers,
    )
    assert denied.status_code == 403
    assert client.get(f"/v1/boards/{board['id']}/permissions", headers=mover.headers).json() == [
        "move_cards"
    ]
    # Lanes load lazily: the board without cards, then a lane's page.
    light = client.get(f"/v1/boards/{board['id']}", params={"lane_items": 0}).json()
    assert all(lane["worklist"]["items"] is None for lane in light["lanes"])
    page = client.get(f"/v1/worklists/{todo}/items", params={"limit": 1, "offset": 1}).json()
    assert [i["item_id"] for i in page] == [stories[2]["id"]]
    # Reorder lanes and drop one; events on the board timeline.
    changed = client.put(
        f"/v1/boards/{board['id']}",
        json={"lanes": [{"list_id": done, "position": 0}, {"list_id": todo, "position": 1}]},
        headers=owner.headers,
    )
    assert changed.status_code == 200, changed.text
    assert [lane["list_id"] for lane in changed.json()["lanes"]] == [done, todo]
    assert (
        client.put(
            f"/v1/boards/{board['id']}", json={"title": "x"}, headers=mover.headers
        ).status_code
        == 403
    )
    types = {
        e["event_type"] for e in client.get("/v1/events", params={"board_id": board["id"]}).json()
    }
    assert types == {"board_created", "board_lanes_changed"}
    assert client.delete(f"/v1/boards/{board['id']}", headers=owner.headers).status_code == 204
    assert client.get(f"/v1/boards/{board['id']}").json()["archived"] is True


def test_private_board_and_due_dates(client: TestClient, factory: Factory) -> None:
    owner, stranger = factory.user(), factory.user()
    board = _board(client, owner, lanes=1, private=True)
    assert client.get(f"/v1/boards/{board['id']}", headers=stranger.headers).status_code == 404
    lane = board["lanes"][0]["list_id"]
    # The lane worklist is private with its board.
    assert client.get(f"/v1/worklists/{lane}", headers=stranger.headers).status_code == 404
    due = client.post(
        "/v1/due_dates",
        json={"name": "Feature freeze", "date": "2030-03-01T12:00:00Z", "board_id": board["id"]},
        headers=owner.headers,
    )
    assert due.status_code == 200, due.text
    assert due.json()["editable"] is True
    assert due.json()["owners"] == [owner.id]
    story = factory.story(owner)
    card = client.post(
        f"/v1/worklists/{lane}/items",
        params={"item_id": story["id"], "item_type": "story", "display_due_date": due.json()["id"]},
        headers=owner.headers,
    ).json()
    assert card["display_due_date"] == due.json()["id"]
    fetched = client.get(f"/v1/boards/{board['id']}", headers=owner.headers).json()
    assert [d["name"] for d in fetched["due_dates"]] == ["Feature freeze"]
    listed = client.get("/v1/due_dates", params={"board_id": board["id"]}, headers=owner.headers)
    assert listed.json()[0]["count"] == 1
    assert client.get(
        f"/v1/due_dates/{due.json()['id']}/permissions", headers=owner.headers
    ).json() == [
        "edit_date",
        "assign_date",
    ]
    renamed = client.put(
        f"/v1/due_dates/{due.json()['id']}", json={"name": "FF"}, headers=stranger.headers
    )
    assert renamed.status_code == 403


@pytest.mark.slow
def test_eight_clients_moving_cards_keep_every_card_in_one_place(
    client: TestClient, factory: Factory, container: Container
) -> None:
    owner = factory.user()
    stories = [factory.story(owner) for _ in range(40)]
    board = _board(client, owner, lanes=4)
    lanes = [lane["list_id"] for lane in board["lanes"]]
    item_ids = []
    for index, story in enumerate(stories):
        response = client.post(
            f"/v1/worklists/{lanes[index % 4]}/items",
            params={"item_id": story["id"], "item_type": "story"},
            headers=owner.headers,
        )
        item_ids.append(response.json()["id"])
    errors: list[str] = []

    def mover(seed: int, base: str) -> None:
        rng = random.Random(seed)
        with httpx.Client(base_url=base, headers=owner.headers, timeout=60) as http:
            for _ in range(25):
                target = rng.choice(lanes)
                response = http.put(
                    f"/v1/worklists/{target}/items/{rng.choice(item_ids)}",
                    params={"list_id": target, "list_position": rng.randint(0, 12)},
                )
                if response.status_code != 200:
                    errors.append(f"{response.status_code} {response.text}")

    settings = container.settings
    with running_server(
        settings.database_url,
        workers=1,
        log_path=settings.data_dir / "server.log",
        ready_seconds=180,
        environment={
            "STORYLINE_DATA_DIR": str(settings.data_dir),
            "STORYLINE_WORKER_IN_PROCESS": "false",
        },
    ) as base:
        threads = [threading.Thread(target=mover, args=(seed, base)) for seed in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=240)
        assert not any(thread.is_alive() for thread in threads)
    assert errors == []
    cards = _cards(client, board["id"])
    placed = [story_id for lane in cards.values() for story_id in lane]
    assert sorted(placed) == sorted(s["id"] for s in stories)  # each card exactly once
    with container.db.read() as session:
        total = session.scalar(select(func.count()).select_from(WorklistItem))
        distinct_keys = session.execute(
            select(
                WorklistItem.list_id, func.count(func.distinct(WorklistItem.sort_key)), func.count()
            ).group_by(WorklistItem.list_id)
        ).all()
    assert total == 40
    # Positions are consistent: no two cards of a lane share a place.
    assert all(keys == count for _, keys, count in distinct_keys)
    for lane_id in lanes:
        positions = [
            i["list_position"] for i in client.get(f"/v1/worklists/{lane_id}/items").json()
        ]
        assert positions == list(range(len(positions)))
