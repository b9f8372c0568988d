from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi.testclient import TestClient

from tests.factories import Factory
from tests.sbclient import storyboard_client

if TYPE_CHECKING:
    # Imported for annotations only: pytest would try to collect a Test* class.
    from tests.factories import TestUser


def _master_id(client: TestClient, project_id: int) -> int:
    branches = client.get("/v1/branches", params={"project_id": project_id}).json()
    branch_id: int = branches[0]["id"]
    return branch_id


def _milestone(client: TestClient, admin: TestUser, **body: Any) -> dict[str, Any]:
    response = client.post("/v1/milestones", json=body, headers=admin.headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_create_and_get_needs_a_superuser(client: TestClient, factory: Factory) -> None:
    admin, user = factory.admin(), factory.user()
    branch_id = _master_id(client, factory.project(admin)["id"])
    body = {"name": "Gazpacho-1", "branch_id": branch_id}
    assert client.post("/v1/milestones", json=body).status_code == 401
    assert client.post("/v1/milestones", json=body, headers=user.headers).status_code == 403
    milestone = _milestone(client, admin, **body)
    assert milestone["name"] == "Gazpacho-1"
    assert milestone["branch_id"] == branch_id
    assert milestone["expired"] is False
    assert milestone["expiration_date"] is None
    assert milestone["created_at"].endswith("+00:00")
    assert client.get(f"/v1/milestones/{milestone['id']}").json() == milestone
    assert client.get("/v1/milestones/999999").status_code == 404


def test_names_are_unique_per_branch(client: TestClient, factory: Factory) -> None:
    admin = factory.admin()
    first = _master_id(client, factory.project(admin)["id"])
    second = _master_id(client, factory.project(admin)["id"])
    _milestone(client, admin, name="rc1", branch_id=first)
    duplicate = client.post(
        "/v1/milestones", json={"name": "rc1", "branch_id": first}, headers=admin.headers
    )
    assert duplicate.status_code == 409
    assert duplicate.json()["details"] == {"field": "name"}
    _milestone(client, admin, name="rc1", branch_id=second)
    other = _milestone(client, admin, name="rc2", branch_id=first)
    rename = client.put(
        f"/v1/milestones/{other['id']}", json={"name": "rc1"}, headers=admin.headers
    )
    assert rename.status_code == 409


def test_validation_errors_name_the_field(client: TestClient, factory: Factory) -> None:
    admin = factory.admin()
    branch_id = _master_id(client, factory.project(admin)["id"])
    cases: list[tuple[dict[str, Any], str]] = [
        ({"name": "", "branch_id": branch_id}, "name"),
        ({"name": "   ", "branch_id": branch_id}, "name"),
        ({"name": "x" * 101, "branch_id": branch_id}, "name"),
        ({"name": "ok"}, "branch_id"),
        ({"name": "ok", "branch_id": 999999}, "branch_id"),
        ({"name": "ok", "branch_id": branch_id, "expired": True}, "expired"),
    ]
    for body, field in cases:
        response = client.post("/v1/milestones", json=body, headers=admin.headers)
        assert response.status_code == 400, body
        assert response.json()["details"][0]["field"] == field, body
    # Milestone names are free text ("Zed RC1"), unlike branch names.
    assert _milestone(client, admin, name="Zed RC1", branch_id=branch_id)["name"] == "Zed RC1"


def test_expiry_and_branch_move(client: TestClient, factory: Factory) -> None:
    admin, user = factory.admin(), factory.user()
    branch_id = _master_id(client, factory.project(admin)["id"])
    other_branch = _master_id(client, factory.project(admin)["id"])
    milestone = _milestone(client, admin, name="m1", branch_id=branch_id)
    url = f"/v1/milestones/{milestone['id']}"
    assert client.put(url, json={"expired": True}, headers=user.headers).status_code == 403
    expired = client.put(url, json={"expired": True}, headers=admin.headers).json()
    assert expired["expired"] is True
    assert expired["expiration_date"] is not None
    renamed = client.put(url, json={**expired, "name": "m1-final"}, headers=admin.headers).json()
    assert renamed["name"] == "m1-final"
    assert renamed["expiration_date"] == expired["expiration_date"]
    revived = client.put(url, json={"expired": False}, headers=admin.headers).json()
    assert revived["expiration_date"] is None
    moved = client.put(url, json={"branch_id": other_branch}, headers=admin.headers)
    assert moved.status_code == 400
    assert moved.json()["details"][0]["field"] == "branch_id"
    assert client.put("/v1/milestones/999999", json={}, headers=admin.headers).status_code == 404


def test_list_filters_and_paging(client: TestClient, factory: Factory) -> None:
    admin = factory.admin()
    branch_id = _master_id(client, factory.project(admin)["id"])
    other_branch = _master_id(client, factory.project(admin)["id"])
    ids = [
        _milestone(client, admin, name=f"cycle-{i}", branch_id=branch_id)["id"] for i in range(4)
    ]
    _milestone(client, admin, name="cycle-0", branch_id=other_branch)
    page = client.get("/v1/milestones", params={"branch_id": branch_id, "limit": 3})
    assert [m["id"] for m in page.json()] == ids[:3]
    assert page.headers["X-Total"] == "4"
    assert page.headers["X-Limit"] == "3"
    rest = client.get(
        "/v1/milestones", params={"branch_id": branch_id, "limit": 3, "marker": ids[2]}
    )
    assert [m["id"] for m in rest.json()] == ids[3:]
    by_name = client.get("/v1/milestones", params={"name": "CYCLE-0"}).json()
    assert {m["branch_id"] for m in by_name} == {branch_id, other_branch}
    desc = client.get(
        "/v1/milestones",
        params={"branch_id": branch_id, "sort_field": "name", "sort_dir": "desc", "limit": 1},
    ).json()
    assert [m["name"] for m in desc] == ["cycle-3"]
    assert client.get("/v1/milestones", params={"sort_field": "expired"}).status_code == 400
    assert client.get("/v1/milestones", params={"project_id": 1}).status_code == 400


def test_python_storyboardclient_milestones(client: TestClient, factory: Factory) -> None:
    admin = factory.admin()
    branch_id = _master_id(client, factory.project(admin)["id"])
    sb = storyboard_client(client, admin.token)
    created = sb.milestones.create(name="from-client", branch_id=branch_id)
    assert created.branch_id == branch_id
    assert [m.name for m in sb.milestones.get_all(branch_id=branch_id)] == ["from-client"]
    updated = sb.milestones.update(id=created.id, expired=True)
    assert updated.expired is True
    assert sb.milestones.get(created.id).expiration_date is not None
