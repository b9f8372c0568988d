"""The profile area: display name, preferences, and one menu over identities,
tokens and sessions."""

from __future__ import annotations

from fastapi.testclient import TestClient

from storyline.accounts import preferences
from storyline.bootstrap import Container
from storyline.kernel.access import Actor
from storyline.web import prefs
from tests.factories import Factory, TestUser
from tests.web.signin import member_browser


def _stored(container: Container, user: TestUser) -> dict[str, object]:
    with container.db.read() as session:
        return dict(
            preferences.get_preferences(session, actor=Actor(user_id=user.id), user_id=user.id)
        )


def test_settings_pages_ask_for_sign_in_first(client: TestClient) -> None:
    for path in ("/settings", "/settings/profile", "/settings/preferences"):
        response = client.get(path, follow_redirects=True)
        assert response.url.path == "/login", path


def test_one_menu_over_every_settings_page(
    factory: Factory,
) -> None:
    browser = member_browser(factory, factory.user())
    for path in (
        "/settings/profile",
        "/settings/preferences",
        "/settings/identities",
        "/settings/tokens",
        "/account",
    ):
        page = browser.get(path)
        assert page.status_code == 200, path
        assert '<nav aria-label="Your settings"' in page.text
        assert f'<a href="{path}" aria-current="page">' in page.text


def test_change_the_display_name(
    factory: Factory,
) -> None:
    user = factory.user(name="Old Name")
    browser = member_browser(factory, user)
    response = browser.post(
        "/settings/profile", {"full_name": "New Name"}, page="/settings/profile"
    )
    assert response.status_code == 303
    page = browser.get("/settings/profile?saved=true")
    assert 'id="saved"' in page.text
    assert 'value="New Name"' in page.text
    assert ">New Name</a>" in page.text  # the header shows the new name


def test_an_empty_display_name_is_refused_next_to_the_field(
    factory: Factory,
) -> None:
    browser = member_browser(factory, factory.user(name="Kept"))
    response = browser.post("/settings/profile", {"full_name": "   "}, page="/settings/profile")
    assert response.status_code == 400
    assert 'id="f-full_name-error"' in response.text
    assert 'aria-invalid="true"' in response.text
    assert 'aria-describedby="f-full_name-error' in response.text


def test_save_preferences(
    factory: Factory,
    container: Container,
) -> None:
    user = factory.user()
    browser = member_browser(factory, user)
    page = browser.get("/settings/preferences").text
    assert f'name="{prefs.EVENT_PREFIX}user_comment" value="on" checked' in page
    form = {
        "page_size": "50",
        "theme": "dark",
        f"{prefs.EVENT_PREFIX}user_comment": "on",
        f"{prefs.EVENT_PREFIX}task_status_changed": "on",
        "plugin_email_enable": "on",
    }
    response = browser.post("/settings/preferences", form, page="/settings/preferences")
    assert response.status_code == 303
    assert "storyline_theme=dark" in response.headers["set-cookie"]
    stored = _stored(container, user)
    assert stored["page_size"] == 50
    assert stored["theme"] == "dark"
    assert stored[f"{prefs.EVENT_PREFIX}user_comment"] is True
    assert stored[f"{prefs.EVENT_PREFIX}task_created"] is False
    assert stored["plugin_email_enable"] is True
    assert stored["plugin_email_digest"] is False
    loaded = prefs.parse(stored)
    assert loaded.shows("user_comment")
    assert not loaded.shows("task_created")
    assert loaded.shows("some_future_event")
    page = browser.get("/settings/preferences").text
    assert 'value="50"' in page
    assert '<html lang="en" data-theme="dark">' in page
    assert f'name="{prefs.EVENT_PREFIX}task_created" value="on">' in page


def test_a_bad_page_size_keeps_everything_typed(
    factory: Factory,
    container: Container,
) -> None:
    user = factory.user()
    browser = member_browser(factory, user)
    form = {
        "page_size": "5000",
        "theme": "light",
        f"{prefs.EVENT_PREFIX}user_comment": "on",
        "plugin_email_digest": "on",
    }
    response = browser.post("/settings/preferences", form, page="/settings/preferences")
    assert response.status_code == 400
    page = response.text
    assert 'id="f-page_size-error"' in page
    assert "must be between 5 and 100" in page
    assert 'value="5000"' in page
    assert '<option value="light" selected>' in page
    assert f'name="{prefs.EVENT_PREFIX}task_created" value="on">' in page
    assert 'name="plugin_email_digest" value="on" checked' in page
    assert _stored(container, user) == {}


def test_preferences_parse_falls_back_to_defaults() -> None:
    parsed = prefs.parse({"page_size": "ten", "theme": "neon", "plugin_email_enable": "true"})
    assert parsed.page_size == prefs.PAGE_SIZE_DEFAULT
    assert parsed.theme == "system"
    assert parsed.email_enabled is True
    assert prefs.parse({"page_size": True}).page_size == prefs.PAGE_SIZE_DEFAULT


def test_set_and_clear_the_affiliation(factory: Factory, client: TestClient) -> None:
    user = factory.user(name="Ada")
    browser = member_browser(factory, user)
    saved = browser.post(
        "/settings/profile",
        {"full_name": "Ada", "affiliation": "Example Corp"},
        page="/settings/profile",
    )
    assert saved.status_code == 303
    page = browser.get("/settings/profile?saved=true")
    assert 'name="affiliation" value="Example Corp"' in page.text
    assert client.get(f"/v1/users/{user.id}").json()["affiliation"] == "Example Corp"
    browser.post(
        "/settings/profile", {"full_name": "Ada", "affiliation": ""}, page="/settings/profile"
    )
    assert client.get(f"/v1/users/{user.id}").json()["affiliation"] is None


def test_a_too_long_affiliation_is_refused_next_to_the_field(factory: Factory) -> None:
    browser = member_browser(factory, factory.user(name="Ada"))
    response = browser.post(
        "/settings/profile",
        {"full_name": "Ada", "affiliation": "x" * 101},
        page="/settings/profile",
    )
    assert response.status_code == 400
    assert 'id="f-affiliation-error"' in response.text
    # What was typed stays in the form.
    assert 'value="' + "x" * 101 + '"' in response.text
