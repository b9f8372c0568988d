"""Input limits (docs/api.md, "Limits"): text lengths, the request body size,
ids by number or by name, and text no column can store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient

from storyline.app import create_app
from storyline.bootstrap import Container, build
from storyline.config import Settings
from storyline.errors import ConfigurationError
from storyline.kernel.validation import NAME_LENGTH, TEXT_LENGTH
from tests.factories import Factory

JSON = {"content-type": "application/json"}
# A lone surrogate, as JSON escapes it and as the bytes that encode it
# (CESU-8): Python's JSON parser lets both through; neither is storable.
LONE_SURROGATES = (b'"\\ud800"', b'"\\uDC00x"', b'"\xed\xa0\x80"')


def _field_error(response: httpx.Response, field: str, *, message: str = "") -> dict[str, Any]:
    assert response.status_code == 400, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] == "invalid_input", body
    details = {detail["field"]: detail["message"] for detail in body["details"]}
    assert field in details, body
    assert message in details[field], body
    return body


# Text lengths


def test_a_description_over_the_limit_is_400(client: TestClient, factory: Factory) -> None:
    admin = factory.admin()
    longest = "d" * TEXT_LENGTH
    response = client.post(
        "/v1/stories", json={"title": "S", "description": longest}, headers=admin.headers
    )
    assert response.status_code == 200, response.text
    story_id = response.json()["id"]
    response = client.post(
        "/v1/stories", json={"title": "S", "description": longest + "d"}, headers=admin.headers
    )
    _field_error(response, "description", message=str(TEXT_LENGTH))
    response = client.put(
        f"/v1/stories/{story_id}", json={"description": longest + "d"}, headers=admin.headers
    )
    _field_error(response, "description")


@pytest.mark.parametrize(
    ("path", "body", "field", "limit"),
    [
        ("/v1/projects", {"name": "p", "description": "x"}, "description", TEXT_LENGTH),
        ("/v1/teams", {"name": "t", "description": "x"}, "description", TEXT_LENGTH),
        ("/v1/boards", {"title": "b", "description": "x"}, "description", TEXT_LENGTH),
        ("/v1/subscriptions", {"target_type": "x", "target_id": 1}, "target_type", NAME_LENGTH),
        ("/v1/stories", {"title": "s", "tags": ["x"]}, "tags.0", NAME_LENGTH),
    ],
)
def test_every_long_text_has_its_limit(
    client: TestClient, factory: Factory, path: str, body: dict[str, Any], field: str, limit: int
) -> None:
    admin = factory.admin()
    over = "x" * (limit + 1)
    body = {**body, "tags": [over]} if field == "tags.0" else {**body, field: over}
    _field_error(client.post(path, json=body, headers=admin.headers), field)


# The body size


@pytest.fixture
def small_limit(settings: Settings) -> Iterator[TestClient]:
    tight = Settings(
        database_url=settings.database_url, data_dir=settings.data_dir, max_body_bytes=2048
    )
    container = build(tight)
    with TestClient(create_app(container)) as client:
        yield client
    container.db.dispose()


def _too_large(response: httpx.Response) -> None:
    assert response.status_code == 413, response.text
    body = response.json()
    assert body["code"] == "too_large"
    assert "2048 bytes" in body["message"]
    assert body["faultcode"] == "Client"


def test_a_body_declared_too_large_is_413_before_it_is_read(
    small_limit: TestClient, factory: Factory
) -> None:
    admin = factory.admin()
    body = {"title": "S", "description": "x" * 3000}
    _too_large(small_limit.post("/v1/stories", json=body, headers=admin.headers))
    small = small_limit.post("/v1/stories", json={"title": "S"}, headers=admin.headers)
    assert small.status_code == 200, small.text


def test_a_chunked_body_without_length_is_cut_off_at_the_limit(
    small_limit: TestClient, factory: Factory
) -> None:
    admin = factory.admin()

    def chunks() -> Iterator[bytes]:
        yield b'{"title": "S", "description": "'
        for _ in range(10):
            yield b"x" * 1000
        yield b'"}'

    response = small_limit.post("/v1/stories", content=chunks(), headers={**admin.headers, **JSON})
    assert "content-length" not in response.request.headers
    _too_large(response)


def test_a_large_page_form_is_413_as_an_error_page(small_limit: TestClient) -> None:
    response = small_limit.post(
        "/login",
        content=b"email=a&password=" + b"x" * 3000,
        headers={"content-type": "application/x-www-form-urlencoded", "accept": "text/html"},
    )
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    assert "2048 bytes" in response.text


def test_the_body_limit_is_configurable(tmp_path: Path) -> None:
    env = {"STORYLINE_DATA_DIR": str(tmp_path)}
    assert Settings.from_env(env).max_body_bytes == 1024 * 1024
    assert Settings.from_env({**env, "STORYLINE_MAX_BODY_BYTES": "4096"}).max_body_bytes == 4096
    with pytest.raises(ConfigurationError, match="STORYLINE_MAX_BODY_BYTES"):
        Settings.from_env({**env, "STORYLINE_MAX_BODY_BYTES": "10"})


# Ids by number or by name


@pytest.mark.parametrize("resource", ["projects", "project_groups", "teams"])
@pytest.mark.parametrize("number", [0, 2**31, 2**63 - 1, 2**63, 2**64])
def test_an_id_out_of_range_where_a_name_may_also_go_is_400(
    client: TestClient, resource: str, number: int
) -> None:
    _field_error(client.get(f"/v1/{resource}/{number}"), "id", message="between 1 and")


def test_a_name_and_an_id_in_range_still_find_nothing_with_404(client: TestClient) -> None:
    assert client.get("/v1/projects/2147483647").status_code == 404
    assert client.get("/v1/projects/no-such-project").status_code == 404
    # Not an id: superscript digits are not a number to `int`.
    assert client.get("/v1/teams/%C2%B2").status_code == 404


# Text no column can store


@pytest.mark.parametrize("surrogate", LONE_SURROGATES)
def test_a_lone_surrogate_in_a_tag_is_400(
    client: TestClient, factory: Factory, surrogate: bytes
) -> None:
    admin = factory.admin()
    story = factory.story(admin)
    headers = {**admin.headers, **JSON}
    body = b'{"title": "S", "tags": [' + surrogate + b"]}"
    _field_error(client.post("/v1/stories", content=body, headers=headers), "tags.0")
    body = b"[" + surrogate + b"]"
    response = client.put(f"/v1/stories/{story['id']}/tags", content=body, headers=headers)
    _field_error(response, "0", message="surrogate")


@pytest.mark.parametrize("surrogate", LONE_SURROGATES)
def test_a_lone_surrogate_in_a_preference_is_400(
    client: TestClient, factory: Factory, surrogate: bytes
) -> None:
    admin = factory.admin()
    url = f"/v1/users/{admin.id}/preferences"
    headers = {**admin.headers, **JSON}
    response = client.post(url, content=b'{"key": ' + surrogate + b"}", headers=headers)
    _field_error(response, "key", message="surrogate")
    response = client.post(url, content=b"{" + surrogate + b": 1}", headers=headers)
    assert response.status_code == 400, response.text
    assert "surrogate" in response.json()["message"]
    assert client.get(url, headers=admin.headers).json() == {}


def test_a_surrogate_pair_is_text_like_any_other(client: TestClient, factory: Factory) -> None:
    admin = factory.admin()
    response = client.post(
        f"/v1/users/{admin.id}/preferences",
        content=b'{"face": "\\ud83d\\ude00"}',
        headers={**admin.headers, **JSON},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"face": "\N{GRINNING FACE}"}


def test_a_nul_in_a_page_form_field_is_400(container: Container) -> None:
    with TestClient(create_app(container)) as client:
        response = client.post(
            "/login",
            content=b"email=a%00b&password=x",
            headers={"content-type": "application/x-www-form-urlencoded", "accept": "text/html"},
        )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert "NUL" in response.text
