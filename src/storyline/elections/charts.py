"""Charts of an election, rendered to SVG or PNG bytes with matplotlib.

Figures are built on matplotlib's object API with the Agg canvas attached
explicitly: nothing touches ``pyplot``'s global state or needs a display, so the
server, the worker and the CLI can all render charts in parallel.  Sizes grow with
the number of candidates so that 25 names stay legible.
"""

from __future__ import annotations

import html
import io
from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, Literal

import matplotlib
import numpy as np
import numpy.typing as npt
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure

from storyline.elections.analyses import Spread
from storyline.elections.profile import PairwiseMatrix

__all__ = [
    "ImageFormat",
    "chart_style",
    "label_svg",
    "render_matrix",
    "render_spread",
    "save_figure",
]

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
    title = title or "Pairwise preferences (row over column)"
    if fmt == "svg":
        return _matrix_svg(names, d, margins, limit, title).encode("utf-8")
    with chart_style():
        side = max(4.0, 1.8 + 0.42 * n)
        fig = Figure(figsize=(side + 1.5, side))
        ax = fig.add_subplot()
        # NaN leaves the diagonal blank: a candidate is not compared with itself.
        np.fill_diagonal(margins, np.nan)
        image = ax.imshow(margins, cmap=_MARGIN_COLOURS, norm=_margin_norm(limit), aspect="equal")
        fontsize = 7 if n <= 15 else 5.5
        for i in range(n):
            for j in range(n):
                if i != j:
                    ax.text(j, i, str(int(d[i, j])), ha="center", va="center", fontsize=fontsize)
        ax.set_xticks(range(n), labels=names, rotation=90)
        ax.set_yticks(range(n), labels=names)
        ax.tick_params(top=True, labeltop=True, bottom=False, labelbottom=False)
        fig.colorbar(image, ax=ax, shrink=0.6, label="Margin (row minus column)")
        ax.set_title(title, pad=12)
        return save_figure(fig, fmt)


_MARGIN_COLOURS = "RdYlGn"


def _margin_norm(limit: float) -> TwoSlopeNorm:
    return TwoSlopeNorm(0.0, -limit, limit)


# Sizes of the SVG heat map, in pixels.  Text widths are estimated from the
# number of characters (no font is measured), generously, so names never overlap.
_CELL = 24
_FONT = 11
_CHAR = 0.62 * _FONT


def _matrix_svg(
    names: list[str],
    d: npt.NDArray[np.int64],
    margins: npt.NDArray[np.float64],
    limit: float,
    title: str,
) -> str:
    """The heat map written directly as SVG elements.

    matplotlib lays out every text with FreeType, about a millisecond each: a
    30-candidate matrix has 870 numbers and took a second to draw.  A grid of
    rectangles and texts needs no layout engine, so the SVG form is written
    here (in 10 ms), in the same colours; the PNG form stays on matplotlib.
    """
    e = html.escape
    n = len(names)
    label = int(max((len(c) for c in names), default=1) * _CHAR) + 8
    top = 28 + label
    left = label
    legend = 26
    width = left + n * _CELL + legend + 70
    height = max(top + n * _CELL + 10, 200)
    cmap = matplotlib.colormaps[_MARGIN_COLOURS]
    colours = cmap(_margin_norm(limit)(margins)) if n else np.zeros((0, 0, 4))
    cell_font = 9 if n <= 15 else 8
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans, sans-serif" '
        f'font-size="{_FONT}">',
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        f'<text x="{left + n * _CELL / 2:.1f}" y="16" text-anchor="middle" '
        f'font-size="{_FONT + 1}">{e(title)}</text>',
    ]
    for k, name in enumerate(names):
        middle = k * _CELL + _CELL / 2
        out.append(
            f'<text x="{left - 4}" y="{top + middle:.1f}" text-anchor="end" '
            f'dominant-baseline="central">{e(name)}</text>'
        )
        out.append(
            f'<text transform="translate({left + middle:.1f},{top - 4}) rotate(-90)" '
            f'dominant-baseline="central">{e(name)}</text>'
        )
    for i in range(n):
        for j in range(n):
            x, y = left + j * _CELL, top + i * _CELL
            if i == j:
                out.append(
                    f'<rect x="{x}" y="{y}" width="{_CELL}" height="{_CELL}" fill="#ffffff" '
                    'stroke="#dddddd"/>'
                )
                continue
            r, g, b = (round(255 * v) for v in colours[i, j, :3])
            out.append(
                f'<rect x="{x}" y="{y}" width="{_CELL}" height="{_CELL}" '
                f'fill="#{r:02x}{g:02x}{b:02x}"/>'
                f'<text x="{x + _CELL / 2:.1f}" y="{y + _CELL / 2:.1f}" text-anchor="middle" '
                f'dominant-baseline="central" font-size="{cell_font}">{int(d[i, j])}</text>'
            )
    # The colour scale: red (the row loses by the largest margin) to green.
    bar_x, bar_h = left + n * _CELL + 16, max(n * _CELL, 120)
    stops = "".join(
        '<stop offset="{:.2f}" stop-color="#{:02x}{:02x}{:02x}"/>'.format(
            1 - t, *(round(255 * v) for v in cmap(t)[:3])
        )
        for t in np.linspace(0.0, 1.0, 9)
    )
    out += [
        f'<defs><linearGradient id="margin-scale" x1="0" y1="0" x2="0" y2="1">{stops}'
        "</linearGradient></defs>",
        f'<rect x="{bar_x}" y="{top}" width="{legend / 2:.0f}" height="{bar_h}" '
        'fill="url(#margin-scale)"/>',
        f'<text x="{bar_x + legend / 2 + 4:.0f}" y="{top + 6}">+{int(limit)}</text>',
        f'<text x="{bar_x + legend / 2 + 4:.0f}" y="{top + bar_h / 2:.1f}" '
        'dominant-baseline="central">0</text>',
        f'<text x="{bar_x + legend / 2 + 4:.0f}" y="{top + bar_h}">-{int(limit)}</text>',
        f'<text transform="translate({bar_x - 4},{top + bar_h / 2:.1f}) rotate(-90)" '
        'text-anchor="middle" font-size="9">Margin (row minus column)</text>',
        "</svg>",
    ]
    return "\n".join(out) + "\n"


def label_svg(svg: bytes, *, name: str, title: str, description: str) -> str:
    """``svg`` named and described for screen readers: ``role="img"``, a
    ``<title>`` and a ``<desc>`` that the root element points to.

    The ids carry ``name``, so several charts can be inlined in one page.
    """
    text = svg.decode("utf-8")
    start = text.index("<svg")
    end = text.index(">", start)
    title_id, desc_id = f"chart-{name}-title", f"chart-{name}-desc"
    opening = (
        text[start:end].rstrip("/")
        + f' role="img" aria-labelledby="{title_id}" aria-describedby="{desc_id}">'
    )
    labels = (
        f'<title id="{title_id}">{html.escape(title)}</title>'
        f'<desc id="{desc_id}">{html.escape(description)}</desc>'
    )
    return text[:start] + opening + labels + text[end + 1 :]
