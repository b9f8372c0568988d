"""StoryBoard's `/permissions` endpoints, the same for worklists, boards and
due dates: the caller's codenames, adding, replacing and removing holders,
and the status codes of each refusal."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import Factory

RESOURCES = {
    "worklists": ({"title": "Triage"}, ("edit_worklist", "move_items")),
    "boards": ({"title": "Board"}, ("edit_board", "move_cards")),
    "due_dates": ({"name": "Freeze", "date": "2030-01-01T00:00:00Z"}, ("edit_date", "assign_date")),
}


@pytest.mark.parametrize("resource", sorted(RESOURCES))
def test_permission_endpoints(client: TestClient, factory: Factory, resource: str) -> None:
    body, (edit, work) = RESOURCES[resource]
    owner, helper, stranger = factory.user(), factory.user(), factory.user()
    created = client.post(f"/v1/{resource}", json={**body, "private": True}, headers=owner.headers)
    assert created.status_code == 200, created.text
    url = f"/v1/{resource}/{created.json()['id']}/permissions"

    def call(method: str, who: Any, payload: dict[str, Any] | None = None) -> Any:
        headers = who.headers if who is not None else {}
        return client.request(method, url, json=payload, headers=headers)

    assert call("GET", owner).json() == [edit, work]
    # Private and not theirs: it does not exist for them.
    assert call("GET", stranger).status_code == 404
    assert call("POST", stranger, {"codename": work, "users": [stranger.id]}).status_code == 404
    assert call("POST", None, {"codename": work, "users": [helper.id]}).status_code == 401

    added = call("POST", owner, {"codename": work, "users": [helper.id]})
    assert (added.status_code, added.json()) == (200, work)
    assert call("GET", helper).json() == [work]
    # Only owners change who holds what.
    assert call("PUT", helper, {"codename": work, "users": [stranger.id]}).status_code == 403

    bad = call("POST", owner, {"codename": "nope", "users": [helper.id]})
    assert bad.status_code == 400
    assert bad.json()["details"][0]["field"] == "codename"
    unknown = call("POST", owner, {"codename": work, "users": [10**6]})
    assert (unknown.status_code, unknown.json()["details"][0]["field"]) == (400, "users")

    replaced = call("PUT", owner, {"codename": edit, "users": [owner.id, stranger.id]})
    assert (replaced.status_code, replaced.json()) == (200, edit)
    assert call("GET", stranger).json() == [edit, work]
    removed = call("DELETE", owner, {"codename": edit, "users": [stranger.id]})
    assert removed.status_code == 204
    assert call("GET", stranger).status_code == 404
    # The last owner stays.
    last = call("DELETE", owner, {"codename": edit, "users": [owner.id]})
    assert last.status_code == 400
    assert "at least one owner" in last.json()["message"]
    assert call("GET", owner).json() == [edit, work]
