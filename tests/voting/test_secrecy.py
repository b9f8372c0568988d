"""Nothing the server keeps or says ties a voter to a ballot.

Thirty voters cast distinct rankings in a known order (one replaces hers
with her receipt), then the election closes. The whole database is read,
every table, column and row (on PostgreSQL also the rows' `xmin` and their
physical place, `ctid`), with the API as an official and as an
administrator and the application's logs: a ballot appears only as its
ranks in `election_ballots`, under a random key and in an order that is
not the order of casting, and no receipt appears at all.
"""

from __future__ import annotations

import itertools
import json
import logging
import random
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from storyline.bootstrap import Container
from storyline.voting.ballots import receipt_hash
from tests.factories import Factory, TestUser
from tests.voting.test_elections_api import make_election

VOTERS = 30
NAMES = ("Alice", "Bob", "Carol", "Dave", "Erin")


def _dump(connection: Connection) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, as text."""
    dump = {}
    for table in inspect(connection).get_table_names():
        rows = connection.execute(text(f'SELECT * FROM "{table}"')).mappings()
        dump[table] = [{k: "" if v is None else str(v) for k, v in row.items()} for row in rows]
    return dump


def _where(dump: dict[str, list[dict[str, Any]]], needle: str) -> set[str]:
    """The table.column cells that contain `needle`."""
    return {
        f"{table}.{column}"
        for table, rows in dump.items()
        for row in rows
        for column, value in row.items()
        if needle in value
    }


def _cast_all(
    client: TestClient, voters: list[TestUser], eid: int, ids: list[int]
) -> tuple[list[str], list[str], str]:
    """Each voter ranks all candidates in a ranking of their own; answers
    the stored forms in casting order, the receipts, and the stored form of
    the ballot the first voter then replaced."""
    orders = list(itertools.permutations(range(len(ids))))
    random.Random(13).shuffle(orders)
    stored, receipts = [], []
    for voter, order in zip(voters, orders, strict=False):
        cast = client.post(
            f"/v1/elections/{eid}/ballots",
            json={"ranking": [[ids[i]] for i in order]},
            headers=voter.headers,
        )
        assert cast.status_code == 201, cast.text
        receipts.append(cast.json()["receipt"])
        ranks = [0] * len(ids)
        for rank, i in enumerate(order, start=1):
            ranks[i] = rank
        stored.append(",".join(map(str, ranks)))
    # The first voter changes her mind: her new ranking is one nobody cast.
    replacement = orders[VOTERS]
    replaced = client.post(
        f"/v1/elections/{eid}/ballots",
        json={"ranking": [[ids[i]] for i in replacement], "receipt": receipts[0]},
        headers=voters[0].headers,
    )
    assert replaced.status_code == 201, replaced.text
    assert replaced.json()["receipt"] == receipts[0]
    old = stored[0]
    ranks = [0] * len(ids)
    for rank, i in enumerate(replacement, start=1):
        ranks[i] = rank
    stored[0] = ",".join(map(str, ranks))
    return stored, receipts, old


def test_nothing_links_a_voter_to_a_ballot(
    client: TestClient, factory: Factory, container: Container, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="storyline")
    admin = factory.admin()
    official = factory.user()
    voters = factory.users(VOTERS)
    election = make_election(
        client,
        admin,
        voters,
        seats=1,
        officials=[official.id],
        candidates=[{"name": n} for n in NAMES],
    )
    eid = election["id"]
    ids = [c["id"] for c in sorted(election["candidates"], key=lambda c: c["position"])]
    assert client.post(f"/v1/elections/{eid}/open", headers=admin.headers).status_code == 200
    stored, receipts, old = _cast_all(client, voters, eid, ids)
    pg = container.db.dialect == "postgresql"

    with container.db.engine.connect() as connection:
        columns = {c["name"] for c in inspect(connection).get_columns("election_ballots")}
        if not pg:
            # No rowid: SQLite keeps the rows in key order, from the start.
            with pytest.raises(Exception, match="rowid"):
                connection.execute(text("SELECT rowid FROM election_ballots"))
            open_order = list(connection.scalars(text("SELECT ranks FROM election_ballots")))
            assert sorted(open_order) == sorted(stored)
            assert open_order != stored
    # A ballot is its ranks under a random key and the hash of its receipt:
    # no user, no time, no counter.
    assert columns == {"election_id", "key", "receipt_hash", "ranks"}
    voter_columns = {c["name"] for c in inspect(container.db.engine).get_columns("election_voters")}
    assert voter_columns == {"election_id", "user_id", "voted"}

    assert client.post(f"/v1/elections/{eid}/close", headers=official.headers).status_code == 200

    with container.db.engine.connect() as connection:
        dump = _dump(connection)
        if pg:
            # Every ballot and every voter row was last written by the close,
            # and the heap holds the ballots in an order of its own.
            physical = connection.execute(
                text("SELECT xmin::text, ranks FROM election_ballots ORDER BY ctid")
            ).all()
            voter_xmins = set(connection.scalars(text("SELECT xmin::text FROM election_voters")))
            assert len({x for x, _ in physical} | voter_xmins) == 1
            assert [r for _, r in physical] != stored
    ballots = [row for row in dump["election_ballots"] if row["election_id"] == str(eid)]
    read_order = [row["ranks"] for row in ballots]
    assert sorted(read_order) == sorted(stored)
    assert read_order != stored
    assert [row["ranks"] for row in sorted(ballots, key=lambda r: r["key"])] != stored
    assert {row["voted"] for row in dump["election_voters"]} <= {"True", "1", "true"}

    # Each ballot is only in the ballot box; receipts are nowhere, their
    # hashes only beside their ballots; the replaced ballot is gone.
    for ranks in stored:
        assert _where(dump, ranks) == {"election_ballots.ranks"}, ranks
    assert _where(dump, old) == set()
    for receipt in receipts:
        assert _where(dump, receipt) == set()
        assert _where(dump, receipt_hash(receipt)) == {"election_ballots.receipt_hash"}
    # The audit log and the outbox tell of the election, never of a ballot.
    told = json.dumps(dump["audit_events"] + dump["outbox"])
    assert "ranking" not in told
    assert "receipt" not in told

    # The API, as an official and as an administrator, answers counts and
    # the anonymized, sorted ballot file, nothing per voter.
    routes = [
        f"/v1/elections/{eid}",
        f"/v1/elections/{eid}/electorate",
        f"/v1/elections/{eid}/electorate.csv",
        f"/v1/elections/{eid}/results",
        f"/v1/elections/{eid}/results/spread.svg",
        f"/v1/elections/{eid}/results/matrix.svg",
        f"/v1/elections/{eid}/ballots.csv",
        f"/v1/elections/{eid}/permissions",
        "/v1/elections",
    ]
    for reader in (official, admin):
        for route in routes:
            response = client.get(route, headers=reader.headers)
            assert response.status_code == 200, (route, response.text)
            for receipt in receipts:
                assert receipt not in response.text
                assert receipt_hash(receipt) not in response.text
            if not route.endswith("ballots.csv"):
                assert not any(ranks in response.text for ranks in stored), route
        for voter in voters[:3]:
            # Nothing addresses a ballot by its voter.
            assert client.get(
                f"/v1/elections/{eid}/ballots/{voter.id}", headers=reader.headers
            ).status_code in (404, 405)
    lines = client.get(f"/v1/elections/{eid}/ballots.csv").text.splitlines()[1:]
    assert sorted(lines) == sorted(stored)
    assert lines != stored
    assert client.get(f"/v1/elections/{eid}/electorate/me", headers=voters[0].headers).json() == {
        "eligible": True,
        "voted": True,
    }

    # What the application logged while ballots were cast and counted.
    logged = "\n".join(
        f"{record.getMessage()} {record.args!r} {record.__dict__!r}" for record in caplog.records
    )
    for receipt in receipts:
        assert receipt not in logged
        assert receipt_hash(receipt) not in logged
    for ranks in [*stored, old]:
        assert ranks not in logged
