"""CIVS proportional representation mode, reproduced step by step.

CIVS states its proportional rule as a Condorcet election over *committees* (sets
of ``seats`` candidates) using "f-preferences" that must be proportionally valid,
but it computes the winner with a local search that may miss the committee its own
rule prefers (CIVS issue #24).  Election officials compare our results with the
CIVS results page, so this module reproduces the computation, not the stated rule:

1. the *individual preference order* of single candidates;
2. a hill climb over committees from the top ``seats`` of that order, moving to the
   first better neighbour (one member swapped) and stopping after 500 visits;
3. the extra contenders: every ``seats``-subset of the top ``seats + 1``;
4. a matrix over every committee met (strong preference, plus the weak preference
   as a fraction) ranked with CIVS's old winning-votes beatpath.

Ballots are read as CIVS stores proportional ballots: a *rating* per candidate,
higher is better.  A rank ``r`` becomes the rating ``C - r`` (``C`` = number of
candidates), which is exactly CIVS's own conversion; an unranked candidate (rank
``C``) and a "no opinion" candidate both rate 0, as CIVS reads the stored text
"No opinion" as the number 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt

from storyline.elections.methods.minimax_pm import minimax_pm
from storyline.elections.profile import PairwiseMatrix, Profile

__all__ = [
    "Criterion",
    "IndividualOrder",
    "ProportionalResult",
    "civs_proportional",
    "compare_committees",
    "individual_order",
    "ratings",
    "winning_votes_beatpath",
]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

Criterion = Literal["best-candidate", "combined-weights"]
IndividualOrder = Literal["minimax-pm", "beatpath"]

#: CIVS gives up its search after this many committees ("Search for best set of
#: choices failed"), and so must we to pick the same committee.
MAX_VISITS: Final = 500


def ratings(profile: Profile) -> IntArray:
    """CIVS proportional ratings of the distinct ballots (rows) per candidate.

    Only differences between one ballot's ratings matter (orders, and sums of the
    same number of ratings), so any rank scale that is a shift of CIVS's gives the
    same results.
    """
    ranks = profile.rank_matrix()
    c = profile.num_candidates
    return np.where(ranks < 0, 0, c - ranks).astype(np.int64)


def _rating_matrix(r: IntArray, w: IntArray) -> IntArray:
    """``m[j, k]`` = voters rating candidate j strictly higher than k."""
    better = (r[:, :, None] > r[:, None, :]).astype(np.int64)
    return np.asarray(np.einsum("v,vjk->jk", w, better), dtype=np.int64)


def winning_votes_beatpath(matrix: npt.ArrayLike) -> tuple[tuple[int, ...], ...]:
    """Rank by CIVS's old ``beatpath.pm``: winning votes only, ties kept as tiers.

    CIVS still uses this older module, not its Schulze (W, L) one, to rank the
    committees in proportional mode (and, before 2024, the single candidates).
    The smaller entry of each symmetric pair is zeroed (both on a tie), the
    widest-path closure is taken, and each tier holds the remaining entries that no
    remaining entry beats in the closure.  Members of a tier are in index order.
    """
    m = np.array(matrix, dtype=np.int64)
    n = m.shape[0]
    m[m <= m.T] = 0
    for k in range(n):
        # Row and column k cannot change during step k, so the in-place Perl loop
        # and this vectorised step give the same closure.
        np.maximum(m, np.minimum(m[:, k, None], m[None, k, :]), out=m)
    remaining = list(range(n))
    tiers: list[tuple[int, ...]] = []
    while remaining:
        sub = m[np.ix_(remaining, remaining)]
        beaten = np.asarray((sub < sub.T).any(axis=1)).tolist()
        tier = tuple(c for c, b in zip(remaining, beaten, strict=True) if not b)
        tiers.append(tier)
        remaining = [c for c in remaining if c not in tier]
    return tuple(tiers)


def individual_order(profile: Profile, *, order: IndividualOrder = "minimax-pm") -> tuple[int, ...]:
    """CIVS's "individual preference order" of the candidates, as indices.

    ``"minimax-pm"`` is CIVS since March 2024: Minimax-PM over the database matrix
    after CIVS's ``FixProp``, i.e. ``C`` minus the reversed count.  It keeps the
    margins but reverses Minimax-PM's secondary tie-break, which we reproduce.
    ``"beatpath"`` is the 2014 code: the old winning-votes beatpath over the
    rating matrix.  Tied candidates keep profile order, as in CIVS.
    """
    m = _rating_matrix(ratings(profile), profile.weight_vector())
    if order == "beatpath":
        return tuple(c for tier in winning_votes_beatpath(m) for c in tier)
    fixed = PairwiseMatrix(
        candidates=profile.candidates,
        d=profile.num_candidates - m.T,
        num_voters=profile.num_voters,
    )
    tiers = minimax_pm(fixed).ranking
    return tuple(c for tier in tiers for c in sorted(profile.index(name) for name in tier))


@dataclass(frozen=True, slots=True)
class CommitteeComparison:
    """Voters preferring each of two committees: strong (proportional) and weak."""

    strong_first: int
    strong_second: int
    weak_first: int
    weak_second: int

    @property
    def second_is_better(self) -> bool:
        """CIVS's move rule: strong preference first, weak preference on a tie."""
        if self.strong_second != self.strong_first:
            return self.strong_second > self.strong_first
        return self.weak_second > self.weak_first


