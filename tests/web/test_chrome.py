"""The layout every page shares: error pages, theme, vendor files, shortcuts."""

from __future__ import annotations

import dataclasses

from fastapi.testclient import TestClient

from storyline.accounts import preferences
from storyline.app import create_app
from storyline.bootstrap import Container, build
from storyline.web import vendor
from tests.auth.conftest import Browser
from tests.factories import Factory, TestUser
from tests.web.signin import HTML, member_browser


def test_unknown_page_is_a_friendly_html_404_but_v1_stays_json(client: TestClient) -> None:
    page = client.get("/no/such/page", headers=HTML)
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "<h1>Not found</h1>" in page.text
    assert 'id="error-code">not_found<' in page.text
    assert 'href="/login?next=%2Fno%2Fsuch%2Fpage"' in page.text
    api = client.get("/v1/no/such/thing", headers=HTML)
    assert api.status_code == 404
    assert api.json()["code"] == "not_found"
    # A script or a fetch that does not ask for HTML keeps getting JSON.
    assert client.get("/no/such/page").headers["content-type"] == "application/json"


def test_403_page_for_a_member_on_an_admin_page_and_json_for_scripts(
    factory: Factory,
) -> None:
    browser = member_browser(factory, factory.user())
    page = browser.get("/admin/users", headers=HTML)
    assert page.status_code == 403
    assert "<h1>Not allowed</h1>" in page.text
    assert "Only administrators may do this." in page.text
    # Page routes answer HTML to anything but a client asking for JSON only.
    assert browser.get("/admin/users").headers["content-type"].startswith("text/html")
    as_json = browser.get("/admin/users", headers={"accept": "application/json"})
    assert as_json.status_code == 403
    assert as_json.json()["code"] == "forbidden"


def test_500_page_for_an_unexpected_error(container: Container) -> None:
    app = create_app(container)

    @app.get("/boom", include_in_schema=False)
    def boom() -> None:
        raise RuntimeError("kaboom")

    with TestClient(app, raise_server_exceptions=False) as client:
        page = client.get("/boom", headers=HTML)
        api = client.get("/v1/boom", headers=HTML)
    assert page.status_code == 500
    assert "<h1>Something went wrong</h1>" in page.text
    assert "kaboom" not in page.text
    assert api.status_code == 404


def test_503_page_when_the_database_is_down(container: Container) -> None:
    # Nothing listens on port 1: every connection is refused.
    down = build(
        dataclasses.replace(
            container.settings, database_url="postgresql://nobody@127.0.0.1:1/storyline"
        )
    )
    try:
        with TestClient(create_app(down), raise_server_exceptions=False) as client:
            client.cookies.set("storyline_session", "some-session")
            page = client.get("/settings/profile", headers=HTML)
            api = client.get("/v1/projects")
    finally:
        down.db.dispose()
    assert page.status_code == 503
    assert page.headers["retry-after"] == "5"
    assert "<h1>Temporarily unavailable</h1>" in page.text
    assert api.status_code == 503
    assert api.json()["code"] == "service_unavailable"


def test_layout_has_landmarks_skip_link_search_and_shortcuts(client: TestClient) -> None:
    page = client.get("/login").text
    for landmark in ('<header class="site">', '<nav aria-label="Main"', "<main id=", "<footer"):
        assert landmark in page
    assert '<a class="skip-link" href="#content">' in page
    assert '<form role="search"' in page
    assert 'id="site-search"' in page
    assert 'data-shortcut="c"' in page
    assert '<dialog id="shortcuts-dialog"' in page
    assert '<script src="/static/app.js" defer>' in page
    shortcuts = client.get("/shortcuts")
    assert shortcuts.status_code == 200
    assert "<kbd>j</kbd>" in shortcuts.text


def test_theme_switch_without_javascript_uses_a_cookie(client: TestClient) -> None:
    browser = Browser(client)
    assert "data-theme" not in client.get("/login").text.split(">", 2)[1]
    response = browser.post("/settings/theme", {"theme": "dark", "next": "/shortcuts"})
    assert response.status_code == 303
    assert response.headers["location"] == "/shortcuts"
    assert '<html lang="en" data-theme="dark">' in client.get("/shortcuts").text
    refused = browser.post("/settings/theme", {"theme": "purple"})
    assert refused.status_code == 400
    offsite = browser.post("/settings/theme", {"theme": "light", "next": "https://evil.test/"})
    assert offsite.headers["location"] == "/"


def test_theme_is_a_preference_when_signed_in_and_follows_to_a_new_browser(
    factory: Factory,
    container: Container,
) -> None:
    user = factory.user()
    browser = member_browser(factory, user)
    response = browser.client.post(
        "/settings/theme",
        data={"theme": "light"},
        headers={"accept": "application/json", "x-csrf-token": browser.token("/shortcuts")},
    )
    assert response.json() == {"theme": "light"}
    with container.db.read() as session:
        stored = preferences.get_preferences(session, actor=_actor(user), user_id=user.id)
    assert stored["theme"] == "light"
    # A browser without the cookie (another device) gets it from the preference.
    browser.client.cookies.delete("storyline_theme")
    page = browser.get("/settings/profile")
    assert '<html lang="en" data-theme="light">' in page.text
    assert "storyline_theme=light" in page.headers["set-cookie"]


def _actor(user: TestUser) -> object:
    from storyline.kernel.access import Actor

    return Actor(user_id=user.id)


def test_vendor_files_are_whitelisted(client: TestClient) -> None:
    files = vendor.available()
    if "htmx.min.js" in files:
        response = client.get("/vendor/htmx.min.js")
        assert response.status_code == 200
        assert "immutable" in response.headers["cache-control"]
        assert files["htmx.min.js"].url in client.get("/login").text
    assert client.get("/vendor/package.json").status_code == 404
    assert client.get("/vendor/..%2Fpackage.json").status_code == 404


def test_vendor_scripts_are_left_out_when_npm_did_not_run(tmp_path: object) -> None:
    from pathlib import Path

    assert vendor.available(Path(str(tmp_path))) == {}
