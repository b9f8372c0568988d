"""The ballot, receipt and results pages over HTTP, as a browser without
JavaScript uses them."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from storyline.app import create_app
from storyline.bootstrap import Container
from tests.factories import Factory, TestUser
from tests.voting.test_elections_api import make_election
from tests.web.tracker_browser import Browser, browser

RECEIPT = re.compile(r'id="receipt-code" data-receipt-store="[\d.]+">([^<]+)<')
STATEMENTS = {"Alice": "Ten years on **the gate**.", "Bob": "Docs & tests <first>."}


@pytest.fixture
def app(container: Container) -> FastAPI:
    return create_app(container)


@pytest.fixture
def opened(app: FastAPI, container: Container) -> Iterator[list[Browser]]:
    made: list[Browser] = []
    yield made
    for each in made:
        each.client.__exit__(None, None, None)


@pytest.fixture
def as_user(app: FastAPI, container: Container, opened: list[Browser]) -> Any:
    def make(user: TestUser) -> Browser:
        made = browser(app, container, user)
        opened.append(made)
        return made

    return make


def _open_election(
    client: TestClient, admin: TestUser, voters: list[TestUser], **overrides: Any
) -> tuple[int, dict[str, int]]:
    candidates = [{"name": n, "statement": STATEMENTS.get(n)} for n in ("Alice", "Bob", "Carol")]
    election = make_election(client, admin, voters, candidates=candidates, seats=1, **overrides)
    opened = client.post(f"/v1/elections/{election['id']}/open", headers=admin.headers)
    assert opened.status_code == 200, opened.text
    return election["id"], {c["name"]: c["id"] for c in election["candidates"]}


def _cast(page: Browser, eid: int, ranks: dict[int, str], **extra: str) -> Any:
    form = {f"rank_{cid}": rank for cid, rank in ranks.items()}
    return page.post(f"/elections/{eid}/ballot", {**form, **extra})


def test_cast_with_ties_by_the_plain_form_and_change_it_with_the_receipt(
    client: TestClient, factory: Factory, as_user: Any
) -> None:
    admin = factory.admin()
    voter = factory.user()
    eid, ids = _open_election(client, admin, [voter])
    page = as_user(voter)

    shown = page.get(f"/elections/{eid}/ballot")
    assert shown.status_code == 200
    for name in ("Alice", "Bob", "Carol"):
        assert f'data-name="{name}"' in shown.text
    # Statements are Markdown, rendered safe; the window shows the zone.
    assert "Docs &amp; tests &lt;first&gt;." in shown.text
    assert "<strong>the gate</strong>" in shown.text
    assert "(UTC;" in shown.text
    assert 'value="-"' not in shown.text  # no "no opinion" unless allowed
    # The order is the voter's own, and the same on every visit.
    order = re.findall(r'data-candidate="(\d+)"', shown.text)
    assert order == re.findall(r'data-candidate="(\d+)"', page.get(f"/elections/{eid}/ballot").text)

    # Alice and Bob tie first; Carol is left unranked (last).
    cast = _cast(page, eid, {ids["Alice"]: "1", ids["Bob"]: "1", ids["Carol"]: ""})
    assert cast.status_code == 200, cast.text
    match = RECEIPT.search(cast.text)
    assert match, cast.text
    receipt = match.group(1)
    assert cast.headers["Cache-Control"] == "no-store"

    again = _cast(page, eid, {ids["Carol"]: "1"})
    assert again.status_code == 409
    assert "You have already voted" in again.text
    assert 'id="ballot-error"' in again.text

    wrong = _cast(page, eid, {ids["Carol"]: "1"}, receipt="not-a-receipt")
    assert wrong.status_code == 400
    assert "no ballot of this election has this receipt" in wrong.text

    changed = _cast(
        page, eid, {ids["Carol"]: "1", ids["Bob"]: "3", ids["Alice"]: ""}, receipt=receipt
    )
    assert changed.status_code == 200, changed.text
    assert "Your ballot was replaced" in changed.text
    assert RECEIPT.search(changed.text).group(1) == receipt  # type: ignore[union-attr]

    checked = page.post(f"/elections/{eid}/receipt", {"receipt": receipt})
    assert "A ballot with this receipt is counted." in checked.text
    unknown = page.post(f"/elections/{eid}/receipt", {"receipt": "nothing"})
    assert "No ballot of this election has this receipt." in unknown.text

    client.post(f"/v1/elections/{eid}/close", headers=admin.headers)
    ballots = client.get(f"/v1/elections/{eid}/ballots.csv", headers=admin.headers).text
    # Carol over Bob (rank 3: the numbers only order the tiers), Alice unranked (last).
    document = client.get(f"/v1/elections/{eid}/results", headers=admin.headers).json()
    names = document["candidates"]
    a, b, c = (names.index(n) for n in ("Alice", "Bob", "Carol"))
    assert document["pairwise"][c][b] == 1, ballots
    assert document["pairwise"][b][a] == 1, ballots


def test_a_rank_out_of_range_is_shown_next_to_its_candidate(
    client: TestClient, factory: Factory, as_user: Any
) -> None:
    admin = factory.admin()
    voter = factory.user()
    eid, ids = _open_election(client, admin, [voter])
    page = as_user(voter)
    refused = _cast(page, eid, {ids["Alice"]: "9", ids["Bob"]: "1"})
    assert refused.status_code == 400
    assert f'id="rank-{ids["Alice"]}-error"' in refused.text
    # What was chosen stays chosen.
    assert re.search(rf'name="rank_{ids["Bob"]}".*?<option value="1" selected>', refused.text, re.S)


def test_no_opinion_where_the_election_allows_it(
    client: TestClient, factory: Factory, as_user: Any
) -> None:
    admin = factory.admin()
    voter = factory.user()
    eid, ids = _open_election(client, admin, [voter], no_opinion=True)
    page = as_user(voter)
    assert 'value="-"' in page.get(f"/elections/{eid}/ballot").text
    cast = _cast(page, eid, {ids["Alice"]: "1", ids["Bob"]: "-"})
    assert cast.status_code == 200, cast.text
    client.post(f"/v1/elections/{eid}/close", headers=admin.headers)
    ballots = client.get(f"/v1/elections/{eid}/ballots.csv", headers=admin.headers).text
    assert "No opinion" in ballots


def test_who_may_not_vote_is_told_why(
    client: TestClient, factory: Factory, as_user: Any, app: FastAPI, container: Container
) -> None:
    admin = factory.admin()
    voter, outsider = factory.user(), factory.user()
    draft = make_election(client, admin, [voter])
    eid, ids = _open_election(client, admin, [voter])

    anonymous = browser(app, container, None)
    try:
        sent = anonymous.get(f"/elections/{eid}/ballot")
        assert sent.status_code == 303
        assert sent.headers["location"].startswith("/login?next=")
    finally:
        anonymous.client.__exit__(None, None, None)

    page = as_user(outsider)
    assert "not on this election's electorate" in page.get(f"/elections/{eid}/ballot").text
    refused = _cast(page, eid, {ids["Alice"]: "1"})
    assert refused.status_code == 403
    assert "not on this election's electorate" in refused.text
    # A draft is not there at all for voters.
    assert as_user(voter).get(f"/elections/{draft['id']}/ballot").status_code == 404

    client.post(f"/v1/elections/{eid}/close", headers=admin.headers)
    late = _cast(as_user(voter), eid, {ids["Alice"]: "1"})
    assert late.status_code == 409
    assert "Voting has closed" in late.text


def test_the_results_page_lays_out_the_document(
    client: TestClient, factory: Factory, as_user: Any
) -> None:
    admin = factory.admin()
    voters = [factory.user() for _ in range(4)]
    eid, ids = _open_election(client, admin, voters)
    a, b, c = ids["Alice"], ids["Bob"], ids["Carol"]
    # Alice and Bob tie for the one seat: the lottery breaks it.
    for voter, ranking in zip(
        voters, [[[a], [b], [c]], [[b], [a], [c]], [[a, b]], [[c], [a, b]]], strict=True
    ):
        cast = client.post(
            f"/v1/elections/{eid}/ballots", json={"ranking": ranking}, headers=voter.headers
        )
        assert cast.status_code == 201, cast.text
    page = as_user(voters[0])
    early = page.get(f"/elections/{eid}/results")
    assert early.status_code == 409
    client.post(f"/v1/elections/{eid}/close", headers=admin.headers)

    shown = page.get(f"/elections/{eid}/results")
    assert shown.status_code == 200, shown.text
    text = shown.text
    for shown_part in ('id="result-ranking"', "(tied)", 'id="seat-tie"', "published lottery"):
        assert shown_part in text
    assert 'id="pairwise"' in text
    assert 'id="methods"' in text
    assert "Proportional comparison" in text
    # Inlined without styles, which the Content-Security-Policy refuses.
    assert 'role="img"' in text
    assert "style=" not in text
    assert "<style" not in text
    assert 'aria-labelledby="spread-chart-spread-title"' in text
    assert "The spread as a table" in text
    assert 'id="pairs"' in text
    assert f'href="/v1/elections/{eid}/ballots.csv"' in text
    assert 'id="live-banner"' not in text


def test_live_poll_results_carry_a_banner(
    client: TestClient, factory: Factory, as_user: Any
) -> None:
    admin = factory.admin()
    voter = factory.user()
    eid, ids = _open_election(client, admin, [voter], kind="poll", live_results=True)
    _cast(as_user(voter), eid, {ids["Carol"]: "1", ids["Alice"]: "2"})
    shown = as_user(voter).get(f"/elections/{eid}/results")
    assert shown.status_code == 200, shown.text
    assert 'id="live-banner"' in shown.text
    assert "<strong>Carol</strong>" in shown.text
    assert "ballots.csv" not in shown.text
