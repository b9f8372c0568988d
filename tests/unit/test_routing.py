"""The route index picks, for every path the app serves, the route FastAPI's
own scan would pick, and leaves wrong methods, slashes and 404s to it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.routing import BaseRoute, Match

from storyline.app import create_app
from storyline.bootstrap import Container
from storyline.http.routing import RouteIndex, _prefixes

SAMPLES = ("1", "nova", "openstack/nova", "search")


def _scope(method: str, path: str) -> dict[str, Any]:
    return {
        "type": "http",
        "method": method,
        "path": path,
        "root_path": "",
        "query_string": b"",
        "headers": [],
    }


def _first_full(routes: list[BaseRoute], method: str, path: str) -> BaseRoute | None:
    for route in routes:
        match, _ = route.matches(_scope(method, path))
        if match == Match.FULL:
            return route
    return None


def _paths(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) for every route, with each parameter filled by samples."""
    found: set[tuple[str, str]] = set()

    def walk(route: BaseRoute, outer: str) -> None:
        inner_routes = getattr(getattr(route, "original_router", None), "routes", None)
        if inner_routes is not None:
            prefix = outer + route.include_context.prefix  # type: ignore[attr-defined]
            for inner in inner_routes:
                walk(inner, prefix)
            return
        template = outer + str(getattr(route, "path", ""))
        methods = getattr(route, "methods", None) or {"GET"}
        for sample in SAMPLES:
            path = re.sub(r"\{[^}]+\}", sample, template) or "/"
            found.update((method, path) for method in methods)
            found.update((method, path + "/x") for method in methods)

    for route in app.router.routes:
        walk(route, "")
    return found


@pytest.fixture
def app(container: Container) -> FastAPI:
    return create_app(container)


def test_the_index_picks_the_route_the_scan_picks(app: FastAPI) -> None:
    index = RouteIndex(app.router)
    paths = _paths(app)
    assert len(paths) > 500
    candidates_tried = 0
    for method, path in sorted(paths):
        candidates = index._candidates(path)
        candidates_tried += len(candidates)
        assert _first_full(candidates, method, path) is _first_full(
            list(app.router.routes), method, path
        ), (method, path)
    # And it is an index: far fewer routes tried than a scan of them all.
    assert candidates_tried < len(paths) * len(app.router.routes) / 4


def test_literal_prefixes_stop_at_the_first_parameter(app: FastAPI) -> None:
    prefixes = {prefix for route in app.router.routes for prefix in _prefixes(route)}
    assert ("v1", "stories") in prefixes
    assert ("static",) in prefixes
    assert all("{" not in segment for prefix in prefixes for segment in prefix)


def test_answers_the_scan_gives_stay(app: FastAPI) -> None:
    client = TestClient(app)
    assert client.get("/v1/stories/999999").status_code == 404
    assert client.get("/no/such/page").status_code == 404
    assert client.patch("/v1/stories").status_code == 405
    # A route added after the first request is found too.
    assert client.get("/v1/systeminfo").status_code == 200

    @app.get("/late-addition")
    def late() -> dict[str, str]:
        return {"late": "yes"}

    assert client.get("/late-addition").json() == {"late": "yes"}
