"""The largest request body the server reads, for the API and the pages.

An ASGI middleware, so that it holds before any framework code buffers a
body: a request that declares a larger `Content-Length` is refused before a
byte of it is read, and one sent in chunks without a length is cut off as
soon as it passes the limit. Both get a 413 `too_large` in the one error
shape (`storyline.http.errors`): JSON for the API, the error page for a
browser. The limit is `Settings.max_body_bytes` (docs/operations.md).
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from storyline.http.errors import respond

TOO_LARGE = 413


def _message(limit: int) -> str:
    return (
        f"The request body is larger than this server accepts ({limit} bytes); "
        "send less, for example a shorter description or comment."
    )


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses a malformed length itself
    return None


class BodyLimit:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is not None and declared > self.max_bytes:
            response = respond(Request(scope), TOO_LARGE, "too_large", _message(self.max_bytes))
            await response(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # Raised inside whatever is reading the body (FastAPI's
                    # parsing, a handler), so that the app's error handling
                    # answers it like any other error.
                    raise HTTPException(TOO_LARGE, _message(self.max_bytes))
            return message

        await self.app(scope, limited, send)