class _Comparer:
    """Compares committees on fixed ballots, many pairs at a time.

    A voter's *level keys* for a committee are one number per f = 1..k whose
    order between two committees is the voter's f-preference between them: the
    running sum of the top f ratings (combined weights), or the top f ratings
    read as the digits of one number (best candidate: lexicographic order).
    """

    def __init__(
        self,
        r: IntArray,
        weights: IntArray,
        seats: int,
        criterion: Criterion,
        legacy_bound: bool,
        num_candidates: int,
    ) -> None:
        self.n = int(weights.sum())
        # float32 sums integers exactly below 2**24 and is the fastest weighted
        # count numpy offers over boolean arrays.
        self.w: npt.NDArray[np.floating[Any]] = weights.astype(
            np.float32 if self.n < 2**24 else np.float64
        )
        self.k = seats
        self.criterion = criterion
        # Until 2025-07-10 (CIVS b4541d6) the "against" bound of compare_sets
        # started at the number of candidates instead of the number of voters, so
        # a side with more supporters than candidates could never be recorded.
        self.initial_against = num_candidates if legacy_bound else self.n
        self.r = r
        self.scale = np.zeros(seats, dtype=np.int64)
        self.fits = True
        if criterion == "best-candidate":
            # Only each voter's order matters here, so ratings become dense ranks
            # 0..C-1 and the top f ratings fit in f base-C digits when C**k does.
            dense = np.empty_like(r)
            for i, row in enumerate(r):
                dense[i] = np.unique(row, return_inverse=True)[1]
            self.r = dense
            base = max(num_candidates, 2)
            self.fits = base**seats < 2**62
            if self.fits:
                self.scale = np.array(
                    [base ** (seats - 1 - i) for i in range(seats)], dtype=np.int64
                )

    def encode(self, committees: Sequence[tuple[int, ...]]) -> IntArray:
        """Each committee's level keys per voter, shape (committees, k, voters).

        When the digit keys would overflow, the sorted ratings themselves, which
        :meth:`_prefs` then compares position by position.
        """
        arr = np.array(committees, dtype=np.int64).reshape(len(committees), self.k)
        s = np.sort(self.r[:, arr], axis=2)[:, :, ::-1].transpose(1, 2, 0)
        if self.criterion == "combined-weights":
            return np.cumsum(s, axis=1)
        if self.fits:
            return np.cumsum(s * self.scale[:, None], axis=1)
        return np.ascontiguousarray(s)

    def _prefs(self, ea: IntArray, eb: IntArray) -> tuple[BoolArray, BoolArray]:
        """Which voters f-prefer the first / the second committee: (p, k, voters)."""
        if self.fits:
            return ea[None] > eb, ea[None] < eb
        # Best candidate: the first of the top-f positions that differs decides.
        diff = ea[None] - eb
        nonzero = diff != 0
        first = np.where(nonzero.any(axis=1), nonzero.argmax(axis=1), self.k)[:, None, :]
        sign = np.take_along_axis(diff, np.minimum(first, self.k - 1), axis=1)
        decided = first < np.arange(1, self.k + 1)[None, :, None]
        return decided & (sign > 0), decided & (sign < 0)

    def compare(
        self, a: tuple[int, ...], others: Sequence[tuple[int, ...]]
    ) -> list[CommitteeComparison]:
        """CIVS ``compare_sets`` of ``a`` against each other committee."""
        return self.compare_encoded(self.encode([a])[0], self.encode(others))

    def compare_encoded(self, ea: IntArray, eb: IntArray) -> list[CommitteeComparison]:
        """CIVS ``compare_sets`` of one encoded committee against several."""
        more, less = self._prefs(ea, eb)
        counts_a = np.rint(np.einsum("pkv,v->pk", more, self.w)).astype(np.int64)
        counts_b = np.rint(np.einsum("pkv,v->pk", less, self.w)).astype(np.int64)
        n_pairs = len(eb)
        best_for = np.zeros(n_pairs, dtype=np.int64)
        best_against = np.full(n_pairs, self.initial_against, dtype=np.int64)
        best_a = np.zeros(n_pairs, dtype=np.int64)
        best_b = np.zeros(n_pairs, dtype=np.int64)
        for f in range(1, self.k + 1):
            ia, ib = counts_a[:, f - 1], counts_b[:, f - 1]
            # Proportional validity: count * (k + 1) / n >= f, in integers.
            ia = np.where((ia > 0) & (ia * (self.k + 1) < f * self.n), 0, ia)
            ib = np.where((ib > 0) & (ib * (self.k + 1) < f * self.n), 0, ib)
            # Keep the pair whose winning side is at least as large and whose
            # losing side is no larger; the second test sees the first's update.
            take = (ia >= best_for) & (ib <= best_against)
            best_for = np.where(take, ia, best_for)
            best_against = np.where(take, ib, best_against)
            best_a = np.where(take, ia, best_a)
            best_b = np.where(take, ib, best_b)
            take = (ib >= best_for) & (ia <= best_against)
            best_for = np.where(take, ib, best_for)
            best_against = np.where(take, ia, best_against)
            best_a = np.where(take, ia, best_a)
            best_b = np.where(take, ib, best_b)
        return [
            CommitteeComparison(int(sa), int(sb), int(wa), int(wb))
            for sa, sb, wa, wb in zip(best_a, best_b, counts_a[:, -1], counts_b[:, -1], strict=True)
        ]


