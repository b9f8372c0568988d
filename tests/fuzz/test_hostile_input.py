"""Every route and every page, called with hostile ids and query strings.

The routes are read from the app's own route table, so a new page or /v1
route is covered the day it is added. Ids outside 1..2**31-1, non-numbers,
numbers too long for Python's `int`, a lone surrogate and a NUL, in the path,
the query and the form fields, must get the normal error: never a 5xx, an
HTML error page for a browser's page request, and for every /v1 id a 400
`invalid_input` naming the parameter (docs/api.md, "Errors").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from storyline.http.input import _is_integer
from storyline.web.rendering import PageRoute
from tests.factories import Factory
from tests.fuzz.conftest import World
from tests.web.tracker_browser import CSRF, browser

PARAM = re.compile(r"{([^}:]+)(?::([^}]+))?}")
# Out of range, not a number, too long for `int`, and text no column holds
# (percent-encoded as a browser sends it: a lone surrogate as CESU-8 bytes).
NUMBERS = ["0", str(2**31), str(2**63), str(2**64), "9" * 5000]
HOSTILE = [*NUMBERS, "-1", "abc", "%ED%A0%80", "%00", "a%00b"]
SEEDED = "1"


@dataclass(frozen=True)
class Endpoint:
    path: str
    route: APIRoute
    methods: tuple[str, ...]


def _endpoints(world: World, *, pages: bool) -> list[Endpoint]:
    """The app's routes as mounted (with their prefixes), pages or API."""
    found = []
    for context in iter_route_contexts(world.app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and isinstance(route, PageRoute) == pages:
            methods = tuple(sorted(set(context.methods or ()) - {"HEAD"}))
            found.append(Endpoint(path=context.path, route=route, methods=methods))
    return found


def _fill(path: str, value: str, *, only: str | None = None) -> str:
    def replace(match: re.Match[str]) -> str:
        if only is None or match.group(1) == only:
            return value
        return SEEDED

    return PARAM.sub(replace, path)


def _query_names(route: APIRoute) -> list[str]:
    names: list[str] = []
    stack = [route.dependant]
    while stack:
        dependant = stack.pop()
        names += [param.alias for param in dependant.query_params]
        stack.extend(dependant.dependencies)
    return sorted(set(names))


def _form_names(route: APIRoute) -> list[str]:
    return sorted({param.alias for param in route.dependant.body_params})


def _is_page_error(response: httpx.Response) -> bool:
    return response.headers.get("content-type", "").startswith("text/html")


class Pages:
    """Page requests as a signed-in administrator's browser, CSRF token included."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        page = client.get("/search")
        match = CSRF.search(page.text)
        assert match, page.text
        self.token = match.group(1)

    def send(self, method: str, url: str, form: dict[str, str] | None = None) -> httpx.Response:
        headers = {"accept": "text/html", "x-csrf-token": self.token}
        if method == "GET":
            return self.client.get(url, headers=headers, follow_redirects=False)
        # Raw percent-encoding, so that the bytes sent are the hostile ones.
        body = "&".join(f"{name}={value}" for name, value in (form or {}).items())
        headers["content-type"] = "application/x-www-form-urlencoded"
        return self.client.request(
            method, url, content=body, headers=headers, follow_redirects=False
        )


@pytest.fixture(scope="module")
def pages(world: World) -> Iterator[Pages]:
    signed_in = browser(world.app, world.container, world.admin)
    yield Pages(signed_in.client)
    signed_in.client.__exit__(None, None, None)


def _check_page(response: httpx.Response, what: str) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code} {response.text[:300]}"
    if response.status_code >= 400:
        assert _is_page_error(response), f"{what}: not an HTML error page: {response.text[:300]}"


def _last_if_signing_out(endpoint: Endpoint) -> tuple[bool, str]:
    # Signing out ends the session every other request uses.
    return (endpoint.path.startswith("/logout"), endpoint.path)


def test_every_page_answers_hostile_ids_with_an_error_page(world: World, pages: Pages) -> None:
    endpoints = sorted(_endpoints(world, pages=True), key=_last_if_signing_out)
    assert len(endpoints) > 50, "the page routes were not found"
    tried = 0
    for endpoint in endpoints:
        for method in endpoint.methods:
            for value in HOSTILE:
                for name, _ in PARAM.findall(endpoint.path):
                    url = _fill(endpoint.path, value, only=name)
                    _check_page(pages.send(method, url), f"{method} {url[:120]}")
                    tried += 1
    assert tried > 100


def test_every_page_answers_hostile_query_and_form_fields(world: World, pages: Pages) -> None:
    endpoints = sorted(_endpoints(world, pages=True), key=_last_if_signing_out)
    for endpoint in endpoints:
        url = _fill(endpoint.path, SEEDED)
        if endpoint.path.startswith("/projects/"):
            url = f"/projects/{world.project_name}"
        names = [*_query_names(endpoint.route), "unknown"]
        for method in endpoint.methods:
            for value in HOSTILE:
                # Every parameter at once, but a URL has a length limit.
                groups = [names] if len(value) < 100 else [[name] for name in names]
                for group in groups:
                    query = "&".join(f"{name}={value}" for name in group)
                    form = None
                    if method != "GET":
                        form = dict.fromkeys(_form_names(endpoint.route), value)
                    response = pages.send(method, f"{url}?{query}", form)
                    _check_page(response, f"{method} {endpoint.path}?{query[:100]}")


def _api_id_params(route: APIRoute) -> dict[str, bool]:
    """The route's path parameters that hold ids, and whether each may also
    be a name (`/v1/projects/{ref}` takes an id or a name)."""
    ids = {
        p.alias: False for p in route.dependant.path_params if _is_integer(p.field_info.annotation)
    }
    ids.update({p.alias: True for p in route.dependant.path_params if p.alias == "ref"})
    return ids


def test_every_api_id_out_of_range_is_400_invalid_input(world: World) -> None:
    client = TestClient(world.app)
    # An administrator of its own: the page tests may have revoked the
    # world's tokens (with a valid id and hostile form fields).
    admin = Factory(world.container, client).admin()
    endpoints = [e for e in _endpoints(world, pages=False) if e.path.startswith("/v1/")]
    tried = 0
    for endpoint in endpoints:
        converted = {name for name, kind in PARAM.findall(endpoint.path) if kind == "int"}
        for name, may_be_name in _api_id_params(endpoint.route).items():
            # A name, or a path that only matches digits, answers 404 to
            # what is not written as a number.
            values = NUMBERS if may_be_name or name in converted else HOSTILE
            for method in endpoint.methods:
                for value in values:
                    url = _fill(endpoint.path, value, only=name)
                    response = client.request(method, url, headers=admin.headers, json={})
                    what = f"{method} {url[:120]}"
                    assert response.status_code == 400, f"{what}: {response.text[:300]}"
                    body: dict[str, Any] = response.json()
                    assert body["code"] == "invalid_input", f"{what}: {body}"
                    fields = [d["field"] for d in body["details"]]
                    assert name in fields or (may_be_name and "id" in fields), f"{what}: {body}"
                    tried += 1
    assert tried > 300
