"""The security headers in a real browser: no page of ours renders inside
another origin's frame, no page breaks its own Content-Security-Policy, and
forwarded headers from the loopback peer do not change who is audited."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LiveServer, Person, new_page, sign_in

pytestmark = pytest.mark.slow

# Collects what the browser reports about the policy, from before any of the
# page's own scripts run (an init script is not subject to the policy).
WATCH_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(`${event.violatedDirective} blocked ${event.blockedURI}`);
});
"""


@contextlib.contextmanager
def _framing_site(target: str) -> Iterator[str]:
    """Another origin (a port of its own on the same loopback host: the same
    site, another origin) whose page frames `target`."""
    body = f'<!doctype html><title>Framer</title><iframe src="{target}"></iframe>'.encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_a_page_framed_by_another_origin_does_not_render(chromium: Any, live: LiveServer) -> None:
    page = new_page(chromium)
    try:
        with _framing_site(live.url + "/login") as framer:
            assert not framer.startswith(live.url)
            page.goto(framer, wait_until="load")
            frames = [f for f in page.frames if f != page.main_frame]
            assert len(frames) == 1
            # Chromium shows its own error page in place of the refused frame.
            assert frames[0].locator("#email").count() == 0
            assert "Sign in" not in frames[0].content()
        # The same page, opened on its own, renders.
        page.goto(live.url + "/login")
        expect(page.locator("#email")).to_be_visible()
    finally:
        page.context.close()


@pytest.fixture(scope="module")
def admin(live: LiveServer) -> Person:
    return live.person("Policy Paula", superuser=True)


def _site(live: LiveServer, admin: Person) -> dict[str, str]:
    token = admin.token
    project = live.api(
        "POST",
        "/v1/projects",
        token=token,
        json={"name": "csp/nova", "repo_url": "https://opendev.org/openstack/nova"},
    )
    story = live.api(
        "POST",
        "/v1/stories",
        token=token,
        json={
            "title": "Policy check story",
            "description": "A [link](https://example.org) and ![a graph](https://example.org/g.png)",
        },
    )
    live.api(
        "POST",
        "/v1/tasks",
        token=token,
        json={"story_id": story["id"], "project_id": project["id"], "title": "Check it"},
    )
    worklist = live.api("POST", "/v1/worklists", token=token, json={"title": "Policy list"})
    live.api(
        "POST",
        f"/v1/worklists/{worklist['id']}/items",
        token=token,
        params={"item_id": story["id"], "item_type": "story"},
    )
    board = live.api(
        "POST",
        "/v1/boards",
        token=token,
        json={"title": "Policy board", "lanes": [{"worklist": {"title": "Todo"}}]},
    )
    return {
        "story": f"/stories/{story['id']}",
        "project": f"/projects/{project['id']}",
        "worklist": f"/worklists/{worklist['id']}",
        "board": f"/boards/{board['id']}",
        "search": "/search?q=policy",
        "dashboard": "/",
        "admin": "/admin",
        "admin-project": f"/admin/projects/{project['id']}",
        "api-docs-json": "/v1/openapi.json",
    }


def test_the_main_pages_break_no_policy_and_still_work(
    chromium: Any, live: LiveServer, admin: Person
) -> None:
    paths = _site(live, admin)
    anonymous = new_page(chromium)
    page = new_page(chromium)
    console: list[str] = []
    try:
        for tab in (anonymous, page):
            tab.context.add_init_script(WATCH_VIOLATIONS)
            tab.on(
                "console",
                lambda message: (
                    console.append(message.text)
                    if "Content Security Policy" in message.text
                    else None
                ),
            )
        anonymous.goto(live.url + "/login")
        expect(anonymous.locator("#email")).to_be_visible()
        assert anonymous.evaluate("window.__violations") == []
        sign_in(page, live, admin)
        for name, path in paths.items():
            page.goto(live.url + path)
            if path.startswith("/v1/"):
                continue
            # The libraries loaded and started.
            page.wait_for_function("() => typeof window.htmx === 'object'")
            assert page.evaluate("window.__violations") == [], name
        # htmx at work under the policy: change a task's status in place.
        page.goto(live.url + paths["story"])
        status = page.locator("select[name='status']").first
        with page.expect_response(lambda r: r.request.method == "POST" and "/tasks/" in r.url):
            status.select_option("inprogress")
        # The answer's row replaced the old one.
        expect(page.locator("select[name='status']").first).to_have_class("status-inprogress")
        page.reload()
        expect(page.locator("select[name='status']").first).to_have_value("inprogress")
        page.goto(live.url + paths["board"])
        page.wait_for_function("() => typeof window.Sortable !== 'undefined'")
        assert page.evaluate("window.__violations") == []
    finally:
        anonymous.context.close()
        page.context.close()
    assert console == []


def test_forwarded_headers_from_loopback_are_not_believed(
    chromium: Any, live: LiveServer, admin: Person
) -> None:
    # The server's peer is 127.0.0.1, which uvicorn would trust by default.
    with httpx.Client(base_url=live.url) as client:
        form = client.get("/login").text
        token = form.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
        refused = client.post(
            "/login",
            data={"csrf_token": token, "email": "spoofer@example.org", "password": "nope"},
            headers={"X-Forwarded-For": "198.51.100.77", "X-Forwarded-Proto": "https"},
        )
    assert refused.status_code == 401
    assert "Secure" not in refused.headers.get("set-cookie", "")
    assert "strict-transport-security" not in refused.headers
    page = new_page(chromium)
    try:
        sign_in(page, live, admin)
        page.goto(live.url + "/admin/audit?event_type=login_failed")
        row = page.locator("tr", has_text="spoofer@example.org")
        expect(row).to_contain_text("127.0.0.1")
        assert "198.51.100.77" not in page.content()
    finally:
        page.context.close()
