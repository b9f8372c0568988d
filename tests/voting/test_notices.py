"""What an election tells people by email, and the worker's jobs that open,
remind and close: through the real worker, with its clock moved instead of
waiting, to the real SMTP server of tests/notifications."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient

from storyline.bootstrap import Container
from storyline.notifications.worker import Worker
from tests.factories import Factory, TestUser

# The SMTP server and the settings that send to it, by name.
from tests.notifications.conftest import Inbox, inbox, settings  # noqa: F401

# The worker's clock runs a minute ahead: what a job writes to the outbox
# is due at the real time it was written, which must not be after the
# worker's now.
AHEAD = dt.timedelta(minutes=1)


def _election(
    client: TestClient,
    admin: TestUser,
    voters: list[TestUser],
    *,
    opens_at: dt.datetime,
    closes_at: dt.datetime,
    **fields: Any,
) -> dict[str, Any]:
    body = {
        "title": "Technical Committee",
        "candidates": [{"name": n} for n in ("Alice", "Bob", "Carol")],
        "electorate": {"type": "users", "user_ids": [v.id for v in voters]},
        "opens_at": opens_at.isoformat(),
        "closes_at": closes_at.isoformat(),
        **fields,
    }
    response = client.post("/v1/elections", json=body, headers=admin.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _subjects(mails: Inbox, user: TestUser) -> list[str]:
    return [str(m["Subject"]) for m in mails.to(user.email)]


def _follow(client: TestClient, user: TestUser, eid: int, following: bool) -> None:
    response = client.put(
        f"/v1/elections/{eid}/following", json={"following": following}, headers=user.headers
    )
    assert response.status_code == 200, response.text


def test_opening_reminder_and_results_reach_the_right_people(
    client: TestClient,
    factory: Factory,
    container: Container,
    inbox: tuple[Inbox, int],  # noqa: F811
) -> None:
    mails, _ = inbox
    admin = factory.admin()
    voted, waiting, quiet = factory.user(), factory.user(), factory.user()
    outsider = factory.user()
    now = dt.datetime.now(dt.UTC)
    closes = now + dt.timedelta(hours=30)
    election = _election(
        client,
        admin,
        [voted, waiting, quiet],
        opens_at=now - dt.timedelta(minutes=1),
        closes_at=closes,
        results_public=False,
    )
    eid = election["id"]
    clock = [now + AHEAD]
    worker = Worker(container, clock=lambda: clock[0])

    # The worker opens the draft whose time has come and tells the electorate.
    worker.run_once()
    assert client.get(f"/v1/elections/{eid}").json()["state"] == "open"
    for member in (voted, waiting, quiet):
        assert _subjects(mails, member) == ["[Storyline] Vote: Technical Committee"]
    assert mails.to(outsider.email) == []
    assert mails.to(admin.email) == []
    body = mails.to(waiting.email)[0].get_body(("plain",))
    assert body is not None
    assert f"https://tracker.example.org/elections/{eid}" in body.get_content()

    candidate = election["candidates"][0]["id"]
    cast = client.post(
        f"/v1/elections/{eid}/ballots", json={"ranking": [[candidate]]}, headers=voted.headers
    )
    assert cast.status_code == 201, cast.text
    _follow(client, quiet, eid, False)
    # Anyone who may see an open election may follow it.
    _follow(client, outsider, eid, True)

    # The day before the close: only who has not voted and still follows, once.
    clock[0] = closes - dt.timedelta(hours=12)
    worker.run_once()
    clock[0] += dt.timedelta(hours=1)
    worker.run_once()
    reminder = "[Storyline] Voting closes tomorrow: Technical Committee"
    assert _subjects(mails, waiting).count(reminder) == 1
    assert reminder not in _subjects(mails, voted)
    assert reminder not in _subjects(mails, quiet)
    assert reminder not in _subjects(mails, outsider)

    # At the close: the followers who may see the results (here the
    # electorate's), not the outsider following a private count.
    clock[0] = closes + dt.timedelta(minutes=1)
    worker.run_once()
    results = "[Storyline] Results: Technical Committee"
    assert client.get(f"/v1/elections/{eid}").json()["state"] == "closed"
    assert results in _subjects(mails, voted)
    assert results in _subjects(mails, waiting)
    assert results not in _subjects(mails, quiet)
    assert results not in _subjects(mails, outsider)
    total = len(mails.messages)
    clock[0] += dt.timedelta(minutes=5)
    worker.run_once()
    assert len(mails.messages) == total


def test_public_results_reach_every_follower(
    client: TestClient,
    factory: Factory,
    container: Container,
    inbox: tuple[Inbox, int],  # noqa: F811
) -> None:
    mails, _ = inbox
    admin, voter, outsider = factory.admin(), factory.user(), factory.user()
    now = dt.datetime.now(dt.UTC)
    election = _election(
        client,
        admin,
        [voter],
        opens_at=now - dt.timedelta(minutes=1),
        closes_at=now + dt.timedelta(hours=2),
    )
    clock = [now + AHEAD]
    worker = Worker(container, clock=lambda: clock[0])
    worker.run_once()
    _follow(client, outsider, election["id"], True)
    clock[0] = now + dt.timedelta(hours=3)
    worker.run_once()
    # Voting that lasts less than a day has no reminder.
    assert _subjects(mails, voter) == [
        "[Storyline] Vote: Technical Committee",
        "[Storyline] Results: Technical Committee",
    ]
    assert _subjects(mails, outsider) == ["[Storyline] Results: Technical Committee"]


def test_jobs_open_and_close_each_election_on_its_own(
    client: TestClient,
    factory: Factory,
    container: Container,
) -> None:
    admin, gone, voter = factory.admin(), factory.user(), factory.user()
    now = dt.datetime.now(dt.UTC)
    window = {"opens_at": now - dt.timedelta(minutes=1), "closes_at": now + dt.timedelta(days=2)}
    # Its only voter is deactivated: nobody could vote, so it cannot open.
    empty = _election(client, admin, [gone], **window)
    deactivated = client.put(
        f"/v1/users/{gone.id}", json={"is_active": False}, headers=admin.headers
    )
    assert deactivated.status_code == 200, deactivated.text
    ready = _election(client, admin, [voter], **window)
    clock = [now + AHEAD]
    worker = Worker(container, clock=lambda: clock[0])

    worker.run_once()
    assert (
        client.get(f"/v1/elections/{empty['id']}", headers=admin.headers).json()["state"] == "draft"
    )
    assert client.get(f"/v1/elections/{ready['id']}").json()["state"] == "open"

    clock[0] = now + dt.timedelta(days=3)
    worker.run_once()
    first = client.get(f"/v1/elections/{ready['id']}").json()
    assert first["state"] == "closed"
    # Closing again finds it closed and changes nothing.
    clock[0] += dt.timedelta(hours=1)
    worker.run_once()
    again = client.get(f"/v1/elections/{ready['id']}").json()
    assert (again["state"], again["closed_at"]) == ("closed", first["closed_at"])
    results = client.get(f"/v1/elections/{ready['id']}/results")
    assert results.status_code == 200, results.text
    assert results.json()["ballots"] == 0
