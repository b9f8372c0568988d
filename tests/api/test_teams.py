from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests import factories
from tests.factories import Factory


def _team(client: TestClient, admin: factories.TestUser, name: str, **fields: Any) -> Any:
    response = client.post("/v1/teams", json={"name": name, **fields}, headers=admin.headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_create_get_by_id_and_name(client: TestClient, factory: Factory) -> None:
    admin = factory.admin()
    team = _team(client, admin, "storyboard-core", description="Core reviewers")
    assert team["name"] == "storyboard-core"
    assert team["description"] == "Core reviewers"
    assert team["security"] is False
    by_id = client.get(f"/v1/teams/{team['id']}")
    by_name = client.get("/v1/teams/storyboard-core")
    assert by_id.status_code == by_name.status_code == 200
    assert by_id.json() == by_name.json() == team
    assert client.get("/v1/teams/missing").status_code == 404
    assert client.get("/v1/teams/999").status_code == 404


def test_writes_are_for_admins(client: TestClient, factory: Factory) -> None:
    admin = factory.admin()
    alice = factory.user()
    assert client.post("/v1/teams", json={"name": "t"}).status_code == 401
    assert client.post("/v1/teams", json={"name": "t"}, headers=alice.headers).status_code == 403
    team = _team(client, admin, "vmt", security=True)
    url = f"/v1/teams/{team['id']}"
    assert client.put(url, json={"name": "x"}, headers=alice.headers).status_code == 403
    assert client.delete(url, headers=alice.headers).status_code == 403
    assert client.put(f"{url}/users/{alice.id}", headers=alice.headers).status_code == 403
    assert client.get(f"{url}/users").json() == []


def test_validation_and_duplicates(client: TestClient, factory: Factory) -> None:
    admin = factory.admin()
    _team(client, admin, "core")
    duplicate = client.post("/v1/teams", json={"name": "CORE"}, headers=admin.headers)
    assert duplicate.status_code == 409
    assert duplicate.json()["details"] == {"field": "name"}
    for name in ("", "has space", "a/b", "123"):
        response = client.post("/v1/teams", json={"name": name}, headers=admin.headers)
        assert response.status_code == 400, name
        assert response.json()["details"][0]["field"] == "name"
    missing = client.post("/v1/teams", json={"description": "x"}, headers=admin.headers)
    assert missing.status_code == 400
    assert missing.json()["details"][0]["field"] == "name"


def test_update_and_delete(client: TestClient, factory: Factory) -> None:
    admin = factory.admin()
    team = _team(client, admin, "old-name")
    other = _team(client, admin, "other")
    url = f"/v1/teams/{team['id']}"
    renamed = client.put(
        url, json={**team, "name": "new-name", "security": True}, headers=admin.headers
    )
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "new-name"
    assert renamed.json()["security"] is True
    clash = client.put(url, json={"name": other["name"]}, headers=admin.headers)
    assert clash.status_code == 409
    invalid = client.put(url, json={"name": "bad name"}, headers=admin.headers)
    assert invalid.status_code == 400
    assert invalid.json()["details"][0]["field"] == "name"
    alice = factory.user()
    client.put(f"{url}/users/{alice.id}", headers=admin.headers)
    assert client.delete(url, headers=admin.headers).status_code == 204
    assert client.get(url).status_code == 404
    assert client.delete(url, headers=admin.headers).status_code == 404
    # The member's account is untouched.
    assert client.get(f"/v1/users/{alice.id}").status_code == 200


def test_members(client: TestClient, factory: Factory) -> None:
    admin = factory.admin()
    alice = factory.user(name="Alice")
    bob = factory.user(name="Bob")
    team = _team(client, admin, "core")
    url = f"/v1/teams/{team['id']}/users"
    # python-storyboardclient: PUT /teams/{id}/users/{user_id}.
    added = client.put(f"{url}/{alice.id}", headers=admin.headers)
    assert added.status_code == 200
    assert added.json()["id"] == alice.id
    # Adding twice is harmless.
    assert client.put(f"{url}/{alice.id}", headers=admin.headers).status_code == 200
    # The id may also come in the query string or the body.
    assert client.put(url, params={"user_id": bob.id}, headers=admin.headers).status_code == 200
    members = client.get(url).json()
    assert client.get(f"{url}/{bob.id}").json()["id"] == bob.id
    assert [m["id"] for m in members] == [alice.id, bob.id]
    # Members are users: private fields stay hidden from anonymous readers.
    assert all(m["email"] is None for m in members)
    assert client.get(url, headers=alice.headers).json()[0]["email"] == alice.email
    assert client.delete(f"{url}/{bob.id}", headers=admin.headers).status_code == 204
    assert client.delete(f"{url}/{bob.id}", headers=admin.headers).status_code == 404
    assert client.get(f"{url}/{bob.id}").status_code == 404
    assert client.put(url, json={"user_id": bob.id}, headers=admin.headers).status_code == 200
    removed = client.request("DELETE", url, params={"user_id": bob.id}, headers=admin.headers)
    assert removed.status_code == 204
    assert [m["id"] for m in client.get(url).json()] == [alice.id]
    assert client.put(f"{url}/999", headers=admin.headers).status_code == 404
    missing_id = client.put(url, headers=admin.headers)
    assert missing_id.status_code == 400
    assert missing_id.json()["details"][0]["field"] == "user_id"
    assert client.get("/v1/teams/999/users").status_code == 404


def test_projects_and_project_filter(client: TestClient, factory: Factory) -> None:
    admin = factory.admin()
    nova = factory.project(admin, name="openstack/nova")
    swift = factory.project(admin, name="openstack/swift")
    core = _team(client, admin, "nova-core", description="Nova reviewers")
    vmt = _team(client, admin, "vmt", description="Vulnerability management")
    url = f"/v1/teams/{core['id']}/projects"
    added = client.put(f"{url}/{nova['id']}", headers=admin.headers)
    assert added.status_code == 200
    assert added.json()["name"] == "openstack/nova"
    assert client.put(f"{url}/{nova['id']}", headers=admin.headers).status_code == 200
    client.put(
        f"/v1/teams/{vmt['id']}/projects", params={"project_id": nova["id"]}, headers=admin.headers
    )
    client.put(f"/v1/teams/{vmt['id']}/projects/{swift['id']}", headers=admin.headers)
    assert [p["name"] for p in client.get(url).json()] == ["openstack/nova"]
    for_nova = client.get("/v1/teams", params={"project_id": nova["id"]}).json()
    assert [t["name"] for t in for_nova] == ["nova-core", "vmt"]
    for_swift = client.get("/v1/teams", params={"project_id": swift["id"]}).json()
    assert [t["name"] for t in for_swift] == ["vmt"]
    assert client.put(f"{url}/999", headers=admin.headers).status_code == 404
    assert client.delete(f"{url}/{nova['id']}", headers=admin.headers).status_code == 204
    assert client.get(url).json() == []
    assert client.delete(f"{url}/{nova['id']}", headers=admin.headers).status_code == 404


def test_list_filters_paging_and_sort(client: TestClient, factory: Factory) -> None:
    admin = factory.admin()
    ids = [_team(client, admin, f"team-{i}", description=f"group {i}")["id"] for i in range(4)]
    _team(client, admin, "zeta", description="the last one")
    page = client.get("/v1/teams", params={"name": "team-", "limit": 2})
    assert [t["id"] for t in page.json()] == ids[:2]
    assert page.headers["X-Total"] == "4"
    assert page.headers["X-Limit"] == "2"
    after = client.get("/v1/teams", params={"name": "team-", "limit": 2, "marker": ids[1]})
    assert [t["id"] for t in after.json()] == ids[2:]
    described = client.get("/v1/teams", params={"description": "LAST"}).json()
    assert [t["name"] for t in described] == ["zeta"]
    desc = client.get("/v1/teams", params={"sort_field": "name", "sort_dir": "desc", "limit": 2})
    assert [t["name"] for t in desc.json()] == ["zeta", "team-3"]
    offset = client.get("/v1/teams", params={"offset": 4})
    assert [t["name"] for t in offset.json()] == ["zeta"]
    assert client.get("/v1/teams", params={"sort_field": "security"}).status_code == 400
    assert client.get("/v1/teams", params={"user": "x"}).status_code == 400
