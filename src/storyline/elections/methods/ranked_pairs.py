"""CIVS Ranked Pairs (deterministic) and MAM, as ``rp.pm`` computes them.

Majorities are taken strongest first by (W descending, L ascending): margins play
no part.  Majorities of exactly equal strength form a *bunch*; a majority is
affirmed unless it makes a new cycle with the ones already affirmed, and one that
cycles only with its bunch-mates is tried again against the strictly stronger ones
alone, so equal majorities can all be kept even if together they cycle.

The ranking is then built tier by tier: among the candidates that no unranked
candidate beats in the affirmed relation, those whose strongest pairwise defeat
(by an unranked candidate) is stronger than another's are pushed down.

MAM differs only in how equal majorities are ordered: by a *random voter
hierarchy*, built by walking the ballots in a random order and adding each
ballot's preferences that do not contradict the ones already taken.
"""

from __future__ import annotations

import functools
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from storyline.elections.methods.result import Defeat, Result, tiers_from_indices
from storyline.elections.profile import PairwiseMatrix, Profile, pairwise

__all__ = ["RankedPairsDetails", "mam", "ranked_pairs"]

BoolArray = npt.NDArray[np.bool_]
# (winner, loser, wins, losses), as indices and counts.
_Pair = tuple[int, int, int, int]


@dataclass(frozen=True, slots=True)
class RankedPairsDetails:
    """Majorities in the order considered, and which were affirmed or denied."""

    affirmed: tuple[Defeat, ...]
    denied: tuple[Defeat, ...]
    #: True when equal-strength majorities were all kept although they cycle.
    allowed_cycle: bool
    #: The random voter hierarchy (MAM only): candidates' order, best first.
    voter_hierarchy: tuple[str, ...] = ()


def _add(closure: BoolArray, winner: int, loser: int) -> tuple[BoolArray, bool]:
    """The transitive closure with ``winner`` over ``loser`` added, and whether a
    new cycle appeared (a candidate newly reaching itself)."""
    if closure[winner, loser]:
        return closure, False
    above = closure[:, winner].copy()
    above[winner] = True
    below = closure[loser, :].copy()
    below[loser] = True
    grown = closure | np.outer(above, below)
    cycle = bool((np.diagonal(grown) & ~np.diagonal(closure)).any())
    return grown, cycle


def _strength(pair: _Pair) -> tuple[int, int]:
    # Sorting ascending by this key puts the strongest majority first.
    return (-pair[2], pair[3])


def _rvh_compare(rvh: BoolArray) -> Callable[[_Pair, _Pair], int]:
    """MAM's order of two equal-strength majorities: the one whose loser the
    hierarchy ranks lower comes first; failing that, the one whose winner it ranks
    higher."""

    def compare(a: _Pair, b: _Pair) -> int:
        if a[1] != b[1] and rvh[a[1], b[1]] != rvh[b[1], a[1]]:
            return 1 if rvh[a[1], b[1]] else -1
        if rvh[b[0], a[0]] != rvh[a[0], b[0]]:
            return 1 if rvh[b[0], a[0]] else -1
        return 0

    return compare


def _rank(
    matrix: PairwiseMatrix,
    tiebreak: Callable[[_Pair, _Pair], int] | None,
    method: str,
) -> tuple[list[list[int]], RankedPairsDetails]:
    d = matrix.d
    n = len(matrix.candidates)
    pairs: list[_Pair] = [
        (j, k, int(d[j, k]), int(d[k, j])) for j in range(n) for k in range(n) if d[j, k] > d[k, j]
    ]

    def order(a: _Pair, b: _Pair) -> int:
        sa, sb = _strength(a), _strength(b)
        if sa != sb:
            return -1 if sa < sb else 1
        return tiebreak(a, b) if tiebreak is not None else 0

    pairs.sort(key=functools.cmp_to_key(order))
    affirmed = np.zeros((n, n), dtype=bool)
    committed = affirmed
    last: _Pair | None = None
    allowed_cycle = False
    kept: list[Defeat] = []
    denied: list[Defeat] = []
    names = matrix.candidates
    for pair in pairs:
        winner, loser, w, lose = pair
        first_of_bunch = last is None or order(last, pair) < 0
        if first_of_bunch:
            committed = affirmed
        last = pair
        current, cycle = _add(affirmed, winner, loser)
        if cycle and not first_of_bunch:
            # It may cycle only with its equal-strength bunch-mates: CIVS then
            # keeps it if it is consistent with the strictly stronger majorities.
            _, cycle = _add(committed, winner, loser)
            allowed_cycle = allowed_cycle or not cycle
        defeat = Defeat(names[winner], names[loser], w, lose)
        if cycle:
            denied.append(defeat)
        else:
            affirmed = current
            kept.append(defeat)

    unranked = np.ones(n, dtype=bool)
    tiers: list[list[int]] = []
    while unranked.any():
        strictly = affirmed & ~affirmed.T
        group = [i for i in range(n) if unranked[i] and not (strictly[:, i] & unranked).any()]
        strongest: dict[int, _Pair] = {}
        for i in group:
            for j in range(n):
                if unranked[j] and d[j, i] > d[i, j]:
                    candidate: _Pair = (j, i, int(d[j, i]), int(d[i, j]))
                    if i not in strongest or order(strongest[i], candidate) > 0:
                        strongest[i] = candidate
        tier = [
            i
            for i in group
            if i not in strongest
            or not any(
                j != i and (j not in strongest or order(strongest[i], strongest[j]) < 0)
                for j in group
            )
        ]
        # A tier is never empty for a consistent order; the fallback only guards
        # against an inconsistent random hierarchy in MAM.
        tier = tier or group
        tiers.append(tier)
        unranked[tier] = False
    return tiers, RankedPairsDetails(tuple(kept), tuple(denied), allowed_cycle)