@dataclass(frozen=True, slots=True)
class ProportionalResult:
    """What the CIVS proportional results page shows.

    ``committees`` lists every committee CIVS ranks: the ones the search visited,
    in order, then the extra contenders.  ``ranking`` gives tiers of indices into
    ``committees``; ``winners`` are the committees of the first tier (CIVS calls
    several of them "unbeaten sets").  ``matrix`` is the committee matrix scaled by
    ``divisor``: strong preference times ``divisor`` plus weak preference.
    """

    candidates: tuple[str, ...]
    seats: int
    criterion: Criterion
    individual_order: tuple[str, ...]
    committees: tuple[frozenset[str], ...]
    visited: int
    search_failed: bool
    ranking: tuple[tuple[int, ...], ...]
    matrix: IntArray
    divisor: int

    @property
    def winners(self) -> tuple[frozenset[str], ...]:
        return tuple(self.committees[i] for i in self.ranking[0])

    @property
    def winner(self) -> frozenset[str] | None:
        """The winning committee, or ``None`` when several are unbeaten."""
        winners = self.winners
        return winners[0] if len(winners) == 1 else None

    def in_order(self, committee: frozenset[str]) -> tuple[str, ...]:
        """Members of a committee in individual preference order, as CIVS lists them."""
        return tuple(c for c in self.individual_order if c in committee)


