"""Velocity charts as SVG, drawn as the election charts are
(`storyline.elections.charts`: matplotlib's object API, no global state).

One figure per project: on the left the count of each milestone in both
cycles, with the expected value drawn over the current cycle's bar; on the
right each milestone's score against the 100% line.
"""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.figure import Figure

from storyline.elections.charts import chart_style, save_figure
from storyline.releases.velocity.scores import MilestoneScore, rounded

__all__ = ["render_velocity"]

BASELINE_COLOUR = "#9db8d9"
CURRENT_COLOUR = "#2a6fba"
BAR_WIDTH = 0.38


def render_velocity(
    milestones: Sequence[MilestoneScore],
    *,
    baseline: str,
    current: str,
    title: str,
    unit: str = "Commits without merges",
) -> bytes:
    """The chart of one project (or group) as SVG bytes."""
    numbers = [m.milestone for m in milestones]
    with chart_style():
        fig = Figure(figsize=(max(7.0, 3.0 + 1.1 * len(numbers)), 3.6), layout="constrained")
        counts, scores = fig.subplots(1, 2, width_ratios=(3, 2))
        left = [n - BAR_WIDTH / 2 for n in numbers]
        right = [n + BAR_WIDTH / 2 for n in numbers]
        for xs, values, label, colour in (
            (left, [m.baseline for m in milestones], baseline, BASELINE_COLOUR),
            (right, [m.current for m in milestones], current, CURRENT_COLOUR),
        ):
            bars = counts.bar(xs, values, BAR_WIDTH, label=label, color=colour)
            counts.bar_label(bars, fontsize=7)
        expected = [
            (x, m.expected)
            for x, m in zip(right, milestones, strict=True)
            if m.expected is not None
        ]
        if expected:
            counts.scatter(
                [x for x, _ in expected],
                [e for _, e in expected],
                marker="_",
                s=400,
                color="#d9822b",
                label="expected",
                zorder=3,
            )
        counts.set_xticks(numbers, labels=[f"m{n}" for n in numbers])
        counts.set_ylabel(unit)
        counts.legend(fontsize=7, frameon=False, loc="lower left", bbox_to_anchor=(0, 1), ncols=3)
        counts.grid(axis="y", color="#dddddd", linewidth=0.5)
        counts.set_axisbelow(True)

        scored = [m for m in milestones if m.score is not None]
        score_bars = scores.bar(
            [m.milestone for m in scored],
            [m.score or 0.0 for m in scored],
            0.6,
            color=[CURRENT_COLOUR if (m.score or 0) >= 100 else "#c0504d" for m in scored],
        )
        scores.bar_label(score_bars, labels=[rounded(m.score, "%") for m in scored], fontsize=7)
        scores.axhline(100, color="#999999", linewidth=0.8, linestyle="--")
        scores.set_xticks(numbers, labels=[f"m{n}" for n in numbers])
        scores.set_xlim(min(numbers) - 0.5, max(numbers) + 0.5)
        scores.set_ylabel("Score (% of expected)")
        scores.grid(axis="y", color="#dddddd", linewidth=0.5)
        scores.set_axisbelow(True)
        fig.suptitle(title)
        return save_figure(fig, "svg")
