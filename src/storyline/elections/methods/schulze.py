"""Schulze's method as CIVS computes it (``beatpath2.pm``), the default rule.

The strength of a defeat of B by A is the pair (W, L): W ballots rank A over B,
L rank B over A, and W > L.  More W is stronger; equal W, fewer L is stronger.  A
pairwise tie is no defeat at all.  Strongest paths are found with Floyd-Warshall
(a path is as strong as its weakest link), then the candidates not beaten by any
remaining one through their strongest paths form the next tier.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from storyline.elections.methods.result import Result, tiers_from_indices
from storyline.elections.profile import IntArray, PairwiseMatrix

__all__ = ["SchulzeDetails", "schulze", "strongest_paths"]


@dataclass(frozen=True, slots=True, eq=False)
class SchulzeDetails:
    """Strongest path from i to j as (``wins[i, j]``, ``losses[i, j]``); (0, 0) = none."""

    wins: IntArray
    losses: IntArray


def strongest_paths(d: IntArray) -> tuple[IntArray, IntArray]:
    """Strongest-path (W, L) matrices for the pairwise matrix ``d``.

    Each (W, L) is packed into one integer that orders exactly as CIVS compares
    defeats, W * (N + 1) + (N - L) with N the largest count, so the whole closure
    is numpy maximum/minimum over the matrix, once per intermediate candidate.
    """
    n = d.shape[0]
    big = int(d.max()) if d.size else 0
    base = big + 1
    packed = np.where(d > d.T, d * base + (big - d.T), 0).astype(np.int64)
    for k in range(n):
        # Row and column k do not change while k is the intermediate candidate,
        # so updating the whole matrix at once is exact.
        np.maximum(packed, np.minimum(packed[:, k, None], packed[None, k, :]), out=packed)
    wins = packed // base
    losses = np.where(packed > 0, big - packed % base, 0)
    return wins.astype(np.int64), losses.astype(np.int64)


def schulze(matrix: PairwiseMatrix) -> Result:
    """Rank every candidate by Schulze's method with CIVS's (W, L) strengths."""
    wins, losses = strongest_paths(matrix.d)
    n = len(matrix.candidates)
    # (W, L) stronger than (W', L') iff W > W', or W = W' and L < L'.
    stronger = (wins > wins.T) | ((wins == wins.T) & (losses < losses.T))
    remaining = np.ones(n, dtype=bool)
    tiers: list[list[int]] = []
    while remaining.any():
        beaten = (stronger & remaining[:, None]).any(axis=0)
        tier = [int(i) for i in np.flatnonzero(remaining & ~beaten)]
        tiers.append(tier)
        remaining[tier] = False
    return Result(
        method="schulze",
        candidates=matrix.candidates,
        ranking=tiers_from_indices(matrix.candidates, tiers),
        matrix=matrix,
        details=SchulzeDetails(wins=wins, losses=losses),
    )
