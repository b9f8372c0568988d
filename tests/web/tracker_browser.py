"""Browsers signed in as a given user, for the tracker's page tests.

A session is opened through the sign-in service (the same row a password or
OpenID Connect sign-in creates) and its cookie given to a TestClient of its
own, so that a test can act as several people at once without paying for a
password hash per sign-in."""

from __future__ import annotations

import re
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from storyline.accounts import web_sessions
from storyline.accounts.audit import Client
from storyline.accounts.models import User
from storyline.bootstrap import Container
from storyline.web.security import SESSION_COOKIE
from tests.factories import TestUser

CSRF = re.compile(r'<meta name="csrf-token" content="([0-9a-f]+)">')


class Browser:
    """A TestClient that sends forms with the page's CSRF token, as a browser would."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        kwargs.setdefault("follow_redirects", False)
        return self.client.get(path, **kwargs)

    def token(self, page: str = "/search") -> str:
        response = self.client.get(page)
        match = CSRF.search(response.text)
        assert match, f"no CSRF token on {page}: {response.status_code}"
        return match.group(1)

    def post(
        self, path: str, data: dict[str, Any] | None = None, *, csrf: bool = True, **kwargs: Any
    ) -> httpx.Response:
        form = dict(data or {})
        if csrf:
            form["csrf_token"] = self.token()
        kwargs.setdefault("follow_redirects", False)
        return self.client.post(path, data=form, **kwargs)


def browser(app: FastAPI, container: Container, user: TestUser | None) -> Browser:
    """A browser of its own (own cookies); the caller closes `browser.client`."""
    client = TestClient(app)
    client.__enter__()
    if user is not None:
        with container.db.write() as session:
            row = session.get(User, user.id)
            assert row is not None
            secret = web_sessions.open_session(
                session,
                settings=container.settings,
                user=row,
                method="local",
                client=Client(ip="127.0.0.1", user_agent="tests"),
            )
        client.cookies.set(SESSION_COOKIE, secret)
    return Browser(client)
