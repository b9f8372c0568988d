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
    """
    n = profile.num_candidates
    counts = [[Fraction(0)] * n for _ in range(n)]
    for ballot, weight in zip(profile.ballots, profile.weights, strict=True):
        levels = sorted({r for r in ballot.ranks if r is not None})
        place = {r: p for p, r in enumerate(levels)}
        size = dict.fromkeys(levels, 0)
        for r in ballot.ranks:
            if r is not None:
                size[r] += 1
        for c, r in enumerate(ballot.ranks):
            if r is not None:
                counts[c][place[r]] += Fraction(weight, size[r])
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
