"""The error contract: one shape, stable codes, and an outage is a 503."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from storyline.api.app import create_app
from storyline.bootstrap import build
from storyline.config import Settings
from tests.factories import Factory


def _client_for(url: str, tmp_path: Path) -> TestClient:
    return TestClient(create_app(build(Settings(database_url=url, data_dir=tmp_path))))


def test_postgresql_outage_is_503_with_retry_after(tmp_path: Path) -> None:
    # Nothing listens on port 9 of the loopback: the connection is refused.
    client = _client_for("postgresql+psycopg://postgres@127.0.0.1:9/none", tmp_path)
    response = client.get("/v1/projects")
    assert response.status_code == 503
    body = response.json()
    assert body["code"] == "service_unavailable"
    assert "try again" in body["message"]
    assert response.headers["Retry-After"] == "5"
    assert "Traceback" not in response.text


def test_unopenable_sqlite_database_is_503(tmp_path: Path) -> None:
    # A directory where the database file should be cannot be opened.
    (tmp_path / "db").mkdir()
    client = _client_for(f"sqlite:///{tmp_path / 'db'}", tmp_path)
    response = client.get("/v1/projects")
    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"


def test_unknown_route_and_method_use_the_error_shape(client: TestClient) -> None:
    missing = client.get("/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"
    wrong_method = client.patch("/v1/projects")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["code"] == "method_not_allowed"


def test_malformed_json_body_is_400_not_500(client: TestClient, factory: Factory) -> None:
    admin = factory.admin()
    response = client.post(
        "/v1/projects",
        content=b"{not json",
        headers={"Content-Type": "application/json", **admin.headers},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_input"
    assert client.get("/v1/projects").json() == []


def test_bad_bearer_token_is_401(client: TestClient) -> None:
    response = client.get("/v1/projects", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    malformed = client.get("/v1/projects", headers={"Authorization": "Basic abc"})
    assert malformed.status_code == 401


def test_wrongly_typed_query_parameter_names_the_field(client: TestClient) -> None:
    response = client.get("/v1/projects", params={"limit": "ten"})
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "limit"
    negative = client.get("/v1/projects", params={"limit": 0})
    assert negative.status_code == 400
    both = client.get("/v1/projects", params={"marker": 1, "offset": 1})
    assert both.status_code == 400


def test_unmigrated_database_is_a_500_not_an_outage(tmp_path: Path) -> None:
    # An empty SQLite file opens fine but has no tables: that is an operator's
    # mistake to fix, not an outage to retry, so it must not answer 503.
    client = TestClient(
        create_app(
            build(Settings(database_url=f"sqlite:///{tmp_path / 'empty.db'}", data_dir=tmp_path))
        ),
        raise_server_exceptions=False,
    )
    response = client.get("/v1/projects", headers={"Accept": "application/json"})
    assert response.status_code == 500
    assert response.json()["code"] == "internal_error"
    assert "Traceback" not in response.text
