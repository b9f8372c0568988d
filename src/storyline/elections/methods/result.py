"""What every counting method returns: a full ranking in tiers, and its explanation."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from storyline.elections.profile import PairwiseMatrix

__all__ = ["Defeat", "Result", "SeatTie", "TieBreak", "Winners", "break_ties"]


@dataclass(frozen=True, slots=True)
class Defeat:
    """A pairwise contest won by ``winner``: ``wins`` votes for it, ``losses`` against."""

    winner: str
    loser: str
    wins: int
    losses: int

    @property
    def margin(self) -> int:
        return self.wins - self.losses

    def __str__(self) -> str:
        return f"{self.winner} over {self.loser} {self.wins}-{self.losses}"


@dataclass(frozen=True, slots=True)
class SeatTie:
    """A tier that straddles the last seat: ``seats`` of ``candidates`` would be elected."""

    candidates: frozenset[str]
    seats: int


@dataclass(frozen=True, slots=True)
class Winners:
    """The candidates certainly elected, in ranking order, and any tie for the rest."""

    elected: tuple[str, ...]
    tie: SeatTie | None

    @property
    def complete(self) -> bool:
        """Whether the ranking alone fills every seat."""
        return self.tie is None


@dataclass(frozen=True, slots=True)
class Result:
    """A full ranking as tiers of tied candidates, best first, and how it came about.

    ``details`` holds the method's own explanation (strongest paths, locked pairs,
    elimination rounds, ...); ``log`` says the same in sentences.  When the method
    drew lots, ``randomness_used`` is true and ``seed`` reproduces the draw.
    """

    method: str
    candidates: tuple[str, ...]
    ranking: tuple[frozenset[str], ...]
    matrix: PairwiseMatrix
    details: Any = None
    log: tuple[str, ...] = ()
    randomness_used: bool = False
    seed: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def tiers(self) -> list[list[str]]:
        """The ranking as lists of names, each tier in the profile's candidate order."""
        order = {c: i for i, c in enumerate(self.candidates)}
        return [sorted(tier, key=order.__getitem__) for tier in self.ranking]

    def winners(self, seats: int = 1) -> Winners:
        """The first ``seats`` candidates; a tier crossing the boundary is reported, not broken."""
        if seats < 0:
            raise ValueError("the number of seats cannot be negative")
        elected: list[str] = []
        for tier in self.tiers():
            if len(elected) + len(tier) <= seats:
                elected.extend(tier)
                continue
            if len(elected) < seats:
                return Winners(tuple(elected), SeatTie(frozenset(tier), seats - len(elected)))
            break
        return Winners(tuple(elected), None)


@dataclass(frozen=True, slots=True)
class TieBreak:
    """The outcome of a lottery among the candidates tied across the last seat."""

    winners: tuple[str, ...]
    drawn: tuple[str, ...]
    seed: int | None


def break_ties(result: Result, seats: int, seed: int) -> TieBreak:
    """Fill the seats left by a boundary tie with a reproducible lottery.

    This is a separate, explicit step (as with OpenStack's documented coin toss):
    the ranking itself never breaks a tie.  The tied candidates are put in profile
    order, shuffled with ``random.Random(seed)``, and the first ones win.
    """
    outcome = result.winners(seats)
    if outcome.tie is None:
        return TieBreak(outcome.elected, (), None)
    order = {c: i for i, c in enumerate(result.candidates)}
    drawn = sorted(outcome.tie.candidates, key=order.__getitem__)
    random.Random(seed).shuffle(drawn)
    return TieBreak(outcome.elected + tuple(drawn[: outcome.tie.seats]), tuple(drawn), seed)


def tiers_from_indices(
    candidates: tuple[str, ...], tiers: list[list[int]]
) -> tuple[frozenset[str], ...]:
    return tuple(frozenset(candidates[i] for i in tier) for tier in tiers)
