from __future__ import annotations

from fastapi.testclient import TestClient

from tests.factories import Factory
from tests.queries import count_queries


def test_user_is_public_but_private_fields_only_for_self_and_admins(
    client: TestClient, factory: Factory
) -> None:
    admin = factory.admin()
    alice = factory.user(name="Alice")
    bob = factory.user(name="Bob")

    anonymous = client.get(f"/v1/users/{alice.id}")
    assert anonymous.status_code == 200
    body = anonymous.json()
    assert body["full_name"] == "Alice"
    assert body["email"] is None
    assert body["openid"] is None
    assert body["last_login"] is None
    assert body["created_at"].endswith("+00:00")
    assert "token_hash" not in body
    assert "password" not in str(body)

    assert client.get(f"/v1/users/{alice.id}", headers=bob.headers).json()["email"] is None
    assert client.get(f"/v1/users/{alice.id}", headers=alice.headers).json()["email"] == (
        alice.email
    )
    assert client.get(f"/v1/users/{alice.id}", headers=admin.headers).json()["email"] == (
        alice.email
    )
    listed = client.get("/v1/users", headers=bob.headers).json()
    emails = {user["id"]: user["email"] for user in listed}
    assert emails == {admin.id: None, alice.id: None, bob.id: bob.email}


def test_self_needs_a_token(client: TestClient, factory: Factory) -> None:
    alice = factory.user(name="Alice")
    anonymous = client.get("/v1/users/self")
    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "not_authenticated"
    me = client.get("/v1/users/self", headers=alice.headers)
    assert me.status_code == 200
    assert me.json()["id"] == alice.id
    assert me.json()["email"] == alice.email


def test_unknown_user_is_404(client: TestClient) -> None:
    response = client.get("/v1/users/999")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert client.get("/v1/users/nobody").status_code == 404


def test_list_filters_paging_and_sort(client: TestClient, factory: Factory) -> None:
    admin = factory.admin()
    ids = [factory.user(name=f"Dev {i}").id for i in range(5)]
    factory.user(name="Someone Else")
    page = client.get("/v1/users", params={"full_name": "dev", "limit": 2})
    assert page.status_code == 200
    assert [u["id"] for u in page.json()] == ids[:2]
    assert page.headers["X-Total"] == "5"
    assert page.headers["X-Limit"] == "2"
    after = client.get("/v1/users", params={"full_name": "dev", "limit": 2, "marker": ids[1]})
    assert [u["id"] for u in after.json()] == ids[2:4]
    assert after.headers["X-Marker"] == str(ids[1])
    offset = client.get("/v1/users", params={"full_name": "dev", "offset": 4, "limit": 10})
    assert [u["id"] for u in offset.json()] == ids[4:]
    assert offset.headers["X-Offset"] == "4"
    by_name = client.get(
        "/v1/users", params={"sort_field": "full_name", "sort_dir": "desc", "limit": 2}
    )
    assert [u["full_name"] for u in by_name.json()] == ["Someone Else", "Dev 4"]
    # Wildcards typed by a user match literally.
    assert client.get("/v1/users", params={"full_name": "%"}).json() == []
    assert client.get("/v1/users", headers=admin.headers).headers["X-Total"] == "7"


def test_filtering_or_sorting_by_private_fields_is_for_admins(
    client: TestClient, factory: Factory
) -> None:
    admin = factory.admin()
    alice = factory.user(name="Alice")
    for headers in ({}, alice.headers):
        by_email = client.get("/v1/users", params={"email": alice.email}, headers=headers)
        assert by_email.status_code == 403
        assert by_email.json()["details"][0]["field"] == "email"
        sorted_by_email = client.get("/v1/users", params={"sort_field": "email"}, headers=headers)
        assert sorted_by_email.status_code == 400
        assert sorted_by_email.json()["details"][0]["field"] == "sort_field"
    found = client.get("/v1/users", params={"email": alice.email}, headers=admin.headers)
    assert found.status_code == 200
    assert [u["id"] for u in found.json()] == [alice.id]
    ordered = client.get(
        "/v1/users", params={"sort_field": "email", "sort_dir": "desc"}, headers=admin.headers
    )
    assert ordered.status_code == 200


def test_unknown_argument_is_rejected(client: TestClient) -> None:
    response = client.get("/v1/users", params={"username": "x"})
    assert response.status_code == 400
    assert "Unknown argument: username" in response.json()["message"]


