"""Signing the CLI in to a Storyline server, and the credentials it keeps.

`storyline login URL` opens the server's "authorize the command line" page
in a browser; once the person approves, the server redirects the browser to
a one-shot listener on 127.0.0.1 with a new token (the loopback redirect of
RFC 8252). `--token-stdin` takes a token made on /settings/tokens instead,
for machines without a browser. Tokens are kept in the user's config file,
readable by them alone (0600); STORYLINE_URL and STORYLINE_TOKEN override it.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import threading
import webbrowser
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import typer
from rich.console import Console

from storyline.errors import InvalidInput, NotAuthenticated, ServiceUnavailable

console = Console(stderr=True)
# How long `storyline login` waits for the person to approve in the browser.
LOGIN_WAIT_SECONDS = 300.0


def config_path() -> Path:
    explicit = os.environ.get("STORYLINE_CONFIG")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "storyline" / "config.json"


def _normalize(url: str) -> str:
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise InvalidInput.field("url", f"{url!r} is not an http(s) URL of a Storyline server")
    return url


def load_config() -> dict[str, Any]:
    path = config_path()
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {"servers": {}}
    except ValueError as error:
        raise InvalidInput(f"{path} is not valid JSON: {error}") from None
    if not isinstance(data, dict):
        return {"servers": {}}
    data.setdefault("servers", {})
    return data


def save_config(data: dict[str, Any]) -> Path:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(path.name + ".tmp")
    # Created 0600 from the start: the token is never readable by others,
    # not even for the moment between writing and chmod.
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle, indent=2, sort_keys=True)
        handle.write("\n")
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)
    return path


@dataclass(frozen=True)
class Credentials:
    url: str
    token: str


def credentials(server: str | None = None) -> Credentials:
    """The server and token that remote commands use."""
    env_url, env_token = os.environ.get("STORYLINE_URL"), os.environ.get("STORYLINE_TOKEN")
    if env_token and (env_url or server):
        return Credentials(url=_normalize(server or env_url or ""), token=env_token)
    data = load_config()
    url = _normalize(server) if server else data.get("default")
    entry = data["servers"].get(url) if url else None
    if not url or not isinstance(entry, dict) or not entry.get("token"):
        raise NotAuthenticated(
            "Not signed in" + (f" to {url}" if url else "") + "; run `storyline login URL` first."
        )
    return Credentials(url=url, token=str(entry["token"]))


def _whoami(url: str, token: str) -> dict[str, Any]:
    try:
        response = httpx.get(
            f"{url}/v1/users/self",
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=15.0,
        )
    except httpx.TransportError as error:
        raise ServiceUnavailable(f"Cannot reach {url}: {error}") from error
    if response.status_code in {401, 403}:
        raise NotAuthenticated(f"{url} refused the token: {response.json().get('message')}")
    if response.status_code != 200:
        raise ServiceUnavailable(f"{url} answered {response.status_code} to /v1/users/self.")
    body: dict[str, Any] = response.json()
    return body


class _Catcher(BaseHTTPRequestHandler):
    """Receives the one redirect that carries the token."""

    server: _LoopbackServer

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if parts.path != "/callback" or not secrets.compare_digest(
            query.get("state", ""), self.server.expected_state
        ):
            self.send_response(400)
            self.end_headers()
            self.wfile.write(b"Unexpected request.\n")
            return
        self.server.result = query
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(
            b"<!doctype html><title>Storyline</title><main><h1>Signed in</h1>"
            b"<p>The storyline command is signed in. You can close this window.</p></main>"
        )
        self.server.done.set()

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _LoopbackServer(HTTPServer):
    def __init__(self, state: str) -> None:
        super().__init__(("127.0.0.1", 0), _Catcher)
        self.expected_state = state
        self.result: dict[str, str] | None = None
        self.done = threading.Event()


def _browser_login(url: str, *, open_browser: bool, wait: float) -> str:
    state = secrets.token_urlsafe(24)
    server = _LoopbackServer(state)
    port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2})
    thread.daemon = True
    thread.start()
    try:
        page = f"{url}/settings/tokens/cli?" + urlencode({"port": port, "state": state})
        console.print(f"Open this page to authorize the command line:\n{page}")
        # Printed to stdout too, alone on a line, for scripts that drive the login.
        print(f"AUTHORIZE_URL {page}", flush=True)
        if open_browser:
            webbrowser.open(page)
        if not server.done.wait(timeout=wait) or server.result is None:
            raise NotAuthenticated(f"Nobody authorized the command line within {wait:.0f} s.")
        token = server.result.get("token")
        if not token:
            raise NotAuthenticated("The server sent no token.")
        return token
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def login(
    url: Annotated[
        str, typer.Argument(help="The Storyline server, e.g. https://tracker.example.org")
    ],
    token_stdin: Annotated[
        bool,
        typer.Option("--token-stdin", help="Read a token made on /settings/tokens from stdin."),
    ] = False,
    browser: Annotated[
        bool, typer.Option("--browser/--no-browser", help="Open the approval page in a browser.")
    ] = True,
    wait: Annotated[
        float, typer.Option(help="Seconds to wait for the approval.")
    ] = LOGIN_WAIT_SECONDS,
) -> None:
    """Sign the CLI in to a Storyline server and remember it as the default."""
    url = _normalize(url)
    if token_stdin:
        token = sys.stdin.readline().strip()
        if not token:
            raise InvalidInput.field("token", "nothing was read from stdin")
    else:
        token = _browser_login(url, open_browser=browser, wait=wait)
    me = _whoami(url, token)
    data = load_config()
    data["servers"][url] = {"token": token, "user_id": me.get("id"), "email": me.get("email")}
    data["default"] = url
    path = save_config(data)
    console.print(
        f"Signed in to {url} as {me.get('full_name')} (user {me.get('id')}); token in {path}."
    )


def logout(
    url: Annotated[
        str | None, typer.Argument(help="The server (default: the default one).")
    ] = None,
) -> None:
    """Forget the token for a server (revoke it on the server's token page)."""
    data = load_config()
    target = _normalize(url) if url else data.get("default")
    if not target or target not in data["servers"]:
        console.print("Not signed in there.")
        return
    del data["servers"][target]
    if data.get("default") == target:
        data["default"] = next(iter(data["servers"]), None)
    save_config(data)
    console.print(f"Forgot the token for {target}.")


def whoami(
    server: Annotated[
        str | None, typer.Option(help="The server (default: the default one).")
    ] = None,
) -> None:
    """Show whom the CLI acts as."""
    creds = credentials(server)
    me = _whoami(creds.url, creds.token)
    print(json.dumps({"url": creds.url, **me}, indent=2, sort_keys=True))


def api(
    method: Annotated[str, typer.Argument(help="GET, POST, PUT or DELETE.")],
    path: Annotated[str, typer.Argument(help="e.g. /v1/stories?status=active")],
    data: Annotated[str | None, typer.Option("--data", "-d", help="JSON body.")] = None,
    server: Annotated[
        str | None, typer.Option(help="The server (default: the default one).")
    ] = None,
) -> None:
    """Call the REST API of the signed-in server and print the JSON answer."""
    creds = credentials(server)
    if not path.startswith("/"):
        path = "/" + path
    body = json.loads(data) if data else None
    try:
        response = httpx.request(
            method.upper(),
            creds.url + path,
            json=body,
            headers={"Authorization": f"Bearer {creds.token}", "Accept": "application/json"},
            timeout=60.0,
        )
    except httpx.TransportError as error:
        raise ServiceUnavailable(f"Cannot reach {creds.url}: {error}") from error
    if response.content:
        try:
            print(json.dumps(response.json(), indent=2, sort_keys=True))
        except ValueError:
            print(response.text)
    if response.status_code >= 400:
        raise typer.Exit(1)
