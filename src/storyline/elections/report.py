"""The analysis report of one election, as Markdown or HTML.

:func:`analyze_election` gathers every analysis from a profile and an official
count; :func:`build_report` turns it into sections of paragraphs, tables and chart
references; the two renderers only format those sections, so the Markdown and
HTML reports always say the same thing.  Nothing here writes files: the caller
saves the charts under the names the report refers to.
"""

from __future__ import annotations

import html
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from fractions import Fraction

from storyline.elections.analyses import (
    BlockShare,
    PairShare,
    ProportionalComparison,
    Rounding,
    Spread,
    company_blocks,
    condorcet_spread,
    partisan_pairs,
    proportional_comparison,
)
from storyline.elections.methods.result import Result
from storyline.elections.profile import Profile
from storyline.elections.proportional import Criterion

__all__ = [
    "Analysis",
    "Image",
    "Report",
    "Section",
    "Table",
    "analyze_election",
    "build_report",
    "render_html",
    "render_markdown",
]

#: File names the report refers to; the caller writes the charts under them.
SPREAD_CHART = "spread"
MATRIX_CHART = "matrix"


@dataclass(frozen=True, slots=True)
class Analysis:
    """Everything the report shows about one election."""

    title: str
    profile: Profile
    seats: int
    result: Result
    order: tuple[str, ...]
    spread: Spread
    comparison: ProportionalComparison
    pairs: tuple[PairShare, ...]
    blocks: tuple[BlockShare, ...]


def analyze_election(
    profile: Profile,
    result: Result,
    seats: int,
    *,
    title: str = "Election",
    groups: Mapping[str, Collection[str]] | None = None,
    criterion: Criterion = "best-candidate",
    legacy_bound: bool = False,
    skip_blank: bool = False,
) -> Analysis:
    """Run every analysis, rows in the official order given by ``result``."""
    order = tuple(c for tier in result.tiers() for c in tier)
    return Analysis(
        title=title,
        profile=profile,
        seats=seats,
        result=result,
        order=order,
        spread=condorcet_spread(profile, order, skip_blank=skip_blank),
        comparison=proportional_comparison(
            profile, seats, result.ranking, criterion=criterion, legacy_bound=legacy_bound
        ),
        pairs=tuple(partisan_pairs(profile, order)),
        blocks=tuple(company_blocks(profile, groups or {})),
    )


@dataclass(frozen=True, slots=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True, slots=True)
class Image:
    """A chart, referred to by its base name; the renderer adds the extension."""

    name: str
    alt: str


Block = str | Table | Image


@dataclass(frozen=True, slots=True)
class Section:
    title: str
    blocks: tuple[Block, ...]


@dataclass(frozen=True, slots=True)
class Report:
    title: str
    sections: tuple[Section, ...]


def _mean_position(counts: list[int]) -> str:
    total = sum(counts)
    if not total:
        return "-"
    mean = sum(Fraction(2 + h, 2) * n for h, n in enumerate(counts)) / total
    return f"{float(mean):.2f}"


