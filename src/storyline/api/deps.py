"""Dependencies shared by every route: the request context, paging, and the
rejection of unknown query parameters."""

from __future__ import annotations

import datetime as dt
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any

import orjson
from fastapi import Depends, Query, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import PlainSerializer
from starlette.concurrency import run_in_threadpool

from storyline.accounts import audit, auth
from storyline.accounts.audit import Client
from storyline.config import Settings
from storyline.errors import InvalidInput, NotAuthenticated
from storyline.http.runtime import Runtime, runtime
from storyline.kernel.access import Actor
from storyline.kernel.db import Database
from storyline.kernel.paging import Page, PageRequest
from storyline.kernel.validation import MAX_INT, MIN_INT


def _timestamp(value: dt.datetime) -> str:
    # StoryBoard's format: seconds precision, explicit UTC offset.
    return value.astimezone(dt.UTC).isoformat(timespec="seconds")


Timestamp = Annotated[dt.datetime, PlainSerializer(_timestamp, return_type=str)]


@dataclass(frozen=True)
class Context:
    db: Database
    settings: Settings
    actor: Actor


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise NotAuthenticated("Send the token as 'Authorization: Bearer <token>'.")
    return value.strip()


async def get_context(request: Request) -> Context:
    # async, so that an anonymous request does not pay a thread hop for it;
    # only the token lookup, which queries the database, runs in a thread.
    container = runtime(request)
    secret = _bearer(request)
    actor = Actor()
    if secret is not None:
        actor = await run_in_threadpool(_authenticate, container, request, secret)
    return Context(db=container.db, settings=container.settings, actor=actor)


def _authenticate(container: Runtime, request: Request, secret: str) -> Actor:
    with container.db.read() as session:
        actor, token = auth.authenticate(session, secret=secret)
    if token is not None and auth.needs_touch(token):
        with container.db.write() as session:
            auth.touch(session, token_id=token.id)
            # Audited as often as last_used_at is written: enough to see which
            # tokens are in use, from where, without a row per request.
            audit.record(
                session,
                event_type=audit.TOKEN_USED,
                user_id=actor.user_id,
                client=Client(
                    ip=request.client.host if request.client is not None else None,
                    user_agent=request.headers.get("user-agent"),
                ),
                token_id=token.id,
                scope=token.scope,
            )
    return actor


ContextDep = Annotated[Context, Depends(get_context)]


def _allowed_query_params(route: APIRoute) -> frozenset[str]:
    cached: frozenset[str] | None = getattr(route, "_storyline_allowed", None)
    if cached is None:
        cached = frozenset(_query_names(route.dependant))
        route._storyline_allowed = cached  # type: ignore[attr-defined]
    return cached


def _query_names(dependant: Dependant) -> Iterator[str]:
    for param in dependant.query_params:
        yield param.alias
    for sub in dependant.dependencies:
        yield from _query_names(sub)


async def reject_unknown_params(request: Request) -> None:
    """StoryBoard answers 400 "Unknown argument" to parameters it doesn't take;
    silently ignoring a misspelt filter would return the wrong stories."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    allowed = _allowed_query_params(route)
    unknown = sorted(set(request.query_params) - allowed)
    if unknown:
        raise InvalidInput(
            f"Unknown argument: {', '.join(unknown)}",
            details=[{"field": name, "message": "unknown argument"} for name in unknown],
        )


def _is_integer(annotation: Any) -> bool:
    if annotation is int:
        return True
    if typing.get_origin(annotation) in {typing.Union, types.UnionType, list, Annotated}:
        return any(_is_integer(arg) for arg in typing.get_args(annotation))
    return False


def _integer_params(route: APIRoute) -> tuple[frozenset[str], frozenset[str]]:
    """The names of `route`'s integer path and query parameters."""
    cached: tuple[frozenset[str], frozenset[str]] | None = getattr(
        route, "_storyline_integers", None
    )
    if cached is None:
        path: set[str] = set()
        query: set[str] = set()
        stack = [route.dependant]
        while stack:
            dependant = stack.pop()
            path.update(
                p.alias for p in dependant.path_params if _is_integer(p.field_info.annotation)
            )
            query.update(
                p.alias for p in dependant.query_params if _is_integer(p.field_info.annotation)
            )
            stack.extend(dependant.dependencies)
        cached = (frozenset(path), frozenset(query))
        route._storyline_integers = cached  # type: ignore[attr-defined]
    return cached


