from __future__ import annotations

from fastapi.testclient import TestClient
from openapi_spec_validator import validate


def test_served_document_is_valid_openapi_3_1(client: TestClient) -> None:
    response = client.get("/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.1")
    validate(document)
    assert "/v1/projects" in document["paths"]


def test_interactive_docs_are_served(client: TestClient) -> None:
    response = client.get("/v1/docs")
    assert response.status_code == 200
    assert "swagger" in response.text.lower()
