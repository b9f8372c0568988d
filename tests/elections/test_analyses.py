"""The analyses: hand-counted ballots and the figures of the original posts."""

from __future__ import annotations

from fractions import Fraction

import pytest

from storyline.elections.analyses import (
    company_blocks,
    condorcet_spread,
    format_percent,
    partisan_pairs,
    proportional_comparison,
)
from storyline.elections.profile import Profile

# Five ballots over a, b, c, d (ranks; 4 = unranked; None = no opinion).
BALLOTS = [
    (1, 2, 4, 4),  # a, b, then c = d tied at places 3-4
    (1, 1, 2, 4),  # a = b, c, d
    (2, 1, 1, 4),  # b = c, a, d
    (4, 4, 4, 4),  # blank: all tied
    (1, None, 2, 3),  # a, c, d; no opinion on b
]


@pytest.fixture
def profile() -> Profile:
    return Profile.from_rankings(list("abcd"), BALLOTS)


def test_spread_counts_average_positions_in_half_steps(profile: Profile) -> None:
    spread = condorcet_spread(profile)
    assert spread.positions == tuple(Fraction(p, 2) for p in range(2, 9))
    assert spread.counts.tolist() == [
        [2, 1, 0, 1, 1, 0, 0],  # a: 1, 1.5, 2.5 (blank), 3, 1
        [0, 2, 1, 1, 0, 0, 0],  # b: 2, 1.5, 1.5, 2.5; no place on the last ballot
        [0, 1, 1, 1, 1, 1, 0],  # c: 3.5, 3, 1.5, 2.5, 2
        [0, 0, 0, 1, 1, 1, 2],  # d: 3.5, 4, 4, 2.5, 3
    ]
    assert spread.num_ballots == 5


def test_spread_rows_follow_the_given_order_and_can_skip_blank_ballots(
    profile: Profile,
) -> None:
    spread = condorcet_spread(profile, ["d", "a", "b", "c"], skip_blank=True)
    assert spread.candidates == ("d", "a", "b", "c")
    assert spread.num_ballots == 4
    assert spread.counts[0].tolist() == [0, 0, 0, 0, 1, 1, 2]
    assert spread.counts[1].tolist() == [2, 1, 0, 0, 1, 0, 0]


def test_an_order_must_name_every_candidate_once(profile: Profile) -> None:
    with pytest.raises(ValueError, match="every candidate"):
        condorcet_spread(profile, ["a", "b", "c"])


def test_partisan_pairs_need_exactly_two_candidates_above_all_others(profile: Profile) -> None:
    pairs = partisan_pairs(profile, ["b", "a", "c", "d"])
    assert [(p.pair, p.count, p.total) for p in pairs] == [
        (("b", "a"), 2, 5),  # a > b > rest, and a = b > rest
        (("b", "c"), 1, 5),  # b = c > rest
        (("a", "c"), 1, 5),  # a > c > d with no opinion on b
    ]
    assert pairs[0].percent() == "40.00%"


def test_a_third_candidate_tied_with_the_pair_disqualifies_the_ballot() -> None:
    profile = Profile.from_rankings(list("abc"), [(1, 2, 2), (1, 1, 1), (1, 4, 4), (1, 2, 3)])
    assert [(p.pair, p.count) for p in partisan_pairs(profile)] == [(("a", "b"), 1)]


def test_company_blocks_count_groups_ranked_above_everyone_else(profile: Profile) -> None:
    blocks = company_blocks(profile, {"X": ["a", "b"], "Y": ["a", "c"], "All": list("abcd")})
    assert [(b.name, b.members, b.count) for b in blocks] == [
        ("X", ("a", "b"), 2),  # not the last ballot: no opinion on b
        ("Y", ("a", "c"), 1),  # the last ballot, whose b takes part in nothing
        ("All", ("a", "b", "c", "d"), 4),  # everyone ranked; nobody else to beat
    ]
    assert blocks[1].percent(digits=1) == "20.0%"


def test_a_company_block_needs_candidates(profile: Profile) -> None:
    with pytest.raises(ValueError, match="no candidates"):
        company_blocks(profile, {"Empty": []})


@pytest.mark.parametrize(
    ("count", "total", "digits", "rounding", "expected"),
    [
        # April 2014 partisan pairs, 448 ballots: the post truncated.
        (25, 448, 2, "truncate", "5.58%"),
        (15, 448, 2, "truncate", "3.34%"),
        (11, 448, 2, "truncate", "2.45%"),
        (5, 448, 2, "truncate", "1.11%"),
        (15, 448, 2, "round", "3.35%"),
        # October 2013, one decimal: 27/342 = 7.89%.
        (27, 342, 1, "truncate", "7.8%"),
        # October 2014 repeat, rounded: 35/506 = 6.917%.
        (35, 506, 2, "round", "6.92%"),
        (1, 3, 0, "truncate", "33%"),
        (1, 8, 2, "round", "12.50%"),
    ],
)
def test_percentages_truncate_like_the_original_posts(
    count: int, total: int, digits: int, rounding: str, expected: str
) -> None:
    assert format_percent(count, total, digits=digits, rounding=rounding) == expected  # type: ignore[arg-type]


def test_a_percentage_needs_a_positive_total() -> None:
    with pytest.raises(ValueError, match="positive"):
        format_percent(1, 0)


def ranked(order: str, cands: str = "abcdexyzuv") -> tuple[int, ...]:
    ranks = [len(cands)] * len(cands)
    for place, c in enumerate(order, start=1):
        ranks[cands.index(c)] = place
    return tuple(ranks)


def test_proportional_comparison_reports_who_comes_in_and_out() -> None:
    profile = Profile.from_weighted(
        list("abcdexyzuv"), [(ranked("abcde"), 60), (ranked("xyzuv"), 40)]
    )
    normal = [frozenset(c) for c in "abcdexyzuv"]
    cmp = proportional_comparison(profile, 5, normal)
    assert cmp.normal == ("a", "b", "c", "d", "e")
    assert cmp.tied == ()
    assert cmp.committee == ("a", "b", "c", "x", "y")
    assert cmp.added == ("x", "y")
    assert cmp.dropped == ("d", "e")
    assert cmp.changed is True


def test_proportional_comparison_with_the_same_winners() -> None:
    profile = Profile.from_weighted(list("abc"), [((1, 2, 3), 3), ((2, 1, 3), 2)])
    cmp = proportional_comparison(profile, 1, [frozenset("a"), frozenset("b"), frozenset("c")])
    assert cmp.committee == ("a",)
    assert cmp.changed is False


def test_a_tie_at_the_boundary_or_between_committees_leaves_the_comparison_open() -> None:
    profile = Profile.from_rankings(["a", "b", "c"], [(1, 2, 3), (2, 1, 3)])
    cmp = proportional_comparison(profile, 1, [frozenset("ab"), frozenset("c")])
    assert cmp.normal == ()
    assert cmp.tied == ("a", "b")
    assert cmp.committee is None
    assert cmp.added == cmp.dropped == ()
    assert cmp.changed is None
    later = proportional_comparison(profile, 2, [frozenset("ab"), frozenset("c")])
    assert later.normal == ("a", "b")
    assert later.changed is False
