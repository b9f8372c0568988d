"""Users, preferences, tokens and teams through python-storyboardclient 0.2.0."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.factories import Factory
from tests.sbclient import storyboard_client


def test_users_preferences_and_tokens(client: TestClient, factory: Factory) -> None:
    factory.admin()
    alice = factory.user(name="Alice")
    sb = storyboard_client(client, alice.token)

    names = [user.full_name for user in sb.users.get_all(full_name="Ali")]
    assert names == ["Alice"]
    me = sb.users.get(alice.id)
    assert me.full_name == "Alice"

    me.user_preferences.set({"plugin_email_enable": True, "page_size": 25})
    me.user_preferences.set_one("theme", "dark")
    assert me.user_preferences.get("plugin_email_enable") is True
    prefs = me.user_preferences.get_all()
    assert (prefs.page_size, prefs.theme) == (25, "dark")

    created = me.user_tokens.create(user_id=alice.id, expires_in=3600)
    assert created.user_id == alice.id
    assert created.expires_in == 3600
    assert created.access_token.startswith("sl_")
    # The new secret works with the client too.
    assert storyboard_client(client, created.access_token).users.get(alice.id).id == alice.id
    listed = me.user_tokens.get_all()
    assert len(listed) == 2
    assert all(token.access_token is None for token in listed)
    updated = me.user_tokens.update(id=created.id, expires_in=7200)
    assert updated.expires_in == 7200
    me.user_tokens.delete(id=created.id)
    assert [token.id for token in me.user_tokens.get_all()] != [created.id]
    assert len(me.user_tokens.get_all()) == 1


def test_teams_and_members(client: TestClient, factory: Factory) -> None:
    admin = factory.admin()
    alice = factory.user(name="Alice")
    sb = storyboard_client(client, admin.token)
    team = sb.teams.create(name="storyboard-core")
    assert team.name == "storyboard-core"
    assert [t.name for t in sb.teams.get_all(name="core")] == ["storyboard-core"]
    team = sb.teams.get(team.id)
    team.users.add(alice.id)
    assert [user.full_name for user in team.users.get_all()] == ["Alice"]
    team.users.remove(alice.id)
    assert team.users.get_all() == []
