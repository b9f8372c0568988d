"""Counting methods: each returns a full ranking in tiers and its explanation."""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction
from typing import Final, Literal

from storyline.elections.methods.condorcet_irv import IrvRound, TieRule, condorcet_irv
from storyline.elections.methods.debian import DebianDetails, OptionCheck, debian
from storyline.elections.methods.minimax_pm import MinimaxDetails, minimax_pm
from storyline.elections.methods.ranked_pairs import RankedPairsDetails, mam, ranked_pairs
from storyline.elections.methods.result import (
    Defeat,
    Result,
    SeatTie,
    TieBreak,
    Winners,
    break_ties,
)
from storyline.elections.methods.schulze import SchulzeDetails, schulze
from storyline.elections.profile import PairwiseMatrix, Profile, pairwise

__all__ = [
    "METHODS",
    "DebianDetails",
    "Defeat",
    "IrvRound",
    "MethodName",
    "MinimaxDetails",
    "OptionCheck",
    "RankedPairsDetails",
    "Result",
    "SchulzeDetails",
    "SeatTie",
    "TieBreak",
    "TieRule",
    "Winners",
    "break_ties",
    "condorcet_irv",
    "count",
    "debian",
    "mam",
    "minimax_pm",
    "ranked_pairs",
    "schulze",
]

MethodName = Literal["schulze", "ranked-pairs", "mam", "minimax-pm", "condorcet-irv", "debian"]

#: Every method :func:`count` knows, Schulze (CIVS's former default) first.
METHODS: Final[tuple[MethodName, ...]] = (
    "schulze",
    "ranked-pairs",
    "mam",
    "minimax-pm",
    "condorcet-irv",
    "debian",
)


def count(
    profile: Profile,
    method: MethodName = "schulze",
    *,
    matrix: PairwiseMatrix | None = None,
    seed: int | None = None,
    tie_rule: TieRule = "current",
    default_option: str | None = None,
    quorum: float | None = None,
    majorities: Mapping[str, Fraction | int] | None = None,
) -> Result:
    """Count ``profile`` by ``method``, computing the pairwise matrix once.

    ``seed`` makes MAM and the pre-2024 Condorcet-IRV reproducible; ``tie_rule``
    picks Condorcet-IRV's version; the last three options are Debian's.
    """
    if matrix is None:
        matrix = pairwise(profile)
    if method == "schulze":
        return schulze(matrix)
    if method == "ranked-pairs":
        return ranked_pairs(matrix)
    if method == "mam":
        return mam(profile, matrix, seed=seed)
    if method == "minimax-pm":
        return minimax_pm(matrix)
    if method == "condorcet-irv":
        return condorcet_irv(profile, matrix, tie_rule=tie_rule, seed=seed)
    if method == "debian":
        return debian(matrix, default_option=default_option, quorum=quorum, majorities=majorities)
    raise ValueError(f"unknown method {method!r}; expected one of {', '.join(METHODS)}")
