"""Conditional requests on /v1: an `ETag` on every single resource, `If-Match`
on writes and `If-None-Match` on reads.

Two pieces, one idea (docs/api.md, "Conditional requests"):

- `ETags`, a middleware, tags every JSON object the API answers to a GET or
  a write with the hash of that object (`storyline.http.preconditions.etag`),
  and answers a GET whose `If-None-Match` names it with 304. Lists (JSON
  arrays) are not tagged. No route has to remember it; a route whose version
  is not its whole body (a worklist's cards have versions of their own) sets
  the header itself with `set_etag`, and the middleware keeps it.
- `IfMatchDep`, a dependency of every PUT, PATCH and DELETE route that
  changes a representation (tests/api/test_preconditions.py lists the others
  and why), checks the client's `If-Match` inside the route's write
  transaction: it locks the row first, then rebuilds the representation the
  client read (with the same function the GET uses) and compares hashes, so
  no other writer of that row can commit between the check and the write.
  Without `If-Match`, or with `*`, nothing is checked or locked: StoryBoard's
  clients send none.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import orjson
from fastapi import Depends, Header, Response
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel
from sqlalchemy import ScalarSelect, select
from sqlalchemy.orm import InstrumentedAttribute, Session
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from storyline.errors import PreconditionFailed
from storyline.http.preconditions import etag, parse_entity_tags

_TAGGED_METHODS = frozenset({"GET", "POST", "PUT", "PATCH"})


def representation(content: Any) -> Any:
    """`content` as the JSON data the API sends: a response model is dumped
    the way FastAPI serializes it."""
    if isinstance(content, BaseModel):
        return content.model_dump(mode="json", by_alias=True)
    return jsonable_encoder(content)


def set_etag(response: Response, version: Any) -> None:
    """Tag `response` with the version of `version` rather than of its body."""
    response.headers["ETag"] = etag(representation(version))


class IfMatch:
    """The entity tags of a request's `If-Match` (None: no precondition)."""

    def __init__(self, tags: frozenset[str] | None) -> None:
        self.tags = tags

    def check(
        self,
        session: Session,
        row: InstrumentedAttribute[int],
        key: int | ScalarSelect[int],
        current: Callable[[], Any],
    ) -> None:
        """Refuse the write unless the resource is still as the client read
        it. Call it first in the write transaction: the row whose `row`
        column equals `key` is locked for the rest of it, and `current()`
        builds the representation the client's GET received. The row is the
        one the service's own writers lock (a task's story, a worklist), so
        that writers without `If-Match` wait too, and in the same order."""
        if self.tags is None:
            return
        # PostgreSQL: a second writer waits here until this transaction ends,
        # then sees its result. SQLite's write transaction already holds the
        # database lock (kernel/db.py), and FOR UPDATE renders as nothing.
        session.execute(select(row).where(row == key).with_for_update())
        if etag(representation(current())) not in self.tags:
            raise PreconditionFailed(
                "The resource changed since you read it (If-Match does not match its "
                "current ETag): read it again, reapply your change and retry.",
                details={"if_match": sorted(self.tags)},
            )


async def if_match(
    header: Annotated[
        str | None,
        Header(
            alias="If-Match",
            description=(
                "The ETag of the version this change is based on; a stale one is refused "
                "with 412 `precondition_failed`. Leave it out (or send *) to write "
                "regardless."
            ),
        ),
    ] = None,
) -> IfMatch:
    return IfMatch(parse_entity_tags(header))


IfMatchDep = Annotated[IfMatch, Depends(if_match)]


class ETags:
    """Tag single-resource JSON answers of /v1 and answer 304 to a GET that
    already holds the current version. A pure ASGI middleware: it holds back
    only responses that may get a tag, and passes anything else through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith("/v1/") or scope["method"] not in _TAGGED_METHODS:
            await self.app(scope, receive, send)
            return
        start: Message | None = None
        chunks: list[bytes] = []

        async def tagging_send(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = MutableHeaders(raw=message["headers"])
                json = headers.get("content-type", "").startswith("application/json")
                if message["status"] == 200 and json:
                    start = message  # held until the body shows what it is
                    return
                await send(message)
                return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            held, start = start, None
            await self._finish(scope, held, body, send)

        await self.app(scope, receive, tagging_send)

    @staticmethod
    async def _finish(scope: Scope, start: Message, body: bytes, send: Send) -> None:
        tag = MutableHeaders(scope=start).get("etag")
        if tag is None and body.lstrip()[:1] == b"{":
            try:
                tag = etag(orjson.loads(body))
            except orjson.JSONDecodeError:
                tag = None
        if tag is not None:
            headers = MutableHeaders(scope=start)
            headers["ETag"] = tag
            if scope["method"] == "GET":
                wanted = parse_entity_tags(_header(scope, b"if-none-match"))
                if wanted is not None and tag in wanted:
                    del headers["content-length"]
                    del headers["content-type"]
                    await send({**start, "status": 304})
                    await send({"type": "http.response.body", "body": b""})
                    return
        await send(start)
        await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None