def build_report(
    analysis: Analysis,
    *,
    rounding: Rounding = "truncate",
    digits: int = 2,
    max_pairs: int = 20,
) -> Report:
    """The report's sections; percentages truncated by default, as the 2013/2014 posts."""
    a = analysis
    ballots = a.profile.num_voters
    winners = a.result.winners(a.seats)

    ranking_rows = []
    place = 1
    for tier in a.result.tiers():
        for name in tier:
            note = ""
            if winners.tie is not None and name in winners.tie.candidates:
                note = "tied for the last seat"
            elif name in winners.elected:
                note = "elected"
            ranking_rows.append((str(place), name, note))
        place += len(tier)
    ranking: list[Block] = [
        f"{ballots} ballots, {a.profile.num_candidates} candidates, {a.seats} seat(s); "
        f"counted with {a.result.method}.",
        Table(("Place", "Candidate", ""), tuple(ranking_rows)),
    ]
    if winners.tie is not None:
        ranking.append(
            f"A tie crosses the seat boundary: {winners.tie.seats} seat(s) among "
            f"{', '.join(sorted(winners.tie.candidates))}. It is reported, not broken."
        )

    last = a.spread.counts.shape[1] - 1
    spread_rows = tuple(
        (
            name,
            str(int(row[0])),
            str(int(row[last])),
            _mean_position([int(x) for x in row]),
        )
        for name, row in zip(a.spread.candidates, a.spread.counts, strict=True)
    )
    spread: list[Block] = [
        "Each row is a candidate, in official order; a bubble's area is the number of "
        "ballots placing the candidate at that average position (tied candidates share "
        "the average of their places; unranked candidates tie for last).",
        Image(SPREAD_CHART, "Condorcet spread"),
        Table(("Candidate", "Only first choice", "Only last choice", "Mean position"), spread_rows),
    ]

    matrix: list[Block] = [
        "Each cell counts the ballots preferring the row's candidate to the column's.",
        Image(MATRIX_CHART, "Pairwise matrix"),
    ]

    cmp = a.comparison
    prop = cmp.proportional
    normal = ", ".join(cmp.normal) or "none"
    proportional: list[Block] = [
        f"Normal top {a.seats}: {normal}"
        + (f"; tied for the remaining seat(s): {', '.join(cmp.tied)}" if cmp.tied else "")
        + ".",
    ]
    if prop.winner is None:
        proportional.append(
            "CIVS proportional mode finds several unbeaten sets: "
            + "; ".join(", ".join(prop.in_order(w)) for w in prop.winners)
            + "."
        )
    else:
        proportional.append(
            f"CIVS proportional mode ({prop.criterion}): {', '.join(prop.in_order(prop.winner))}."
        )
    if cmp.changed is None:
        proportional.append("A tie prevents a definite comparison.")
    elif cmp.changed:
        proportional.append(
            f"Proportional mode would elect {', '.join(cmp.added)} "
            f"instead of {', '.join(cmp.dropped)}."
        )
    else:
        proportional.append("Proportional mode elects the same candidates.")
    if prop.search_failed:
        proportional.append(
            "CIVS's search gave up after 500 sets, so its result may not be its best set."
        )

    shown = a.pairs[:max_pairs]
    pairs: list[Block] = [
        "Share of all ballots putting exactly that pair strictly above every other "
        f"candidate ({'truncated' if rounding == 'truncate' else 'rounded'} to {digits} "
        "decimals).",
        Table(
            ("Pair", "Ballots", "Share"),
            tuple(
                (
                    " / ".join(p.pair),
                    str(p.count),
                    p.percent(digits=digits, rounding=rounding),
                )
                for p in shown
            ),
        )
        if shown
        else "No ballot puts a pair above everyone else.",
    ]
    if len(a.pairs) > len(shown):
        pairs.append(f"{len(a.pairs) - len(shown)} more pairs with fewer ballots are not shown.")

    sections = [
        Section("Ranking", tuple(ranking)),
        Section("Condorcet spread", tuple(spread)),
        Section("Pairwise matrix", tuple(matrix)),
        Section("Proportional comparison", tuple(proportional)),
        Section("Partisan pairs", tuple(pairs)),
    ]
    if a.blocks:
        sections.append(
            Section(
                "Company blocks",
                (
                    "Share of all ballots putting every candidate of the group strictly "
                    "above every other candidate.",
                    Table(
                        ("Group", "Candidates", "Ballots", "Share"),
                        tuple(
                            (
                                b.name,
                                ", ".join(b.members),
                                str(b.count),
                                b.percent(digits=digits, rounding=rounding),
                            )
                            for b in a.blocks
                        ),
                    ),
                ),
            )
        )
    return Report(f"Election analysis: {a.title}", tuple(sections))


def _md_cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|")


def render_markdown(report: Report, *, image_format: str = "svg") -> str:
    lines = [f"# {report.title}", ""]
    for section in report.sections:
        lines += [f"## {section.title}", ""]
        for block in section.blocks:
            if isinstance(block, Table):
                lines.append("| " + " | ".join(_md_cell(h) for h in block.header) + " |")
                lines.append("|" + "---|" * len(block.header))
                lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in block.rows]
            elif isinstance(block, Image):
                lines.append(f"![{block.alt}]({block.name}.{image_format})")
            else:
                lines.append(block)
            lines.append("")
    return "\n".join(lines)


def render_html(report: Report, *, image_format: str = "svg") -> str:
    e = html.escape
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8"/>',
        f"<title>{e(report.title)}</title>",
        "<style>body{font-family:sans-serif;max-width:75rem;margin:auto;padding:1rem}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .5rem}"
        "img{max-width:100%}</style>",
        "</head><body>",
        f"<h1>{e(report.title)}</h1>",
    ]
    for section in report.sections:
        out.append(f"<h2>{e(section.title)}</h2>")
        for block in section.blocks:
            if isinstance(block, Table):
                out.append("<table><thead><tr>")
                out += [f"<th>{e(h)}</th>" for h in block.header]
                out.append("</tr></thead><tbody>")
                for row in block.rows:
                    out.append("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>")
                out.append("</tbody></table>")
            elif isinstance(block, Image):
                out.append(f'<img src="{e(block.name)}.{image_format}" alt="{e(block.alt)}"/>')
            else:
                out.append(f"<p>{e(block)}</p>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"
