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


def test_errors_are_documented_as_answered(client: TestClient) -> None:
    # Validation errors are 400 in the one error shape, never FastAPI's 422.
    document = client.get("/v1/openapi.json").json()
    for path, operations in document["paths"].items():
        if not path.startswith("/v1/"):
            continue
        for method, operation in operations.items():
            responses = operation["responses"]
            assert "422" not in responses, (method, path)
            for status in ("400", "401", "403", "404", "409", "503"):
                schema = responses[status]["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorOut"}, (method, path)
    assert "HTTPValidationError" not in document["components"]["schemas"]