def _check_integer(name: str, raw: str) -> None:
    try:
        value = int(raw.strip())
    except ValueError:
        return  # not a number at all: the parameter's own validation says so
    if not MIN_INT <= value <= MAX_INT:
        raise InvalidInput.field(name, f"must be between {MIN_INT} and {MAX_INT}")


def _nul_field(value: Any, path: str) -> str | None:
    """The dotted path of the first string (or key) in `value` holding a NUL."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for key, item in value.items():
            field = f"{path}.{key}" if path else str(key)
            if "\x00" in str(key):
                return field
            found = _nul_field(item, field)
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _nul_field(item, f"{path}.{index}" if path else str(index))
            if found is not None:
                return found
    return None


def _refuse_nul(field: str) -> InvalidInput:
    return InvalidInput.field(field, "must not contain NUL characters")


async def check_input(request: Request) -> None:
    """Refuse, with a 400 naming the field, input that no column can hold,
    before it reaches a query and makes the database fail with a 500: integer
    path and query parameters outside an `integer` column's range, and NUL
    characters in any string (PostgreSQL's text cannot store them), in the
    path, the query or a JSON body. Every /v1 route gets this (app.py),
    so no endpoint has to remember it; ids in request bodies are bounded by
    their models (`kernel.validation.Id`)."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    path_ints, query_ints = _integer_params(route)
    for name, raw in request.path_params.items():
        if "\x00" in str(raw):
            raise _refuse_nul(name)
        if name in path_ints:
            _check_integer(name, str(raw))
    for name, raw in request.query_params.multi_items():
        if "\x00" in raw or "\x00" in name:
            raise _refuse_nul(name)
        if name in query_ints:
            _check_integer(name, raw)
    body = await request.body()
    # A NUL can only be in valid JSON as the escape \u0000 (raw control
    # characters are refused by the parser).
    if b"\\u0000" in body:
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError:
            return  # FastAPI's own parsing answers malformed JSON
        field = _nul_field(document, "")
        if field is not None:
            raise _refuse_nul(field or "body")


# What the `q` of every search endpoint takes (the language of kernel/search.py).
SEARCH_HELP = (
    "Words to search for. Each word matches as a prefix ('frob' finds "
    "'frobnicator'); \"quoted phrases\" match whole words in order; "
    "-word excludes; all items must match."
)


@dataclass(frozen=True)
class PageParams:
    limit: int | None
    marker: int | None
    offset: int | None
    sort_field: str | None
    sort_dir: str | None

    def request(self, settings: Settings, **overrides: Any) -> PageRequest:
        return PageRequest.build(
            limit=self.limit,
            marker=self.marker,
            offset=self.offset,
            sort_field=self.sort_field,
            sort_dir=self.sort_dir,
            default_limit=settings.page_size_default,
            max_limit=settings.page_size_maximum,
            **overrides,
        )


def page_params(
    limit: Annotated[int | None, Query(description="Page size (capped by the server).")] = None,
    marker: Annotated[
        int | None, Query(description="Continue after the item with this id.")
    ] = None,
    offset: Annotated[int | None, Query(description="Skip this many items.")] = None,
    sort_field: Annotated[str | None, Query(description="Field to sort by.")] = None,
    sort_dir: Annotated[str | None, Query(description="asc or desc.")] = None,
) -> PageParams:
    return PageParams(limit, marker, offset, sort_field, sort_dir)


PageDep = Annotated[PageParams, Depends(page_params)]


def set_page_headers(response: Response, page: Page[Any]) -> None:
    request = page.request
    response.headers["X-Limit"] = str(request.limit)
    if page.total is not None:
        response.headers["X-Total"] = str(page.total)
    if request.marker is not None:
        response.headers["X-Marker"] = str(request.marker)
    if request.offset is not None:
        response.headers["X-Offset"] = str(request.offset)
