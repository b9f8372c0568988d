"""CIVS proportional mode: the published examples, hand-made cases and a reference."""

from __future__ import annotations

from itertools import combinations
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from storyline.elections import proportional
from storyline.elections.profile import Profile
from storyline.elections.proportional import (
    CommitteeComparison,
    civs_proportional,
    compare_committees,
    individual_order,
    ratings,
    winning_votes_beatpath,
)

from .conftest import load_json


def ranked(candidates: str, order: str) -> tuple[int, ...]:
    """A CIVS ballot: the listed candidates ranked 1, 2, ...; the rest unranked."""
    ranks = [len(candidates)] * len(candidates)
    for place, c in enumerate(order, start=1):
        ranks[candidates.index(c)] = place
    return tuple(ranks)


def profile_from_ratings(candidates: str, lines: list[tuple[str, int]]) -> Profile:
    """A profile from CIVS proportional ratings (higher is better).

    Ranks are ``10 - rating``: a shift of CIVS's scale, which changes nothing.
    """
    return Profile.from_weighted(
        list(candidates), [(tuple(10 - int(x) for x in text.split()), n) for text, n in lines]
    )


def civs_vector(vector_id: str) -> dict[str, Any]:
    data = load_json("test-vectors.json")
    return next(v for v in data["civs_proportional"] if v["id"] == vector_id)


# A straight transcription of CIVS's kPrefVoter / kPref / compare_sets, one voter at
# a time, to check the vectorised implementation against.
def reference_compare(
    r: list[list[int]],
    weights: list[int],
    a: tuple[int, ...],
    b: tuple[int, ...],
    combined: bool,
    initial_against: int,
) -> tuple[int, int, int, int]:
    k = len(a)
    n = sum(weights)

    def voter(f: int, v: int) -> int:
        w1 = sorted(r[v][c] for c in a)
        w2 = sorted(r[v][c] for c in b)
        s1 = s2 = 0
        for i in range(1, f + 1):
            s1 += w1[k - i]
            s2 += w2[k - i]
            if s1 != s2 and not combined:
                break
        return -1 if s1 > s2 else 1 if s1 < s2 else 0

    def kpref(f: int) -> tuple[int, int]:
        i = sum(w for v, w in enumerate(weights) if voter(f or k, v) == -1)
        j = sum(w for v, w in enumerate(weights) if voter(f or k, v) == 1)
        if f and i > 0 and i * (k + 1) / n < f:
            i = 0
        if f and j > 0 and j * (k + 1) / n < f:
            j = 0
        return i, j

    best_for, best_against, best_i, best_j = 0, initial_against, 0, 0
    for f in range(1, k + 1):
        i, j = kpref(f)
        if i >= best_for and j <= best_against:
            best_for = best_i = i
            best_against = best_j = j
        if j >= best_for and i <= best_against:
            best_for = best_j = j
            best_against = best_i = i
    weak_i, weak_j = kpref(0)
    return best_i, best_j, weak_i, weak_j


def test_civs_documentation_example_elects_three_of_sixty_and_two_of_forty() -> None:
    vector = civs_vector("civs-doc-60-40")
    cands = "abcdexyzuv"
    profile = Profile.from_weighted(
        list(cands), [(ranked(cands, "abcde"), 60), (ranked(cands, "xyzuv"), 40)]
    )
    result = civs_proportional(profile, 5)
    assert result.winner == frozenset(vector["expected_committee"])
    assert result.winners == (frozenset("abcxy"),)
    assert result.in_order(frozenset("abcxy")) == ("a", "b", "c", "x", "y")
    # The search walks abcde -> ... -> abcxy; with the contenders CIVS reports
    # "7 sets were considered thoroughly".
    assert result.visited == 4
    assert len(result.committees) == 7
    assert result.committees[0] == frozenset("abcde")
    assert not result.search_failed
    assert result.divisor == 100


@pytest.mark.parametrize("criterion", ["best-candidate", "combined-weights"])
@pytest.mark.parametrize("legacy_bound", [False, True])
def test_civs_issue_24_reproduces_the_non_proportional_committee(
    criterion: proportional.Criterion, legacy_bound: bool
) -> None:
    vector = civs_vector("civs-issue-24")
    lines = [
        (text.split("*")[0], int(text.split("*")[1])) for text in vector["weights_higher_better"]
    ]
    profile = profile_from_ratings("ABCDEFGHIJKL", lines)
    result = civs_proportional(profile, 3, criterion=criterion, legacy_bound=legacy_bound)
    assert result.winners == (frozenset(vector["observed_civs_result"]),)
    # The 28% bloc's favourites lead the individual order, so the search starts
    # at J, K, L and finds no better neighbour.
    assert result.individual_order[:3] == ("J", "K", "L")
    assert result.visited == 1


