"""/v1/events follows the visibility of worklists and boards: a private
list's or board's events exist only for the people who may see it."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import Factory, TestUser


def _post(client: TestClient, path: str, user: TestUser, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(path, json=body, headers=user.headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _event_ids(client: TestClient, user: TestUser | None, **params: Any) -> set[int]:
    response = client.get(
        "/v1/events", params={"limit": 500, **params}, headers=user.headers if user else None
    )
    assert response.status_code == 200, response.text
    return {event["id"] for event in response.json()}


@pytest.mark.parametrize("kind", ["worklist", "board"])
def test_events_of_private_lists_and_boards_follow_their_access_rules(
    client: TestClient, factory: Factory, kind: str
) -> None:
    owner, mover, other, admin = factory.user(), factory.user(), factory.user(), factory.admin()
    if kind == "worklist":
        body = {"title": "Secret", "private": True, "users": [mover.id]}
        private = _post(client, "/v1/worklists", owner, body)
        public = _post(client, "/v1/worklists", owner, {"title": "Open"})
    else:
        private = _post(
            client,
            "/v1/boards",
            owner,
            {"title": "Secret", "private": True, "users": [mover.id],
             "lanes": [{"worklist": {"title": "Todo"}}]},
        )  # fmt: skip
        public = _post(client, "/v1/boards", owner, {"title": "Open"})
    key = f"{kind}_id"
    mine = _event_ids(client, owner, **{key: private["id"]})
    assert mine, "creating the private one records an event"
    shown = _event_ids(client, owner, **{key: public["id"]})
    assert shown

    for reader in (None, other):
        everything = _event_ids(client, reader)
        assert not mine & everything
        assert shown <= everything
        assert _event_ids(client, reader, **{key: private["id"]}) == set()
        for event_id in mine:
            single = client.get(
                f"/v1/events/{event_id}", headers=reader.headers if reader else None
            )
            assert single.status_code == 404
    for reader in (owner, mover, admin):
        assert mine <= _event_ids(client, reader)
        event_id = next(iter(mine))
        single = client.get(f"/v1/events/{event_id}", headers=reader.headers)
        assert single.status_code == 200


def test_events_of_a_private_boards_lane_are_hidden_too(
    client: TestClient, factory: Factory
) -> None:
    owner, other = factory.user(), factory.user()
    story = factory.story(owner)
    board = _post(
        client,
        "/v1/boards",
        owner,
        {"title": "Secret", "private": True, "lanes": [{"worklist": {"title": "Todo"}}]},
    )
    lane = board["lanes"][0]["list_id"]
    added = client.post(
        f"/v1/worklists/{lane}/items",
        params={"item_id": story["id"], "item_type": "story"},
        headers=owner.headers,
    )
    assert added.status_code == 200, added.text
    lane_events = _event_ids(client, owner, worklist_id=lane)
    assert lane_events
    assert not lane_events & _event_ids(client, other)
    assert not lane_events & _event_ids(client, None)
