"""A real Storyline server process and Debian's Chromium, driven by Playwright.

The server is `python -m storyline serve` on a free loopback port against a
database of its own (a SQLite file, or a PostgreSQL database when
STORYLINE_TEST_DATABASE_URL names a server), one per test process. People
are created with `storyline admin create-user`, as an operator would, and
sign in through the login page. Chromium is /usr/bin/chromium (never a
downloaded browser); without it these tests skip locally and fail in CI.
axe-core comes from the project's node_modules (`make node-deps`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
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
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
IN_CI = os.environ.get("CI", "").lower() not in {"", "0", "false", "no"}
PASSWORD = "browser test password"
# Every wait in these tests is bounded by this (milliseconds).
TIMEOUT_MS = 15_000

_people = itertools.count(1)


def need(condition: bool, reason: str) -> None:
    """Skip with the reason locally; in CI a missing tool is a failure."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"{reason} (CI must run the browser tests: make test-deps)")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclasses.dataclass(frozen=True)
class Person:
    id: int
    name: str
    email: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclasses.dataclass
class LiveServer:
    url: str
    env: dict[str, str]

    def person(self, name: str, *, superuser: bool = False) -> Person:
        """A new user with a password and an API token, made by the admin CLI."""
        n = next(_people)
        email = f"{name.split()[0].lower()}{n}-{os.getpid()}@browser.test"
        args = [
            sys.executable,
            "-m",
            "storyline",
            "admin",
            "create-user",
            "--name",
            name,
            "--email",
            email,
            "--password-stdin",
            "--token",
        ]
        if superuser:
            args.append("--superuser")
        done = subprocess.run(
            args,
            input=PASSWORD + "\n",
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr + done.stdout
        token = done.stdout.strip().splitlines()[-1].strip()
        me = self.api("GET", "/v1/users/self", token=token)
        return Person(id=me["id"], name=name, email=email, token=token)

    def api(self, method: str, path: str, *, token: str, **kwargs: Any) -> Any:
        response = httpx.request(
            method,
            self.url + path,
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
            **kwargs,
        )
        assert response.status_code < 300, f"{method} {path}: {response.text}"
        return response.json()


def _database(tmp: Path) -> tuple[str, Any]:
    """A database URL for the server, and how to drop it afterwards."""
    base = os.environ.get("STORYLINE_TEST_DATABASE_URL")
    if not base:
        return f"sqlite:///{tmp / 'storyline.db'}", lambda: None
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"storyline_browser_{os.getpid()}_{worker}"
    admin_url = make_url(base).set(drivername="postgresql+psycopg", database="postgres")
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    url = make_url(base).set(drivername="postgresql+psycopg", database=name)
    return url.render_as_string(hide_password=False), drop


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    need(Path(CHROMIUM).exists(), f"{CHROMIUM} is missing (apt-get install chromium)")
    tmp = tmp_path_factory.mktemp("live")
    url, drop = _database(tmp)
    port = _free_port()
    env = {
        **os.environ,
        "STORYLINE_DATABASE_URL": url,
        "STORYLINE_DATA_DIR": str(tmp),
        "STORYLINE_SESSION_SECRET": "browser-tests-" + os.urandom(8).hex(),
        "STORYLINE_WORKER_IN_PROCESS": "false",
    }
    log = (tmp / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "storyline", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(
                    f"the server exited with {process.returncode}: "
                    + (tmp / "server.log").read_text(errors="replace")[-2000:]
                )
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not answer /healthz within 60 s")
            time.sleep(0.2)
        yield LiveServer(url=base, env=env)
    finally:
        _stop(process)
        log.close()
        drop()


@pytest.fixture(scope="session")
def chromium(live: LiveServer) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=60_000
        )
        try:
            yield browser
        finally:
            browser.close()


def new_page(chromium: Any, *, scheme: str = "light", width: int = 1280) -> Any:
    context = chromium.new_context(
        color_scheme=scheme, viewport={"width": width, "height": 900}, reduced_motion="reduce"
    )
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    return context.new_page()


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    tab = new_page(chromium)
    try:
        yield tab
    finally:
        tab.context.close()


def sign_in(page: Any, live: LiveServer, person: Person) -> None:
    page.goto(live.url + "/login")
    page.locator("#email").fill(person.email)
    page.locator("#password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(lambda url: "/login" not in url)


def check_accessibility(page: Any, label: str) -> None:
    """axe-core on the page as it is now: no serious or critical violations."""
    need(AXE.exists(), f"{AXE} is missing (make node-deps runs npm ci)")
    # Evaluated by the browser's debugging protocol, which the pages'
    # Content-Security-Policy does not cover; a <script> tag it would block.
    page.evaluate(AXE.read_text() + "\n;undefined")
    results = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    bad = [v for v in results["violations"] if v.get("impact") in {"serious", "critical"}]
    report = [
        {
            "rule": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"][:5]],
        }
        for v in bad
    ]
    assert not bad, f"{label}: " + json.dumps(report, indent=1)


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
