"""Debian's voting rule (constitution A.6, as amended in 2003), as devotee applies it.

1. Quorum: an option ranked above the default option by fewer than R voters is
   dropped.
2. Majority: an option that does not beat the default option by its majority
   ratio N (``V(A,D) >= N * V(D,A)`` and ``V(A,D) > V(D,A)``) is dropped; most
   options need 1:1, constitutional changes 3:1.
3. Cloneproof Schwartz Sequential Dropping among the options left (the default
   option included): take the Schwartz set; while defeats remain inside it, drop
   the weakest ones (fewer votes for the winner is weaker; equal, more votes
   against is weaker) and take the Schwartz set again.  What is left wins; more
   than one left is a tie for the casting vote.

Debian elects one option; to give a full ranking, the rule is applied again to
the options left, and the options dropped in steps 1-2 are ranked the same way
after all the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import numpy.typing as npt

from storyline.elections.methods.result import Defeat, Result
from storyline.elections.profile import PairwiseMatrix

__all__ = ["DebianDetails", "OptionCheck", "cssd", "debian"]


@dataclass(frozen=True, slots=True)
class OptionCheck:
    """One option's quorum and majority tests against the default option."""

    option: str
    votes_over_default: int
    votes_for_default: int
    required_majority: Fraction
    reached_quorum: bool
    passed_majority: bool

    @property
    def dropped(self) -> bool:
        return not (self.reached_quorum and self.passed_majority)


@dataclass(frozen=True, slots=True)
class DebianDetails:
    """Everything devotee prints: the checks, the defeats and the Schwartz sets."""

    default_option: str
    quorum: float | None
    checks: tuple[OptionCheck, ...]
    dropped: tuple[str, ...]
    #: Defeats among the options kept, in matrix order.
    defeats: tuple[Defeat, ...]
    #: The Schwartz set before any defeat was dropped.
    schwartz_set: frozenset[str]
    #: The defeats dropped by CSSD, one tuple per round.
    dropped_defeats: tuple[tuple[Defeat, ...], ...]
    winners: frozenset[str]


def _schwartz(defeats: npt.NDArray[np.bool_], members: list[int]) -> list[int]:
    """Options not beaten, through a chain of defeats, by one they cannot beat back."""
    idx = np.array(members)
    reach = defeats[np.ix_(idx, idx)].copy()
    for k in range(len(idx)):
        reach |= reach[:, k, None] & reach[None, k, :]
    keep = [
        int(idx[a])
        for a in range(len(idx))
        if all(not reach[b, a] or reach[a, b] for b in range(len(idx)))
    ]
    return keep


def cssd(
    matrix: PairwiseMatrix, members: list[int]
) -> tuple[list[int], list[int], list[list[tuple[int, int]]]]:
    """Winners among ``members`` by Cloneproof Schwartz Sequential Dropping.

    Returns the winners, the first Schwartz set, and the defeats dropped per round.
    """
    d = matrix.d
    defeats = np.zeros_like(d, dtype=bool)
    for i in members:
        for j in members:
            defeats[i, j] = d[i, j] > d[j, i]
    schwartz = _schwartz(defeats, members)
    first = schwartz
    rounds: list[list[tuple[int, int]]] = []
    while True:
        inside = [(i, j) for i in schwartz for j in schwartz if defeats[i, j]]
        if not inside:
            return schwartz, first, rounds
        weakest = min((int(d[i, j]), -int(d[j, i])) for i, j in inside)
        drop = [(i, j) for i, j in inside if (int(d[i, j]), -int(d[j, i])) == weakest]
        for i, j in drop:
            defeats[i, j] = False
        rounds.append(drop)
        schwartz = _schwartz(defeats, schwartz)


def debian(
    matrix: PairwiseMatrix,
    *,
    default_option: str | None = None,
    quorum: float | None = None,
    majorities: Mapping[str, Fraction | int] | None = None,
) -> Result:
    """Count a vote by Debian's rule.

    ``default_option`` defaults to the last option.  ``quorum`` is R (3/2 times the
    square root of the number of developers; None skips the test).  ``majorities``
    gives the ratio an option needs (default 1:1).
    """
    names = matrix.candidates
    d = matrix.d
    default = default_option if default_option is not None else names[-1]
    if default not in names:
        raise ValueError(f"the default option {default!r} is not one of the options")
    ratios = dict(majorities or {})
    di = names.index(default)
    checks: list[OptionCheck] = []
    for i, option in enumerate(names):
        if i == di:
            continue
        over, under = int(d[i, di]), int(d[di, i])
        need = Fraction(ratios.get(option, 1))
        checks.append(
            OptionCheck(
                option=option,
                votes_over_default=over,
                votes_for_default=under,
                required_majority=need,
                reached_quorum=quorum is None or over >= quorum,
                passed_majority=over > under and over >= need * under,
            )
        )
    dropped = [names.index(c.option) for c in checks if c.dropped]
    kept = [i for i in range(len(names)) if i not in dropped]
    winners, first, rounds = cssd(matrix, kept)

    tiers: list[list[int]] = [winners]
    for group in (kept, dropped):
        rest = [i for i in group if i not in winners]
        while rest:
            tier, _, _ = cssd(matrix, rest)
            tiers.append(tier)
            rest = [i for i in rest if i not in tier]

    def defeat(i: int, j: int) -> Defeat:
        return Defeat(names[i], names[j], int(d[i, j]), int(d[j, i]))

    details = DebianDetails(
        default_option=default,
        quorum=quorum,
        checks=tuple(checks),
        dropped=tuple(names[i] for i in dropped),
        defeats=tuple(defeat(i, j) for i in kept for j in kept if d[i, j] > d[j, i]),
        schwartz_set=frozenset(names[i] for i in first),
        dropped_defeats=tuple(tuple(defeat(i, j) for i, j in r) for r in rounds),
        winners=frozenset(names[i] for i in winners),
    )
    log: list[str] = []
    for c in checks:
        if not c.reached_quorum:
            log.append(f"Dropping {c.option}: quorum not reached ({c.votes_over_default}).")
        elif not c.passed_majority:
            log.append(
                f"Dropping {c.option}: majority {c.votes_over_default}/{c.votes_for_default} "
                f"short of {c.required_majority}."
            )
    for r in details.dropped_defeats:
        log.append("Dropping the weakest defeats: " + "; ".join(str(x) for x in r) + ".")
    log.append("Winners: " + ", ".join(names[i] for i in winners) + ".")
    return Result(
        method="debian",
        candidates=names,
        ranking=tuple(frozenset(names[i] for i in t) for t in tiers if t),
        matrix=matrix,
        details=details,
        log=tuple(log),
    )