def compare_committees(
    profile: Profile,
    first: Sequence[str],
    second: Sequence[str],
    *,
    criterion: Criterion = "best-candidate",
    legacy_bound: bool = False,
) -> CommitteeComparison:
    """Compare two committees as CIVS's "Compare sets" form does."""
    if len(set(first)) != len(first) or len(set(first)) != len(set(second)):
        raise ValueError("both committees need the same number of distinct candidates")
    a = tuple(sorted(profile.index(c) for c in first))
    b = tuple(sorted(profile.index(c) for c in second))
    comparer = _Comparer(
        ratings(profile),
        profile.weight_vector(),
        len(a),
        criterion,
        legacy_bound,
        profile.num_candidates,
    )
    return comparer.compare(a, [b])[0]


def civs_proportional(
    profile: Profile,
    seats: int,
    *,
    criterion: Criterion = "best-candidate",
    legacy_bound: bool = False,
    order: IndividualOrder = "minimax-pm",
) -> ProportionalResult:
    """Choose ``seats`` winners exactly as CIVS's proportional mode does.

    ``legacy_bound`` reproduces results computed before 2025-07-10; ``order``
    selects the individual preference order of 2024+ or of 2014 (see
    :func:`individual_order`).
    """
    c = profile.num_candidates
    if not 1 <= seats <= c:
        raise ValueError(f"seats must be between 1 and {c}, not {seats}")
    if profile.num_voters == 0:
        raise ValueError("a proportional count needs at least one ballot")
    ind = individual_order(profile, order=order)
    comparer = _Comparer(
        ratings(profile), profile.weight_vector(), seats, criterion, legacy_bound, c
    )

    committees: list[tuple[int, ...]] = []
    visited: set[tuple[int, ...]] = set()
    failed = False
    if seats < c:
        current: tuple[int, ...] | None = tuple(sorted(ind[:seats]))
        iters = 0
        # CIVS recurses into the first better unvisited neighbour and stops
        # looking once that call returns, so its search is one path: a loop.
        while current is not None:
            iters += 1
            if iters > MAX_VISITS:
                failed = True
                break
            committees.append(current)
            visited.add(current)
            current = _better_neighbour(comparer, current, visited, c)
        for left_out in range(seats + 1):
            contender = tuple(sorted(ind[j] for j in range(seats + 1) if j != left_out))
            if contender not in visited:
                committees.append(contender)
    else:
        committees.append(tuple(range(c)))

    n = len(committees)
    # CIVS adds the weak preference divided by the smallest power of ten not below
    # the number of voters; scaling everything by it keeps the arithmetic exact.
    divisor = 1
    while divisor < profile.num_voters:
        divisor *= 10
    matrix = np.zeros((n, n), dtype=np.int64)
    encoded = comparer.encode(committees)
    for j in range(1, n):
        for k, cmp in enumerate(comparer.compare_encoded(encoded[j], encoded[:j])):
            matrix[j, k] = cmp.strong_first * divisor + cmp.weak_first
            matrix[k, j] = cmp.strong_second * divisor + cmp.weak_second
    names = profile.candidates
    return ProportionalResult(
        candidates=names,
        seats=seats,
        criterion=criterion,
        individual_order=tuple(names[i] for i in ind),
        committees=tuple(frozenset(names[i] for i in comm) for comm in committees),
        visited=len(visited),
        search_failed=failed,
        ranking=winning_votes_beatpath(matrix),
        matrix=matrix,
        divisor=divisor,
    )


def _better_neighbour(
    comparer: _Comparer,
    committee: tuple[int, ...],
    visited: set[tuple[int, ...]],
    num_candidates: int,
) -> tuple[int, ...] | None:
    """The first unvisited one-swap neighbour CIVS would move to, if any.

    CIVS tries member i (in index order) against each non-member j (in index
    order); comparing has no side effect, so one batch per member gives the same
    first hit.
    """
    members = set(committee)
    for i in range(len(committee)):
        neighbours = []
        for j in range(num_candidates):
            if j not in members:
                swapped = list(committee)
                swapped[i] = j
                neighbour = tuple(sorted(swapped))
                if neighbour not in visited:
                    neighbours.append(neighbour)
        if neighbours:
            for neighbour, cmp in zip(
                neighbours, comparer.compare(committee, neighbours), strict=True
            ):
                if cmp.second_is_better:
                    return neighbour
    return None
