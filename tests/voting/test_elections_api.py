"""/v1/elections: the life of an election through the API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient

from tests.factories import Factory, TestUser


def _iso(delta: dt.timedelta) -> str:
    return (dt.datetime.now(dt.UTC) + delta).isoformat()


def make_election(
    client: TestClient, admin: TestUser, voters: list[TestUser], **overrides: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Technical Committee, Fall",
        "method": "schulze",
        "seats": 2,
        "candidates": [{"name": n} for n in ("Alice", "Bob", "Carol", "Dave")],
        "electorate": {"type": "users", "user_ids": [v.id for v in voters]},
        "opens_at": _iso(dt.timedelta(hours=1)),
        "closes_at": _iso(dt.timedelta(days=7)),
    }
    body.update(overrides)
    response = client.post("/v1/elections", json=body, headers=admin.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_an_election_opens_takes_ballots_closes_and_counts(
    client: TestClient, factory: Factory
) -> None:
    admin = factory.admin()
    voters = [factory.user() for _ in range(3)]
    election = make_election(client, admin, voters)
    eid = election["id"]
    ids = {c["name"]: c["id"] for c in election["candidates"]}
    assert election["state"] == "draft"
    # A draft is the officials' alone.
    assert client.get(f"/v1/elections/{eid}", headers=voters[0].headers).status_code == 404

    opened = client.post(f"/v1/elections/{eid}/open", headers=admin.headers)
    assert opened.status_code == 200, opened.text
    assert opened.json()["state"] == "open"
    assert opened.json()["electorate_size"] == 3

    a, b, c, d = ids["Alice"], ids["Bob"], ids["Carol"], ids["Dave"]
    rankings = [[[a], [b], [c, d]], [[a, b]], [[c], [a]]]
    receipts = []
    for voter, ranking in zip(voters, rankings, strict=True):
        cast = client.post(
            f"/v1/elections/{eid}/ballots", json={"ranking": ranking}, headers=voter.headers
        )
        assert cast.status_code == 201, cast.text
        receipts.append(cast.json()["receipt"])
        assert cast.headers["Cache-Control"] == "no-store"
    again = client.post(
        f"/v1/elections/{eid}/ballots", json={"ranking": [[d]]}, headers=voters[0].headers
    )
    assert again.status_code == 409
    assert again.json()["code"] == "already_voted"
    # With the receipt the ballot is replaced, not added.
    replaced = client.post(
        f"/v1/elections/{eid}/ballots",
        json={"ranking": [[a], [b], [c], [d]], "receipt": receipts[0]},
        headers=voters[0].headers,
    )
    assert replaced.status_code == 201, replaced.text
    assert client.get(f"/v1/elections/{eid}", headers=admin.headers).json()["ballots"] == 3
    # Results wait for the close.
    early = client.get(f"/v1/elections/{eid}/results", headers=voters[1].headers)
    assert early.status_code == 409
    assert early.json()["code"] == "results_not_published"

    closed = client.post(f"/v1/elections/{eid}/close", headers=admin.headers)
    assert closed.status_code == 200, closed.text
    assert closed.json()["state"] == "closed"
    assert client.post(f"/v1/elections/{eid}/close", headers=admin.headers).status_code == 200
    late = client.post(
        f"/v1/elections/{eid}/ballots", json={"ranking": [[d]]}, headers=voters[2].headers
    )
    assert late.status_code == 409
    assert late.json()["code"] == "voting_closed"

    results = client.get(f"/v1/elections/{eid}/results").json()
    assert results["ranking"][0] == ["Alice"]
    assert results["winners"][0] == "Alice"
    check = client.post(
        f"/v1/elections/{eid}/receipts", json={"receipt": receipts[1]}, headers=voters[1].headers
    )
    assert check.json()["counted"] is True
    ballots = client.get(f"/v1/elections/{eid}/ballots.csv")
    assert ballots.status_code == 200
    assert "Alice" in ballots.text


def test_only_the_electorate_votes(client: TestClient, factory: Factory) -> None:
    admin = factory.admin()
    voter, outsider = factory.user(), factory.user()
    election = make_election(client, admin, [voter])
    eid = election["id"]
    client.post(f"/v1/elections/{eid}/open", headers=admin.headers)
    cid = election["candidates"][0]["id"]
    refused = client.post(
        f"/v1/elections/{eid}/ballots", json={"ranking": [[cid]]}, headers=outsider.headers
    )
    assert refused.status_code == 403
    assert refused.json()["code"] == "not_in_electorate"
    me = client.get(f"/v1/elections/{eid}/electorate/me", headers=voter.headers).json()
    assert me == {"eligible": True, "voted": False}


def test_a_ballot_is_refused_whole_when_it_is_wrong(client: TestClient, factory: Factory) -> None:
    admin = factory.admin()
    voter = factory.user()
    election = make_election(client, admin, [voter])
    eid = election["id"]
    client.post(f"/v1/elections/{eid}/open", headers=admin.headers)
    a, b = (c["id"] for c in election["candidates"][:2])
    wrong = {
        "an unknown candidate": {"ranking": [[a], [999_999]]},
        "a candidate twice": {"ranking": [[a], [b, a]]},
        "an empty tier": {"ranking": [[a], []]},
        "no opinion where not allowed": {"ranking": [[a]], "no_opinion": [b]},
        "an oversized tier": {"ranking": [[a] * 101]},
        "an unknown field": {"ranking": [[a]], "voter": voter.id},
    }
    for what, body in wrong.items():
        refused = client.post(f"/v1/elections/{eid}/ballots", json=body, headers=voter.headers)
        assert refused.status_code == 400, (what, refused.text)
        assert refused.json()["code"] == "invalid_input", what
    # Nothing was counted, and the voter may still vote.
    assert client.get(f"/v1/elections/{eid}", headers=admin.headers).json()["ballots"] == 0
    ok = client.post(
        f"/v1/elections/{eid}/ballots", json={"ranking": [[b], [a]]}, headers=voter.headers
    )
    assert ok.status_code == 201


def test_debian_options_are_kept_shown_and_counted(client: TestClient, factory: Factory) -> None:
    admin = factory.admin()
    voters = factory.users(3)
    election = make_election(
        client,
        admin,
        voters,
        method="debian",
        seats=1,
        candidates=[{"name": n} for n in ("Further Discussion", "Alice", "Bob")],
        default_option="Further Discussion",
        quorum=1.5,
        majorities={"Alice": 3},
    )
    eid = election["id"]
    assert election["default_option"] == "Further Discussion"
    assert election["quorum"] == 1.5
    assert election["majorities"] == {"Alice": 3}
    assert election["tie_rule"] is None
    fd, alice, bob = (c["id"] for c in election["candidates"])
    client.post(f"/v1/elections/{eid}/open", headers=admin.headers)
    rankings = [[[alice], [bob], [fd]], [[alice], [fd], [bob]], [[fd], [bob], [alice]]]
    for voter, ranking in zip(voters, rankings, strict=True):
        cast = client.post(
            f"/v1/elections/{eid}/ballots", json={"ranking": ranking}, headers=voter.headers
        )
        assert cast.status_code == 201, cast.text
    client.post(f"/v1/elections/{eid}/close", headers=admin.headers)
    document = client.get(f"/v1/elections/{eid}/results").json()
    # Alice beats everyone 2:1, short of her 3:1 majority over the default
    # option (the first candidate, not the last), which wins.
    assert document["default_option"] == "Further Discussion"
    assert sorted(document["dropped"]) == ["Alice", "Bob"]
    assert document["winners"] == ["Further Discussion"]


def test_counting_options_are_refused_where_they_do_not_apply(
    client: TestClient, factory: Factory
) -> None:
    admin = factory.admin()
    debian = {"method": "debian", "seats": 1}
    wrong: dict[str, tuple[dict[str, Any], str]] = {
        "a tie rule for another method": ({"tie_rule": "pre-2024"}, "tie_rule"),
        "an unknown tie rule": ({"method": "condorcet-irv", "tie_rule": "2019"}, "tie_rule"),
        "a default option for another method": ({"default_option": "Alice"}, "default_option"),
        "a default option not a candidate": (
            {**debian, "default_option": "Zed"},
            "default_option",
        ),
        "a quorum for another method": ({"quorum": 2}, "quorum"),
        "a quorum of zero": ({**debian, "quorum": 0}, "quorum"),
        "a majority over 10:1": ({**debian, "majorities": {"Alice": 11}}, "majorities.Alice"),
        "a majority of no candidate": ({**debian, "majorities": {"Zed": 2}}, "majorities"),
        "a majority for the default option": ({**debian, "majorities": {"Dave": 2}}, "majorities"),
    }
    for what, (fields, field) in wrong.items():
        body = {
            "title": "Counting",
            "candidates": [{"name": n} for n in ("Alice", "Bob", "Carol", "Dave")],
            "electorate": {"type": "users", "user_ids": [admin.id]},
            "opens_at": _iso(dt.timedelta(hours=1)),
            "closes_at": _iso(dt.timedelta(days=7)),
            **fields,
        }
        refused = client.post("/v1/elections", json=body, headers=admin.headers)
        assert refused.status_code == 400, (what, refused.text)
        assert [d["field"] for d in refused.json()["details"]] == [field], what


def test_counting_options_change_with_the_draft_only(client: TestClient, factory: Factory) -> None:
    admin = factory.admin()
    voter = factory.user()
    election = make_election(
        client, admin, [voter], method="debian", seats=1, default_option="Alice", quorum=2
    )
    eid = election["id"]

    def change(body: dict[str, Any]) -> Any:
        return client.put(f"/v1/elections/{eid}", json=body, headers=admin.headers)

    # An option the new method or candidates would not use is refused, not kept.
    refused = change({"method": "schulze"})
    assert refused.status_code == 400
    assert refused.json()["details"][0]["field"] == "default_option"
    renamed = change({"candidates": [{"name": n} for n in ("Alicia", "Bob", "Carol")]})
    assert renamed.status_code == 400
    assert renamed.json()["details"][0]["field"] == "default_option"

    changed = change({"majorities": {"Bob": 3}, "default_option": None})
    assert changed.status_code == 200, changed.text
    assert changed.json()["majorities"] == {"Bob": 3}
    assert changed.json()["default_option"] is None
    cleared = change({"method": "schulze", "quorum": None, "majorities": None})
    assert cleared.status_code == 200, cleared.text
    assert (cleared.json()["quorum"], cleared.json()["majorities"]) == (None, None)

    change({"method": "condorcet-irv", "tie_rule": "pre-2024"})
    client.post(f"/v1/elections/{eid}/open", headers=admin.headers)
    late = change({"tie_rule": None})
    assert late.status_code == 409
    assert late.json()["code"] == "election_open"
