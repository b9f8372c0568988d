"""The benchmark's HTTP client: one keep-alive HTTP/1.1 connection over the
standard library's `http.client`.

The measured latency is the client's time plus the server's. httpx spent
about 0.45 ms of a request on this kind of machine (its transport, models
and URL handling), as much as a whole single-story read's SQL several times
over; `http.client` spends about a third of that. Every server the
benchmark compares is measured through this same client, so the lighter
client shows more of each server's own time, and leaves more of the cores
to the server when eight clients share them.
"""

from __future__ import annotations

import http.client
from http.cookies import SimpleCookie
from types import TracebackType
from typing import Any
from urllib.parse import urlencode, urlsplit

import orjson

# What a failed exchange raises: the connection (refused, reset, timed out)
# or the protocol (a malformed or missing response).
WireError = (OSError, http.client.HTTPException)
# A kept-alive connection the server closed while idle fails the next
# request with one of these before any response; it is retried once on a
# new connection, as browsers and connection pools do.
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


class Reply:
    """A response, read in full: the parts of `httpx.Response` the benchmark uses."""

    __slots__ = ("content", "headers", "status_code", "target")

    def __init__(
        self, status_code: int, headers: http.client.HTTPMessage, content: bytes, target: str
    ) -> None:
        self.status_code = status_code
        self.headers = headers
        self.content = content
        self.target = target

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return orjson.loads(self.content)


class Connection:
    """Requests to one server over one kept-alive connection. `base` is a URL
    whose path prefixes every request path ("http://host:port/v1" and
    "stories" ask for /v1/stories). Cookies the server sets are kept and
    sent back, as a browser would."""

    def __init__(self, base: str, *, timeout: float, headers: dict[str, str] | None = None) -> None:
        parts = urlsplit(base)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"the benchmark speaks plain HTTP to a host: {base!r}")
        self._host = parts.hostname
        self._port = parts.port or 80
        self._prefix = parts.path.rstrip("/")
        self._timeout = timeout
        self._headers = {"Accept": "*/*", **(headers or {})}
        self.cookies: dict[str, str] = {}
        self._connection: http.client.HTTPConnection | None = None

    def __enter__(self) -> Connection:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def target(self, path: str, params: dict[str, Any] | None = None) -> str:
        url = f"{self._prefix}/{path.lstrip('/')}"
        return f"{url}?{urlencode(params)}" if params else url

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        sent = {**self._headers, **(headers or {})}
        body = None
        if json is not None:
            body = orjson.dumps(json)
            sent["Content-Type"] = "application/json"
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        target = self.target(path, params)
        reused = self._connection is not None
        try:
            try:
                return self._exchange(method, target, body, sent)
            except _STALE:
                if not reused:
                    raise
                self.close()
                return self._exchange(method, target, body, sent)
        except BaseException:
            # A half-read response leaves the connection unusable.
            self.close()
            raise

    def get(self, path: str, **kwargs: Any) -> Reply:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Reply:
        return self.request("POST", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Reply:
        return self.request("DELETE", path, **kwargs)

    def _exchange(
        self, method: str, target: str, body: bytes | None, headers: dict[str, str]
    ) -> Reply:
        if self._connection is None:
            self._connection = http.client.HTTPConnection(
                self._host, self._port, timeout=self._timeout
            )
        self._connection.request(method, target, body=body, headers=headers)
        response = self._connection.getresponse()
        content = response.read()
        for header in response.headers.get_all("Set-Cookie") or ():
            for name, morsel in SimpleCookie(header).items():
                if morsel["max-age"] == "0":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        if response.will_close:
            self.close()
        return Reply(response.status, response.headers, content, target)
