"""Counting rules on small profiles built to reach each rule's corners."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from storyline.elections import (
    DebianDetails,
    Defeat,
    PairwiseMatrix,
    Profile,
    RankedPairsDetails,
    break_ties,
    condorcet_irv,
    count,
    debian,
    mam,
    pairwise,
    ranked_pairs,
)

# Each voter is one of the three rotations: a pure cycle of equal majorities.
CYCLE = Profile.from_rankings("ABC", [(0, 1, 2), (1, 2, 0), (2, 0, 1)])


def test_equal_majorities_in_a_cycle_are_all_kept_and_tie() -> None:
    result = ranked_pairs(pairwise(CYCLE))
    assert result.ranking == (frozenset("ABC"),)
    assert isinstance(result.details, RankedPairsDetails)
    assert result.details.allowed_cycle
    assert not result.details.denied


def test_a_weaker_majority_that_cycles_is_denied() -> None:
    profile = Profile.from_weighted("ABC", [((0, 1, 2), 4), ((1, 2, 0), 3), ((2, 0, 1), 2)])
    result = ranked_pairs(pairwise(profile))
    assert result.tiers() == [["A"], ["B"], ["C"]]
    assert isinstance(result.details, RankedPairsDetails)
    assert [str(d) for d in result.details.denied] == ["C over A 5-4"]
    assert any("Denied" in line for line in result.log)


def test_strongest_defeat_splits_a_tier() -> None:
    # B over C (7-3) is affirmed first, then A over B and C over A (both 6-4)
    # close a cycle that CIVS keeps; C's strongest defeat (7-3) then pushes it
    # below A and B, whose strongest defeats (6-4) are equal.
    profile = Profile.from_weighted(
        "ABC", [((0, 1, 2), 3), ((1, 2, 0), 3), ((2, 0, 1), 3), ((1, 0, 2), 1)]
    )
    result = ranked_pairs(pairwise(profile))
    assert result.tiers() == [["A", "B"], ["C"]]


def test_mam_breaks_equal_majorities_with_a_reproducible_hierarchy() -> None:
    first = mam(CYCLE, seed=42)
    again = mam(CYCLE, seed=42)
    assert first.ranking == again.ranking
    assert first.randomness_used
    assert first.seed == 42
    assert len(first.ranking) == 3
    assert isinstance(first.details, RankedPairsDetails)
    assert len(first.details.voter_hierarchy) == 3
    assert mam(CYCLE).seed is not None


def test_mam_without_ties_uses_no_randomness() -> None:
    profile = Profile.from_weighted("ABC", [((0, 1, 2), 4), ((1, 0, 2), 2), ((0, 2, 1), 1)])
    result = mam(profile, seed=1)
    assert not result.randomness_used
    assert result.log[-1] == "No random tie-breaking was used."


def test_mam_hierarchy_skips_no_opinion_and_contradictions() -> None:
    profile = Profile.from_rankings(
        "ABCD", [(0, None, 1, 1), (1, 0, None, 2), (2, 1, 0, None), (None, 2, 1, 0)]
    )
    for seed in range(10):
        result = mam(profile, seed=seed)
        assert sorted(c for t in result.ranking for c in t) == list("ABCD")


def test_condorcet_irv_current_rule_sets_aside_the_weakest_rank_counts() -> None:
    result = condorcet_irv(CYCLE, tie_rule="current")
    # Equal rank counts fall on the candidate listed first.
    assert result.tiers() == [["B"], ["C"], ["A"]]
    assert result.details[0].set_aside == ("A",)
    assert not result.randomness_used
    assert result.seed is None


def test_condorcet_irv_pre_2024_draws_lots_and_shares_ranks() -> None:
    # D and E are never on top: which is set aside first is drawn by lot.
    profile = Profile.from_rankings("ABCDE", [(0, 1, 2, 3, 3), (1, 2, 0, 3, 3), (2, 0, 1, 3, 3)])
    result = condorcet_irv(profile, tie_rule="pre-2024", seed=5)
    assert result.randomness_used
    assert result.seed == 5
    assert result.tiers() == [["A", "B", "C"], ["D", "E"]]
    assert result.details[0].random_choices == 1
    assert condorcet_irv(CYCLE, tie_rule="pre-2024").seed is not None
    # Two candidates tied head to head and equally often on top share the rank.
    tied = Profile.from_rankings("AB", [(0, 1), (1, 0)])
    shared = condorcet_irv(tied, tie_rule="pre-2024", seed=0)
    assert shared.ranking == (frozenset("AB"),)
    assert "tied set" in shared.log[0]


def test_condorcet_irv_ignores_no_opinion_in_rank_counts() -> None:
    profile = Profile.from_rankings("ABC", [(0, None, 1), (None, 0, 1), (1, 1, 0), (0, 1, None)])
    result = condorcet_irv(profile, tie_rule="current")
    assert sorted(c for t in result.ranking for c in t) == list("ABC")


def test_condorcet_irv_rejects_an_unknown_tie_rule() -> None:
    with pytest.raises(ValueError, match="unknown tie rule"):
        condorcet_irv(CYCLE, tie_rule="coin")  # type: ignore[arg-type]


def test_debian_drops_the_weakest_defeats_of_a_cycle() -> None:
    profile = Profile.from_weighted(
        "ABCD", [((0, 1, 2, 3), 4), ((1, 2, 0, 3), 3), ((2, 0, 1, 3), 2)]
    )
    result = debian(pairwise(profile), default_option="D")
    details = result.details
    assert isinstance(details, DebianDetails)
    assert details.schwartz_set == {"A", "B", "C"}
    assert details.dropped_defeats == ((Defeat("C", "A", 5, 4),),)
    assert details.winners == {"A"}
    assert result.tiers()[0] == ["A"]
    assert any("weakest" in line for line in result.log)


def test_debian_quorum_and_majority() -> None:
    profile = Profile.from_weighted("ABCD", [((0, 1, 3, 2), 5), ((2, 1, 3, 0), 2)])
    result = debian(
        pairwise(profile), default_option="D", quorum=4.5, majorities={"A": Fraction(3)}
    )
    details = result.details
    assert isinstance(details, DebianDetails)
    checks = {c.option: c for c in details.checks}
    assert checks["A"].reached_quorum
    assert not checks["A"].passed_majority
    assert not checks["C"].reached_quorum
    assert checks["B"].reached_quorum
    assert checks["B"].passed_majority
    assert details.dropped == ("A", "C")
    assert details.winners == {"B"}
    # Dropped options are ranked after every kept one.
    assert result.tiers() == [["B"], ["D"], ["A"], ["C"]]
    assert any("quorum" in line for line in result.log)
    assert any("majority" in line for line in result.log)


def test_debian_default_option_must_exist() -> None:
    with pytest.raises(ValueError, match="default option"):
        debian(pairwise(CYCLE), default_option="Z")


def test_count_dispatch() -> None:
    m = pairwise(CYCLE)
    assert count(CYCLE, "minimax-pm", matrix=m).matrix is m
    with pytest.raises(ValueError, match="unknown method"):
        count(CYCLE, "borda")  # type: ignore[arg-type]


def test_winners_and_boundary_ties() -> None:
    profile = Profile.from_rankings("ABCD", [(0, 1, 1, 3), (0, 1, 1, 3)])
    result = count(profile)
    assert result.winners(1).elected == ("A",)
    assert result.winners(1).complete
    two = result.winners(2)
    assert two.elected == ("A",)
    assert two.tie is not None
    assert two.tie.candidates == {"B", "C"}
    assert two.tie.seats == 1
    assert result.winners(3).elected == ("A", "B", "C")
    assert result.winners(0).elected == ()
    with pytest.raises(ValueError, match="negative"):
        result.winners(-1)


def test_break_ties_is_a_separate_seeded_lottery() -> None:
    profile = Profile.from_rankings("ABCD", [(0, 1, 1, 3)])
    result = count(profile)
    drawn = break_ties(result, 2, seed=3)
    assert drawn == break_ties(result, 2, seed=3)
    assert drawn.winners[0] == "A"
    assert drawn.winners[1] in {"B", "C"}
    assert sorted(drawn.drawn) == ["B", "C"]
    assert drawn.seed == 3
    settled = break_ties(result, 1, seed=3)
    assert settled.winners == ("A",)
    assert settled.drawn == ()
    assert settled.seed is None


def test_defeat_margin() -> None:
    assert Defeat("A", "B", 7, 3).margin == 4


def test_equal_majorities_everywhere_leave_one_tier() -> None:
    # Crafted matrix: every majority is 5-1, so all are affirmed and every
    # candidate's strongest defeat is equally strong.
    d = np.zeros((4, 4), dtype=np.int64)
    for winner, loser in [(0, 1), (1, 2), (2, 0), (0, 3), (1, 3), (3, 2)]:
        d[winner, loser], d[loser, winner] = 5, 1
    result = ranked_pairs(PairwiseMatrix(("A", "B", "C", "D"), d, 6))
    assert result.ranking == (frozenset("ABCD"),)


def test_every_candidate_elected_when_seats_allow() -> None:
    result = count(Profile.from_rankings("AB", [(0, 1)]))
    assert result.winners(5).elected == ("A", "B")
