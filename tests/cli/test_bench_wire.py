"""The benchmark's HTTP client against a plain HTTP/1.1 server on loopback."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from storyline.bench.wire import Connection


class Recorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list[dict[str, Any]]

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.seen.append(
            {
                "method": self.command,
                "path": self.path,
                "port": self.client_address[1],
                "cookie": self.headers.get("Cookie"),
                "type": self.headers.get("Content-Type"),
                "body": body,
            }
        )
        payload = json.dumps({"path": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        if self.path.endswith("/login"):
            self.send_header("Set-Cookie", "session=abc; Path=/; HttpOnly")
        if self.path.endswith("/logout"):
            self.send_header("Set-Cookie", "session=; Max-Age=0; Path=/")
        self.end_headers()
        self.wfile.write(payload)
        if self.path.endswith("/hang-up"):
            # Closes the kept-alive connection after answering, as a server
            # does when its idle timeout passes, without saying so.
            self.close_connection = True

    do_GET = do_POST = do_DELETE = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    seen: list[dict[str, Any]] = []
    handler = type("Handler", (Recorder,), {"seen": seen})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", seen
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_paths_params_and_one_kept_alive_connection(
    server: tuple[str, list[dict[str, Any]]],
) -> None:
    base, seen = server
    with Connection(f"{base}/v1", timeout=5) as client:
        first = client.get("stories", params={"limit": 100, "q": "a b"})
        second = client.post("/stories", json={"title": "x"})
    assert first.status_code == 200
    assert first.json() == {"path": "/v1/stories?limit=100&q=a+b"}
    assert second.target == "/v1/stories"
    assert [s["method"] for s in seen] == ["GET", "POST"]
    assert seen[1]["type"] == "application/json"
    assert json.loads(seen[1]["body"]) == {"title": "x"}
    # Both requests went over one connection: the same client port.
    assert seen[0]["port"] == seen[1]["port"]


def test_cookies_are_kept_and_cleared(server: tuple[str, list[dict[str, Any]]]) -> None:
    base, seen = server
    with Connection(base, timeout=5) as client:
        client.get("/login")
        client.get("/page")
        client.get("/logout")
        client.get("/page")
    assert [s["cookie"] for s in seen] == [None, "session=abc", "session=abc", None]


def test_a_connection_the_server_closed_is_replaced(
    server: tuple[str, list[dict[str, Any]]],
) -> None:
    base, seen = server
    with Connection(base, timeout=5) as client:
        assert client.get("/hang-up").status_code == 200
        assert client.get("/after").json() == {"path": "/after"}
    assert [s["path"] for s in seen] == ["/hang-up", "/after"]
    assert seen[0]["port"] != seen[1]["port"]


def test_only_plain_http_urls_are_taken() -> None:
    with pytest.raises(ValueError, match="plain HTTP"):
        Connection("https://example.org/v1", timeout=5)
