from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.factories import Factory, TestUser


def _setup(
    factory: Factory, n_stories: int = 3
) -> tuple[TestUser, dict[str, Any], list[dict[str, Any]]]:
    admin = factory.admin()
    project = factory.project(admin)
    stories = [factory.story(admin, title=f"S{i}") for i in range(n_stories)]
    return admin, project, stories


def _worklist(client: TestClient, user: TestUser, **fields: Any) -> dict[str, Any]:
    body = {"title": "Triage", **fields}
    response = client.post("/v1/worklists", json=body, headers=user.headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _add(
    client: TestClient,
    user: TestUser,
    wid: int,
    item_id: int,
    kind: str = "story",
    position: int | None = None,
) -> dict[str, Any]:
    params: dict[str, Any] = {"item_id": item_id, "item_type": kind}
    if position is not None:
        params["list_position"] = position
    response = client.post(f"/v1/worklists/{wid}/items", params=params, headers=user.headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _order(client: TestClient, wid: int, user: TestUser | None = None) -> list[int]:
    response = client.get(f"/v1/worklists/{wid}/items", headers=user.headers if user else None)
    assert response.status_code == 200, response.text
    items = response.json()
    positions = [i["list_position"] for i in items]
    # Ranks count the items the reader can't see too, so that every reader
    # sends the same position for the same place.
    assert positions == sorted(set(positions))
    return [i["item_id"] for i in items]


def test_manual_worklist_add_move_remove(client: TestClient, factory: Factory) -> None:
    admin, _, stories = _setup(factory, 4)
    wl = _worklist(client, admin)
    assert wl["owners"] == [admin.id]
    assert wl["automatic"] is False
    ids = [s["id"] for s in stories]
    for sid in ids[:3]:
        _add(client, admin, wl["id"], sid)
    _add(client, admin, wl["id"], ids[3], position=0)
    assert _order(client, wl["id"]) == [ids[3], ids[0], ids[1], ids[2]]
    items = client.get(f"/v1/worklists/{wl['id']}/items").json()
    assert items[0]["story"]["title"] == "S3"
    # Move the first item to position 2 (StoryBoard's query-parameter PUT).
    moved = client.put(
        f"/v1/worklists/{wl['id']}/items",
        params={"item_id": items[0]["id"], "list_position": 2},
        headers=admin.headers,
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["list_position"] == 2
    assert _order(client, wl["id"]) == [ids[0], ids[1], ids[3], ids[2]]
    # Duplicate is a conflict; removing works.
    again = client.post(
        f"/v1/worklists/{wl['id']}/items",
        params={"item_id": ids[0], "item_type": "story"},
        headers=admin.headers,
    )
    assert again.status_code == 409
    gone = client.delete(f"/v1/worklists/{wl['id']}/items/{items[0]['id']}", headers=admin.headers)
    assert gone.status_code == 204
    assert _order(client, wl["id"]) == [ids[0], ids[1], ids[2]]
    full = client.get(f"/v1/worklists/{wl['id']}").json()
    assert [i["item_id"] for i in full["items"]] == [ids[0], ids[1], ids[2]]
    events = client.get("/v1/events", params={"worklist_id": wl["id"]}).json()
    assert {e["event_type"] for e in events} >= {"worklist_created", "worklist_contents_changed"}


def test_many_moves_into_one_gap_renumber_and_keep_order(
    client: TestClient, factory: Factory
) -> None:
    admin, _, stories = _setup(factory, 30)
    wl = _worklist(client, admin)
    ids = [s["id"] for s in stories]
    for sid in ids[:2]:
        _add(client, admin, wl["id"], sid)
    expected = ids[:2]
    # Always insert at position 1: halves the same gap until it must renumber.
    for sid in ids[2:]:
        _add(client, admin, wl["id"], sid, position=1)
        expected = [expected[0], sid, *expected[1:]]
    assert _order(client, wl["id"]) == expected


def test_permissions_owners_movers_and_private_lists(client: TestClient, factory: Factory) -> None:
    _admin, _, stories = _setup(factory, 2)
    owner, mover, stranger = factory.user(), factory.user(), factory.user()
    wl = _worklist(client, owner, private=True, users=[mover.id])
    assert wl["users"] == [mover.id]
    # Invisible to strangers and anonymous; visible to movers.
    assert client.get(f"/v1/worklists/{wl['id']}").status_code == 404
    assert client.get(f"/v1/worklists/{wl['id']}", headers=stranger.headers).status_code == 404
    assert client.get(f"/v1/worklists/{wl['id']}", headers=mover.headers).status_code == 200
    assert client.get("/v1/worklists", headers=stranger.headers).json() == []
    assert client.get(f"/v1/worklists/{wl['id']}/permissions", headers=mover.headers).json() == [
        "move_items"
    ]
    assert client.get(f"/v1/worklists/{wl['id']}/permissions", headers=owner.headers).json() == [
        "edit_worklist",
        "move_items",
    ]
    # A mover moves items but may not rename.
    _add(client, mover, wl["id"], stories[0]["id"])
    rename = client.put(f"/v1/worklists/{wl['id']}", json={"title": "x"}, headers=mover.headers)
    assert rename.status_code == 403
    # The owner grants the stranger move rights through /permissions.
    granted = client.post(
        f"/v1/worklists/{wl['id']}/permissions",
        json={"codename": "move_items", "users": [stranger.id]},
        headers=owner.headers,
    )
    assert granted.status_code == 200
    assert granted.json() == "move_items"
    assert client.get(f"/v1/worklists/{wl['id']}", headers=stranger.headers).json()[
        "users"
    ] == sorted([mover.id, stranger.id])
    # Archive (DELETE archives, as in StoryBoard).
    assert client.delete(f"/v1/worklists/{wl['id']}", headers=owner.headers).status_code == 204
    assert client.get(f"/v1/worklists/{wl['id']}", headers=owner.headers).json()["archived"] is True
    listed = client.get("/v1/worklists", params={"archived": False}, headers=owner.headers).json()
    assert listed == []


def test_private_stories_are_hidden_in_lists(client: TestClient, factory: Factory) -> None:
    admin = factory.admin()
    owner, other = factory.user(), factory.user()
    secret = factory.story(owner, private=True)
    public = factory.story(owner)
    wl = _worklist(client, owner)
    _add(client, owner, wl["id"], secret["id"])
    _add(client, owner, wl["id"], public["id"])
    assert _order(client, wl["id"], other) == [public["id"]]
    assert _order(client, wl["id"], owner) == [secret["id"], public["id"]]
    # Adding an invisible story is a 404, as if it did not exist.
    response = client.post(
        f"/v1/worklists/{wl['id']}/items",
        params={"item_id": secret["id"], "item_type": "story"},
        headers=admin.headers,
    )
    assert response.status_code == 409  # admin sees it: already in the list
    hidden = _worklist(client, other)
    response = client.post(
        f"/v1/worklists/{hidden['id']}/items",
        params={"item_id": secret["id"], "item_type": "story"},
        headers=other.headers,
    )
    assert response.status_code == 404


def test_automatic_worklist_with_negated_criteria_and_priority(
    client: TestClient, factory: Factory
) -> None:
    admin = factory.admin()
    project = factory.project(admin)
    other_project = factory.project(admin)
    story = factory.story(admin)
    t_high = factory.task(admin, story_id=story["id"], project_id=project["id"], priority="high")
    t_low = factory.task(admin, story_id=story["id"], project_id=project["id"], priority="low")
    t_merged = factory.task(
        admin, story_id=story["id"], project_id=project["id"], priority="high", status="merged"
    )
    factory.task(admin, story_id=story["id"], project_id=other_project["id"], priority="high")
    wl = _worklist(
        client,
        admin,
        automatic=True,
        filters=[
            {
                "type": "Task",
                "filter_criteria": [
                    {"field": "project_id", "value": project["id"], "title": "Project"},
                    {"field": "priority", "value": "high"},
                    {"field": "status", "value": "merged", "negative": True},
                ],
            }
        ],
    )
    items = client.get(f"/v1/worklists/{wl['id']}/items").json()
    assert [(i["item_type"], i["item_id"]) for i in items] == [("task", t_high["id"])]
    assert items[0]["task"]["priority"] == "high"
    # Live: changing a task's priority changes the list.
    client.put(f"/v1/tasks/{t_low['id']}", json={"priority": "high"}, headers=admin.headers)
    items = client.get(f"/v1/worklists/{wl['id']}/items").json()
    assert [i["item_id"] for i in items] == [t_high["id"], t_low["id"]]
    assert t_merged["id"] not in [i["item_id"] for i in items]
    # Filters sub-resource; a bad criterion is refused with its field named.
    filters = client.get(f"/v1/worklists/{wl['id']}/filters").json()
    assert filters[0]["type"] == "task"
    assert len(filters[0]["filter_criteria"]) == 3
    bad = client.post(
        f"/v1/worklists/{wl['id']}/filters",
        json={"type": "task", "filter_criteria": [{"field": "priority", "value": "urgent"}]},
        headers=admin.headers,
    )
    assert bad.status_code == 400
    story_filter = client.post(
        f"/v1/worklists/{wl['id']}/filters",
        json={"type": "story", "filter_criteria": [{"field": "priority", "value": "low"}]},
        headers=admin.headers,
    )
    assert story_filter.status_code == 200, story_filter.text
    # No task is low any more, so no story matches.
    items = client.get(f"/v1/worklists/{wl['id']}/items").json()
    assert all(i["item_type"] == "task" for i in items)
    # Adding an item by hand to an automatic list is refused.
    manual = client.post(
        f"/v1/worklists/{wl['id']}/items",
        params={"item_id": story["id"], "item_type": "story"},
        headers=admin.headers,
    )
    assert manual.status_code == 400


def test_unknown_query_parameter_is_rejected(client: TestClient) -> None:
    response = client.get("/v1/worklists", params={"titel": "x"})
    assert response.status_code == 400


def test_a_private_storys_title_stays_out_of_a_public_lists_timeline(
    client: TestClient, factory: Factory
) -> None:
    owner = factory.user()
    admin = factory.admin()
    project = factory.project(admin)
    secret = factory.story(owner, title="Heap overflow in the parser", private=True)
    task = factory.task(owner, story_id=secret["id"], project_id=project["id"], title="Patch it")
    public = factory.story(owner, title="Public roadmap item")
    wl = _worklist(client, owner)
    for item_id, kind in ((secret["id"], "story"), (task["id"], "task"), (public["id"], "story")):
        _add(client, owner, wl["id"], item_id, kind)
    for who in ({}, factory.user().headers, owner.headers):
        events = client.get("/v1/events", params={"worklist_id": wl["id"]}, headers=who)
        text = events.text
        assert events.status_code == 200
        assert "Heap overflow" not in text
        assert "Patch it" not in text
        assert "Public roadmap item" in text
