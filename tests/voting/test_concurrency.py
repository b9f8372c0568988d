"""Ballots racing the close, against a real server.

`storyline serve` runs with two worker processes on the test's database, so
the requests below are separate transactions in separate processes, as in
production. A voter who sends her ballot twice at the same instant gets one
201; voters casting while two officials close at once each get 201 (and
their ballot is counted) or 409 voting_closed (and it is not); the election
closes once. Every loop is bounded: a fixed number of requests, each with a
timeout, and the server is stopped by its PID.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import select

from storyline.accounts import audit
from storyline.accounts.models import AuditEvent
from storyline.bench.server import running_server
from storyline.bootstrap import Container
from storyline.config import Settings
from tests.factories import Factory, TestUser
from tests.voting.test_elections_api import make_election

HAMMERERS = 6
RACERS = 40
# The officials close once this many racers have an answer: the rest are
# still in flight, or not yet sent.
CLOSE_AFTER = 12
TIMEOUT = 30.0


def _together(count: int, call: Callable[[int], httpx.Response]) -> list[httpx.Response]:
    """`call(i)` for i < count in as many threads, released at once."""
    start = threading.Barrier(count, timeout=TIMEOUT)

    def run(i: int) -> httpx.Response:
        start.wait()
        return call(i)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def test_ballots_race_the_close(
    client: TestClient,
    factory: Factory,
    container: Container,
    settings: Settings,
    tmp_path: Path,
) -> None:
    admin = factory.admin()
    official = factory.user()
    voters = factory.users(HAMMERERS + RACERS)
    election = make_election(client, admin, voters, officials=[official.id])
    eid = election["id"]
    ids = [c["id"] for c in election["candidates"]]
    assert client.post(f"/v1/elections/{eid}/open", headers=admin.headers).status_code == 200
    ballots = f"/v1/elections/{eid}/ballots"

    with running_server(
        settings.database_url,
        workers=2,
        log_path=tmp_path / "server.log",
        environment={"STORYLINE_DATA_DIR": str(tmp_path)},
    ) as base:

        def cast(voter: TestUser, i: int) -> httpx.Response:
            ranking = [[ids[(i + k) % len(ids)]] for k in range(len(ids))]
            return httpx.post(
                base + ballots, json={"ranking": ranking}, headers=voter.headers, timeout=TIMEOUT
            )

        # The same voter twice at the same instant: one ballot.
        hammered = [
            _together(2, lambda i, voter=voter: cast(voter, i)) for voter in voters[:HAMMERERS]
        ]
        for pair in hammered:
            statuses = sorted(r.status_code for r in pair)
            assert statuses == [201, 409], [r.text for r in pair]
            assert next(r for r in pair if r.status_code == 409).json()["code"] == "already_voted"

        # Racers cast while two officials close at once.
        answered = threading.Semaphore(0)
        closes: list[httpx.Response] = []

        def race(i: int) -> httpx.Response:
            try:
                return cast(voters[HAMMERERS + i], i)
            finally:
                answered.release()

        def close_twice() -> None:
            for _ in range(CLOSE_AFTER):
                assert answered.acquire(timeout=TIMEOUT)
            closes.extend(
                _together(
                    2,
                    lambda i: httpx.post(
                        f"{base}/v1/elections/{eid}/close",
                        headers=(official, admin)[i].headers,
                        timeout=TIMEOUT,
                    ),
                )
            )

        closer = threading.Thread(target=close_twice)
        closer.start()
        with ThreadPoolExecutor(8) as pool:
            raced = list(pool.map(race, range(RACERS)))
        closer.join(TIMEOUT * 2)
        assert not closer.is_alive()

        assert [r.status_code for r in closes] == [200, 200], [r.text for r in closes]
        assert {r.json()["state"] for r in closes} == {"closed"}
        outcomes = [_outcome(r) for r in raced]
        assert set(outcomes) <= {"counted", "voting_closed"}, [r.text for r in raced]
        # Before the close was sent, every answer was a counted ballot.
        assert outcomes.count("counted") >= CLOSE_AFTER
        receipts = [
            r.json()["receipt"]
            for r in [*raced, *(r for pair in hammered for r in pair)]
            if r.status_code == 201
        ]
        results = httpx.get(f"{base}/v1/elections/{eid}/results", timeout=TIMEOUT).json()
        for receipt in receipts:
            check = httpx.post(
                f"{base}/v1/elections/{eid}/receipts",
                json={"receipt": receipt},
                headers=admin.headers,
                timeout=TIMEOUT,
            )
            assert check.json()["counted"] is True

    # Every 201 is a counted ballot, and only those.
    assert len(receipts) == HAMMERERS + outcomes.count("counted")
    assert results["ballots"] == len(receipts)
    with container.db.read() as session:
        events = [
            json.loads(details or "{}")
            for details in session.scalars(
                select(AuditEvent.details).where(AuditEvent.event_type == audit.ELECTION_CHANGED)
            )
        ]
    closed = [e for e in events if e.get("election_id") == eid and e.get("action") == "closed"]
    assert len(closed) == 1, events


def _outcome(response: httpx.Response) -> str:
    if response.status_code == 201:
        return "counted"
    body: dict[str, Any] = response.json()
    return str(body.get("code"))
