from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import Factory


def _ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()]


# Projects


@pytest.fixture
def projects(factory: Factory) -> dict[str, int]:
    admin = factory.admin()
    specs = {
        "nova": ("openstack/nova", "Compute service with the frobnicator"),
        "neutron": ("openstack/neutron", "Networking: frobnicates packets"),
        "swift": ("openstack/swift", "Object storage, no red button"),
        "storyline": ("storyline/core", "The big red button tracker"),
    }
    return {
        key: factory.project(admin, name=name, description=description)["id"]
        for key, (name, description) in specs.items()
    }


def test_project_search_matches_prefixes_of_name_and_description(
    client: TestClient, projects: dict[str, int]
) -> None:
    found = client.get("/v1/projects/search", params={"q": "frob"})
    assert _ids(found) == [projects["nova"], projects["neutron"]]
    assert found.headers["X-Total"] == "2"
    # Parts of a slashed name are words of their own.
    assert _ids(client.get("/v1/projects/search", params={"q": "swi"})) == [projects["swift"]]
    assert _ids(client.get("/v1/projects/search", params={"q": "openstack/neu"})) == [
        projects["neutron"]
    ]
    assert _ids(client.get("/v1/projects/search", params={"q": "FROBNICATOR"})) == [
        projects["nova"]
    ]


def test_project_search_phrases_negation_and_and(
    client: TestClient, projects: dict[str, int]
) -> None:
    def search(q: str) -> list[int]:
        return _ids(client.get("/v1/projects/search", params={"q": q}))

    assert search('"red button"') == [projects["swift"], projects["storyline"]]
    assert search('"big red button"') == [projects["storyline"]]
    assert search('"button red"') == []
    assert search("openstack -frob") == [projects["swift"]]
    assert search('button -"no red"') == [projects["storyline"]]
    assert search("openstack compute") == [projects["nova"]]


def test_project_search_filters_paging_and_sort(
    client: TestClient, factory: Factory, projects: dict[str, int]
) -> None:
    q = {"q": "openstack"}
    first = client.get("/v1/projects/search", params={**q, "limit": 2})
    assert _ids(first) == [projects["nova"], projects["neutron"]]
    assert first.headers["X-Total"] == "3"
    assert first.headers["X-Limit"] == "2"
    after = client.get(
        "/v1/projects/search", params={**q, "limit": 2, "marker": projects["neutron"]}
    )
    assert _ids(after) == [projects["swift"]]
    offset = client.get("/v1/projects/search", params={**q, "limit": 2, "offset": 2})
    assert _ids(offset) == [projects["swift"]]
    by_name = client.get(
        "/v1/projects/search", params={**q, "sort_field": "name", "sort_dir": "desc"}
    )
    assert _ids(by_name) == [projects["swift"], projects["nova"], projects["neutron"]]
    filtered = client.get("/v1/projects/search", params={**q, "name": "/n"})
    assert _ids(filtered) == [projects["nova"], projects["neutron"]]
    assert filtered.headers["X-Total"] == "2"


def test_project_search_sees_updates(
    client: TestClient, factory: Factory, projects: dict[str, int]
) -> None:
    admin = factory.admin()
    changed = client.put(
        f"/v1/projects/{projects['swift']}",
        json={"description": "Blob store"},
        headers=admin.headers,
    )
    assert changed.status_code == 200
    assert _ids(client.get("/v1/projects/search", params={"q": "blob"})) == [projects["swift"]]
    assert _ids(client.get("/v1/projects/search", params={"q": "storage"})) == []


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({}, "must not be empty"),
        ({"q": ""}, "must not be empty"),
        ({"q": "   "}, "must not be empty"),
        ({"q": 'red "button'}, "never closed"),
        ({"q": "-red"}, "only excludes"),
    ],
)
@pytest.mark.parametrize("resource", ["projects"])
def test_unsearchable_q_is_a_clear_400(
    client: TestClient, resource: str, params: dict[str, str], fragment: str
) -> None:
    response = client.get(f"/v1/{resource}/search", params=params)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_input"
    assert body["details"][0]["field"] == "q"
    assert fragment in body["message"]


def test_unknown_sort_field_and_argument_are_refused(
    client: TestClient, projects: dict[str, int]
) -> None:
    bad_sort = client.get("/v1/projects/search", params={"q": "nova", "sort_field": "secret"})
    assert bad_sort.status_code == 400
    unknown = client.get("/v1/projects/search", params={"q": "nova", "title": "x"})
    assert unknown.status_code == 400