def test_issue_24_exhaustive_search_ties_two_other_committees() -> None:
    lines = [
        ("9 8 7 1 1 1 1 1 1 1 1 1", 23),
        ("1 1 1 9 8 7 1 1 1 1 1 1", 24),
        ("1 1 1 1 1 1 9 8 7 1 1 1", 24),
        ("1 1 1 1 1 1 1 1 1 9 8 7", 28),
    ]
    profile = profile_from_ratings("ABCDEFGHIJKL", lines)
    comms = list(combinations(range(12), 3))
    comparer = proportional._Comparer(
        ratings(profile), profile.weight_vector(), 3, "best-candidate", False, 12
    )
    m = np.zeros((len(comms), len(comms)), dtype=np.int64)
    for j in range(1, len(comms)):
        for k, cmp in enumerate(comparer.compare(comms[j], comms[:j])):
            m[j, k] = cmp.strong_first * 100 + cmp.weak_first
            m[k, j] = cmp.strong_second * 100 + cmp.weak_second
    top = winning_votes_beatpath(m)[0]
    assert sorted("".join("ABCDEFGHIJKL"[i] for i in comms[t]) for t in top) == ["DJK", "GJK"]


def test_pre_2025_bound_drops_a_preference_larger_than_the_number_of_candidates() -> None:
    # 4 candidates, 2 seats, 11 voters: 6 like a, b best and 5 like c, d best.
    cands = "abcd"
    profile = Profile.from_weighted(
        list(cands), [(ranked(cands, "abcd"), 6), (ranked(cands, "cdab"), 5)]
    )
    # f = 1 gives 6 to 5, both proportionally valid (6*3, 5*3 >= 11); f = 2 needs 8.
    fixed = compare_committees(profile, "ab", "cd")
    assert fixed == CommitteeComparison(6, 5, 6, 5)
    # Before the fix the "against" bound started at 4 (candidates), so 6-5 could
    # never be recorded and the strong preference stayed 0-0.
    legacy = compare_committees(profile, "ab", "cd", legacy_bound=True)
    assert legacy == CommitteeComparison(0, 0, 6, 5)
    assert not legacy.second_is_better
    assert CommitteeComparison(0, 0, 5, 6).second_is_better
    assert not CommitteeComparison(3, 2, 0, 9).second_is_better


def test_combined_weights_add_the_top_ratings() -> None:
    # Voter 1 rates a=9, b=1, c=5, d=5: best candidate prefers {a, b} (9 > 5),
    # combined weights prefer {c, d} (10 > 10? no: 9+1 = 10 = 5+5, a tie at f=2).
    cands = "abcd"
    profile = profile_from_ratings(cands, [("9 1 5 5", 1), ("2 2 6 1", 1)])
    best = compare_committees(profile, "ab", "cd")
    combined = compare_committees(profile, "ab", "cd", criterion="combined-weights")
    assert (best.weak_first, best.weak_second) == (1, 1)
    assert (combined.weak_first, combined.weak_second) == (0, 1)


def test_ratings_follow_civs_conversion_and_no_opinion_rates_zero() -> None:
    profile = Profile.from_rankings(list("abc"), [(1, 3, None), (2, 1, 3)])
    assert ratings(profile).tolist() == [[2, 0, 0], [1, 2, 0]]
    shifted = profile_from_ratings("abcd", [("9 1 5 5", 1)])
    assert ratings(shifted).tolist() == [[3, -5, -1, -1]]


def test_individual_orders_2014_and_current_agree_on_a_clear_profile() -> None:
    cands = "abcd"
    profile = Profile.from_weighted(
        list(cands), [(ranked(cands, "bcad"), 5), (ranked(cands, "cbda"), 3)]
    )
    assert individual_order(profile) == individual_order(profile, order="beatpath")
    assert individual_order(profile) == (1, 2, 0, 3)


def test_tied_committees_are_all_reported_unbeaten() -> None:
    profile = Profile.from_rankings(["a", "b"], [(1, 2), (2, 1)])
    result = civs_proportional(profile, 1)
    assert result.winner is None
    assert set(result.winners) == {frozenset("a"), frozenset("b")}


def test_all_seats_filled_elects_everyone() -> None:
    profile = Profile.from_rankings(["a", "b"], [(1, 2)])
    result = civs_proportional(profile, 2)
    assert result.winners == (frozenset("ab"),)
    assert result.visited == 0


