"""Fixtures for sign-in tests: an app with chosen sign-in settings, a
browser-like helper for forms with CSRF tokens, and the controllable provider."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient

from storyline.app import create_app
from storyline.bootstrap import Container, build
from storyline.config import OidcProvider, Settings
from tests.auth.idp import RogueIdP, RunningIdP

CSRF = re.compile(r'<meta name="csrf-token" content="([0-9a-f]+)">')


class Browser:
    """A TestClient that reads CSRF tokens off pages like a browser's form would."""

    def __init__(self, client: TestClient) -> None:
        self.client = client

    def token(self, path: str = "/login") -> str:
        page = self.client.get(path, follow_redirects=True)
        match = CSRF.search(page.text)
        assert match, f"no CSRF token on {path}: {page.status_code}"
        return match.group(1)

    def post(
        self, path: str, data: dict[str, Any] | None = None, *, page: str = "/login", **kwargs: Any
    ) -> httpx.Response:
        form = {"csrf_token": self.token(page), **(data or {})}
        return self.client.post(path, data=form, follow_redirects=False, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        kwargs.setdefault("follow_redirects", False)
        return self.client.get(path, **kwargs)

    def login_local(self, email: str, password: str) -> httpx.Response:
        return self.post("/login", {"email": email, "password": password})

    def start_oidc(self, provider: str, **form: str) -> dict[str, str]:
        """Start a sign-in; returns the authorization request's parameters."""
        response = self.post(f"/login/oidc/{provider}", form)
        assert response.status_code == 303, response.text
        query = parse_qs(urlsplit(response.headers["location"]).query)
        return {k: v[0] for k, v in query.items()}

    def oidc_sign_in(
        self, idp: RogueIdP, provider: str = "rogue", *, start: str | None = None
    ) -> httpx.Response:
        """The whole dance, with the test playing the person at the provider."""
        if start is None:
            params = self.start_oidc(provider)
        else:
            response = self.post(start, page="/settings/identities")
            assert response.status_code == 303, response.text
            params = {
                k: v[0] for k, v in parse_qs(urlsplit(response.headers["location"]).query).items()
            }
        code = idp.grant(params["nonce"], params["code_challenge"])
        return self.get(
            f"/auth/callback/{provider}", params={"state": params["state"], "code": code}
        )


@pytest.fixture
def make_client(container: Container) -> Iterator[Callable[..., TestClient]]:
    """A client of an app whose settings differ from the default ones."""
    made: list[tuple[TestClient, Container]] = []

    def make(**changes: Any) -> TestClient:
        settings: Settings = dataclasses.replace(container.settings, **changes)
        other = build(settings)
        client = TestClient(create_app(other))
        client.__enter__()
        made.append((client, other))
        return client

    yield make
    for client, other in made:
        client.__exit__(None, None, None)
        other.db.dispose()


@pytest.fixture
def idp() -> Iterator[RogueIdP]:
    provider = RogueIdP()
    running = RunningIdP(provider)
    try:
        yield provider
    finally:
        running.stop()


def provider_for(idp: RogueIdP, name: str = "rogue") -> OidcProvider:
    return OidcProvider(
        name=name,
        issuer=idp.issuer,
        client_id=idp.client_id,
        client_secret=idp.client_secret,
        display_name=name.title(),
    )


@pytest.fixture
def browser_for(make_client: Callable[..., TestClient]) -> Callable[..., Browser]:
    def make(**changes: Any) -> Browser:
        return Browser(make_client(**changes))

    return make
