from __future__ import annotations

from fastapi.testclient import TestClient

from tests.factories import Factory


def test_create_and_get_project_by_id_and_by_name_with_slash(
    client: TestClient, factory: Factory
) -> None:
    admin = factory.admin()
    created = factory.project(admin, name="openstack/nova", description="Compute")
    assert created["name"] == "openstack/nova"
    by_id = client.get(f"/v1/projects/{created['id']}")
    by_name = client.get("/v1/projects/openstack/nova")
    assert by_id.status_code == by_name.status_code == 200
    assert by_id.json() == by_name.json() == created
    assert created["created_at"].endswith("+00:00")


def test_creating_a_project_needs_a_superuser(client: TestClient, factory: Factory) -> None:
    user = factory.user()
    anonymous = client.post("/v1/projects", json={"name": "x"})
    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "not_authenticated"
    forbidden = client.post("/v1/projects", json={"name": "x"}, headers=user.headers)
    assert forbidden.status_code == 403
    assert client.get("/v1/projects").json() == []


def test_duplicate_name_is_a_conflict_and_writes_nothing(
    client: TestClient, factory: Factory
) -> None:
    admin = factory.admin()
    factory.project(admin, name="openstack/nova")
    again = client.post("/v1/projects", json={"name": "OpenStack/Nova"}, headers=admin.headers)
    assert again.status_code == 409
    assert again.json()["details"] == {"field": "name"}
    assert client.get("/v1/projects").headers["X-Total"] == "1"


def test_validation_error_names_the_field(client: TestClient, factory: Factory) -> None:
    admin = factory.admin()
    response = client.post("/v1/projects", json={"name": "has space"}, headers=admin.headers)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_input"
    assert body["details"][0]["field"] == "name"
    assert body["faultstring"] == body["message"]


def test_list_filters_paging_and_headers(client: TestClient, factory: Factory) -> None:
    admin = factory.admin()
    ids = [factory.project(admin, name=f"org/p{i}")["id"] for i in range(5)]
    factory.project(admin, name="other/q")
    page = client.get("/v1/projects", params={"name": "org/", "limit": 2})
    assert page.status_code == 200
    assert [p["id"] for p in page.json()] == ids[:2]
    assert page.headers["X-Total"] == "5"
    assert page.headers["X-Limit"] == "2"
    after = client.get("/v1/projects", params={"name": "org/", "limit": 2, "marker": ids[1]})
    assert [p["id"] for p in after.json()] == ids[2:4]
    assert after.headers["X-Marker"] == str(ids[1])
    offset = client.get("/v1/projects", params={"name": "org/", "limit": 2, "offset": 4})
    assert [p["id"] for p in offset.json()] == ids[4:]
    desc = client.get("/v1/projects", params={"sort_field": "name", "sort_dir": "desc", "limit": 3})
    assert [p["name"] for p in desc.json()] == ["other/q", "org/p4", "org/p3"]
    marker_desc = client.get(
        "/v1/projects",
        params={"sort_field": "name", "sort_dir": "desc", "limit": 2, "marker": ids[3]},
    )
    assert [p["name"] for p in marker_desc.json()] == ["org/p2", "org/p1"]


def test_unknown_argument_and_bad_sort_are_rejected(client: TestClient) -> None:
    unknown = client.get("/v1/projects", params={"nmae": "x"})
    assert unknown.status_code == 400
    assert "Unknown argument: nmae" in unknown.json()["message"]
    bad_sort = client.get("/v1/projects", params={"sort_field": "password"})
    assert bad_sort.status_code == 400
    assert bad_sort.json()["details"][0]["field"] == "sort_field"


def test_project_has_a_master_branch(container: object, factory: Factory) -> None:
    from sqlalchemy import select

    from storyline.tracker.models import Branch

    admin = factory.admin()
    project = factory.project(admin)
    with factory.container.db.read() as session:
        names = session.scalars(select(Branch.name).where(Branch.project_id == project["id"]))
        assert list(names) == ["master"]


def test_update_project(client: TestClient, factory: Factory) -> None:
    admin = factory.admin()
    project = factory.project(admin, name="org/a")
    response = client.put(
        f"/v1/projects/{project['id']}",
        json={**project, "description": "new"},
        headers=admin.headers,
    )
    assert response.status_code == 200
    assert response.json()["description"] == "new"
    assert response.json()["name"] == "org/a"


def test_project_groups_and_membership(client: TestClient, factory: Factory) -> None:
    admin = factory.admin()
    nova = factory.project(admin, name="openstack/nova")
    factory.project(admin, name="openstack/swift")
    group = client.post(
        "/v1/project_groups", json={"name": "compute", "title": "Compute"}, headers=admin.headers
    ).json()
    added = client.put(
        f"/v1/project_groups/{group['id']}/projects/{nova['id']}", headers=admin.headers
    )
    assert added.status_code == 200
    members = client.get(f"/v1/project_groups/{group['id']}/projects").json()
    assert [p["name"] for p in members] == ["openstack/nova"]
    filtered = client.get("/v1/projects", params={"project_group_id": group["id"]}).json()
    assert [p["id"] for p in filtered] == [nova["id"]]
    assert client.get("/v1/project_groups/compute").json()["id"] == group["id"]
    removed = client.delete(
        f"/v1/project_groups/{group['id']}/projects/{nova['id']}", headers=admin.headers
    )
    assert removed.status_code == 204
    assert client.get(f"/v1/project_groups/{group['id']}/projects").json() == []


def test_invalid_update_is_400_naming_the_field_and_changes_nothing(
    client: TestClient, factory: Factory
) -> None:
    admin = factory.admin()
    project = factory.project(admin, name="org/a")
    response = client.put(
        f"/v1/projects/{project['id']}", json={"name": "bad name"}, headers=admin.headers
    )
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "name"
    assert client.get(f"/v1/projects/{project['id']}").json()["name"] == "org/a"
    group = client.post("/v1/project_groups", json={"name": "g"}, headers=admin.headers).json()
    bad_group = client.put(
        f"/v1/project_groups/{group['id']}", json={"name": ""}, headers=admin.headers
    )
    assert bad_group.status_code == 400
    assert bad_group.json()["details"][0]["field"] == "name"
