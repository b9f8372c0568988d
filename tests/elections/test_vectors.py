"""The published examples in test-vectors.json."""

from __future__ import annotations

import re
from typing import Any

import pytest

from storyline.elections import Profile, count

from .conftest import DATA, load_json, require_data

VECTORS = load_json("test-vectors.json") if DATA.exists() else {}
SCHULZE: list[dict[str, Any]] = [v for v in VECTORS.get("schulze", []) if "ballots" in v]
RANKED_PAIRS: list[dict[str, Any]] = [
    v for v in VECTORS.get("ranked_pairs", []) if "expected_ranking" in v
]


def parse(candidates: list[str], lines: list[str]) -> Profile:
    """Ballot lines 'A > B = C * 3': unlisted candidates tie below every listed one."""
    weighted = []
    for line in lines:
        body, _, times = line.partition("*")
        ranks: list[int | None] = [len(candidates)] * len(candidates)
        for level, group in enumerate(body.split(">")):
            for name in group.split("="):
                ranks[candidates.index(name.strip())] = level
        weighted.append((tuple(ranks), int(times) if times.strip() else 1))
    return Profile.from_weighted(candidates, weighted)


def tiers_of(text: str) -> list[set[str]]:
    return [set(re.split(r"\s*=\s*", t.strip())) for t in text.split(">")]


@pytest.mark.parametrize("vector", SCHULZE, ids=lambda v: v["id"])
def test_schulze_vectors(vector: dict[str, Any]) -> None:
    result = count(parse(vector["candidates"], vector["ballots"]), "schulze")
    assert result.ranking[0] == set(vector["expected_winners_winning_votes"])
    assert [set(t) for t in result.tiers()] == tiers_of(vector["civs_beatpath2_ranking"])


@pytest.mark.parametrize("vector", RANKED_PAIRS, ids=lambda v: v["id"])
def test_ranked_pairs_vectors(vector: dict[str, Any]) -> None:
    result = count(parse(vector["candidates"], vector["ballots"]), "ranked-pairs")
    assert [set(t) for t in result.tiers()] == tiers_of(vector["expected_ranking"])


def test_truncated_ballots_rank_unlisted_candidates_last() -> None:
    # With unlisted candidates ranked last A is not the winner; if they are
    # "no opinion" instead, A wins.
    candidates = ["A", "B", "C"]
    lines = ["A > B * 68", "B > C * 72", "C > A * 52"]
    last = count(parse(candidates, lines), "ranked-pairs")
    assert "A" not in last.ranking[0]
    no_opinion = Profile.from_weighted(
        candidates,
        [((0, 1, None), 68), ((None, 0, 1), 72), ((1, None, 0), 52)],
    )
    assert count(no_opinion, "ranked-pairs").ranking[0] == {"A"}


def test_schulze_example_10_depends_on_the_strength_definition() -> None:
    # Winning votes (CIVS's W then L) elects D; margins would elect A.
    require_data()
    vector = next(v for v in VECTORS["schulze"] if v["id"] == "ex10")
    profile = parse(vector["candidates"], vector["ballots"])
    assert count(profile, "schulze").ranking[0] == {"D"}
