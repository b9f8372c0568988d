"""Condorcet-IRV as CIVS computes it (``runoff.pm``).

To fill each rank: if a Condorcet winner exists among the active candidates, it
takes the rank; otherwise one active candidate is set aside for this rank and the
search starts again.  Which one depends on the version of CIVS:

``"pre-2024"``
    the one with the fewest *top counts* (ballots on which it is ranked at or
    above every other active candidate, ties each counting fully, "no opinion"
    ignored); several equally low are separated **at random**, and when all the
    active candidates are equally low they share the rank as one tier.
``"current"`` (since February 2024)
    the one with the weakest *rank counts*, compared place by place: first
    places (a place shared by tied candidates split between them), then second
    places, and so on, counted once over all candidates.  Equal counts fall on
    the candidate listed first.  No randomness.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

import numpy as np
import numpy.typing as npt

from storyline.elections.methods.result import Result, tiers_from_indices
from storyline.elections.profile import IntArray, PairwiseMatrix, Profile, pairwise

__all__ = ["IrvRound", "TieRule", "condorcet_irv", "rank_counts"]

TieRule = Literal["current", "pre-2024"]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class IrvRound:
    """How one rank was filled: who was set aside, in order, and who took it."""

    set_aside: tuple[str, ...]
    ranked: tuple[str, ...]
    condorcet_winner: bool
    random_choices: int = 0


def rank_counts(profile: Profile) -> list[list[Fraction]]:
    """``counts[c][p]``: ballots placing candidate c at place p (0 = first).

    Places are the ballot's distinct ranks in order; candidates tied at a place
    share it equally.  "No opinion" takes no place.

    Computed over all ballots at once: each ballot's ranks are sorted, a place
    starts wherever the sorted rank changes, and the weights are summed in
    integers per (size of the tie, candidate, place), so the shares are exact
    fractions with one division per tie size, not one per ballot and candidate.
    """
    n = profile.num_candidates
    ranks = profile.rank_matrix()
    weights = profile.weight_vector()
    n_ballots = len(ranks)
    if not n_ballots or not n:
        return [[Fraction(0)] * n for _ in range(n)]
    valid = ranks >= 0
    # "No opinion" sorts after every rank, so it never shifts a real place.
    keyed = np.where(valid, ranks, np.iinfo(np.int64).max)
    order = np.argsort(keyed, axis=1, kind="stable")
    ordered = np.take_along_axis(keyed, order, axis=1)
    starts = np.ones((n_ballots, n), dtype=np.int64)
    starts[:, 0] = 0
    starts[:, 1:] = ordered[:, 1:] != ordered[:, :-1]
    levels_sorted = np.cumsum(starts, axis=1)
    # Candidates sharing a level per ballot: the size of the tie they share.
    level_ids = levels_sorted + (np.arange(n_ballots) * n)[:, None]
    size_sorted = np.bincount(level_ids.ravel(), minlength=n_ballots * n)[level_ids]
    place = np.empty_like(levels_sorted)
    size = np.empty_like(size_sorted)
    np.put_along_axis(place, order, levels_sorted, axis=1)
    np.put_along_axis(size, order, size_sorted, axis=1)
    cand = np.broadcast_to(np.arange(n), (n_ballots, n))
    flat = ((size - 1) * n + cand) * n + place
    sums = np.bincount(
        flat[valid],
        weights=np.broadcast_to(weights[:, None], (n_ballots, n))[valid].astype(np.float64),
        minlength=n * n * n,
    )
    # Float sums of integer weights are exact below 2**53 voters.
    by_size = np.rint(sums).astype(np.int64).reshape(n, n, n)
    counts = [[Fraction(0)] * n for _ in range(n)]
    for s in np.flatnonzero(by_size.any(axis=(1, 2))).tolist():
        for c, p in zip(*np.nonzero(by_size[s]), strict=True):
            counts[int(c)][int(p)] += Fraction(int(by_size[s, c, p]), s + 1)
    return counts


def _top_counts(ranks: IntArray, weights: IntArray, active: BoolArray) -> IntArray:
    """Per candidate, the weight of ballots ranking it at or above every other
    active candidate (ties all count; "no opinion" takes no part)."""
    big = np.iinfo(np.int64).max
    valid = (ranks >= 0) & active[None, :]
    masked = np.where(valid, ranks, big)
    best = masked.min(axis=1)
    on_top = valid & (masked == best[:, None])
    totals: IntArray = (on_top * weights[:, None]).sum(axis=0)
    return totals


def condorcet_irv(
    profile: Profile,
    matrix: PairwiseMatrix | None = None,
    *,
    tie_rule: TieRule = "current",
    seed: int | None = None,
) -> Result:
    """Rank every candidate by CIVS's Condorcet-IRV under the chosen tie rule."""
    if matrix is None:
        matrix = pairwise(profile)
    if tie_rule not in ("current", "pre-2024"):
        raise ValueError(f"unknown tie rule {tie_rule!r}; expected 'current' or 'pre-2024'")
    if tie_rule == "pre-2024" and seed is None:
        seed = secrets.randbits(63)
    rng = random.Random(seed)
    d = matrix.d
    names = profile.candidates
    n = len(names)
    beats = d > d.T
    ranks = profile.rank_matrix()
    weights = profile.weight_vector()
    counts = rank_counts(profile) if tie_rule == "current" else []
    ranked = np.zeros(n, dtype=bool)
    tiers: list[list[int]] = []
    rounds: list[IrvRound] = []
    used_random = False
    while not ranked.all():
        active = ~ranked
        aside: list[int] = []
        draws = 0
        while True:
            idx = np.flatnonzero(active)
            sub = beats[np.ix_(idx, idx)]
            winners = [int(idx[a]) for a in range(len(idx)) if sub[a].sum() == len(idx) - 1]
            if winners:
                tier = winners[:1]
                cw = True
                break
            if tie_rule == "current":
                worst = min(idx, key=lambda c: (counts[c], c))
                loser = int(worst)
            else:
                top = _top_counts(ranks, weights, active)
                low = int(top[idx].min())
                lowest = [int(c) for c in idx if top[c] == low]
                if len(lowest) == len(idx):
                    # Everyone left is equally weak: they share this rank.
                    tier = lowest
                    cw = False
                    break
                if len(lowest) > 1:
                    draws += 1
                    used_random = True
                loser = lowest[rng.randrange(len(lowest))]
            active[loser] = False
            aside.append(loser)
        rounds.append(
            IrvRound(
                set_aside=tuple(names[c] for c in aside),
                ranked=tuple(names[c] for c in tier),
                condorcet_winner=cw,
                random_choices=draws,
            )
        )
        tiers.append(tier)
        ranked[tier] = True
    log = []
    for number, r in enumerate(rounds, start=1):
        ignored = f"ignored {', '.join(r.set_aside)}; " if r.set_aside else ""
        found = "Condorcet winner" if r.condorcet_winner else "tied set"
        log.append(f"Rank {number}: {ignored}{found} {', '.join(r.ranked)}.")
    return Result(
        method="condorcet-irv",
        candidates=names,
        ranking=tiers_from_indices(names, tiers),
        matrix=matrix,
        details=tuple(rounds),
        log=tuple(log),
        randomness_used=used_random,
        seed=seed if tie_rule == "pre-2024" else None,
        extra={"tie_rule": tie_rule},
    )
