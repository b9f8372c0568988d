from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from storyline.accounts.models import AccessToken, AuditEvent
from tests import factories
from tests.factories import Factory


def _mint(client: TestClient, owner: factories.TestUser, **body: Any) -> dict[str, Any]:
    response = client.post(f"/v1/users/{owner.id}/tokens", json=body, headers=owner.headers)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _bearer(token: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {token['access_token']}"}


def test_create_shows_the_secret_once_and_stores_only_its_hash(
    client: TestClient, factory: Factory
) -> None:
    alice = factory.user()
    token = _mint(client, alice, name="ci bot", expires_in=3600)
    secret = token["access_token"]
    assert secret.startswith("sl_")
    assert token["user_id"] == alice.id
    assert token["name"] == "ci bot"
    assert token["scope"] == "write"
    assert token["expires_in"] == 3600
    assert token["prefix"] == secret[:8]
    created = dt.datetime.fromisoformat(token["created_at"])
    expires = dt.datetime.fromisoformat(token["expires_at"])
    assert abs((expires - created).total_seconds() - 3600) <= 1
    # The new token works.
    assert client.get("/v1/users/self", headers=_bearer(token)).json()["id"] == alice.id

    again = client.get(f"/v1/users/{alice.id}/tokens/{token['id']}", headers=alice.headers)
    assert again.status_code == 200
    assert again.json()["access_token"] is None
    assert again.json()["prefix"] == secret[:8]
    listed = client.get(f"/v1/users/{alice.id}/tokens", headers=alice.headers)
    assert listed.headers["X-Total"] == "2"
    assert all(t["access_token"] is None for t in listed.json())
    assert secret not in listed.text
    with factory.container.db.read() as session:
        stored = session.scalars(select(AccessToken.token_hash)).all()
    assert secret not in stored


def test_tokens_default_to_no_expiry(client: TestClient, factory: Factory) -> None:
    alice = factory.user()
    token = _mint(client, alice)
    assert token["expires_in"] is None
    assert token["expires_at"] is None
    assert token["last_used_at"] is None


def test_storyboard_client_shape_is_accepted(client: TestClient, factory: Factory) -> None:
    # python-storyboardclient's user_tokens.create(user_id=..., expires_in=...).
    alice = factory.user()
    token = _mint(client, alice, user_id=alice.id, expires_in=600)
    assert token["expires_in"] == 600
    wrong_user = client.post(
        f"/v1/users/{alice.id}/tokens",
        json={"user_id": alice.id + 1000, "expires_in": 60},
        headers=alice.headers,
    )
    assert wrong_user.status_code == 400
    assert wrong_user.json()["details"][0]["field"] == "user_id"
    chosen_secret = client.post(
        f"/v1/users/{alice.id}/tokens",
        json={"access_token": "my-own-secret", "expires_in": 60},
        headers=alice.headers,
    )
    assert chosen_secret.status_code == 400
    assert chosen_secret.json()["details"][0]["field"] == "access_token"


def test_validation_errors_name_the_field(client: TestClient, factory: Factory) -> None:
    alice = factory.user()
    url = f"/v1/users/{alice.id}/tokens"
    cases = [
        ({"expires_in": 0}, "expires_in"),
        ({"expires_in": "soon"}, "expires_in"),
        ({"scope": "admin"}, "scope"),
        ({"name": "x" * 256}, "name"),
        ({"expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
        ({"expires_at": "2099-01-01T00:00:00"}, "expires_at"),
        ({"expires_in": 60, "expires_at": "2099-01-01T00:00:00Z"}, "expires_at"),
    ]
    for body, field in cases:
        response = client.post(url, json=body, headers=alice.headers)
        assert response.status_code == 400, body
        assert response.json()["details"][0]["field"] == field, body
    assert client.get(url, headers=alice.headers).headers["X-Total"] == "1"


def test_expires_at_may_be_given_as_a_date(client: TestClient, factory: Factory) -> None:
    alice = factory.user()
    token = _mint(client, alice, expires_at="2099-06-01T12:00:00+02:00")
    assert token["expires_at"] == "2099-06-01T10:00:00+00:00"
    assert token["expires_in"] > 0


def test_users_manage_only_their_own_tokens_admins_anyones(
    client: TestClient, factory: Factory
) -> None:
    admin = factory.admin()
    alice = factory.user()
    bob = factory.user()
    url = f"/v1/users/{alice.id}/tokens"
    assert client.get(url).status_code == 401
    assert client.get(url, headers=bob.headers).status_code == 403
    assert client.post(url, json={}, headers=bob.headers).status_code == 403
    assert client.delete(f"{url}/delete_all", headers=bob.headers).status_code == 403
    alice_token_id = client.get(url, headers=alice.headers).json()[0]["id"]
    assert client.get(f"{url}/{alice_token_id}", headers=bob.headers).status_code == 403
    # Alice's token id is unknown under Bob's account.
    assert (
        client.get(f"/v1/users/{bob.id}/tokens/{alice_token_id}", headers=bob.headers).status_code
        == 404
    )
    # Administrators may mint and see anyone's tokens.
    for_alice = client.post(url, json={"name": "by admin"}, headers=admin.headers)
    assert for_alice.status_code == 200
    assert for_alice.json()["user_id"] == alice.id
    assert client.get(url, headers=admin.headers).headers["X-Total"] == "2"
    assert client.get("/v1/users/999/tokens", headers=admin.headers).status_code == 404


def test_revoked_token_is_refused(client: TestClient, factory: Factory) -> None:
    alice = factory.user()
    token = _mint(client, alice, name="to revoke")
    deleted = client.delete(f"/v1/users/{alice.id}/tokens/{token['id']}", headers=alice.headers)
    assert deleted.status_code == 204
    refused = client.get("/v1/users/self", headers=_bearer(token))
    assert refused.status_code == 401
    assert refused.json()["code"] == "not_authenticated"
    assert "revoked" in refused.json()["message"]
    assert refused.headers["WWW-Authenticate"] == "Bearer"
    # Even for reads of public data: a bad token is an error, not anonymity.
    assert client.get("/v1/projects", headers=_bearer(token)).status_code == 401
    again = client.delete(f"/v1/users/{alice.id}/tokens/{token['id']}", headers=alice.headers)
    assert again.status_code == 404


def test_expired_token_is_refused(client: TestClient, factory: Factory) -> None:
    alice = factory.user()
    token = _mint(client, alice, expires_in=3600)
    assert client.get("/v1/users/self", headers=_bearer(token)).status_code == 200
    with factory.container.db.write() as session:
        session.execute(
            update(AccessToken)
            .where(AccessToken.id == token["id"])
            .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
    refused = client.get("/v1/users/self", headers=_bearer(token))
    assert refused.status_code == 401
    assert "expired" in refused.json()["message"]


def test_delete_all_revokes_every_token(client: TestClient, factory: Factory) -> None:
    alice = factory.user()
    bob = factory.user()
    first = _mint(client, alice)
    second = _mint(client, alice)
    response = client.delete(f"/v1/users/{alice.id}/tokens/delete_all", headers=_bearer(first))
    assert response.status_code == 204
    for token in (first, second):
        assert client.get("/v1/users/self", headers=_bearer(token)).status_code == 401
    assert client.get("/v1/users/self", headers=alice.headers).status_code == 401
    # Other users keep theirs.
    assert client.get("/v1/users/self", headers=bob.headers).status_code == 200


def test_read_only_token_reads_but_cannot_write(client: TestClient, factory: Factory) -> None:
    admin = factory.admin()
    alice = factory.user()
    read_only = _mint(client, alice, scope="read", name="dashboard")
    assert read_only["scope"] == "read"
    headers = _bearer(read_only)
    assert client.get("/v1/users/self", headers=headers).status_code == 200
    assert client.get(f"/v1/users/{alice.id}/tokens", headers=headers).status_code == 200
    # It cannot mint a write token for itself, nor change or revoke anything.
    escalate = client.post(f"/v1/users/{alice.id}/tokens", json={"scope": "write"}, headers=headers)
    assert escalate.status_code == 403
    assert "read-only" in escalate.json()["message"]
    upgrade = client.put(
        f"/v1/users/{alice.id}/tokens/{read_only['id']}", json={"scope": "write"}, headers=headers
    )
    assert upgrade.status_code == 403
    assert (
        client.delete(f"/v1/users/{alice.id}/tokens/delete_all", headers=headers).status_code == 403
    )
    # A read-only token of an administrator cannot write either.
    admin_read = _mint(client, admin, scope="read")
    project = client.post("/v1/projects", json={"name": "org/x"}, headers=_bearer(admin_read))
    assert project.status_code == 403


def test_update_name_scope_and_expiry(client: TestClient, factory: Factory) -> None:
    alice = factory.user()
    token = _mint(client, alice, name="old", expires_in=3600)
    url = f"/v1/users/{alice.id}/tokens/{token['id']}"
    # A whole object sent back with one change (as StoryBoard clients do).
    current = client.get(url, headers=alice.headers).json()
    renamed = client.put(url, json={**current, "name": "new"}, headers=alice.headers)
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "new"
    assert renamed.json()["expires_in"] == 3600
    assert renamed.json()["expires_at"] == current["expires_at"]
    # StoryBoard's PUT: only expires_in, counted from creation.
    longer = client.put(url, json={"expires_in": 7200}, headers=alice.headers)
    assert longer.json()["expires_in"] == 7200
    dated = client.put(url, json={"expires_at": "2098-01-01T00:00:00Z"}, headers=alice.headers)
    assert dated.json()["expires_at"] == "2098-01-01T00:00:00+00:00"
    never = client.put(url, json={"expires_at": None}, headers=alice.headers)
    assert never.json()["expires_at"] is None
    assert never.json()["expires_in"] is None
    downgraded = client.put(url, json={"scope": "read"}, headers=alice.headers)
    assert downgraded.json()["scope"] == "read"
    bad = client.put(url, json={"scope": "root"}, headers=alice.headers)
    assert bad.status_code == 400
    assert bad.json()["details"][0]["field"] == "scope"
    past = client.put(url, json={"expires_at": "2000-01-01T00:00:00Z"}, headers=alice.headers)
    assert past.status_code == 400
    assert past.json()["details"][0]["field"] == "expires_at"
    # Secrets are never changed or shown by an update.
    assert downgraded.json()["access_token"] is None
    assert client.get("/v1/users/self", headers=_bearer(token)).status_code == 200


def test_last_used_at_is_recorded(client: TestClient, factory: Factory) -> None:
    alice = factory.user()
    token = _mint(client, alice)
    client.get("/v1/projects", headers=_bearer(token))
    seen = client.get(f"/v1/users/{alice.id}/tokens/{token['id']}", headers=alice.headers).json()
    assert seen["last_used_at"] is not None


def test_token_list_paging(client: TestClient, factory: Factory) -> None:
    alice = factory.user()
    ids = [_mint(client, alice, name=f"t{i}")["id"] for i in range(3)]
    url = f"/v1/users/{alice.id}/tokens"
    page = client.get(url, params={"limit": 2, "sort_dir": "desc"}, headers=alice.headers)
    assert [t["id"] for t in page.json()] == [ids[2], ids[1]]
    assert page.headers["X-Total"] == "4"
    assert page.headers["X-Limit"] == "2"
    by_name = client.get(url, params={"sort_field": "name"}, headers=alice.headers).json()
    assert [t["name"] for t in by_name][-3:] == ["t0", "t1", "t2"]
    bad = client.get(url, params={"sort_field": "token_hash"}, headers=alice.headers)
    assert bad.status_code == 400


def test_token_creation_and_revocation_are_audited(client: TestClient, factory: Factory) -> None:
    user = factory.user()
    created = client.post(
        f"/v1/users/{user.id}/tokens", json={"name": "bot"}, headers=user.headers
    ).json()
    revoked = client.delete(f"/v1/users/{user.id}/tokens/{created['id']}", headers=user.headers)
    assert revoked.status_code == 204
    with factory.container.db.read() as session:
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.user_id == user.id).order_by(AuditEvent.id)
        ).all()
        kinds = [(row.event_type, row.details) for row in rows]
    assert [kind for kind, _ in kinds if kind != "token_used"][-2:] == [
        "token_created",
        "token_revoked",
    ]
    assert f'"token_id": {created["id"]}' in kinds[-1][1]
