"""Property tests against pref-voting, an independent implementation used only here."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storyline.elections import Profile, count, pairwise

pref_voting = pytest.importorskip("pref_voting")
from pref_voting.margin_based_methods import beat_path  # noqa: E402
from pref_voting.profiles_with_ties import ProfileWithTies  # noqa: E402

NAMES = "ABCDEF"


@st.composite
def profiles(draw: Any, no_opinion: bool = False) -> Profile:
    n = draw(st.integers(min_value=2, max_value=6))
    rank = st.integers(min_value=0, max_value=n - 1)
    value = st.one_of(st.none(), rank) if no_opinion else rank
    ballots = draw(
        st.lists(st.tuples(*[value] * n), min_size=1, max_size=40),
    )
    return Profile.from_rankings(NAMES[:n], ballots)


def to_pref_voting(profile: Profile) -> ProfileWithTies:
    rankings = [
        dict(zip(range(profile.num_candidates), b.ranks, strict=True)) for b in profile.ballots
    ]
    return ProfileWithTies(rankings, rcounts=list(profile.weights))


@settings(max_examples=300, deadline=None)
@given(profiles())
def test_same_condorcet_winner(profile: Profile) -> None:
    theirs = to_pref_voting(profile).condorcet_winner()
    ours = pairwise(profile).condorcet_winner()
    assert (None if theirs is None else profile.candidates[theirs]) == ours
    if ours is not None:
        for method in ("schulze", "ranked-pairs", "minimax-pm", "condorcet-irv", "mam"):
            result = count(profile, method, seed=0)  # type: ignore[arg-type]
            assert result.ranking[0] == {ours}, method


@settings(max_examples=300, deadline=None)
@given(profiles())
def test_same_schulze_winners_with_civs_strength(profile: Profile) -> None:
    edata = to_pref_voting(profile)
    n = profile.num_voters

    # CIVS's strength order, (winning votes, then fewer losing votes), as one number.
    def strength(a: int, b: int) -> int:
        return int(edata.support(a, b)) * (n + 1) + (n - int(edata.support(b, a)))

    theirs = {profile.candidates[c] for c in beat_path(edata, strength_function=strength)}
    assert set(count(profile, "schulze").ranking[0]) == theirs


def _reference_schulze_winners(profile: Profile) -> set[str]:
    """Schulze by the textbook, in plain Python, with (W, L) tuples as strengths."""
    c = profile.num_candidates
    d = [[0] * c for _ in range(c)]
    for ballot, weight in zip(profile.ballots, profile.weights, strict=True):
        for i in range(c):
            for j in range(c):
                if ballot.prefers(i, j):
                    d[i][j] += weight
    none = (0, 0)
    # Strength (W, -L): bigger W, then smaller L, is stronger.
    p = [[(d[i][j], -d[j][i]) if d[i][j] > d[j][i] else none for j in range(c)] for i in range(c)]
    for k in range(c):
        for i in range(c):
            for j in range(c):
                if len({i, j, k}) == 3:
                    p[i][j] = max(p[i][j], min(p[i][k], p[k][j]))
    return {
        profile.candidates[i]
        for i in range(c)
        if all(not (p[j][i] > p[i][j]) for j in range(c) if j != i)
    }


@settings(max_examples=300, deadline=None)
@given(profiles(no_opinion=True))
def test_schulze_with_no_opinion_matches_a_plain_implementation(profile: Profile) -> None:
    assert set(count(profile, "schulze").ranking[0]) == _reference_schulze_winners(profile)


@settings(max_examples=200, deadline=None)
@given(profiles(no_opinion=True))
def test_every_method_ranks_every_candidate_once(profile: Profile) -> None:
    for method in ("schulze", "ranked-pairs", "minimax-pm", "condorcet-irv", "mam", "debian"):
        result = count(profile, method, seed=1)  # type: ignore[arg-type]
        ranked = [c for tier in result.ranking for c in tier]
        assert sorted(ranked) == sorted(profile.candidates), method
        assert all(result.ranking), method
    legacy = count(profile, "condorcet-irv", tie_rule="pre-2024", seed=3)
    assert sorted(c for t in legacy.ranking for c in t) == sorted(profile.candidates)
