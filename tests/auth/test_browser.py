"""Full sign-ins in Chromium against two independent, real OpenID Connect
providers on loopback: oidc-provider-mock (Python) and the certified
oidc-provider (Node). Also the CLI's browser sign-in and a cross-site form post.

Chromium is Debian's /usr/bin/chromium (`make browser-deps` installs it);
without it these tests skip locally and fail in CI (CI=true).
"""

from __future__ import annotations

import dataclasses
import json
import os
import queue
import shutil
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import func, select

from storyline.accounts.models import User, UserIdentity
from storyline.app import create_app
from storyline.bootstrap import Container, build
from storyline.config import OidcProvider

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
NODE_DIR = Path(__file__).resolve().parents[1] / "oidc"
IN_CI = os.environ.get("CI", "").lower() == "true"


def _need(condition: bool, reason: str) -> None:
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{reason} (CI must run the browser tests; see `make test-deps`)")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(url: str, process: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up within 30 s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@dataclasses.dataclass(frozen=True)
class Providers:
    app_port: int
    mock: OidcProvider
    npm: OidcProvider


@pytest.fixture(scope="module")
def providers() -> Iterator[Providers]:
    _need(Path(CHROMIUM).exists(), f"{CHROMIUM} is missing (apt-get install chromium)")
    _need(shutil.which("node") is not None, "node is missing")
    _need(
        (NODE_DIR / "node_modules" / "oidc-provider").exists(),
        "tests/oidc/node_modules is missing (make test-deps runs npm ci there)",
    )
    app_port, mock_port, npm_port = _free_port(), _free_port(), _free_port()
    callback = f"http://127.0.0.1:{app_port}/auth/callback"
    mock = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "oidc_provider_mock",
            "--port",
            str(mock_port),
            "--user-claims",
            json.dumps({"sub": "alice", "email": "alice@mock-idp.test", "name": "Alice Mock"}),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    npm = subprocess.Popen(
        ["node", str(NODE_DIR / "server.mjs")],
        env={
            **os.environ,
            "PORT": str(npm_port),
            "CLIENT_ID": "storyline-npm",
            "CLIENT_SECRET": "npm-secret",
            "REDIRECT_URIS": f"{callback}/npm",
            "EMAIL_DOMAIN": "npm-idp.test",
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(f"http://127.0.0.1:{mock_port}/.well-known/openid-configuration", mock)
        _wait_for(f"http://127.0.0.1:{npm_port}/.well-known/openid-configuration", npm)
        yield Providers(
            app_port=app_port,
            mock=OidcProvider(
                name="mock",
                issuer=f"http://127.0.0.1:{mock_port}",
                client_id="storyline-mock",
                client_secret="mock-secret",
                display_name="Mock IdP",
            ),
            npm=OidcProvider(
                name="npm",
                issuer=f"http://127.0.0.1:{npm_port}",
                client_id="storyline-npm",
                client_secret="npm-secret",
                display_name="Npm IdP",
            ),
        )
    finally:
        _stop(mock)
        _stop(npm)


@dataclasses.dataclass
class LiveApp:
    url: str
    container: Container

    def count(self, model: Any) -> int:
        with self.container.db.read() as session:
            return int(session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
def live(providers: Providers, container: Container) -> Iterator[LiveApp]:
    settings = dataclasses.replace(
        container.settings, oidc_providers=(providers.mock, providers.npm)
    )
    app_container = build(settings)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(app_container),
            host="127.0.0.1",
            port=providers.app_port,
            log_level="warning",
            lifespan="off",
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{providers.app_port}"
    try:
        _wait_for(url + "/login")
        yield LiveApp(url=url, container=app_container)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        app_container.db.dispose()


@pytest.fixture(scope="module")
def chromium(providers: Providers) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context()
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def _sign_in_with_mock(page: Any, live: LiveApp, start: str = "/login") -> None:
    page.goto(live.url + start)
    page.get_by_role("button", name="Sign in with Mock IdP").click()
    # oidc-provider-mock's consent page lists the predefined users.
    page.get_by_role("button", name="alice").click()
    page.wait_for_url(live.url + "/account")


def _npm_login(page: Any, login: str) -> None:
    page.locator("input[name=login]").fill(login)
    page.locator("input[name=password]").fill("any password")
    page.locator("button[type=submit]").click()
    # The certified provider asks for consent once per client and account.
    page.locator("button[type=submit]").click()


def test_sign_in_with_the_python_provider(page: Any, live: LiveApp) -> None:
    callbacks: list[str] = []
    page.on("request", lambda r: callbacks.append(r.url) if "/auth/callback/" in r.url else None)
    _sign_in_with_mock(page, live)
    assert page.locator("#account-name").inner_text() == "Alice Mock"
    assert page.locator("#account-email").inner_text() == "alice@mock-idp.test"
    assert live.count(User) == 1
    # The same callback (state and code) a second time: refused, nobody new.
    page.goto(callbacks[-1])
    assert page.locator("#error-code").inner_text() == "oidc_state_invalid"
    assert live.count(User) == 1


def test_sign_in_with_the_node_provider_and_sign_out(
    page: Any, live: LiveApp, providers: Providers
) -> None:
    page.goto(live.url + "/login")
    page.get_by_role("button", name="Sign in with Npm IdP").click()
    _npm_login(page, "bob")
    page.wait_for_url(live.url + "/account")
    assert page.locator("#account-email").inner_text() == "bob@npm-idp.test"
    with live.container.db.read() as session:
        identity = session.scalars(select(UserIdentity)).one()
    assert (identity.issuer, identity.subject) == (providers.npm.issuer, "bob")
    page.get_by_role("button", name="Sign out").first.click()
    page.wait_for_url(live.url + "/login")
    page.goto(live.url + "/account")
    assert page.url.startswith(live.url + "/login")


def test_link_identities_across_both_providers(page: Any, live: LiveApp) -> None:
    _sign_in_with_mock(page, live)
    page.goto(live.url + "/settings/identities")
    page.get_by_role("button", name="Link Npm IdP").click()
    _npm_login(page, "alice-at-npm")
    page.wait_for_url(live.url + "/settings/identities")
    assert page.locator("tr[data-provider=mock]").count() == 1
    assert page.locator("tr[data-provider=npm]").count() == 1
    page.get_by_role("button", name="Sign out").first.click()
    # The npm identity now signs in to Alice's account.
    page.goto(live.url + "/login")
    page.get_by_role("button", name="Sign in with Npm IdP").click()
    page.wait_for_url(live.url + "/account")
    assert page.locator("#account-email").inner_text() == "alice@mock-idp.test"
    assert live.count(User) == 1
    assert live.count(UserIdentity) == 2


class _EvilPage(BaseHTTPRequestHandler):
    target = ""

    def do_GET(self) -> None:
        body = (
            "<!doctype html><title>win a prize</title>"
            f'<form id="f" method="post" action="{self.target}">'
            '<input type="hidden" name="name" value="stolen"></form>'
            "<script>document.getElementById('f').submit()</script>"
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def test_a_cross_site_form_post_is_refused(page: Any, live: LiveApp) -> None:
    _sign_in_with_mock(page, live)
    handler = type("Evil", (_EvilPage,), {"target": live.url + "/settings/tokens"})
    evil = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=evil.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    try:
        page.goto(f"http://127.0.0.1:{evil.server_address[1]}/")
        page.wait_for_url(live.url + "/settings/tokens")
        assert page.locator("#error-code").inner_text() == "csrf_failed"
    finally:
        evil.shutdown()
        evil.server_close()
        thread.join(timeout=5)
    page.goto(live.url + "/settings/tokens")
    assert "You have no tokens." in page.content()
    assert page.locator("#account-name").count() == 0  # still on the tokens page, signed in


def test_cli_login_through_the_browser(page: Any, live: LiveApp, tmp_path: Path) -> None:
    _sign_in_with_mock(page, live)
    config = tmp_path / "cfg" / "config.json"
    cli = subprocess.Popen(
        [sys.executable, "-m", "storyline", "login", live.url, "--no-browser", "--wait", "60"],
        env={**os.environ, "STORYLINE_CONFIG": str(config)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(
        target=lambda: [lines.put(line) for line in cli.stdout or ()], daemon=True
    )
    reader.start()
    try:
        url = ""
        deadline = time.monotonic() + 30
        while not url and time.monotonic() < deadline:
            line = lines.get(timeout=30)
            if line.startswith("AUTHORIZE_URL "):
                url = line.split(" ", 1)[1].strip()
        page.goto(url)
        page.get_by_role("button", name="Authorize").click()
        assert cli.wait(timeout=30) == 0, cli.stderr.read() if cli.stderr else ""
    finally:
        if cli.poll() is None:
            _stop(cli)  # type: ignore[arg-type]
        reader.join(timeout=10)
        for stream in (cli.stdout, cli.stderr):
            if stream is not None:
                stream.close()
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    saved = json.loads(config.read_text())
    token = saved["servers"][live.url]["token"]
    me = httpx.get(live.url + "/v1/users/self", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["full_name"] == "Alice Mock"
