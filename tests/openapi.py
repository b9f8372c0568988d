"""Validate every JSON response the API tests receive against the OpenAPI
document the server itself serves, so the document cannot drift from what
the server does."""

from __future__ import annotations

import re
from typing import Any, ClassVar

import httpx2 as httpx
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator
from starlette.types import Receive, Scope, Send


class OpenAPIChecker:
    # Building the document and compiling validators is slow (about a second)
    # and identical for every app built by create_app, so it is done once per
    # process and shared by every test's checker.
    _shared: ClassVar[dict[str, Any]] = {}

    def __init__(self, app: FastAPI, *, shared: bool = False) -> None:
        self.app = app
        if shared:
            if "document" not in self._shared:
                self._shared["document"] = app.openapi()
                self._shared["validators"] = {}
            self.document = self._shared["document"]
            self._validators = self._shared["validators"]
        else:
            self.document = app.openapi()
            self._validators = {}
        # The route that served the last request, recorded by RouteRecorder.
        self.last_route: APIRoute | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
        route = scope.get("route")
        self.last_route = route if isinstance(route, APIRoute) else None

    def _documented_path(self, path: str, route_path: str) -> str:
        # Routers are mounted under prefixes, so the route knows only the tail
        # of its documented path; pick the documented path that ends with it
        # and matches the request.
        for documented in self.document["paths"]:
            if documented.endswith(route_path):
                pattern = re.sub(r"\{[^/}]+\}", ".+", documented)
                if re.fullmatch(pattern, path):
                    return str(documented)
        return route_path

    def _validator(self, method: str, path: str, status: str) -> Draft202012Validator | None:
        key = (method, path, status)
        if key not in self._validators:
            operation = self.document["paths"][path].get(method, {})
            response = operation.get("responses", {}).get(status)
            schema = None
            if response is not None:
                schema = response.get("content", {}).get("application/json", {}).get("schema")
            self._validators[key] = (
                None
                if schema is None
                else Draft202012Validator({**self.document, **_as_root(schema)})
            )
        return self._validators[key]

    def check(self, response: httpx.Response) -> None:
        request = response.request
        path = request.url.path
        if not path.startswith("/v1/") or path == "/v1/openapi.json":
            return
        if response.status_code >= 300:
            return
        if not response.headers.get("content-type", "").startswith("application/json"):
            return
        assert self.last_route is not None, f"{request.method} {path} matched no API route"
        template = self._documented_path(path, self.last_route.path_format)
        assert template in self.document["paths"], f"{template} is not in the OpenAPI document"
        operation = self.document["paths"][template].get(request.method.lower())
        assert operation is not None, f"{request.method} {template} is not documented"
        validator = self._validator(request.method.lower(), template, str(response.status_code))
        if validator is None:
            return
        errors = sorted(validator.iter_errors(response.json()), key=lambda e: list(e.path))
        assert not errors, (
            f"{request.method} {path} answered {response.status_code} with a body that does not "
            f"match the OpenAPI schema: {errors[0].message} at {list(errors[0].path)}"
        )


def _as_root(schema: dict[str, Any]) -> dict[str, Any]:
    # The whole document is the root so that "#/components/..." refs resolve.
    return {"allOf": [schema]}


class CheckedClient(TestClient):
    """A TestClient that validates every /v1 JSON response against OpenAPI."""

    checker: OpenAPIChecker

    def request(self, *args: Any, **kwargs: Any) -> httpx.Response:
        response = super().request(*args, **kwargs)
        self.checker.check(response)
        return response
