"""Signing people in for page tests over HTTP, through the login form."""

from __future__ import annotations

from fastapi.testclient import TestClient

from storyline.accounts import local_accounts
from storyline.app import create_app
from storyline.bootstrap import Container
from tests.auth.conftest import Browser
from tests.factories import Factory, TestUser

PASSWORD = "a long enough password"
HTML = {"accept": "text/html,application/xhtml+xml"}


def sign_in(client: TestClient, container: Container, user: TestUser) -> Browser:
    """`user` signed in on `client` (whose cookies then belong to them)."""
    with container.db.write() as session:
        local_accounts.set_password(session, user_id=user.id, password=PASSWORD)
    browser = Browser(client)
    response = browser.login_local(user.email, PASSWORD)
    assert response.status_code == 303, response.text
    return browser


def new_browser(container: Container, user: TestUser | None = None) -> Browser:
    """A browser of its own (own cookies), signed in as `user` if given."""
    client = TestClient(create_app(container))
    if user is None:
        return Browser(client)
    return sign_in(client, container, user)


def admin_browser(factory: Factory) -> Browser:
    return sign_in(factory.client, factory.container, factory.admin())


def member_browser(factory: Factory, user: TestUser) -> Browser:
    return sign_in(factory.client, factory.container, user)
