"""The election pages over HTTP: the list, the form, an election's page and
its officials' buttons."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from storyline.bootstrap import Container
from tests.auth.conftest import Browser
from tests.factories import Factory, TestUser
from tests.voting.test_elections_api import make_election
from tests.web.signin import HTML, new_browser, sign_in


def _form(**changes: str) -> dict[str, str]:
    form = {
        "title": "Technical Committee, Spring",
        "kind": "election",
        "description": "Two seats. *Read the statements.*",
        "method": "schulze",
        "seats": "2",
        "proportional": "",
        "candidates": "Alice\nBob\nCarol",
        "electorate_type": "users",
        "user_ids": "",
        "opens_at": "2030-01-15T10:00",
        "closes_at": "2030-01-22T18:00",
        "timezone": "Europe/Paris",
        "results_public": "on",
    }
    form.update(changes)
    return form


def _api(client: TestClient, admin: TestUser, eid: int) -> dict[str, Any]:
    response = client.get(f"/v1/elections/{eid}", headers=admin.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _opened(
    client: TestClient, admin: TestUser, voters: list[TestUser], **overrides: Any
) -> dict[str, Any]:
    election = make_election(client, admin, voters, **overrides)
    opened = client.post(f"/v1/elections/{election['id']}/open", headers=admin.headers)
    assert opened.status_code == 200, opened.text
    return dict(opened.json())


def test_an_administrator_creates_an_election_with_the_form(
    factory: Factory, container: Container
) -> None:
    admin = factory.admin()
    voters = [factory.user(), factory.user()]
    browser = sign_in(factory.client, container, admin)
    assert 'id="new-election"' in browser.get("/elections").text
    assert '<a href="/elections"' in browser.get("/elections").text  # the site navigation
    form = browser.get("/elections/new")
    assert form.status_code == 200
    assert 'name="candidates"' in form.text

    # Each mistake is shown next to its field, with what was typed kept.
    bad = browser.post(
        "/elections/new",
        _form(user_ids="12x", candidates="Alice | nobody\nBob"),
        page="/elections/new",
    )
    assert bad.status_code == 400
    assert 'aria-invalid="true"' in bad.text
    assert "after “|” comes a user id" in bad.text
    too_few = browser.post(
        "/elections/new", _form(user_ids=str(voters[0].id), seats="3"), page="/elections/new"
    )
    assert too_few.status_code == 400
    assert "more candidates than seats" in too_few.text
    assert 'value="3"' in too_few.text
    no_team = browser.post(
        "/elections/new", _form(electorate_type="team", team_id="999999"), page="/elections/new"
    )
    assert no_team.status_code == 400
    assert 'id="f-team_id-error"' in no_team.text
    bad_zone = browser.post(
        "/elections/new",
        _form(user_ids=str(voters[0].id), timezone="Mars/Olympus"),
        page="/elections/new",
    )
    assert bad_zone.status_code == 400
    assert 'id="f-timezone-error"' in bad_zone.text
    # Nothing was half-written.
    assert factory.client.get("/v1/elections", headers=admin.headers).json() == []

    made = browser.post(
        "/elections/new",
        _form(
            user_ids=f"{voters[0].id}, {voters[1].id}",
            candidates=f"Alice | {voters[0].id}\nBob\nCarol",
        ),
        page="/elections/new",
    )
    assert made.status_code == 303, made.text
    eid = int(made.headers["location"].rsplit("/", 1)[1])
    stored = _api(factory.client, admin, eid)
    assert stored["state"] == "draft"
    assert stored["timezone"] == "Europe/Paris"
    # 10:00 in Paris in January is 09:00 UTC.
    assert stored["opens_at"].startswith("2030-01-15T09:00:00")
    assert [c["user_id"] for c in stored["candidates"]] == [voters[0].id, None, None]
    assert stored["electorate"] == {"type": "users", "user_ids": [voters[0].id, voters[1].id]}

    page = browser.get(f"/elections/{eid}")
    assert page.status_code == 200
    assert "2030-01-15 10:00 CET" in page.text
    assert "2030-01-15 09:00 UTC" in page.text
    assert "<em>Read the statements.</em>" in page.text
    assert "data-electorate-size>2<" in page.text
    assert f"/v1/elections/{eid}/electorate.csv" in page.text
    # The form shows the window back in the election's zone.
    edit = browser.get(f"/elections/{eid}/edit")
    assert 'value="2030-01-15T10:00"' in edit.text
    assert f"Alice | {voters[0].id}" in edit.text


def test_only_administrators_create(factory: Factory, container: Container) -> None:
    member = new_browser(container, factory.user())
    assert 'id="new-election"' not in member.get("/elections").text
    assert member.get("/elections/new", headers=HTML).status_code == 403
    refused = member.post("/elections/new", _form(user_ids="1"), page="/elections")
    assert refused.status_code == 403
    anonymous = new_browser(container)
    assert anonymous.get("/elections/new").status_code == 303


def test_a_draft_is_hidden_from_all_but_its_officials(
    factory: Factory, container: Container
) -> None:
    admin, voter = factory.admin(), factory.user()
    draft = make_election(factory.client, admin, [voter], title="Secret plans")
    eid = draft["id"]
    for browser in (new_browser(container, voter), new_browser(container)):
        assert browser.get(f"/elections/{eid}", headers=HTML).status_code == 404
        assert browser.get(f"/elections/{eid}/edit", headers=HTML).status_code in (303, 404)
        assert "Secret plans" not in browser.get("/elections").text
    official = sign_in(factory.client, container, admin)
    listing = official.get("/elections")
    assert 'data-list="drafts"' in listing.text
    assert "Secret plans" in listing.text


def test_officials_open_and_close_voting(factory: Factory, container: Container) -> None:
    admin = factory.admin()
    voter, outsider = factory.user(), factory.user()
    # Candidates with accounts: the close looks up their affiliations.
    candidates = [{"name": n, "user_id": u.id} for n, u in (("Alice", voter), ("Bob", outsider))]
    candidates += [{"name": "Carol"}, {"name": "Dave"}]
    eid = make_election(factory.client, admin, [voter], candidates=candidates)["id"]
    official = sign_in(factory.client, container, admin)
    page = official.get(f"/elections/{eid}")
    assert 'id="open-form"' in page.text
    assert 'id="close-link"' not in page.text
    opened = official.post(f"/elections/{eid}/open", page=f"/elections/{eid}")
    assert opened.status_code == 303, opened.text
    page = official.get(f"/elections/{eid}")
    assert 'data-state="open"' in page.text
    assert "0 of 1 voted" in page.text
    assert 'id="close-link"' in page.text

    # Everyone sees the open election; the reader's place on the electorate shows.
    listing = new_browser(container).get("/elections")
    assert f'data-election="{eid}"' in listing.text
    assert "0 of 1 voted" in listing.text
    mine = new_browser(container, voter).get(f"/elections/{eid}")
    assert 'data-membership="eligible"' in mine.text
    assert f'href="/elections/{eid}/ballot"' in mine.text
    assert 'id="officials"' not in mine.text
    theirs = new_browser(container, outsider).get(f"/elections/{eid}")
    assert 'data-membership="not-eligible"' in theirs.text
    assert f'href="/elections/{eid}/ballot"' not in theirs.text
    cid = _api(factory.client, admin, eid)["candidates"][0]["id"]
    cast = factory.client.post(
        f"/v1/elections/{eid}/ballots", json={"ranking": [[cid]]}, headers=voter.headers
    )
    assert cast.status_code == 201
    assert 'data-membership="voted"' in new_browser(container, voter).get(f"/elections/{eid}").text

    # Closing asks first; only officials may.
    confirm = official.get(f"/elections/{eid}/close")
    assert confirm.status_code == 200
    assert 'id="close-form"' in confirm.text
    assert "1 of 1 have voted" in confirm.text
    stranger = new_browser(container, outsider)
    assert stranger.get(f"/elections/{eid}/close", headers=HTML).status_code == 403
    assert stranger.post(f"/elections/{eid}/close", page=f"/elections/{eid}").status_code == 403
    closed = official.post(f"/elections/{eid}/close", page=f"/elections/{eid}/close")
    assert closed.status_code == 303, closed.text
    page = official.get(f"/elections/{eid}")
    assert 'data-state="closed"' in page.text
    assert f'href="/elections/{eid}/results"' in page.text
    assert 'id="edit-link"' not in page.text
    assert 'data-list="closed"' in official.get("/elections").text


def test_opening_an_empty_electorate_says_why_on_the_page(
    factory: Factory, container: Container
) -> None:
    admin = factory.admin()
    team = factory.client.post("/v1/teams", json={"name": "empty"}, headers=admin.headers)
    assert team.status_code in (200, 201), team.text
    eid = make_election(
        factory.client, admin, [], electorate={"type": "team", "team_id": team.json()["id"]}
    )["id"]
    official = sign_in(factory.client, container, admin)
    refused = official.post(f"/elections/{eid}/open", page=f"/elections/{eid}")
    assert refused.status_code == 400
    assert "The electorate is empty" in refused.text
    assert _api(factory.client, admin, eid)["state"] == "draft"


def test_following_toggles(factory: Factory, container: Container) -> None:
    admin, voter, reader = factory.admin(), factory.user(), factory.user()
    eid = _opened(factory.client, admin, [voter])["id"]
    # The electorate follows from the opening; anyone else may choose to.
    browser = new_browser(container, voter)
    assert "Stop following" in browser.get(f"/elections/{eid}").text
    stopped = browser.post(
        f"/elections/{eid}/following", {"following": "no"}, page=f"/elections/{eid}"
    )
    assert stopped.status_code == 303
    assert 'name="following" value="yes"' in browser.get(f"/elections/{eid}").text
    other = new_browser(container, reader)
    assert 'name="following" value="yes"' in other.get(f"/elections/{eid}").text
    other.post(f"/elections/{eid}/following", {"following": "yes"}, page=f"/elections/{eid}")
    assert "Stop following" in other.get(f"/elections/{eid}").text
    assert "Sign in" in new_browser(container).get(f"/elections/{eid}").text


def test_once_open_only_some_fields_change(factory: Factory, container: Container) -> None:
    admin, voter = factory.admin(), factory.user()
    eid = _opened(factory.client, admin, [voter], timezone="America/New_York")["id"]
    official = sign_in(factory.client, container, admin)
    edit = official.get(f"/elections/{eid}/edit")
    assert edit.status_code == 200
    assert 'name="candidates"' not in edit.text
    assert 'name="opens_at"' not in edit.text
    assert 'id="fixed"' in edit.text
    assert "<li>Alice</li>" in edit.text
    version = re.search(r'name="version" value="([^"]*)"', edit.text)
    assert version is not None
    fields = {
        "title": "Technical Committee, Fall (extended)",
        "description": "",
        "closes_at": re.search(r'name="closes_at" value="([^"]*)"', edit.text).group(1),  # type: ignore[union-attr]
        "timezone": "America/New_York",
        "results_public": "on",
        "version": version.group(1),
        # Posted anyway (an old page, a hand-made form): ignored once open.
        "candidates": "Mallory\nTrent",
        "seats": "1",
    }
    saved = official.post(f"/elections/{eid}/edit", fields, page=f"/elections/{eid}/edit")
    assert saved.status_code == 303, saved.text
    stored = _api(factory.client, admin, eid)
    assert stored["title"] == "Technical Committee, Fall (extended)"
    assert [c["name"] for c in stored["candidates"]] == ["Alice", "Bob", "Carol", "Dave"]
    assert stored["seats"] == 2

    # The same form again is stale: it names what changed and keeps what was typed.
    stale = official.post(
        f"/elections/{eid}/edit", {**fields, "title": "Mine"}, page=f"/elections/{eid}/edit"
    )
    assert stale.status_code == 400
    assert "was changed" in stale.text
    assert 'value="Mine"' in stale.text
    past = official.post(
        f"/elections/{eid}/edit",
        {**fields, "closes_at": "2001-01-01T00:00", "version": ""},
        page=f"/elections/{eid}/edit",
    )
    assert past.status_code == 400
    assert 'id="f-closes_at-error"' in past.text

    # Publishing the results is one button.
    assert "Results are public" in official.get(f"/elections/{eid}").text
    hidden = official.post(
        f"/elections/{eid}/results_public", {"public": "no"}, page=f"/elections/{eid}"
    )
    assert hidden.status_code == 303
    assert _api(factory.client, admin, eid)["results_public"] is False
    member = new_browser(container, voter)
    assert member.get(f"/elections/{eid}/edit", headers=HTML).status_code == 403
    assert (
        member.post(
            f"/elections/{eid}/results_public", {"public": "yes"}, page=f"/elections/{eid}"
        ).status_code
        == 403
    )


def test_editing_a_draft_keeps_candidate_statements(factory: Factory, container: Container) -> None:
    admin, voter = factory.admin(), factory.user()
    candidates = [{"name": "Alice", "statement": "I will **fix** CI."}, {"name": "Bob"}]
    eid = make_election(factory.client, admin, [voter], candidates=candidates, seats=1)["id"]
    official: Browser = sign_in(factory.client, container, admin)
    edit = official.get(f"/elections/{eid}/edit")
    values = dict(
        re.findall(
            # The text inputs as the form fills them (checkboxes are left unticked).
            r'<input type="(?!checkbox)[a-z-]+" id="f-[a-z_]+" name="([a-z_]+)" value="([^"]*)"',
            edit.text,
        )
    )
    version = re.search(r'name="version" value="([^"]*)"', edit.text)
    assert version is not None
    saved = official.post(
        f"/elections/{eid}/edit",
        {
            **values,
            "kind": "election",
            "method": "schulze",
            "electorate_type": "users",
            "candidates": "Alice\nBob\nCarol",
            "version": version.group(1),
        },
        page=f"/elections/{eid}/edit",
    )
    assert saved.status_code == 303, saved.text
    stored = _api(factory.client, admin, eid)
    assert [(c["name"], c["statement"]) for c in stored["candidates"]] == [
        ("Alice", "I will **fix** CI."),
        ("Bob", None),
        ("Carol", None),
    ]
    assert "<strong>fix</strong>" in official.get(f"/elections/{eid}").text