@pytest.mark.parametrize("seats", [0, 3])
def test_seats_must_fit_the_candidates(seats: int) -> None:
    profile = Profile.from_rankings(["a", "b"], [(1, 2)])
    with pytest.raises(ValueError, match="seats"):
        civs_proportional(profile, seats)


def test_an_empty_profile_cannot_be_counted() -> None:
    with pytest.raises(ValueError, match="ballot"):
        civs_proportional(Profile.from_rankings(["a", "b"], []), 1)


def test_committees_to_compare_must_match_in_size() -> None:
    profile = Profile.from_rankings(["a", "b", "c"], [(1, 2, 3)])
    with pytest.raises(ValueError, match="same number"):
        compare_committees(profile, "ab", "c")
    with pytest.raises(ValueError, match="same number"):
        compare_committees(profile, "aa", "bc")


def test_the_search_gives_up_after_the_visit_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    # The start (a, b) loses to (a, c), which loses to (c, d): a path of three.
    cands = "abcd"
    profile = Profile.from_weighted(
        list(cands),
        [(ranked(cands, "abcd"), 4), (ranked(cands, "cdab"), 3), (ranked(cands, "dcab"), 3)],
    )
    full = civs_proportional(profile, 2)
    assert full.visited >= 2
    assert not full.search_failed
    monkeypatch.setattr(proportional, "MAX_VISITS", 1)
    cut = civs_proportional(profile, 2)
    assert cut.search_failed
    assert cut.visited == 1


def test_many_candidates_and_seats_use_the_exact_fallback() -> None:
    # 64**11 does not fit the digit keys; the comparison must still be exact.
    rng = np.random.default_rng(5)
    c, k = 64, 11
    rows = [tuple(int(x) for x in rng.permutation(c) + 1) for _ in range(30)]
    names = [f"c{i}" for i in range(c)]
    profile = Profile.from_rankings(names, rows)
    r = ratings(profile).tolist()
    for _ in range(5):
        a = tuple(sorted(rng.choice(c, k, replace=False).tolist()))
        b = tuple(sorted(rng.choice(c, k, replace=False).tolist()))
        got = compare_committees(profile, [names[i] for i in a], [names[i] for i in b])
        want = reference_compare(r, list(profile.weights), a, b, False, profile.num_voters)
        assert (got.strong_first, got.strong_second, got.weak_first, got.weak_second) == want


@settings(max_examples=60, deadline=None)
@given(
    data=st.data(),
    c=st.integers(2, 6),
    combined=st.booleans(),
    legacy=st.booleans(),
)
def test_comparisons_match_a_transcription_of_civs(
    data: st.DataObject, c: int, combined: bool, legacy: bool
) -> None:
    k = data.draw(st.integers(1, c - 1)) if c > 1 else 1
    rows = data.draw(
        st.lists(st.lists(st.integers(1, c), min_size=c, max_size=c), min_size=1, max_size=12)
    )
    names = [f"c{i}" for i in range(c)]
    profile = Profile.from_rankings(names, [tuple(r) for r in rows])
    a = tuple(sorted(data.draw(st.permutations(range(c)))[:k]))
    b = tuple(sorted(data.draw(st.permutations(range(c)))[:k]))
    got = compare_committees(
        profile,
        [names[i] for i in a],
        [names[i] for i in b],
        criterion="combined-weights" if combined else "best-candidate",
        legacy_bound=legacy,
    )
    want = reference_compare(
        ratings(profile).tolist(),
        list(profile.weights),
        a,
        b,
        combined,
        c if legacy else profile.num_voters,
    )
    assert (got.strong_first, got.strong_second, got.weak_first, got.weak_second) == want


def test_winning_votes_beatpath_ignores_losing_votes() -> None:
    # a beats b 5-4, b beats c 6-0, c beats a 7-2.  Only winning votes count:
    # the closure has b>a 6 (via c) against a>b 5, b>c 6 against c>b 5 (via a),
    # and c>a 7 against a>c 5, so b, c, a.
    m = [[0, 5, 2], [4, 0, 6], [7, 0, 0]]
    assert winning_votes_beatpath(m) == ((1,), (2,), (0,))
    assert winning_votes_beatpath([[0, 3], [3, 0]]) == ((0, 1),)


def test_a_450_ballot_23_candidate_7_seat_count_is_fast() -> None:
    import time

    rng = np.random.default_rng(2014)
    c = 23
    popularity = rng.gamma(1.0, 1.0, c)
    rows = []
    for _ in range(450):
        taste = np.log(popularity * rng.gamma(2.0, 1.0, c)) + rng.gumbel(size=c)
        order = np.argsort(-taste)[: rng.integers(3, c + 1)]
        r = [c] * c
        for place, cand in enumerate(order, start=1):
            r[int(cand)] = place
        rows.append(tuple(r))
    profile = Profile.from_rankings([f"c{i}" for i in range(c)], rows)
    start = time.perf_counter()
    result = civs_proportional(profile, 7)
    assert time.perf_counter() - start < 1.0
    assert len(result.winners[0]) == 7


