"""`storyline elections analyze`: the published analyses of one election."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

__all__ = ["analyze"]


class ReportFormat(StrEnum):
    markdown = "markdown"
    html = "html"
    both = "both"


class Criterion(StrEnum):
    best = "best"
    combined = "combined"


class Rounding(StrEnum):
    truncate = "truncate"
    round = "round"


def _parse_group(text: str) -> tuple[str, list[str]]:
    name, sep, members = text.partition("=")
    if not sep or not name.strip() or not members.strip():
        raise typer.BadParameter(f"expected NAME=CANDIDATE;CANDIDATE..., got {text!r}")
    return name.strip(), [m.strip() for m in members.split(";") if m.strip()]


def analyze(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="Ballot file.")
    ],
    seats: Annotated[int, typer.Option(min=1, help="Number of seats.")],
    fmt: Annotated[
        ReportFormat, typer.Option("--format", help="Report format(s) to write.")
    ] = ReportFormat.markdown,
    out: Annotated[
        Path, typer.Option(file_okay=False, help="Directory for the report and charts.")
    ] = Path("."),
    input_format: Annotated[
        str | None,
        typer.Option(
            help="Ballot file format (civs, civs-proportional, debian, blt); guessed when "
            "omitted, except civs-proportional."
        ),
    ] = None,
    method: Annotated[str, typer.Option(help="Rule for the official ranking.")] = "schulze",
    criterion: Annotated[
        Criterion, typer.Option(help="CIVS proportional criterion for the comparison.")
    ] = Criterion.best,
    legacy_bound: Annotated[
        bool, typer.Option(help="Use CIVS's proportional bound from before 2025-07-10.")
    ] = False,
    rounding: Annotated[
        Rounding,
        typer.Option(help="Percentages: truncate (as the 2013/2014 posts) or round."),
    ] = Rounding.truncate,
    group: Annotated[
        list[str] | None,
        typer.Option(
            help="A company block NAME=CANDIDATE;CANDIDATE... (repeatable).",
        ),
    ] = None,
    skip_blank: Annotated[
        bool, typer.Option(help="Leave ballots without any preference out of the spread.")
    ] = False,
    png: Annotated[bool, typer.Option(help="Also write PNG charts.")] = True,
) -> None:
    """Write the Condorcet spread, the proportional comparison, the partisan pairs
    and the charts of FILE as a Markdown and/or HTML report in OUT."""
    # Imported here: this module is registered from storyline.cli.elections.
    from storyline.cli.elections import FileFormat, guess_format, load
    from storyline.elections import METHODS, BallotFileError, count
    from storyline.elections.charts import ImageFormat, render_matrix, render_spread
    from storyline.elections.report import (
        MATRIX_CHART,
        SPREAD_CHART,
        analyze_election,
        build_report,
        render_html,
        render_markdown,
    )

    try:
        file_format = FileFormat(input_format) if input_format else guess_format(file)
    except ValueError:
        raise typer.BadParameter(
            f"unknown format {input_format!r}", param_hint="--input-format"
        ) from None
    groups = dict(_parse_group(g) for g in group or [])
    try:
        loaded = load(file, file_format)
    except BallotFileError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    profile = loaded.profile
    if seats > profile.num_candidates:
        typer.echo(f"error: {seats} seats for {profile.num_candidates} candidates", err=True)
        raise typer.Exit(2)
    if profile.num_voters == 0:
        typer.echo("error: the file holds no ballots", err=True)
        raise typer.Exit(2)
    unknown = sorted({m for ms in groups.values() for m in ms} - set(profile.candidates))
    if unknown:
        typer.echo(f"error: unknown candidate(s) in --group: {', '.join(unknown)}", err=True)
        raise typer.Exit(2)
    if method not in METHODS:
        raise typer.BadParameter(
            f"unknown method {method!r}; expected one of {', '.join(METHODS)}",
            param_hint="--method",
        )
    result = count(
        profile,
        method,
        default_option=loaded.default_option,
        majorities=loaded.majorities,
    )

    analysis = analyze_election(
        profile,
        result,
        seats,
        title=file.name,
        groups=groups,
        criterion="best-candidate" if criterion is Criterion.best else "combined-weights",
        legacy_bound=legacy_bound,
        skip_blank=skip_blank,
    )
    report = build_report(analysis, rounding=rounding.value)

    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def write(name: str, data: bytes | str) -> None:
        path = out / name
        if isinstance(data, str):
            path.write_text(data, encoding="utf-8")
        else:
            path.write_bytes(data)
        written.append(path)

    formats: tuple[ImageFormat, ...] = ("svg", "png") if png else ("svg",)
    for ext in formats:
        write(f"{SPREAD_CHART}.{ext}", render_spread(analysis.spread, fmt=ext, seats=seats))
        write(f"{MATRIX_CHART}.{ext}", render_matrix(result.matrix, analysis.order, fmt=ext))
    if fmt in (ReportFormat.markdown, ReportFormat.both):
        write("report.md", render_markdown(report))
    if fmt in (ReportFormat.html, ReportFormat.both):
        write("report.html", render_html(report))
    for path in written:
        typer.echo(str(path))
