from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from storyline.accounts.models import UserPreference
from tests.factories import Factory


def test_values_keep_their_json_types(client: TestClient, factory: Factory) -> None:
    alice = factory.user()
    url = f"/v1/users/{alice.id}/preferences"
    assert client.get(url, headers=alice.headers).json() == {}
    body = {
        "plugin_email_enable": True,
        "plugin_email_digest": False,
        "page_size": 50,
        "ratio": 0.25,
        "theme": "dark",
        "numeric_text": "42",
        "true_text": "true",
    }
    saved = client.post(url, json=body, headers=alice.headers)
    assert saved.status_code == 200
    assert saved.json() == body
    read = client.get(url, headers=alice.headers).json()
    assert read == body
    # Exact types, not values that merely compare equal.
    assert read["plugin_email_enable"] is True
    assert read["plugin_email_digest"] is False
    assert type(read["page_size"]) is int
    assert type(read["ratio"]) is float
    assert read["numeric_text"] == "42"
    assert read["true_text"] == "true"
    with factory.container.db.read() as session:
        types = dict(
            session.execute(
                select(UserPreference.key, UserPreference.type).where(
                    UserPreference.user_id == alice.id
                )
            ).all()
        )
    assert types["plugin_email_enable"] == "bool"
    assert types["page_size"] == "int"
    assert types["ratio"] == "float"
    assert types["true_text"] == "string"


def test_post_merges_and_null_deletes(client: TestClient, factory: Factory) -> None:
    alice = factory.user()
    url = f"/v1/users/{alice.id}/preferences"
    client.post(url, json={"a": 1, "b": "x", "c": True}, headers=alice.headers)
    merged = client.post(url, json={"b": "y", "c": None, "d": 2.5}, headers=alice.headers)
    assert merged.json() == {"a": 1, "b": "y", "d": 2.5}
    # A value may change type.
    retyped = client.post(url, json={"a": "one"}, headers=alice.headers)
    assert retyped.json()["a"] == "one"
    # Deleting a key that does not exist is not an error.
    assert client.post(url, json={"zzz": None}, headers=alice.headers).status_code == 200


def test_only_the_user_or_an_admin(client: TestClient, factory: Factory) -> None:
    admin = factory.admin()
    alice = factory.user()
    bob = factory.user()
    url = f"/v1/users/{alice.id}/preferences"
    client.post(url, json={"theme": "dark"}, headers=alice.headers)
    assert client.get(url).status_code == 401
    assert client.post(url, json={"x": 1}).status_code == 401
    assert client.get(url, headers=bob.headers).status_code == 403
    assert client.post(url, json={"x": 1}, headers=bob.headers).status_code == 403
    assert client.get(url, headers=admin.headers).json() == {"theme": "dark"}
    by_admin = client.post(url, json={"theme": "light"}, headers=admin.headers)
    assert by_admin.json() == {"theme": "light"}
    assert client.get("/v1/users/999/preferences", headers=admin.headers).status_code == 404


def test_read_only_token_reads_but_cannot_set(client: TestClient, factory: Factory) -> None:
    alice = factory.user()
    minted = client.post(
        f"/v1/users/{alice.id}/tokens", json={"scope": "read"}, headers=alice.headers
    ).json()
    headers = {"Authorization": f"Bearer {minted['access_token']}"}
    url = f"/v1/users/{alice.id}/preferences"
    assert client.get(url, headers=headers).status_code == 200
    assert client.post(url, json={"x": 1}, headers=headers).status_code == 403


def test_validation_names_the_key(client: TestClient, factory: Factory) -> None:
    alice = factory.user()
    url = f"/v1/users/{alice.id}/preferences"
    cases = [
        ({"": 1}, ""),
        ({"   ": 1}, "   "),
        ({"k" * 101: 1}, "k" * 101),
        ({"nested": {"a": 1}}, "nested"),
        ({"listed": [1, 2]}, "listed"),
        ({"huge": 2**64}, "huge"),
        ({"long": "x" * 10_001}, "long"),
    ]
    for body, field in cases:
        response = client.post(url, json=body, headers=alice.headers)
        assert response.status_code == 400, body
        assert response.json()["code"] == "invalid_input"
        assert response.json()["details"][0]["field"] == field, body
    # One bad key rejects the whole request.
    mixed = client.post(url, json={"ok": 1, "bad": [1]}, headers=alice.headers)
    assert mixed.status_code == 400
    assert client.get(url, headers=alice.headers).json() == {}
    not_object = client.post(url, json=[1, 2], headers=alice.headers)
    assert not_object.status_code == 400
    nan = client.post(
        url,
        content=b'{"x": NaN}',
        headers={"Content-Type": "application/json", **alice.headers},
    )
    assert nan.status_code == 400
    assert client.get(url, headers=alice.headers).json() == {}
    assert client.post(url, json={"k" * 100: 1}, headers=alice.headers).status_code == 200


def test_storyboard_rows_written_as_python_text_read_back_typed(
    client: TestClient, factory: Factory
) -> None:
    # StoryBoard stored booleans as "True"/"False"; imported rows keep working.
    alice = factory.user()
    with factory.container.db.write() as session:
        session.add_all(
            [
                UserPreference(
                    user_id=alice.id, key="plugin_email_enable", value="True", type="bool"
                ),
                UserPreference(user_id=alice.id, key="digest", value="False", type="bool"),
                UserPreference(user_id=alice.id, key="size", value="oops", type="int"),
            ]
        )
    prefs = client.get(f"/v1/users/{alice.id}/preferences", headers=alice.headers).json()
    assert prefs == {"plugin_email_enable": True, "digest": False, "size": "oops"}