def test_creating_users_is_for_admins(client: TestClient, factory: Factory) -> None:
    admin = factory.admin()
    alice = factory.user()
    body = {"full_name": "New Person", "email": "new@example.org"}
    assert client.post("/v1/users", json=body).status_code == 401
    assert client.post("/v1/users", json=body, headers=alice.headers).status_code == 403
    created = client.post("/v1/users", json=body, headers=admin.headers)
    assert created.status_code == 200
    user = created.json()
    assert user["full_name"] == "New Person"
    assert user["email"] == "new@example.org"
    assert user["is_superuser"] is False
    assert user["enable_login"] is True
    duplicate = client.post(
        "/v1/users",
        json={"full_name": "Again", "email": "NEW@example.org"},
        headers=admin.headers,
    )
    assert duplicate.status_code == 409
    assert duplicate.json()["details"] == {"field": "email"}


def test_create_user_validation_names_the_field(client: TestClient, factory: Factory) -> None:
    admin = factory.admin()
    missing = client.post("/v1/users", json={"email": "x@example.org"}, headers=admin.headers)
    assert missing.status_code == 400
    assert missing.json()["details"][0]["field"] == "full_name"
    bad_email = client.post(
        "/v1/users", json={"full_name": "X", "email": "not-an-address"}, headers=admin.headers
    )
    assert bad_email.status_code == 400
    assert bad_email.json()["details"][0]["field"] == "email"
    too_long = client.post("/v1/users", json={"full_name": "x" * 256}, headers=admin.headers)
    assert too_long.status_code == 400
    assert too_long.json()["details"][0]["field"] == "full_name"


