"""Route dispatch by path prefix.

FastAPI tries an app's routes one after another, and every route of an
included router costs a few microseconds to try. With some 250 routes (the
API and the pages) that linear scan was the largest single cost of a small
request: about 0.6 ms of the 1 ms a `/healthz` took inside the process.

`RouteIndex` sits where the router dispatches (`Router.middleware_stack`) and
tries only the routes that can match the request's first two path segments,
in their original order, so the first full match is the one FastAPI's scan
would have found. Anything else (a wrong method, a missing slash, a 404)
falls back to FastAPI's own scan, which gives the usual answers.
"""

from __future__ import annotations

from collections.abc import Iterator

from fastapi.routing import APIRouter, _IncludedRouter
from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Match, Mount
from starlette.types import Receive, Scope, Send

# How many leading path segments the index looks at: "/v1/stories/12" is
# found under ("v1", "stories").
DEPTH = 2

Prefix = tuple[str, ...]


class RouteIndex:
    """The router's dispatch, with routes looked up by their literal prefix."""

    def __init__(self, router: APIRouter) -> None:
        self.router = router
        self._built_for = -1
        self._by_prefix: dict[Prefix, list[BaseRoute]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.router.app(scope, receive, send)
            return
        if "router" not in scope:
            scope["router"] = self.router
        for route in self._candidates(get_route_path(scope)):
            match, child_scope = route.matches(scope)
            if match == Match.FULL:
                scope.update(child_scope)
                await route.handle(scope, receive, send)
                return
        await self.router.app(scope, receive, send)

    def _candidates(self, path: str) -> list[BaseRoute]:
        # Routes are registered when the app is built; one added later (a
        # test's, say) changes the count and the index is rebuilt.
        if len(self.router.routes) != self._built_for:
            self._build()
        segments = tuple(path.split("/", DEPTH + 1)[1 : DEPTH + 1])
        # Requests that no literal prefix knows (a 404, a parameter in the
        # first segments) share the shortest known entry: the key space stays
        # the routes' own, whatever paths clients send.
        for depth in range(len(segments), -1, -1):
            found = self._by_prefix.get(segments[:depth])
            if found is not None:
                return found
        return []

    def _build(self) -> None:
        routes = list(self.router.routes)
        prefixes = [set(_prefixes(route)) for route in routes]
        known: set[Prefix] = {()}
        for route_prefixes in prefixes:
            for prefix in route_prefixes:
                known.update(prefix[:depth] for depth in range(len(prefix) + 1))
        self._by_prefix = {
            key: [
                route
                for route, route_prefixes in zip(routes, prefixes, strict=True)
                if any(key[: len(prefix)] == prefix for prefix in route_prefixes)
            ]
            for key in known
        }
        self._built_for = len(routes)


def _prefixes(route: BaseRoute, outer: str = "") -> Iterator[Prefix]:
    """The literal leading segments of every path `route` can match."""
    if isinstance(route, _IncludedRouter):
        prefix = outer + route.include_context.prefix
        for inner in route.original_router.routes:
            yield from _prefixes(inner, prefix)
        return
    path = getattr(route, "path", None)
    if not isinstance(path, str):
        yield ()  # unknown shape: a candidate for every request
        return
    literal: list[str] = []
    for segment in (outer + path).split("/")[1 : DEPTH + 1]:
        if "{" in segment:
            break
        literal.append(segment)
    if isinstance(route, Mount) and literal and literal[-1] == "":
        literal.pop()
    yield tuple(literal)
