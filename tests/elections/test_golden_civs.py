"""Real CIVS and Elekto ballot files reproduce their officially published results."""

from __future__ import annotations

from typing import Any

import pytest

from storyline.elections import count, read_civs

from .conftest import DATA, load_json

EXPECTED = load_json("expected.json") if DATA.exists() else {}
CIVS: list[dict[str, Any]] = EXPECTED.get("kubernetes_steering_civs", [])
ELEKTO: list[dict[str, Any]] = EXPECTED.get("kubernetes_steering_elekto", [])

# The completion rules other than the official one, as recomputed when the data
# were collected: not official, but they pin each method's behaviour on real data.
RECOMPUTED = {
    "schulze_civs_beatpath2": ("schulze", {}),
    "civs_ranked_pairs": ("ranked-pairs", {}),
    "minimax_pm": ("minimax-pm", {}),
    "condorcet_irv_2017_2021_version": ("condorcet-irv", {"tie_rule": "pre-2024", "seed": 0}),
}


def _official_method(entry: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    if "Condorcet-IRV" in entry["official_method"]:
        # These polls closed in 2019 and 2020, under the pre-2024 tie rule.
        return "condorcet-irv", {"tie_rule": "pre-2024"}
    return "schulze", {}


@pytest.mark.parametrize("entry", CIVS + ELEKTO, ids=lambda e: f"{e['ballots_file']}")
def test_official_ranking_is_reproduced(entry: dict[str, Any]) -> None:
    profile = read_civs(DATA / entry["ballots_file"], proportional=False)
    assert profile.num_voters == entry["ballots"]
    assert profile.num_candidates == entry["candidates"]
    method, options = _official_method(entry)
    for seed in range(5):
        result = count(profile, method, seed=seed, **options)  # type: ignore[arg-type]
        assert [c for tier in result.tiers() for c in tier] == entry["official_ranking"]
        assert all(len(tier) == 1 for tier in result.ranking)
        assert not result.randomness_used
    if "official_winners" in entry:
        winners = result.winners(entry["seats"])
        assert winners.complete
        assert list(winners.elected) == entry["official_winners"]


@pytest.mark.parametrize(
    ("entry", "key"),
    [(e, k) for e in CIVS + ELEKTO for k in RECOMPUTED if k in e["recomputed"]],
    ids=lambda v: v if isinstance(v, str) else v["ballots_file"],
)
def test_other_rules_match_the_recount(entry: dict[str, Any], key: str) -> None:
    profile = read_civs(DATA / entry["ballots_file"], proportional=False)
    method, options = RECOMPUTED[key]
    result = count(profile, method, **options)  # type: ignore[arg-type]
    expected = entry["recomputed"][key]
    assert [set(t) for t in result.tiers()] == [set(t) for t in expected]
