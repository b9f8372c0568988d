"""The velocity arithmetic: a cycle's milestones against an earlier cycle's.

The first milestone sets the expected growth: growth = current m1 /
baseline m1. Each later milestone k is expected to deliver baseline k x
growth, and its score is actual / expected, as a percentage. With nova's
published figures (grizzly-1 549, grizzly-2 465, icehouse-1 548,
icehouse-2 282) icehouse-2 was expected to deliver 464.2 commits and scored
60.8%, "61% of the expected result".

Edge cases, decided once here: milestone 1 has no expected value or score
(it is the baseline of the growth, its score would always be 100%); when
baseline m1 is 0 there is no growth to apply, and when a milestone's expected
value is 0 there is nothing to divide by, so those values are None (`null`
in JSON) rather than an infinite or made-up percentage. The current cycle may
have fewer milestones than the baseline (it is under way); only its
milestones are scored. Values keep full precision; display rounds them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

__all__ = ["MilestoneScore", "rounded", "score_milestones"]


@dataclass(frozen=True, slots=True)
class MilestoneScore:
    milestone: int
    baseline: int
    current: int
    # None for milestone 1, and where there is nothing to scale or divide by.
    expected: float | None = None
    score: float | None = None

    def as_json(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "milestone": self.milestone,
            "baseline": self.baseline,
            "current": self.current,
        }
        if self.milestone > 1:
            entry["expected"] = self.expected
            entry["score"] = self.score
        return entry


def score_milestones(baseline: Sequence[int], current: Sequence[int]) -> list[MilestoneScore]:
    """Each milestone of `current` (at least one, at most as many as
    `baseline`) with its expected value and score."""
    if not 1 <= len(current) <= len(baseline):
        raise ValueError("the current cycle needs 1 to len(baseline) milestones")
    growth = current[0] / baseline[0] if baseline[0] else None
    scores = [MilestoneScore(1, baseline[0], current[0])]
    for index in range(1, len(current)):
        expected = None if growth is None else baseline[index] * growth
        score = current[index] / expected * 100 if expected else None
        scores.append(MilestoneScore(index + 1, baseline[index], current[index], expected, score))
    return scores


def rounded(value: float | None, suffix: str = "") -> str:
    """A value for people: whole numbers, halves rounded up (60.5% is 61%,
    not Python's 60%); a dash where there is none."""
    if value is None:
        return "-"
    return f"{Decimal(repr(value)).quantize(Decimal(1), rounding=ROUND_HALF_UP)}{suffix}"
