"""Dependencies shared by every route: the request context, paging, and the
rejection of unknown query parameters. (Input no column can hold is refused
for the API and the pages alike, by `storyline.http.input`.)"""

from __future__ import annotations

import datetime as dt
import functools
import inspect
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any, ParamSpec, TypeVar

from fastapi import Depends, Query, Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from pydantic import PlainSerializer
from starlette.concurrency import run_in_threadpool

from storyline.accounts import auth
from storyline.accounts.audit import Client
from storyline.config import Settings
from storyline.errors import InvalidInput, NotAuthenticated
from storyline.http.input import check_input
from storyline.http.runtime import runtime
from storyline.kernel.access import ANONYMOUS, Actor
from storyline.kernel.db import Database
from storyline.kernel.paging import Page, PageRequest


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
    # async, so that a request whose token this process already resolved
    # (`auth.remembered`), or that has none, pays no thread hop for it; only
    # the lookup, which queries the database, runs in a thread.
    container = runtime(request)
    secret = _bearer(request)
    actor = ANONYMOUS
    if secret is not None:
        bearer = auth.remembered(container.db, secret=secret)
        if bearer is None:
            client = Client(
                ip=request.client.host if request.client is not None else None,
                user_agent=request.headers.get("user-agent"),
            )
            bearer = await run_in_threadpool(
                functools.partial(auth.resolve, container.db, secret=secret, client=client)
            )
        actor = bearer.actor
    return Context(db=container.db, settings=container.settings, actor=actor)


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


async def check_api_request(request: Request) -> None:
    """What every /v1 route refuses before its handler runs: unknown query
    parameters, then input no column can hold (`check_input`). One
    dependency rather than two, as each costs a pass of FastAPI's dependency
    solver on every request."""
    reject_unknown_params(request)
    await check_input(request)


def reject_unknown_params(request: Request) -> None:
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


P = ParamSpec("P")
T = TypeVar("T")


def nonblocking(build: Callable[P, T]) -> Callable[P, Awaitable[T]]:
    """`build` as a dependency that FastAPI awaits on the event loop. A plain
    `def` dependency runs in FastAPI's thread pool, a thread hop on every
    request for no I/O; dependencies that only read the request are `async
    def` or wrapped in this (tests/api/test_dependencies.py holds every route
    to it). `build` stays a plain function that other code calls."""

    @functools.wraps(build)
    async def dependency(*args: P.args, **kwargs: P.kwargs) -> T:
        return build(*args, **kwargs)

    return dependency


def bounded_read(handler: Callable[P, T]) -> Callable[P, Awaitable[T]]:
    """A route `handler` that reads one object, or a page of one object's
    parts, and takes its `ctx: ContextDep` by that name: run on the event
    loop where the database answers in process, in the thread pool where it
    waits on the network.

    A plain `def` route runs in FastAPI's thread pool: a hand-off to a
    worker thread and back to the loop, about 0.2 ms on this kind of machine
    (docs/benchmarks.md), a third of a single-story read on SQLite. SQLite
    reads wait on no socket and hold the GIL throughout, so a thread buys
    them nothing; reads whose cost is bounded by one object (an index probe,
    one page) hold the loop no longer than the thread would have held the
    GIL. Lists and searches, whose cost grows with the data, stay in
    threads, where the switch interval lets short requests in between.
    PostgreSQL reads wait on the server, and stay in threads."""
    if "ctx" not in inspect.signature(handler).parameters:
        raise TypeError(f"{handler.__name__} needs a `ctx: ContextDep` parameter")

    @functools.wraps(handler)
    async def route(*args: P.args, **kwargs: P.kwargs) -> T:
        context = kwargs["ctx"]
        assert isinstance(context, Context)
        if context.db.reads_in_process:
            return handler(*args, **kwargs)
        return await run_in_threadpool(handler, *args, **kwargs)

    return route


async def page_params(
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
        if not page.total_exact:
            response.headers["X-Total-Estimated"] = "true"
    if request.marker is not None:
        response.headers["X-Marker"] = str(request.marker)
    if request.offset is not None:
        response.headers["X-Offset"] = str(request.offset)
