"""Minimax-PM (CIVS ``minimax.pm``), CIVS's default rule since July 2017.

Each candidate's pairwise contests against the candidates still unranked,
including the ones it wins, are listed strongest defeat first: by margin
(votes against it minus votes for it) descending, then by the votes against it
ascending (equal margins with fewer votes against mean a larger ratio).  The
candidates whose lists are lexicographically weakest form the next tier.
"""

from __future__ import annotations

from dataclasses import dataclass

from storyline.elections.methods.result import Defeat, Result, tiers_from_indices
from storyline.elections.profile import PairwiseMatrix

__all__ = ["MinimaxDetails", "minimax_pm"]


@dataclass(frozen=True, slots=True)
class MinimaxDetails:
    """Each candidate's contests when it was ranked, strongest defeat first.

    In a :class:`Defeat` here the *loser* is the candidate described; the contest
    may be one it won (negative margin).
    """

    contests: dict[str, tuple[Defeat, ...]]


def minimax_pm(matrix: PairwiseMatrix) -> Result:
    """Rank every candidate by Minimax-PM."""
    d = matrix.d
    names = matrix.candidates
    n = len(names)
    unranked = set(range(n))
    tiers: list[list[int]] = []
    contests: dict[str, tuple[Defeat, ...]] = {}
    while unranked:
        lists: dict[int, list[tuple[int, int, int]]] = {}
        for i in unranked:
            # (margin, -W) descending = strongest defeat first.
            lists[i] = sorted(
                ((int(d[j, i] - d[i, j]), -int(d[j, i]), j) for j in unranked if j != i),
                key=lambda t: (-t[0], -t[1]),
            )
        keys = {i: [(m, w) for m, w, _ in lst] for i, lst in lists.items()}
        best = min(keys.values())
        tier = sorted(i for i in unranked if keys[i] == best)
        for i in tier:
            contests[names[i]] = tuple(
                Defeat(names[j], names[i], -w, -w - m) for m, w, j in lists[i]
            )
        tiers.append(tier)
        unranked.difference_update(tier)
    return Result(
        method="minimax-pm",
        candidates=names,
        ranking=tiers_from_indices(names, tiers),
        matrix=matrix,
        details=MinimaxDetails(contests),
    )
