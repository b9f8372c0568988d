"""The OpenAPI response check used by every API test must itself catch drift."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from tests.openapi import CheckedClient, OpenAPIChecker


class Item(BaseModel):
    id: int
    name: str


def _client() -> CheckedClient:
    app = FastAPI()

    @app.get("/v1/items/{item_id}", response_model=Item)
    def get_item(item_id: int) -> JSONResponse:
        # Bypasses response_model validation, as a hand-built response would.
        if item_id == 1:
            return JSONResponse({"id": 1, "name": "ok"})
        return JSONResponse({"id": "one"})

    checker = OpenAPIChecker(app)
    client = CheckedClient(checker)
    client.checker = checker
    return client


def test_conforming_response_passes() -> None:
    assert _client().get("/v1/items/1").json() == {"id": 1, "name": "ok"}


def test_drifting_response_fails() -> None:
    with pytest.raises(AssertionError, match="does not match the OpenAPI schema"):
        _client().get("/v1/items/2")