def test_the_search_moves_to_the_first_better_neighbour_and_stops() -> None:
    # Individually a > b > c, so the search starts at {a, b}.  The 4 c-voters make
    # {a, c} strongly better (their f=1 preference is valid: 4 * 3 >= 9).  From
    # {a, c}, {b, c} is worse and the only other swap leads back to {a, b}.
    profile = Profile.from_weighted(
        list("abc"), [(ranked("abc", "abc"), 5), (ranked("abc", "cba"), 4)]
    )
    result = civs_proportional(profile, 2)
    assert result.individual_order == ("a", "b", "c")
    assert result.committees[:2] == (frozenset("ab"), frozenset("ac"))
    assert result.visited == 2
    assert result.winners == (frozenset("ac"),)
    assert compare_committees(profile, "ab", "ac") == CommitteeComparison(0, 4, 5, 4)


def comparer_for(
    profile: Profile, seats: int, criterion: proportional.Criterion, legacy: bool
) -> Any:
    return proportional._Comparer(
        ratings(profile), profile.weight_vector(), seats, criterion, legacy, profile.num_candidates
    )


def pairwise_matrix(profile: Profile, result: proportional.ProportionalResult, legacy: bool) -> Any:
    """The committee matrix filled one ``compare_sets`` at a time, as CIVS does."""
    comparer = comparer_for(profile, result.seats, result.criterion, legacy)
    comms = [tuple(sorted(profile.index(c) for c in comm)) for comm in result.committees]
    m = np.zeros((len(comms), len(comms)), dtype=np.int64)
    for j in range(1, len(comms)):
        for k, cmp in enumerate(comparer.compare(comms[j], comms[:j])):
            m[j, k] = cmp.strong_first * result.divisor + cmp.weak_first
            m[k, j] = cmp.strong_second * result.divisor + cmp.weak_second
    return m


ballots = st.integers(2, 7).flatmap(
    lambda c: st.tuples(
        st.just(c),
        st.lists(
            st.tuples(
                st.lists(st.one_of(st.none(), st.integers(1, c)), min_size=c, max_size=c),
                st.integers(1, 5),
            ),
            min_size=1,
            max_size=15,
        ),
    )
)


@settings(max_examples=80, deadline=None)
@given(data=st.data(), drawn=ballots, combined=st.booleans(), legacy=st.booleans())
def test_swaps_and_the_committee_matrix_match_one_comparison_at_a_time(
    data: st.DataObject,
    drawn: tuple[int, list[tuple[list[int | None], int]]],
    combined: bool,
    legacy: bool,
) -> None:
    c, rows = drawn
    names = [f"c{i}" for i in range(c)]
    profile = Profile.from_weighted(names, [(tuple(r), w) for r, w in rows])
    seats = data.draw(st.integers(1, c - 1))
    criterion: proportional.Criterion = "combined-weights" if combined else "best-candidate"
    comparer = comparer_for(profile, seats, criterion, legacy)
    committee = tuple(sorted(data.draw(st.permutations(range(c)))[:seats]))
    position = data.draw(st.integers(0, seats - 1))
    outside = [j for j in range(c) if j not in committee]
    swapped = [
        tuple(sorted((*committee[:position], j, *committee[position + 1 :]))) for j in outside
    ]
    assert comparer.compare_swaps(committee, position, outside) == comparer.compare(
        committee, swapped
    )
    result = civs_proportional(profile, seats, criterion=criterion, legacy_bound=legacy)
    assert result.matrix.tolist() == pairwise_matrix(profile, result, legacy).tolist()


@pytest.mark.parametrize("criterion", ["best-candidate", "combined-weights"])
def test_the_committee_matrix_without_digit_keys_matches_one_comparison_at_a_time(
    criterion: proportional.Criterion, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 26**14 does not fit the digit keys, so best-candidate ranks level by level.
    monkeypatch.setattr(proportional, "MAX_VISITS", 30)
    rng = np.random.default_rng(11)
    c = 26
    rows = [
        tuple(None if rng.random() < 0.1 else int(x) for x in rng.integers(1, c + 1, c))
        for _ in range(70)
    ]
    profile = Profile.from_rankings([f"c{i}" for i in range(c)], rows)
    result = civs_proportional(profile, 14, criterion=criterion)
    assert len(result.committees) > 30
    assert result.matrix.tolist() == pairwise_matrix(profile, result, False).tolist()
