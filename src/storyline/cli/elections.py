"""`storyline elections`: count ranked-ballot elections from their ballot files."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from storyline.cli.elections_analyze import analyze
from storyline.elections import (
    BallotFileError,
    MethodName,
    Profile,
    Result,
    TieRule,
    count,
    document_to_text,
    proportional_to_json,
    read_blt,
    read_civs,
    read_debian,
    result_to_json,
)

app = typer.Typer(
    help="Count elections exactly as CIVS and Debian do, from ballot files or held in the tracker.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


@app.callback()
def elections() -> None:
    """Count elections exactly as CIVS and Debian do, from ballot files or held in the tracker."""


app.command("analyze")(analyze)


class FileFormat(StrEnum):
    civs = "civs"
    civs_proportional = "civs-proportional"
    debian = "debian"
    blt = "blt"


class Method(StrEnum):
    schulze = "schulze"
    ranked_pairs = "ranked-pairs"
    mam = "mam"
    minimax_pm = "minimax-pm"
    condorcet_irv = "condorcet-irv"
    debian = "debian"


class Proportional(StrEnum):
    best = "best"
    combined = "combined"


class IrvTieRule(StrEnum):
    current = "current"
    pre_2024 = "pre-2024"


class LoadedFile:
    """A ballot file read into a profile, with what the format itself says."""

    def __init__(
        self,
        profile: Profile,
        *,
        seats: int | None = None,
        default_option: str | None = None,
        majorities: dict[str, Any] | None = None,
    ) -> None:
        self.profile = profile
        self.seats = seats
        self.default_option = default_option
        self.majorities = majorities


def guess_format(path: Path) -> FileFormat:
    """BLT by extension, Debian by its ``V:`` lines, otherwise CIVS.

    A proportional CIVS file cannot be told from a normal one, so it is never guessed.
    """
    if path.suffix.lower() == ".blt":
        return FileFormat.blt
    head = path.read_text(encoding="utf-8-sig", errors="replace")[:20000]
    if "\nV:" in head or "Tally Sheet" in head:
        return FileFormat.debian
    return FileFormat.civs


def load(path: Path, fmt: FileFormat) -> LoadedFile:
    """Read ``path`` in format ``fmt``."""
    if fmt is FileFormat.blt:
        blt = read_blt(path)
        return LoadedFile(blt.profile, seats=blt.seats)
    if fmt is FileFormat.debian:
        tally = read_debian(path)
        return LoadedFile(
            tally.profile, default_option=tally.default_option, majorities=tally.majorities
        )
    return LoadedFile(read_civs(path, proportional=fmt is FileFormat.civs_proportional))


def render(result: Result, seats: int) -> str:
    """The human-readable form of a count: tiers, winners, boundary tie, matrix."""
    return document_to_text(result_to_json(result, seats))


def render_proportional(
    profile: Profile, seats: int, criterion: Proportional, as_json: bool
) -> str:
    from storyline.elections.proportional import civs_proportional

    result = civs_proportional(
        profile,
        seats,
        criterion="best-candidate" if criterion is Proportional.best else "combined-weights",
    )
    if as_json:
        return json.dumps(proportional_to_json(result), indent=2)
    winners = [result.in_order(c) for c in result.winners]
    lines = [f"Proportional ({criterion.value}) winning set(s) of {seats}:"]
    lines += ["  " + ", ".join(w) for w in winners]
    if result.search_failed:
        lines.append("The search for the best set gave up after 500 sets, as CIVS does.")
    return "\n".join(lines)


@app.command("count")
def count_command(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="Ballot file.")
    ],
    fmt: Annotated[
        FileFormat | None,
        typer.Option(
            "--format",
            help="Ballot file format; guessed when omitted, except civs-proportional, "
            "which must be given because the file cannot say so.",
        ),
    ] = None,
    method: Annotated[
        Method | None,
        typer.Option(help="Completion rule (default: debian for Debian tallies, else schulze)."),
    ] = None,
    seats: Annotated[
        int | None, typer.Option(min=1, help="Number of winners (default: BLT's, else 1).")
    ] = None,
    proportional: Annotated[
        Proportional | None,
        typer.Option(help="Choose the winners with CIVS's proportional mode instead."),
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="Seed for MAM and pre-2024 Condorcet-IRV draws.")
    ] = None,
    irv_tie_rule: Annotated[
        IrvTieRule, typer.Option(help="Condorcet-IRV's tie rule: CIVS since 2024, or before.")
    ] = IrvTieRule.current,
    quorum: Annotated[
        float | None, typer.Option(help="Debian quorum R (3/2 x sqrt(developers)).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON result.")] = False,
) -> None:
    """Count FILE and print the ranking, the winners, any tie at the seat boundary
    and the pairwise matrix."""
    fmt = fmt or guess_format(file)
    try:
        loaded = load(file, fmt)
    except BallotFileError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    k = seats or loaded.seats or 1
    if k > loaded.profile.num_candidates:
        typer.echo(f"error: {k} seats for {loaded.profile.num_candidates} candidates", err=True)
        raise typer.Exit(2)
    if proportional is not None:
        typer.echo(render_proportional(loaded.profile, k, proportional, as_json))
        return
    chosen = method or (Method.debian if fmt is FileFormat.debian else Method.schulze)
    method_name: MethodName = chosen.value
    tie_rule: TieRule = irv_tie_rule.value
    result = count(
        loaded.profile,
        method_name,
        seed=seed,
        tie_rule=tie_rule,
        default_option=loaded.default_option,
        quorum=quorum,
        majorities=loaded.majorities,
    )
    if as_json:
        typer.echo(json.dumps(result_to_json(result, k), indent=2))
    else:
        typer.echo(render(result, k))
