"""The analyses published after OpenStack elections, from the ballots alone.

- :func:`condorcet_spread`: per candidate, how many ballots put them at each
  average position (Thierry Carrez's 2013/2014 bubble charts).
- :func:`proportional_comparison`: the normal top ``seats`` against the CIVS
  proportional committee.
- :func:`partisan_pairs` and :func:`company_blocks`: the share of ballots putting
  exactly a pair, or all of a group, strictly above everyone else.

Decisions where the original posts were silent: a "no opinion" candidate has no
place on that ballot (CIVS leaves it out of every comparison), so positions are
counted among the other candidates and it never counts as "below" a pair or a
group; blank ballots (no strict preference at all) are counted unless
``skip_blank`` is set, since they were part of the published denominators.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Final, Literal

import numpy as np
import numpy.typing as npt

from storyline.elections.profile import Profile
from storyline.elections.proportional import (
    Criterion,
    IndividualOrder,
    ProportionalResult,
    civs_proportional,
)

__all__ = [
    "BlockShare",
    "PairShare",
    "ProportionalComparison",
    "Rounding",
    "Spread",
    "company_blocks",
    "condorcet_spread",
    "format_percent",
    "partisan_pairs",
    "proportional_comparison",
]

IntArray = npt.NDArray[np.int64]
Rounding = Literal["truncate", "round"]

# Ballots are processed in chunks so the (chunk x n x n) comparison cube stays small.
_CHUNK_CELLS: Final = 2_000_000


def format_percent(
    count: int, total: int, *, digits: int = 2, rounding: Rounding = "truncate"
) -> str:
    """``count / total`` as a percentage with ``digits`` decimals, computed exactly.

    The 2013 and 2014 posts truncated (15/448 = 3.348% was printed 3.34%); later
    repeats rounded half up (35/506 = 6.917% -> 6.92%).
    """
    if total <= 0:
        raise ValueError("the total must be positive")
    scaled = count * 100 * 10**digits
    units = scaled // total if rounding == "truncate" else (2 * scaled + total) // (2 * total)
    if digits == 0:
        return f"{units}%"
    whole, frac = divmod(units, 10**digits)
    return f"{whole}.{frac:0{digits}d}%"


def _ordered(profile: Profile, order: Sequence[str] | None) -> list[int]:
    if order is None:
        return list(range(profile.num_candidates))
    idx = [profile.index(c) for c in order]
    if sorted(idx) != list(range(profile.num_candidates)):
        raise ValueError("the order must list every candidate exactly once")
    return idx


@dataclass(frozen=True, slots=True)
class Spread:
    """Ballots per candidate per average position.

    ``counts[row, h]`` is the number of ballots placing ``candidates[row]`` at
    average position ``1 + h / 2``: a tie over places p..p+s-1 gives each member
    (2p + s - 1) / 2, so positions go in half steps from 1 to the number of
    candidates (2n - 1 columns).
    """

    candidates: tuple[str, ...]
    counts: IntArray
    num_ballots: int

    @property
    def positions(self) -> tuple[Fraction, ...]:
        return tuple(Fraction(2 + h, 2) for h in range(self.counts.shape[1]))


def condorcet_spread(
    profile: Profile, order: Sequence[str] | None = None, *, skip_blank: bool = False
) -> Spread:
    """Count, per candidate (rows in ``order``), the ballots at each average position."""
    rows = _ordered(profile, order)
    n = profile.num_candidates
    ranks = profile.rank_matrix()
    weights = profile.weight_vector()
    counts = np.zeros((n, max(2 * n - 1, 1)), dtype=np.int64)
    total = 0
    chunk = max(1, _CHUNK_CELLS // max(n * n, 1))
    for start in range(0, len(ranks), chunk):
        r = ranks[start : start + chunk]
        w = weights[start : start + chunk]
        valid = r >= 0
        both = valid[:, :, None] & valid[:, None, :]
        better = ((r[:, None, :] < r[:, :, None]) & both).sum(axis=2)
        equal = ((r[:, None, :] == r[:, :, None]) & both).sum(axis=2)
        if skip_blank:
            strict = ((r[:, :, None] < r[:, None, :]) & both).any(axis=(1, 2))
            w, valid = w[strict], valid[strict]
            better, equal = better[strict], equal[strict]
        total += int(w.sum())
        # Doubled average position minus 2: 2 * (places above) + (tied group - 1).
        half_steps = 2 * better + equal - 1
        for c in range(n):
            on = valid[:, c]
            np.add.at(counts[c], half_steps[on, c], w[on])
    return Spread(
        candidates=tuple(profile.candidates[i] for i in rows),
        counts=counts[rows],
        num_ballots=total,
    )


@dataclass(frozen=True, slots=True)
class ProportionalComparison:
    """The normal winners against the CIVS proportional committee.

    ``tied`` holds the candidates of a tier that straddles the last seat in the
    normal ranking (CIVS shows them in red and does not break the tie); they are
    not in ``normal``.  ``added`` and ``dropped`` are relative to the normal
    winners and are only meaningful when both sides are definite.
    """

    seats: int
    normal: tuple[str, ...]
    tied: tuple[str, ...]
    proportional: ProportionalResult

    @property
    def committee(self) -> tuple[str, ...] | None:
        """The proportional committee in individual order, if a single one won."""
        winner = self.proportional.winner
        return None if winner is None else self.proportional.in_order(winner)

    @property
    def added(self) -> tuple[str, ...]:
        committee = self.committee or ()
        return tuple(c for c in committee if c not in self.normal)

    @property
    def dropped(self) -> tuple[str, ...]:
        committee = self.committee or ()
        return tuple(c for c in self.normal if c not in committee)

    @property
    def changed(self) -> bool | None:
        """Whether proportional mode elects someone else; ``None`` if a tie decides."""
        if self.tied or self.committee is None:
            return None
        return bool(self.added)


def proportional_comparison(
    profile: Profile,
    seats: int,
    ranking: Sequence[Collection[str]],
    *,
    criterion: Criterion = "best-candidate",
    legacy_bound: bool = False,
    order: IndividualOrder = "minimax-pm",
) -> ProportionalComparison:
    """Compare the top ``seats`` of ``ranking`` (tiers, best first) with CIVS proportional."""
    position = {c: i for i, c in enumerate(profile.candidates)}
    normal: list[str] = []
    tied: list[str] = []
    for tier in ranking:
        members = sorted(tier, key=position.__getitem__)
        if len(normal) + len(members) <= seats:
            normal.extend(members)
        elif len(normal) < seats:
            tied = members
            break
    result = civs_proportional(
        profile, seats, criterion=criterion, legacy_bound=legacy_bound, order=order
    )
    return ProportionalComparison(
        seats=seats, normal=tuple(normal), tied=tuple(tied), proportional=result
    )


@dataclass(frozen=True, slots=True)
class PairShare:
    """Ballots putting exactly ``pair`` strictly above every other candidate."""

    pair: tuple[str, str]
    count: int
    total: int

    def percent(self, *, digits: int = 2, rounding: Rounding = "truncate") -> str:
        return format_percent(self.count, self.total, digits=digits, rounding=rounding)


def partisan_pairs(profile: Profile, order: Sequence[str] | None = None) -> list[PairShare]:
    """The 2014 "partisan voting" table: pairs ranked strictly above all others.

    The two may be ordered or tied with each other; anyone tied with either
    disqualifies the ballot, so a ballot counts for at most one pair.  The
    denominator is every ballot.  Pairs are listed by count, then by ``order``
    (the official ranking, say), members in that order too.
    """
    rows = _ordered(profile, order)
    place = {c: p for p, c in enumerate(rows)}
    counts: dict[tuple[int, int], int] = {}
    for ballot, weight in zip(profile.ballots, profile.weights, strict=True):
        ranked = sorted((r, c) for c, r in enumerate(ballot.ranks) if r is not None)
        if len(ranked) < 2 or (len(ranked) > 2 and ranked[2][0] == ranked[1][0]):
            continue
        x, y = sorted((ranked[0][1], ranked[1][1]), key=place.__getitem__)
        counts[x, y] = counts.get((x, y), 0) + weight
    total = profile.num_voters
    ordered = sorted(counts.items(), key=lambda kv: (-kv[1], place[kv[0][0]], place[kv[0][1]]))
    names = profile.candidates
    return [PairShare((names[x], names[y]), n, total) for (x, y), n in ordered]


@dataclass(frozen=True, slots=True)
class BlockShare:
    """Ballots putting every member of a group strictly above everyone else."""

    name: str
    members: tuple[str, ...]
    count: int
    total: int

    def percent(self, *, digits: int = 2, rounding: Rounding = "truncate") -> str:
        return format_percent(self.count, self.total, digits=digits, rounding=rounding)


def company_blocks(profile: Profile, groups: Mapping[str, Collection[str]]) -> list[BlockShare]:
    """The 2013 "partisan voting" table: each group's candidates above all others.

    A ballot counts for a group when it ranks every member (none "no opinion")
    and the worst of them strictly better than every other ranked candidate.
    """
    ranks = profile.rank_matrix()
    weights = profile.weight_vector()
    valid = ranks >= 0
    # A "no opinion" among the others takes part in no comparison, so it is given
    # a rank no group member can fail to beat.
    big = np.iinfo(np.int64).max
    shares = []
    for name, members in groups.items():
        cols = [profile.index(c) for c in members]
        if not cols:
            raise ValueError(f"group {name!r} has no candidates")
        others = [c for c in range(profile.num_candidates) if c not in cols]
        worst_in = ranks[:, cols].max(axis=1)
        all_ranked = valid[:, cols].all(axis=1)
        if others:
            rest = np.where(valid[:, others], ranks[:, others], big)
            ok = all_ranked & (worst_in < rest.min(axis=1))
        else:
            ok = all_ranked
        shares.append(
            BlockShare(
                name=name,
                members=tuple(members),
                count=int(weights[ok].sum()),
                total=profile.num_voters,
            )
        )
    return shares