def test_user_changes_own_name_and_may_send_the_whole_object_back(
    client: TestClient, factory: Factory
) -> None:
    alice = factory.user(name="Alice")
    me = client.get("/v1/users/self", headers=alice.headers).json()
    response = client.put(
        f"/v1/users/{alice.id}", json={**me, "full_name": "Alice Liddell"}, headers=alice.headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["full_name"] == "Alice Liddell"
    assert client.get(f"/v1/users/{alice.id}").json()["full_name"] == "Alice Liddell"


def test_user_may_not_change_identity_or_privileges(client: TestClient, factory: Factory) -> None:
    factory.admin()
    alice = factory.user(name="Alice")
    bob = factory.user(name="Bob")
    other = client.put(f"/v1/users/{bob.id}", json={"full_name": "Hacked"}, headers=alice.headers)
    assert other.status_code == 403
    for field, value in (
        ("is_superuser", True),
        ("email", "else@example.org"),
        ("openid", "https://id.example/alice"),
        ("enable_login", False),
        ("is_active", False),
    ):
        response = client.put(f"/v1/users/{alice.id}", json={field: value}, headers=alice.headers)
        assert response.status_code == 403, field
        assert response.json()["details"][0]["field"] == field
    assert client.put(f"/v1/users/{alice.id}", json={"full_name": "x"}).status_code == 401
    unchanged = client.get("/v1/users/self", headers=alice.headers).json()
    assert unchanged["is_superuser"] is False
    assert unchanged["email"] == alice.email


def test_admin_changes_privileges_and_login(client: TestClient, factory: Factory) -> None:
    admin = factory.admin()
    alice = factory.user(name="Alice")
    promoted = client.put(
        f"/v1/users/{alice.id}",
        json={"is_superuser": True, "email": "alice@new.example", "enable_login": False},
        headers=admin.headers,
    )
    assert promoted.status_code == 200
    assert promoted.json()["is_superuser"] is True
    assert promoted.json()["email"] == "alice@new.example"
    assert promoted.json()["enable_login"] is False
    # Alice's token now acts as an administrator.
    assert (
        client.get("/v1/users", params={"email": "new"}, headers=alice.headers).json()[0]["id"]
        == alice.id
    )
    taken = client.put(f"/v1/users/{alice.id}", json={"email": admin.email}, headers=admin.headers)
    assert taken.status_code == 409
    invalid = client.put(f"/v1/users/{alice.id}", json={"full_name": ""}, headers=admin.headers)
    assert invalid.status_code == 400
    assert invalid.json()["details"][0]["field"] == "full_name"


def test_deactivated_user_token_is_refused(client: TestClient, factory: Factory) -> None:
    admin = factory.admin()
    alice = factory.user()
    response = client.put(f"/v1/users/{alice.id}", json={"is_active": False}, headers=admin.headers)
    assert response.status_code == 200
    refused = client.get("/v1/users/self", headers=alice.headers)
    assert refused.status_code == 401
    assert "disabled" in refused.json()["message"]


def test_the_last_administrator_cannot_step_down(client: TestClient, factory: Factory) -> None:
    admin = factory.admin()
    alone = client.put(f"/v1/users/{admin.id}", json={"is_superuser": False}, headers=admin.headers)
    assert alone.status_code == 409
    second = factory.admin()
    stepped_down = client.put(
        f"/v1/users/{admin.id}", json={"is_superuser": False}, headers=second.headers
    )
    assert stepped_down.status_code == 200
    assert stepped_down.json()["is_superuser"] is False
    last = client.put(f"/v1/users/{second.id}", json={"is_active": False}, headers=second.headers)
    assert last.status_code == 409


def test_read_only_token_cannot_change_the_account(client: TestClient, factory: Factory) -> None:
    alice = factory.user(name="Alice")
    minted = client.post(
        f"/v1/users/{alice.id}/tokens", json={"scope": "read"}, headers=alice.headers
    ).json()
    read_only = {"Authorization": f"Bearer {minted['access_token']}"}
    assert client.get("/v1/users/self", headers=read_only).status_code == 200
    refused = client.put(f"/v1/users/{alice.id}", json={"full_name": "X"}, headers=read_only)
    assert refused.status_code == 403
    assert "read-only" in refused.json()["message"]


def test_lists_cost_the_same_number_of_queries_for_any_size(
    client: TestClient, factory: Factory
) -> None:
    admin = factory.admin()
    engine = factory.container.db.engine
    small = client.post("/v1/teams", json={"name": "small"}, headers=admin.headers).json()
    large = client.post("/v1/teams", json={"name": "large"}, headers=admin.headers).json()
    members = [factory.user() for _ in range(12)]
    client.put(f"/v1/teams/{small['id']}/users/{members[0].id}", headers=admin.headers)
    for member in members:
        client.put(f"/v1/teams/{large['id']}/users/{member.id}", headers=admin.headers)
    with count_queries(engine) as few:
        assert len(client.get("/v1/users", params={"limit": 1}).json()) == 1
        assert len(client.get(f"/v1/teams/{small['id']}/users").json()) == 1
    with count_queries(engine) as many:
        assert len(client.get("/v1/users", params={"limit": 13}).json()) == 13
        assert len(client.get(f"/v1/teams/{large['id']}/users").json()) == 12
    assert len(few) == len(many), many
    # Per list: BEGIN (SQLite), a count and a page; per team list: BEGIN, the team, the members.
    assert len(many) <= 6, many


def test_affiliation_is_public_and_written_by_the_user_or_an_administrator(
    client: TestClient, factory: Factory
) -> None:
    admin = factory.admin()
    alice, bob = factory.user(name="Alice"), factory.user(name="Bob")
    assert client.get(f"/v1/users/{alice.id}").json()["affiliation"] is None
    own = client.put(
        f"/v1/users/{alice.id}", json={"affiliation": "  Example Corp "}, headers=alice.headers
    )
    assert own.status_code == 200, own.text
    assert own.json()["affiliation"] == "Example Corp"
    # Everyone sees it, in lists too, next to StoryBoard's fields.
    listed = client.get("/v1/users", params={"full_name": "Alice"}).json()[0]
    assert listed["affiliation"] == "Example Corp"
    assert listed["full_name"] == "Alice"
    assert listed["email"] is None
    other = client.put(f"/v1/users/{alice.id}", json={"affiliation": "X"}, headers=bob.headers)
    assert other.status_code == 403
    too_long = client.put(
        f"/v1/users/{alice.id}", json={"affiliation": "x" * 101}, headers=alice.headers
    )
    assert too_long.status_code == 400
    assert too_long.json()["details"][0]["field"] == "affiliation"
    by_admin = client.put(
        f"/v1/users/{alice.id}", json={"affiliation": "Other Org"}, headers=admin.headers
    )
    assert by_admin.json()["affiliation"] == "Other Org"
    # An empty affiliation is none.
    cleared = client.put(f"/v1/users/{alice.id}", json={"affiliation": ""}, headers=alice.headers)
    assert cleared.json()["affiliation"] is None
