from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from storyline.domain import events as event_types
from storyline.kernel import timeline
from tests.factories import Factory

EVENT_KEYS = {
    "id",
    "created_at",
    "updated_at",
    "event_type",
    "author_id",
    "story_id",
    "comment_id",
    "worklist_id",
    "board_id",
    "event_info",
}


def _ids(client: TestClient, url: str, **params: Any) -> list[int]:
    response = client.get(url, params=params)
    assert response.status_code == 200, response.text
    return [e["id"] for e in response.json()]


def test_event_shape_and_info_is_a_json_string(client: TestClient, factory: Factory) -> None:
    user = factory.user()
    story = factory.story(user, title="Hello")
    [event] = client.get(f"/v1/stories/{story['id']}/events").json()
    assert set(event) == EVENT_KEYS
    assert event["event_type"] == "story_created"
    assert event["story_id"] == story["id"]
    assert event["author_id"] == user.id
    assert (event["comment_id"], event["worklist_id"], event["board_id"]) == (None, None, None)
    assert isinstance(event["event_info"], str)
    assert json.loads(event["event_info"]) == {"story_id": story["id"], "story_title": "Hello"}
    assert client.get(f"/v1/events/{event['id']}").json() == event
    assert client.get(f"/v1/stories/{story['id']}/events/{event['id']}").json() == event


def test_story_timeline_filters_paging_and_sorting(client: TestClient, factory: Factory) -> None:
    admin = factory.admin()
    user = factory.user()
    project = factory.project(admin)
    story = factory.story(user)
    task = factory.task(user, story_id=story["id"], project_id=project["id"])
    client.put(f"/v1/tasks/{task['id']}", json={"status": "merged"}, headers=user.headers)
    url = f"/v1/stories/{story['id']}/events"
    response = client.get(url)
    all_ids = [e["id"] for e in response.json()]
    assert [e["event_type"] for e in response.json()] == [
        "story_created",
        "task_created",
        "task_status_changed",
    ]
    assert response.headers["X-Total"] == "3"
    assert _ids(client, url, event_type="task_created") == all_ids[1:2]
    assert _ids(client, url, event_type=["task_created", "story_created"]) == all_ids[:2]
    assert _ids(client, url, limit=1, marker=all_ids[0]) == all_ids[1:2]
    assert _ids(client, url, limit=1, offset=2) == all_ids[2:]
    assert _ids(client, url, sort_dir="desc") == all_ids[::-1]
    assert _ids(client, url, sort_field="event_type") == [all_ids[0], all_ids[1], all_ids[2]]
    assert client.get(url, params={"event_type": "nope"}).status_code == 400
    assert client.get(url, params={"sort_field": "event_info"}).status_code == 400
    assert client.get(url, params={"story_id": 1}).status_code == 400
    assert client.get("/v1/stories/999999/events").status_code == 404


def test_global_event_list_filters(client: TestClient, factory: Factory) -> None:
    user = factory.user()
    first = factory.story(user)
    second = factory.story(user)
    with factory.container.db.write() as session:
        on_worklist = timeline.record(
            session,
            event_type=event_types.WORKLIST_CREATED,
            author_id=user.id,
            worklist_id=7,
            info={"worklist_id": 7, "worklist_title": "Seven"},
        ).id
        on_board = timeline.record(
            session,
            event_type=event_types.BOARD_CREATED,
            author_id=user.id,
            board_id=9,
            info={"board_id": 9, "board_title": "Nine"},
        ).id
    everything = _ids(client, "/v1/events")
    assert len(everything) == 4
    [first_event] = _ids(client, "/v1/events", story_id=first["id"])
    [second_event] = _ids(client, "/v1/events", story_id=second["id"])
    assert first_event != second_event
    assert _ids(client, "/v1/events", worklist_id=7) == [on_worklist]
    assert _ids(client, "/v1/events", board_id=9) == [on_board]
    assert _ids(client, "/v1/events", event_type="story_created") == [first_event, second_event]
    assert client.get("/v1/events", params={"event_type": "bogus"}).status_code == 400
    assert client.get("/v1/events/999999").status_code == 404


def test_nested_event_of_another_story_is_404(client: TestClient, factory: Factory) -> None:
    user = factory.user()
    first = factory.story(user)
    second = factory.story(user)
    [event] = _ids(client, f"/v1/stories/{first['id']}/events")
    assert client.get(f"/v1/stories/{second['id']}/events/{event}").status_code == 404


def test_recording_refuses_unregistered_kinds_and_payloads(factory: Factory) -> None:
    user = factory.user()
    story = factory.story(user)
    with factory.container.db.write() as session:
        with pytest.raises(ValueError, match="unknown event type 'story_exploded'"):
            timeline.record(session, event_type="story_exploded", author_id=user.id)
        with pytest.raises(ValueError, match="task_created: missing key 'task_title'"):
            timeline.record(
                session,
                event_type=event_types.TASK_CREATED,
                author_id=user.id,
                story_id=story["id"],
                info={"task_id": 1, "project_id": 1},
            )
