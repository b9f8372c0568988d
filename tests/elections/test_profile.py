"""Ballots, profiles and the pairwise matrix."""

import numpy as np
import pytest

from storyline.elections import NO_OPINION, NO_OPINION_RANK, Ballot, Profile, pairwise


def test_identical_ballots_are_merged_with_a_multiplicity() -> None:
    profile = Profile.from_rankings("abc", [(1, 2, 3), (1, 2, 3), (2, 1, 3)])
    assert profile.ballots == (Ballot((1, 2, 3)), Ballot((2, 1, 3)))
    assert profile.weights == (2, 1)
    assert profile.num_voters == 3


def test_no_opinion_takes_the_candidate_out_of_the_ballots_comparisons() -> None:
    # The CIVS example: Blue first, Red = Green second, Gold untouched (rank 4);
    # then Gold first with "No opinion" for Blue.
    profile = Profile.from_rankings(
        ["Red", "Green", "Blue", "Gold"], [(2, 2, 1, 4), (4, 4, NO_OPINION, 1)]
    )
    m = pairwise(profile)
    assert m["Blue", "Red"] == 1
    assert m["Blue", "Gold"] == 1
    assert m["Gold", "Blue"] == 0
    assert m["Red", "Green"] == m["Green", "Red"] == 0
    assert m["Gold", "Red"] == 1
    assert m["Red", "Gold"] == 1
    assert profile.rank_matrix()[1, 2] == NO_OPINION_RANK


def test_pairwise_matrix_matches_a_direct_count() -> None:
    rng = np.random.default_rng(7)
    rows = [tuple(int(x) for x in r) for r in rng.integers(0, 4, (500, 6))]
    rows = [tuple(None if x == 0 else x for x in r) for r in rows]
    profile = Profile.from_rankings("abcdef", rows)
    d = pairwise(profile).d
    for i in range(6):
        for j in range(6):
            assert d[i, j] == sum(Ballot(r).prefers(i, j) for r in rows)
    assert pairwise(profile).num_voters == 500


def test_large_weights_are_summed_exactly() -> None:
    profile = Profile.from_weighted("ab", [((1, 2), 2**40 + 1), ((2, 1), 3)])
    m = pairwise(profile)
    assert m["a", "b"] == 2**40 + 1
    assert m["b", "a"] == 3


def test_empty_profile_has_a_zero_matrix() -> None:
    m = pairwise(Profile.from_rankings("ab", []))
    assert m.d.tolist() == [[0, 0], [0, 0]]
    assert m.condorcet_winner() is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"candidates": ("a", "a"), "ballots": (), "weights": ()}, "distinct"),
        ({"candidates": ("a",), "ballots": (Ballot((1,)),), "weights": ()}, "one weight"),
        ({"candidates": ("a",), "ballots": (Ballot((1, 2)),), "weights": (1,)}, "2 ranks"),
        ({"candidates": ("a",), "ballots": (Ballot((1,)),), "weights": (0,)}, "positive"),
    ],
)
def test_inconsistent_profiles_are_refused(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Profile(**kwargs)  # type: ignore[arg-type]


def test_negative_ranks_are_refused() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        Ballot((-1,))


def test_restriction_and_lookup() -> None:
    profile = Profile.from_rankings("abc", [(1, 2, 3), (3, 2, 1)])
    sub = profile.restricted(["c", "a"])
    assert sub.candidates == ("c", "a")
    assert sub.ballots == (Ballot((3, 1)), Ballot((1, 3)))
    assert profile.index("b") == 1
    with pytest.raises(KeyError, match="unknown candidate"):
        profile.index("z")
    assert list(profile.expanded()) == [Ballot((1, 2, 3)), Ballot((3, 2, 1))]
    m = pairwise(profile).restricted(["c", "a"])
    assert m.d.tolist() == [[0, 1], [1, 0]]
    assert profile.num_candidates == 3


def test_condorcet_winner() -> None:
    m = pairwise(Profile.from_rankings("abc", [(2, 1, 3), (3, 1, 2), (1, 2, 3)]))
    assert m.condorcet_winner() == "b"
    assert m.beats()[1, 0]


@pytest.mark.parametrize("distinct_weights", [1, 3, 40])
def test_pairwise_counts_every_weighting_exactly(distinct_weights: int) -> None:
    # Few distinct weights are counted per weight group, many with one
    # weighted sum per candidate; both must equal a ballot-by-ballot count,
    # "no opinion" included.
    rng = np.random.default_rng(distinct_weights)
    candidates = ("a", "b", "c", "d", "e")
    rows: list[tuple[int | None, ...]] = []
    for _ in range(120):
        ranks: list[int | None] = [int(x) for x in rng.integers(1, 6, size=5)]
        if rng.random() < 0.2:
            ranks[int(rng.integers(0, 5))] = None
        rows.append(tuple(ranks))
    profile = Profile.from_rankings(candidates, rows)
    weights = [1 + (index % distinct_weights) * 7 for index in range(len(profile.ballots))]
    profile = Profile(candidates=candidates, ballots=profile.ballots, weights=tuple(weights))
    expected = np.zeros((5, 5), dtype=np.int64)
    for ballot, weight in zip(profile.ballots, profile.weights, strict=True):
        for i, ri in enumerate(ballot.ranks):
            for j, rj in enumerate(ballot.ranks):
                if ri is not None and rj is not None and ri < rj:
                    expected[i, j] += weight
    assert (pairwise(profile).d == expected).all()
