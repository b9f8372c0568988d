"""An event is visible with its subject, but must not tell of the other
things it names that the reader may not see: the far end of a story link, a
story or task on a list, a list a card moved to, a board's private lanes."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from storyline.bootstrap import Container
from storyline.domain import events
from storyline.kernel.models import OutboxMessage
from tests.factories import Factory, TestUser


def _ok(response: Any) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def _infos(client: TestClient, path: str, user: TestUser | None, event_type: str) -> list[Any]:
    rows = _ok(
        client.get(
            path,
            params={"event_type": event_type, "limit": 100},
            headers=user.headers if user else None,
        )
    )
    return [json.loads(row["event_info"]) for row in rows]


def test_a_link_event_does_not_name_a_hidden_story(
    client: TestClient, factory: Factory, container: Container
) -> None:
    admin, owner, insider, outsider = (
        factory.admin(),
        factory.user(),
        factory.user(),
        factory.user(),
    )
    project = factory.project(admin)
    _ok(
        client.post(
            "/v1/webhooks",
            json={"url": "http://127.0.0.1:9/hook", "project_id": project["id"]},
            headers=admin.headers,
        )
    )
    public = factory.story(owner, title="Public")
    factory.task(owner, story_id=public["id"], project_id=project["id"])
    secret = factory.story(owner, title="Embargoed", private=True, users=[insider.id])
    link = _ok(
        client.post(
            f"/v1/stories/{public['id']}/links",
            json={"target_story_id": secret["id"], "kind": "relates"},
            headers=owner.headers,
        )
    )
    path = f"/v1/stories/{public['id']}/events"
    for reader in (None, outsider):
        for path_of in (path, "/v1/events"):
            (info,) = _infos(client, path_of, reader, events.STORY_LINK_ADDED)
            assert info["link_id"] is None
            assert secret["id"] not in (
                info["story_id"],
                info["target_story_id"],
                info["other_story_id"],
            )
            assert info["story_id"] == public["id"]
    (info,) = _infos(client, path, insider, events.STORY_LINK_ADDED)
    assert info["other_story_id"] == secret["id"]
    assert info["link_id"] == link["id"]
    # The public webhook is told as anyone would read it.
    with container.db.read() as session:
        bodies = [
            json.loads(m.payload)["body"]
            for m in session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "webhook"))
        ]
    (linked,) = [b for b in bodies if b["event_type"] == events.STORY_LINK_ADDED]
    assert linked["event_info"]["other_story_id"] is None
    assert "Embargoed" not in linked["summary"]


def test_a_list_event_forgets_a_story_made_private_since(
    client: TestClient, factory: Factory
) -> None:
    owner, insider, follower = factory.user(), factory.user(), factory.user()
    worklist = _ok(client.post("/v1/worklists", json={"title": "Triage"}, headers=owner.headers))
    _ok(
        client.post(
            "/v1/subscriptions",
            json={"target_type": "worklist", "target_id": worklist["id"]},
            headers=follower.headers,
        )
    )
    story = factory.story(owner, title="Heap overflow in parser")
    _ok(
        client.post(
            f"/v1/worklists/{worklist['id']}/items",
            params={"item_id": story["id"], "item_type": "story"},
            headers=owner.headers,
        )
    )
    # Added while public, the event carries the title; then the story turns
    # private, and the list's readers must not learn its title or id.
    body = {"private": True, "users": [insider.id]}
    _ok(client.put(f"/v1/stories/{story['id']}", json=body, headers=owner.headers))
    for path in (f"/v1/events?worklist_id={worklist['id']}", "/v1/subscription_events"):
        (info,) = _infos(client, path, follower, events.WORKLIST_CONTENTS_CHANGED)
        assert info["added"]["item_id"] is None
        assert info["added"]["item_title"] is None
    page = client.get(f"/worklists/{worklist['id']}", headers=follower.headers)
    assert page.status_code == 200
    assert "Heap overflow" not in page.text
    (info,) = _infos(
        client,
        f"/v1/events?worklist_id={worklist['id']}",
        insider,
        events.WORKLIST_CONTENTS_CHANGED,
    )
    assert info["added"]["item_id"] == story["id"]


def test_a_board_event_does_not_name_a_private_lane(client: TestClient, factory: Factory) -> None:
    owner, outsider = factory.user(), factory.user()
    hidden = _ok(
        client.post(
            "/v1/worklists", json={"title": "Hidden", "private": True}, headers=owner.headers
        )
    )
    board = _ok(
        client.post(
            "/v1/boards",
            json={"title": "Board", "lanes": [{"worklist": {"title": "Open"}}]},
            headers=owner.headers,
        )
    )
    lanes = [{"list_id": lane["list_id"]} for lane in board["lanes"]] + [{"list_id": hidden["id"]}]
    _ok(client.put(f"/v1/boards/{board['id']}", json={"lanes": lanes}, headers=owner.headers))
    path = f"/v1/events?board_id={board['id']}"
    infos = _infos(client, path, outsider, events.BOARD_LANES_CHANGED)
    assert infos, "the lanes change is on the board's timeline"
    listed = {lane["list_id"] for info in infos for lane in info["new"]}
    assert hidden["id"] not in listed
    assert None in listed
    mine = _infos(client, path, owner, events.BOARD_LANES_CHANGED)
    assert hidden["id"] in {lane["list_id"] for info in mine for lane in info["new"]}
