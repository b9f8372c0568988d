"""Charts of an election, rendered to SVG or PNG bytes with matplotlib.

Figures are built on matplotlib's object API with the Agg canvas attached
explicitly: nothing touches ``pyplot``'s global state or needs a display, so the
server, the worker and the CLI can all render charts in parallel.  Sizes grow with
the number of candidates so that 25 names stay legible.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, Literal

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure

from storyline.elections.analyses import Spread
from storyline.elections.profile import PairwiseMatrix

__all__ = ["ImageFormat", "chart_style", "render_matrix", "render_spread", "save_figure"]

ImageFormat = Literal["svg", "png"]


def chart_style() -> AbstractContextManager[None]:
    """The settings every chart of Storyline is drawn with (the velocity
    charts of `storyline.releases` too)."""
    # Text stays text in SVG (searchable, selectable, testable) and the file is
    # the same on every run, so reports can be diffed and cached.
    return matplotlib.rc_context(
        {"svg.fonttype": "none", "svg.hashsalt": "storyline", "font.size": 9}
    )


def save_figure(fig: Figure, fmt: ImageFormat) -> bytes:
    """The figure as SVG or PNG bytes, without the date, so identical charts
    are identical files."""
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    metadata: dict[str, Any] = {"Date": None} if fmt == "svg" else {"Software": None}
    fig.savefig(buf, format=fmt, dpi=150, metadata=metadata, bbox_inches="tight")
    return buf.getvalue()


def render_spread(
    spread: Spread,
    *,
    fmt: ImageFormat = "svg",
    seats: int = 0,
    title: str | None = None,
) -> bytes:
    """The Condorcet spread as a bubble chart: area = ballots at that position.

    Rows follow ``spread.candidates`` top to bottom (official order, winners on
    top); a line separates the first ``seats`` rows.
    """
    n, cols = spread.counts.shape
    with chart_style():
        fig = Figure(figsize=(max(6.0, 2.5 + 0.22 * cols), max(3.0, 1.2 + 0.3 * n)))
        ax = fig.add_subplot()
        ys, xs = np.nonzero(spread.counts)
        values = spread.counts[ys, xs]
        peak = int(values.max()) if len(values) else 1
        # The biggest bubble fills about one row; area, not radius, tracks the count.
        ax.scatter(
            1 + xs / 2,
            ys,
            s=values / peak * 260.0,
            alpha=0.6,
            color="#2a6fba",
            edgecolors="#174a80",
            linewidths=0.5,
        )
        ax.set_yticks(range(n), labels=list(spread.candidates))
        ax.set_ylim(n - 0.4, -0.6)
        top = (cols + 1) / 2
        ax.set_xticks(np.arange(1, int(top) + 1))
        ax.set_xlim(0.5, top + 0.5)
        ax.set_xlabel("Average position on the ballot (1 = only first choice)")
        ax.grid(axis="x", color="#dddddd", linewidth=0.5)
        ax.set_axisbelow(True)
        if 0 < seats < n:
            ax.axhline(seats - 0.5, color="#999999", linewidth=0.8, linestyle="--")
        for label in ax.get_yticklabels()[: min(seats, n)]:
            label.set_fontweight("bold")
        ax.set_title(title or f"Condorcet spread ({spread.num_ballots} ballots)")
        return save_figure(fig, fmt)


def render_matrix(
    matrix: PairwiseMatrix,
    order: Sequence[str] | None = None,
    *,
    fmt: ImageFormat = "svg",
    title: str | None = None,
) -> bytes:
    """The pairwise matrix as a heat map, rows and columns in ``order``.

    Cell (row, column) shows the ballots preferring the row to the column; its
    colour is the margin, green for a win and red for a loss as on CIVS pages.
    """
    names = list(order) if order is not None else list(matrix.candidates)
    idx = [matrix.candidates.index(c) for c in names]
    d = matrix.d[np.ix_(idx, idx)]
    margins = (d - d.T).astype(float)
    n = len(names)
    limit = max(float(np.abs(margins).max()), 1.0) if n else 1.0
    with chart_style():
        side = max(4.0, 1.8 + 0.42 * n)
        fig = Figure(figsize=(side + 1.5, side))
        ax = fig.add_subplot()
        # NaN leaves the diagonal blank: a candidate is not compared with itself.
        np.fill_diagonal(margins, np.nan)
        image = ax.imshow(
            margins, cmap="RdYlGn", norm=TwoSlopeNorm(0.0, -limit, limit), aspect="equal"
        )
        fontsize = 7 if n <= 15 else 5.5
        for i in range(n):
            for j in range(n):
                if i != j:
                    ax.text(j, i, str(int(d[i, j])), ha="center", va="center", fontsize=fontsize)
        ax.set_xticks(range(n), labels=names, rotation=90)
        ax.set_yticks(range(n), labels=names)
        ax.tick_params(top=True, labeltop=True, bottom=False, labelbottom=False)
        fig.colorbar(image, ax=ax, shrink=0.6, label="Margin (row minus column)")
        ax.set_title(title or "Pairwise preferences (row over column)", pad=12)
        return save_figure(fig, fmt)
