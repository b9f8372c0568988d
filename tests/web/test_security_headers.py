"""Security headers on every response, pages and API alike."""

from __future__ import annotations

import dataclasses
import re

from fastapi.testclient import TestClient

from storyline.app import create_app
from storyline.bootstrap import Container, build
from storyline.config import OidcProvider
from tests.factories import Factory
from tests.web.signin import admin_browser

STRICT = (
    "default-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)


def test_every_response_carries_the_security_headers(client: TestClient) -> None:
    for path in ("/", "/login", "/projects", "/v1/projects", "/v1/stories/999999", "/nowhere"):
        response = client.get(path, follow_redirects=False)
        headers = response.headers
        assert headers["content-security-policy"] == STRICT, path
        assert headers["x-frame-options"] == "DENY", path
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["referrer-policy"] == "same-origin", path
        assert headers["cross-origin-opener-policy"] == "same-origin", path
        # Plain HTTP: a browser would ignore it, and it must not be sent.
        assert "strict-transport-security" not in headers, path


def test_hsts_only_over_https_or_when_the_operator_says_so(container: Container) -> None:
    app = create_app(container)
    https = TestClient(app, base_url="https://testserver").get("/login")
    assert https.headers["strict-transport-security"] == "max-age=31536000"
    settings = dataclasses.replace(container.settings, secure_cookies=True, hsts_seconds=600)
    other = build(settings)
    try:
        said = TestClient(create_app(other)).get("/v1/projects")
        assert said.headers["strict-transport-security"] == "max-age=600"
    finally:
        other.db.dispose()


def test_pages_have_no_inline_script_or_style(client: TestClient) -> None:
    page = client.get("/login").text
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)
    assert "<style" not in page
    assert " style=" not in page
    # htmx would add an inline style of its own, and evaluate attributes.
    assert '"includeIndicatorStyles": false' in page
    assert '"allowEval": false' in page


def test_forms_may_lead_to_the_sign_in_providers(container: Container) -> None:
    provider = OidcProvider(
        name="corp",
        issuer="https://sso.example.org/realms/corp",
        client_id="storyline",
        client_secret="secret",
        display_name="Corp",
    )
    settings = dataclasses.replace(
        container.settings,
        oidc_providers=(provider,),
        csp_form_action=("https://login.example.net",),
    )
    other = build(settings)
    try:
        policy = TestClient(create_app(other)).get("/login").headers["content-security-policy"]
    finally:
        other.db.dispose()
    assert policy.endswith("form-action 'self' https://sso.example.org https://login.example.net")


def test_the_cli_sign_in_page_may_send_its_form_to_the_cli(factory: Factory) -> None:
    admin = admin_browser(factory)
    page = admin.get("/settings/tokens/cli?port=40123&state=abc")
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert policy.endswith("form-action 'self' http://127.0.0.1:40123")
    # Only that page: the next one is strict again.
    assert admin.get("/account").headers["content-security-policy"] == STRICT


def test_the_api_documentation_runs_only_its_own_inline_script(client: TestClient) -> None:
    response = client.get("/v1/docs")
    policy = response.headers["content-security-policy"]
    assert "'unsafe-inline'" not in policy
    assert "script-src 'self' https://cdn.jsdelivr.net 'sha256-" in policy
    assert "frame-ancestors 'none'" in policy


def test_an_unexpected_error_carries_them_too(container: Container) -> None:
    app = create_app(container)

    @app.get("/v1/crash-for-test")
    def crash() -> None:
        raise RuntimeError("a bug")

    response = TestClient(app, raise_server_exceptions=False).get("/v1/crash-for-test")
    assert response.status_code == 500
    assert response.headers["content-security-policy"] == STRICT
    assert response.headers["x-frame-options"] == "DENY"
