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
        self.base = max(num_candidates, 2)
        self.fits = True
        if criterion == "best-candidate":
            # Only each voter's order matters here, so ratings become dense ranks
            # 0..C-1 and the top f ratings fit in f base-C digits when C**k does.
            dense = np.empty_like(r)
            for i, row in enumerate(r):
                dense[i] = np.unique(row, return_inverse=True)[1]
            self.r = dense
            self.fits = self.base**seats < 2**62
            if self.fits:
                self.scale = np.array(
                    [self.base ** (seats - 1 - i) for i in range(seats)], dtype=np.int64
                )
        # One contiguous row of ratings per candidate, for comparing swaps.
        self.r_by_candidate = np.ascontiguousarray(self.r.T)

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
        return self._comparisons(counts_a, counts_b)

    def compare_swaps(
        self, committee: tuple[int, ...], position: int, replacements: Sequence[int]
    ) -> list[CommitteeComparison]:
        """``committee`` against itself with the member at ``position`` replaced.

        Same result as :meth:`compare`, without sorting anything.  Both committees
        share every member but x (leaving) and y (joining), so under both criteria
        a voter's top f of each differ exactly when the better of x and y is in
        its top f, and then only by x against y: the voter f-prefers the first
        when x > y and fewer than f of the other members rate at least x.
        """
        rt = self.r_by_candidate
        members = rt[list(committee)]
        x = rt[committee[position]]
        y = rt[list(replacements)]
        # The level from which each voter's preference counts: x's place among
        # the members (itself included), and one more than the members rating at
        # least y (x cannot be among them when y > x).
        level_a = np.broadcast_to((members >= x).sum(axis=0), y.shape)
        level_b = (members[:, None, :] >= y[None]).sum(axis=0) + 1
        return self._comparisons(self._from_level(x > y, level_a), self._from_level(y > x, level_b))

    def _from_level(self, mask: BoolArray, level: IntArray) -> IntArray:
        """Weighted count per row of the voters in ``mask`` at each f >= ``level``."""
        rows, k = mask.shape[0], self.k
        bins = level + (k + 2) * np.arange(rows)[:, None]
        hist = np.bincount(
            bins[mask],
            weights=np.broadcast_to(self.w, mask.shape)[mask],
            minlength=rows * (k + 2),
        ).reshape(rows, k + 2)
        return np.rint(np.cumsum(hist[:, 1 : k + 1], axis=1)).astype(np.int64)

    def level_counts(self, committees: Sequence[tuple[int, ...]]) -> IntArray:
        """``m[f - 1, a, b]`` = voters f-preferring committee a to committee b."""
        encoded = self.encode(committees)
        n, voters = len(committees), encoded.shape[2]
        # Voters become bits, 64 to a word; each bit of the weights is a mask of
        # the voters having it, so a weighted count is a few popcounts.  The
        # padding voters weigh nothing.
        pad = (-voters) % 64
        weights = np.pad(np.rint(self.w).astype(np.int64), (0, pad))
        planes = [
            np.packbits((weights >> bit) & 1 == 1).view(np.uint64)
            for bit in range(int(weights.max()).bit_length())
        ]
        counts = np.zeros((self.k, n, n), dtype=np.int64)
        previous: IntArray | None = None
        for f in range(self.k):
            if self.fits:
                keys = encoded[:, f, :]
            else:
                # Lexicographic keys, one digit at a time: the rank of the top f - 1
                # ratings, then the f-th rating.
                keys = (
                    encoded[:, f, :]
                    if previous is None
                    else previous * self.base + encoded[:, f, :]
                )
            ranks = _ranks_per_voter(keys)
            if not self.fits:
                previous = ranks.astype(np.int64)
            ranks = np.pad(ranks, ((0, 0), (0, pad)))
            for b in range(n):
                above = np.packbits(ranks > ranks[b], axis=1).view(np.uint64)
                for bit, plane in enumerate(planes):
                    counts[f, :, b] += (
                        np.bitwise_count(above & plane).sum(axis=1, dtype=np.int64) << bit
                    )
        return counts

    def _comparisons(self, counts_a: IntArray, counts_b: IntArray) -> list[CommitteeComparison]:
        best_a, best_b = self.strong(counts_a, counts_b)
        return [
            CommitteeComparison(int(sa), int(sb), int(wa), int(wb))
            for sa, sb, wa, wb in zip(best_a, best_b, counts_a[:, -1], counts_b[:, -1], strict=True)
        ]

    def strong(self, counts_a: IntArray, counts_b: IntArray) -> tuple[IntArray, IntArray]:
        """The strong preference of pairs from their f-preference counts (pairs, k)."""
        n_pairs = len(counts_a)
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
        return best_a, best_b


def _ranks_per_voter(keys: IntArray) -> IntArray:
    """Dense ranks of each column's keys (one column per voter), in a small dtype."""
    n = keys.shape[0]
    order = np.argsort(keys, axis=0, kind="stable")
    ordered = np.take_along_axis(keys, order, axis=0)
    dtype = np.int16 if n < 2**15 else np.int32
    sorted_ranks = np.zeros(keys.shape, dtype=dtype)
    np.cumsum(ordered[1:] != ordered[:-1], axis=0, out=sorted_ranks[1:])
    ranks = np.empty_like(sorted_ranks)
    np.put_along_axis(ranks, order, sorted_ranks, axis=0)
    return ranks


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
    # Each pair as compare_sets(later, earlier) would see it, as CIVS fills it.
    later, earlier = np.tril_indices(n, -1)
    counts = comparer.level_counts(committees)
    counts_later = counts[:, later, earlier].T
    counts_earlier = counts[:, earlier, later].T
    strong_later, strong_earlier = comparer.strong(counts_later, counts_earlier)
    matrix[later, earlier] = strong_later * divisor + counts_later[:, -1]
    matrix[earlier, later] = strong_earlier * divisor + counts_earlier[:, -1]
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
        replacements = []
        for j in range(num_candidates):
            if j not in members:
                swapped = list(committee)
                swapped[i] = j
                neighbour = tuple(sorted(swapped))
                if neighbour not in visited:
                    neighbours.append(neighbour)
                    replacements.append(j)
        if neighbours:
            for neighbour, cmp in zip(
                neighbours, comparer.compare_swaps(committee, i, replacements), strict=True
            ):
                if cmp.second_is_better:
                    return neighbour
    return None
