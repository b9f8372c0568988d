from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event

from tests.factories import Factory
from tests.sbclient import storyboard_client


def _master(client: TestClient, project_id: int) -> dict[str, Any]:
    branches = client.get("/v1/branches", params={"project_id": project_id}).json()
    assert [b["name"] for b in branches] == ["master"]
    result: dict[str, Any] = branches[0]
    return result


def test_every_project_has_a_master_branch(client: TestClient, factory: Factory) -> None:
    admin = factory.admin()
    project = factory.project(admin)
    master = _master(client, project["id"])
    assert master["project_id"] == project["id"]
    assert master["expired"] is False
    assert master["expiration_date"] is None
    assert master["autocreated"] is True
    assert master["restricted"] is False
    assert client.get(f"/v1/branches/{master['id']}").json() == master


def test_create_branch_needs_a_superuser(client: TestClient, factory: Factory) -> None:
    admin, user = factory.admin(), factory.user()
    project = factory.project(admin)
    body = {"name": "stable/2026.1", "project_id": project["id"]}
    assert client.post("/v1/branches", json=body).status_code == 401
    assert client.post("/v1/branches", json=body, headers=user.headers).status_code == 403
    created = client.post("/v1/branches", json=body, headers=admin.headers)
    assert created.status_code == 200
    branch = created.json()
    assert branch["name"] == "stable/2026.1"
    assert branch["autocreated"] is False
    assert branch["created_at"].endswith("+00:00")
    assert client.get(f"/v1/branches/{branch['id']}").json() == branch


def test_branch_names_are_unique_per_project(client: TestClient, factory: Factory) -> None:
    admin = factory.admin()
    nova, swift = factory.project(admin), factory.project(admin)
    duplicate = client.post(
        "/v1/branches", json={"name": "master", "project_id": nova["id"]}, headers=admin.headers
    )
    assert duplicate.status_code == 409
    assert duplicate.json()["details"] == {"field": "name"}
    first = client.post(
        "/v1/branches", json={"name": "stable/a", "project_id": nova["id"]}, headers=admin.headers
    )
    other_project = client.post(
        "/v1/branches", json={"name": "stable/a", "project_id": swift["id"]}, headers=admin.headers
    )
    assert first.status_code == other_project.status_code == 200
    # Git branch names are case-sensitive.
    upper = client.post(
        "/v1/branches", json={"name": "Stable/A", "project_id": nova["id"]}, headers=admin.headers
    )
    assert upper.status_code == 200
    rename = client.put(
        f"/v1/branches/{upper.json()['id']}", json={"name": "stable/a"}, headers=admin.headers
    )
    assert rename.status_code == 409
    assert rename.json()["details"] == {"field": "name"}


def test_validation_errors_name_the_field(client: TestClient, factory: Factory) -> None:
    admin = factory.admin()
    project = factory.project(admin)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"name": "", "project_id": project["id"]}, "name"),
        ({"name": "has space", "project_id": project["id"]}, "name"),
        ({"name": "x" * 101, "project_id": project["id"]}, "name"),
        ({"name": "ok"}, "project_id"),
        ({"name": "ok", "project_id": 999999}, "project_id"),
        ({"name": "ok", "project_id": project["id"], "expired": True}, "expired"),
    ]
    for body, field in cases:
        response = client.post("/v1/branches", json=body, headers=admin.headers)
        assert response.status_code == 400, body
        assert response.json()["code"] == "invalid_input"
        assert response.json()["details"][0]["field"] == field, body
    master = _master(client, project["id"])
    blank = client.put(f"/v1/branches/{master['id']}", json={"name": " "}, headers=admin.headers)
    assert blank.status_code == 400
    assert blank.json()["details"][0]["field"] == "name"


def test_update_expiry_and_project_move(client: TestClient, factory: Factory) -> None:
    admin, user = factory.admin(), factory.user()
    project, other = factory.project(admin), factory.project(admin)
    branch = client.post(
        "/v1/branches",
        json={"name": "stable/old", "project_id": project["id"]},
        headers=admin.headers,
    ).json()
    url = f"/v1/branches/{branch['id']}"
    assert client.put(url, json={"expired": True}, headers=user.headers).status_code == 403
    expired = client.put(url, json={"expired": True}, headers=admin.headers)
    assert expired.status_code == 200
    assert expired.json()["expired"] is True
    date = expired.json()["expiration_date"]
    assert date is not None
    # Sending the whole object back keeps the date; the client cannot set it.
    again = client.put(
        url,
        json={**expired.json(), "restricted": True, "expiration_date": "2000-01-01T00:00:00Z"},
        headers=admin.headers,
    ).json()
    assert again["expiration_date"] == date
    assert again["restricted"] is True
    revived = client.put(url, json={"expired": False}, headers=admin.headers).json()
    assert revived["expired"] is False
    assert revived["expiration_date"] is None
    moved = client.put(url, json={"project_id": other["id"]}, headers=admin.headers)
    assert moved.status_code == 400
    assert moved.json()["details"][0]["field"] == "project_id"
    assert client.put("/v1/branches/999999", json={}, headers=admin.headers).status_code == 404