def ranked_pairs(matrix: PairwiseMatrix) -> Result:
    """Rank every candidate by CIVS's deterministic Ranked Pairs."""
    tiers, details = _rank(matrix, None, "ranked-pairs")
    log = [f"Affirmed {d}." for d in details.affirmed]
    log += [f"Denied {d}: it would contradict stronger majorities." for d in details.denied]
    return Result(
        method="ranked-pairs",
        candidates=matrix.candidates,
        ranking=tiers_from_indices(matrix.candidates, tiers),
        matrix=matrix,
        details=details,
        log=tuple(log),
    )


def voter_hierarchy(profile: Profile, rng: random.Random) -> BoolArray:
    """MAM's random voter hierarchy: ``rvh[i, j]`` when i is placed above j."""
    n = profile.num_candidates
    rvh = np.zeros((n, n), dtype=bool)
    order = [b for b, w in zip(profile.ballots, profile.weights, strict=True) for _ in range(w)]
    rng.shuffle(order)
    for ballot in order:
        ranks = ballot.ranks
        for i in range(n):
            ri = ranks[i]
            if ri is None:
                continue
            for j in range(n):
                rj = ranks[j]
                if rj is None or not ri < rj or rvh[i, j] or rvh[j, i]:
                    continue
                # i and j are unrelated in a transitively closed order, so
                # adding i over j cannot close a cycle.
                rvh, _ = _add(rvh, i, j)
                related = rvh | rvh.T
                np.fill_diagonal(related, True)
                if related.all():
                    return rvh
    return rvh


def mam(
    profile: Profile, matrix: PairwiseMatrix | None = None, *, seed: int | None = None
) -> Result:
    """Rank every candidate by MAM (CIVS's ranked pairs with a random voter hierarchy).

    The draw is reproducible: the seed used (given, or drawn when None) is kept in
    the result, and ``randomness_used`` says whether the hierarchy decided any
    order between equal-strength majorities.
    """
    if matrix is None:
        matrix = pairwise(profile)
    if seed is None:
        seed = secrets.randbits(63)
    rvh = voter_hierarchy(profile, random.Random(seed))
    tiers, details = _rank(matrix, _rvh_compare(rvh), "mam")
    n = profile.num_candidates
    strengths = [
        (int(matrix.d[j, k]), int(matrix.d[k, j]))
        for j in range(n)
        for k in range(n)
        if matrix.d[j, k] > matrix.d[k, j]
    ]
    used = len(set(strengths)) != len(strengths)
    above = rvh.sum(axis=1)
    hierarchy = tuple(
        profile.candidates[i] for i in sorted(range(n), key=lambda i: (-int(above[i]), i))
    )
    details = RankedPairsDetails(details.affirmed, details.denied, details.allowed_cycle, hierarchy)
    log = [f"Affirmed {d}." for d in details.affirmed]
    log += [f"Denied {d}: it would contradict stronger majorities." for d in details.denied]
    log.append(
        f"Random tie-breaking was used (seed {seed})."
        if used
        else "No random tie-breaking was used."
    )
    return Result(
        method="mam",
        candidates=matrix.candidates,
        ranking=tiers_from_indices(matrix.candidates, tiers),
        matrix=matrix,
        details=details,
        log=tuple(log),
        randomness_used=used,
        seed=seed,
    )
