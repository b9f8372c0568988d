"""Real elections, held again in the tracker, give their official results.

Each Kubernetes Steering Committee ballot file (CIVS and Elekto, with the
published outcome in `expected.json`) is replayed through the API: an
election with the file's candidates, seats and rule (CIVS counted 2019
under Condorcet-IRV's pre-2024 tie rule, which the election names), an
electorate of one user per ballot, every ballot cast with
POST /v1/elections/{id}/ballots, the close, then GET results must be the
official ranking, and the published ballots.csv must count the same when
read back by the library.

Debian's votes are held the same way under Debian's rule, with the default
option, quorum and majorities of devotee's official results page, and must
give the official winners and drop the options the page dropped. A ballot
costs about 11 ms through the API on SQLite, so the 39 sheets (13,336
ballots, some two and a half minutes) are too many to cast on every run:
`DEBIAN_REPLAYED` are five (1,769 ballots, some 20 s) that exercise every
part of the rule (majority ratios passed and failed, a leader election with
"None Of The Above", the most dropped options, a resolution defeated by
"Further Discussion"). All 39 are counted from the same stored ballots by
tests/voting/test_results.py and by the library in
tests/elections/test_golden_debian.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from fastapi.testclient import TestClient

from storyline.elections import count, pairwise, read_civs, read_civs_ballots, read_debian
from storyline.elections.formats.debian import DEBIAN_UNRANKED
from tests.elections.conftest import DATA, load_json
from tests.elections.test_golden_debian import parse_results
from tests.factories import Factory
from tests.voting.test_elections_api import make_election

EXPECTED = load_json("expected.json") if DATA.exists() else {}
SETS: list[dict[str, Any]] = EXPECTED.get("kubernetes_steering_civs", []) + EXPECTED.get(
    "kubernetes_steering_elekto", []
)
# CIVS counted 2019 under Condorcet-IRV's pre-2024 tie rule, which changes
# its ranking.
PRE_2024_RULE = {2019}
DEBIAN_REPLAYED = (
    # A 3:1 option dropped for its majority; a 1:1 option wins.
    "2004/gr_non_free_tally.txt",
    # Five of six options dropped, four of them 3:1.
    "2008/vote_003_tally.txt",
    # DPL 2006: eight options, two dropped, a pairwise tie between losers.
    "2006/vote_002_tally.txt",
    # The one option loses to the default: "Further Discussion" wins.
    "2006/vote_004_tally.txt",
    # A 3:1 majority reached.
    "2015/vote_003_tally.txt",
)
DEBIAN: list[dict[str, Any]] = [
    vote for vote in EXPECTED.get("debian", []) if vote["tally"] in DEBIAN_REPLAYED
]


def _ranking(row: Sequence[int | None], ids: list[int], unranked: int) -> dict[str, Any]:
    """A file's row as the API's ballot: tiers of candidate ids by rank,
    candidates at the `unranked` rank or below left out, since the API ranks
    those last together, and "no opinion" kept."""
    tiers: dict[int, list[int]] = {}
    for value, candidate_id in zip(row, ids, strict=True):
        if value is not None and value < unranked:
            tiers.setdefault(value, []).append(candidate_id)
    return {
        "ranking": [tiers[rank] for rank in sorted(tiers)],
        "no_opinion": [cid for value, cid in zip(row, ids, strict=True) if value is None],
    }


def _hold(
    client: TestClient,
    factory: Factory,
    candidates: Sequence[str],
    rows: Sequence[Sequence[int | None]],
    unranked: int,
    **fields: Any,
) -> tuple[int, dict[str, Any]]:
    """Hold an election of `candidates` with one voter casting each row, close
    it, and answer its id and results document."""
    admin = factory.admin()
    voters = factory.users(len(rows))
    election = make_election(
        client, admin, voters, candidates=[{"name": name} for name in candidates], **fields
    )
    eid = election["id"]
    ids = [c["id"] for c in sorted(election["candidates"], key=lambda c: c["position"])]
    assert [c["name"] for c in election["candidates"]] == list(candidates)
    opened = client.post(f"/v1/elections/{eid}/open", headers=admin.headers)
    assert opened.status_code == 200, opened.text

    for voter, row in zip(voters, rows, strict=True):
        cast = client.post(
            f"/v1/elections/{eid}/ballots",
            json=_ranking(row, ids, unranked),
            headers=voter.headers,
        )
        assert cast.status_code == 201, cast.text
    closed = client.post(f"/v1/elections/{eid}/close", headers=admin.headers)
    assert closed.status_code == 200, closed.text
    assert closed.json()["ballots"] == len(rows)

    results = client.get(f"/v1/elections/{eid}/results")
    assert results.status_code == 200, results.text
    return eid, dict(results.json())


@pytest.mark.parametrize("entry", SETS, ids=lambda e: e["ballots_file"])
def test_a_real_election_held_in_the_tracker_gives_the_official_result(
    client: TestClient, factory: Factory, entry: dict[str, Any]
) -> None:
    path = DATA / entry["ballots_file"]
    data = read_civs_ballots(path, proportional=False)
    assert len(data.rows) == entry["ballots"]
    irv = "Condorcet-IRV" in entry["official_method"]
    method = "condorcet-irv" if irv else "schulze"
    tie_rule = "pre-2024" if irv and entry["year"] in PRE_2024_RULE else None
    eid, document = _hold(
        client,
        factory,
        data.candidates,
        data.rows,
        len(data.candidates),
        title=f"Kubernetes Steering Committee {entry['year']}",
        method=method,
        tie_rule=tie_rule,
        seats=entry["seats"],
        no_opinion=True,
    )
    assert document["ballots"] == entry["ballots"]
    assert [c for tier in document["ranking"] for c in tier] == entry["official_ranking"]
    assert all(len(tier) == 1 for tier in document["ranking"])
    if "official_winners" in entry:
        assert document["winners"] == entry["official_winners"]
    # The pairwise matrix is the file's: translating ranks to tiers loses
    # nothing a count uses.
    assert document["pairwise"] == pairwise(read_civs(path, proportional=False)).d.tolist()

    published = client.get(f"/v1/elections/{eid}/ballots.csv")
    assert published.status_code == 200
    recount = count(
        read_civs(published.text, proportional=False), method, tie_rule=tie_rule or "current"
    )
    assert [list(tier) for tier in recount.tiers()] == document["ranking"]


@pytest.mark.parametrize("vote", DEBIAN, ids=lambda v: v["tally"])
def test_a_debian_vote_held_in_the_tracker_gives_the_official_winner(
    client: TestClient, factory: Factory, vote: dict[str, Any]
) -> None:
    tally = read_debian(DATA / "debian" / vote["tally"])
    official = parse_results(DATA / "debian" / vote["results"])
    majorities = {tally.options[i - 1]: int(n) for i, n in official.majorities.items()}
    rows = [ballot.ranks for ballot in tally.profile.expanded()]
    assert len(rows) == vote["ballots"]
    _, document = _hold(
        client,
        factory,
        tally.options,
        rows,
        DEBIAN_UNRANKED,
        title=f"Debian vote {vote['tally']}",
        method="debian",
        seats=1,
        default_option=tally.default_option,
        quorum=official.quorum,
        majorities=majorities,
    )
    assert document["ballots"] == vote["ballots"]
    assert document["default_option"] == tally.default_option
    assert document["pairwise"] == pairwise(tally.profile).d.tolist()
    assert sorted(document["dropped"]) == sorted(
        tally.options[i - 1] for i in vote["dropped_options"]
    )
    assert sorted(document["ranking"][0]) == sorted(vote["official_winners"])
    assert document["winners"] == vote["official_winners"]
