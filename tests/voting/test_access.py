"""Every election route goes through the gate.

The routes are read from the app itself, so a route added later is held to
the same rules without anyone listing it here:

- a draft is the officials' and administrators' alone: to anyone else, signed
  in or not, every route under `/v1/elections/{id}` answers as if it did not
  exist (404, or 401 where signing in comes first), and lists and counts
  leave it out;
- results kept for the electorate are a 404 to others, with nothing of the
  ranking in the answer.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from storyline.app import api_routers
from tests.factories import Factory, TestUser
from tests.voting.test_elections_api import make_election

PREFIX = "/v1/elections/{election_id}"


def _routes() -> list[tuple[str, str]]:
    """(method, path) of every route about one election, with its own
    parameters filled with harmless values."""
    found = []
    routes = [route for router in api_routers() for route in router.routes]
    for route in routes:
        if not isinstance(route, APIRoute) or not f"/v1{route.path}".startswith(PREFIX):
            continue
        path = re.sub(r"\{(?!election_id)[^}]+\}", "spread", f"/v1{route.path}")
        for method in sorted(route.methods - {"HEAD"}):
            found.append((method, path))
    return found


def _call(client: TestClient, method: str, path: str, user: TestUser | None) -> Any:
    headers = user.headers if user is not None else {}
    # A body each route accepts, so that the answer is about the election,
    # not about the body.
    bodies = {
        "ballots": {"ranking": [[1]]},
        "receipts": {"receipt": "x"},
        "following": {"following": True},
        "permissions": {"codename": "run_election", "users": [1]},
    }
    body = bodies.get(path.rsplit("/", 1)[-1], {"title": "Renamed"})
    if method == "GET" or (method == "DELETE" and not path.endswith("permissions")):
        return client.request(method, path, headers=headers)
    return client.request(method, path, json=body, headers=headers)


def test_a_draft_is_nobodys_but_its_officials(client: TestClient, factory: Factory) -> None:
    admin = factory.admin()
    official, voter, outsider = factory.user(), factory.user(), factory.user()
    draft = make_election(client, admin, [voter], officials=[official.id])
    title = draft["title"]
    routes = _routes()
    # The app has the routes this test is about (a renamed prefix would
    # make it pass on nothing).
    assert len(routes) >= 15, routes

    for method, template in routes:
        path = template.replace("{election_id}", str(draft["id"]))
        for who in (outsider, voter, None):
            response = _call(client, method, path, who)
            expected = {404} if who is not None else {401, 404}
            assert response.status_code in expected, (method, path, who, response.text)
            assert title not in response.text

    # The official sees it; lists and their totals leave it out for others.
    assert client.get(f"/v1/elections/{draft['id']}", headers=official.headers).status_code == 200
    for who in (outsider, voter):
        listed = client.get("/v1/elections", headers=who.headers)
        assert listed.json() == []
        assert listed.headers.get("X-Total", "0") == "0"
    assert [e["id"] for e in client.get("/v1/elections", headers=official.headers).json()] == [
        draft["id"]
    ]


def test_results_for_the_electorate_stay_with_it(client: TestClient, factory: Factory) -> None:
    admin = factory.admin()
    voter, outsider = factory.user(), factory.user()
    election = make_election(client, admin, [voter], results_public=False)
    eid = election["id"]
    client.post(f"/v1/elections/{eid}/open", headers=admin.headers)
    winner = election["candidates"][2]
    cast = client.post(
        f"/v1/elections/{eid}/ballots", json={"ranking": [[winner["id"]]]}, headers=voter.headers
    )
    assert cast.status_code == 201
    client.post(f"/v1/elections/{eid}/close", headers=admin.headers)

    for path in ("results", "results/spread.svg", "results/matrix.svg", "ballots.csv"):
        assert client.get(f"/v1/elections/{eid}/{path}", headers=voter.headers).status_code == 200
        for who in (outsider, None):
            headers = who.headers if who is not None else {}
            hidden = client.get(f"/v1/elections/{eid}/{path}", headers=headers)
            assert hidden.status_code == 404, (path, hidden.text)
            assert winner["name"] not in hidden.text
    seen = client.get(f"/v1/elections/{eid}", headers=outsider.headers).json()
    assert seen["results_available"] is False
    assert client.get(f"/v1/elections/{eid}", headers=voter.headers).json()["results_available"]
