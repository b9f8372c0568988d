"""The error contract: one shape, stable codes, and an outage is a 503."""

from __future__ import annotations

from pathlib import Path

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from storyline.app import create_app
from storyline.bootstrap import Container, build
from storyline.config import Settings
from storyline.kernel.schema import Base
from tests.factories import Factory, TestUser


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


# Bad input gets a clear 400 naming the field, never a 500 from the database.
# Ids are PostgreSQL `integer` columns: larger numbers made the query fail
# ("integer out of range"), and beyond 2**63 SQLite's driver overflowed.

HUGE = (2**40, 2**63, 2**70)


def _field_error(response: httpx.Response, field: str) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == "invalid_input"
    assert field in [detail["field"] for detail in body["details"]], body


@pytest.mark.parametrize("number", HUGE)
def test_huge_id_in_the_path_is_400(client: TestClient, number: int) -> None:
    _field_error(client.get(f"/v1/stories/{number}"), "story_id")
    _field_error(client.get(f"/v1/stories/1/comments/{number}"), "comment_id")


@pytest.mark.parametrize("number", HUGE)
def test_huge_id_filter_is_400(client: TestClient, number: int) -> None:
    _field_error(client.get("/v1/tasks", params={"story_id": number}), "story_id")
    _field_error(client.get("/v1/stories", params={"marker": number}), "marker")


@pytest.mark.parametrize("number", HUGE)
def test_huge_id_in_a_body_is_400(client: TestClient, factory: Factory, number: int) -> None:
    admin = factory.admin()
    project = factory.project(admin)
    story = factory.story(admin)
    task = {"title": "T", "story_id": story["id"], "project_id": project["id"]}
    response = client.post(
        "/v1/tasks", json={**task, "milestone_id": number}, headers=admin.headers
    )
    _field_error(response, "milestone_id")
    response = client.post(
        "/v1/branches", json={"name": "b", "project_id": number}, headers=admin.headers
    )
    _field_error(response, "project_id")
    response = client.post(
        "/v1/stories", json={"title": "S", "users": [number]}, headers=admin.headers
    )
    _field_error(response, "users.0")
    response = client.post(
        "/v1/worklists", json={"title": "W", "owners": [number]}, headers=admin.headers
    )
    _field_error(response, "owners.0")


def test_nul_in_a_body_string_is_400_naming_the_field(client: TestClient, factory: Factory) -> None:
    # PostgreSQL's text cannot hold NUL: refused on every database alike.
    admin = factory.admin()
    response = client.post("/v1/stories", json={"title": "a\x00b"}, headers=admin.headers)
    _field_error(response, "title")
    story = factory.story(admin)
    response = client.put(
        f"/v1/stories/{story['id']}", json={"description": "x\x00"}, headers=admin.headers
    )
    _field_error(response, "description")
    response = client.post(
        f"/v1/users/{admin.id}/preferences", json={"key": {"x\x00": 1}}, headers=admin.headers
    )
    assert response.status_code == 400, response.text


def test_nul_in_the_query_or_path_is_400(client: TestClient) -> None:
    _field_error(client.get("/v1/stories", params={"title": "a\x00"}), "title")
    _field_error(client.get("/v1/projects/a%00b"), "ref")


def test_over_long_string_is_400(client: TestClient, factory: Factory) -> None:
    admin = factory.admin()
    response = client.post("/v1/stories", json={"title": "x" * 256}, headers=admin.headers)
    _field_error(response, "title")


def test_invalid_date_is_400(client: TestClient) -> None:
    _field_error(client.get("/v1/stories", params={"updated_since": "2026-13-45"}), "updated_since")


def test_unexpected_json_types_are_400(client: TestClient, factory: Factory) -> None:
    admin = factory.admin()
    for body in ([], "story", 5, {"title": 5}, {"title": ["a"]}, {"title": "S", "users": "1"}):
        response = client.post("/v1/stories", json=body, headers=admin.headers)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["code"] == "invalid_input"


def test_non_numeric_team_id_on_write_is_400_not_405(client: TestClient, factory: Factory) -> None:
    admin = factory.admin()
    _field_error(client.put("/v1/teams/abc", json={}, headers=admin.headers), "team_id")
    _field_error(client.delete("/v1/teams/abc", headers=admin.headers), "team_id")


# A request that fails halfway changes nothing: each request is one transaction.


def _counts(container: Container, client: TestClient, user: TestUser) -> dict[str, int]:
    # A first request with a token records its use (in its own transaction);
    # make it before counting, so that only the request under test remains.
    client.get("/v1/users/self", headers=user.headers)
    with container.db.read() as session:
        return {
            table.name: session.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables
        }


def test_story_create_failing_halfway_leaves_no_rows(
    client: TestClient, factory: Factory, container: Container
) -> None:
    admin = factory.admin()
    before = _counts(container, client, admin)
    # A valid story whose new tags would be created before the ACL's unknown
    # user is found: the story, the tags and the events must all roll back.
    response = client.post(
        "/v1/stories",
        json={"title": "S", "tags": ["new-tag"], "private": True, "users": [admin.id, 999999]},
        headers=admin.headers,
    )
    assert response.status_code in {400, 404}, response.text
    assert _counts(container, client, admin) == before


def test_task_create_failing_halfway_leaves_no_rows(
    client: TestClient, factory: Factory, container: Container
) -> None:
    admin = factory.admin()
    project = factory.project(admin)
    story = factory.story(admin)
    before = _counts(container, client, admin)
    response = client.post(
        "/v1/tasks",
        json={
            "title": "T",
            "story_id": story["id"],
            "project_id": project["id"],
            "milestone_id": 999999,
        },
        headers=admin.headers,
    )
    assert response.status_code in {400, 404}, response.text
    assert _counts(container, client, admin) == before
    after = client.get(f"/v1/stories/{story['id']}").json()
    assert after["task_statuses"] == story["task_statuses"]