def test_list_filters_paging_and_sorting(client: TestClient, factory: Factory) -> None:
    admin = factory.admin()
    nova, swift, glance = (factory.project(admin) for _ in range(3))
    group = client.post(
        "/v1/project_groups", json={"name": "compute"}, headers=admin.headers
    ).json()
    for project in (nova, swift):
        client.put(
            f"/v1/project_groups/{group['id']}/projects/{project['id']}", headers=admin.headers
        )
    ids = [
        client.post(
            "/v1/branches",
            json={"name": f"stable/{i}", "project_id": nova["id"]},
            headers=admin.headers,
        ).json()["id"]
        for i in range(4)
    ]
    page = client.get("/v1/branches", params={"name": "STABLE", "limit": 2})
    assert [b["id"] for b in page.json()] == ids[:2]
    assert page.headers["X-Total"] == "4"
    assert page.headers["X-Limit"] == "2"
    after = client.get("/v1/branches", params={"name": "stable", "limit": 2, "marker": ids[1]})
    assert [b["id"] for b in after.json()] == ids[2:]
    assert after.headers["X-Marker"] == str(ids[1])
    in_group = client.get("/v1/branches", params={"project_group_id": group["id"]}).json()
    assert {b["project_id"] for b in in_group} == {nova["id"], swift["id"]}
    assert len(in_group) == 6
    assert glance["id"] not in {b["project_id"] for b in in_group}
    by_name = client.get(
        "/v1/branches",
        params={"project_id": nova["id"], "sort_field": "name", "sort_dir": "desc", "limit": 2},
    ).json()
    assert [b["name"] for b in by_name] == ["stable/3", "stable/2"]
    assert client.get("/v1/branches", params={"sort_field": "restricted"}).status_code == 400
    assert client.get("/v1/branches", params={"project": 1}).status_code == 400
    assert client.get("/v1/branches/999999").status_code == 404
    assert client.get("/v1/branches/master").status_code == 404


def test_python_storyboardclient_branches(client: TestClient, factory: Factory) -> None:
    admin = factory.admin()
    project = factory.project(admin)
    sb = storyboard_client(client, admin.token)
    created = sb.branches.create(name="stable/x", project_id=project["id"])
    assert created.name == "stable/x"
    names = sorted(b.name for b in sb.branches.get_all(project_id=project["id"]))
    assert names == ["master", "stable/x"]
    updated = sb.branches.update(id=created.id, expired=True)
    assert updated.expired is True
    assert updated.expiration_date is not None
    assert sb.branches.get(created.id).name == "stable/x"


def test_lists_cost_the_same_number_of_queries_for_any_page_size(
    client: TestClient, factory: Factory
) -> None:
    admin = factory.admin()
    small, large = factory.project(admin), factory.project(admin)
    master = _master(client, large["id"])
    for i in range(20):
        body = {"name": f"stable/{i}", "project_id": large["id"]}
        client.post("/v1/branches", json=body, headers=admin.headers)
        body = {"name": f"m{i}", "branch_id": master["id"]}
        client.post("/v1/milestones", json=body, headers=admin.headers)
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    def queries(path: str, params: dict[str, Any], expected: int) -> int:
        statements.clear()
        event.listen(factory.container.db.engine, "before_cursor_execute", count)
        try:
            assert len(client.get(path, params=params).json()) == expected
        finally:
            event.remove(factory.container.db.engine, "before_cursor_execute", count)
        return len(statements)

    assert queries("/v1/branches", {"project_id": small["id"]}, 1) == queries(
        "/v1/branches", {"project_id": large["id"]}, 21
    )
    small_master = _master(client, small["id"])["id"]
    assert queries("/v1/milestones", {"branch_id": small_master}, 0) == queries(
        "/v1/milestones", {"branch_id": master["id"]}, 20
    )
