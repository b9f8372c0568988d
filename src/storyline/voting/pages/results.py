"""The results page: the document `storyline.voting.ballots.read_results`
answers (the same as `GET /v1/elections/{id}/results`), laid out for
people, with the Condorcet spread inlined as a described SVG."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from markupsafe import Markup

from storyline.elections.svg import inline_svg
from storyline.kernel.validation import Id
from storyline.voting import ballots, elections, results
from storyline.voting.models import CLOSED
from storyline.web.rendering import PageRoute, render
from storyline.web.security import PageDep

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _charts(document: dict[str, Any]) -> dict[str, Markup]:
    if not document.get("ballots"):
        return {}
    return {
        # Safe as markup: the charts are written by our code, their texts escaped.
        name: Markup(inline_svg(svg, prefix=f"{name}-"))
        # The page shows the matrix as a table: only the spread is drawn.
        for name, svg in results.charts(document, ("spread",)).items()
    }


def _matrix_rows(document: dict[str, Any]) -> list[tuple[str, list[tuple[str, int, int]]]]:
    """The pairwise matrix in the ranking's order: for each row candidate,
    (column candidate, ballots preferring row, ballots preferring column)."""
    names: list[str] = list(document["candidates"])
    index = {name: i for i, name in enumerate(names)}
    order = list(document.get("spread", {}).get("candidates") or names)
    d = document["pairwise"]
    return [
        (row, [(col, d[index[row]][index[col]], d[index[col]][index[row]]) for col in order])
        for row in order
    ]


@router.get("/elections/{election_id}/results")
def results_page(ctx: PageDep, election_id: Id) -> Response:
    with ctx.container.db.read() as session:
        election = elections.get_election(session, actor=ctx.actor, election_id=election_id)
        document = ballots.read_results(session, actor=ctx.actor, election_id=election_id)
    return render(
        ctx,
        "voting/results.html",
        election=election,
        document=document,
        winners=set(document.get("winners") or []),
        proportional_count=str(document.get("method", "")).startswith("civs-proportional"),
        matrix=_matrix_rows(document) if document.get("pairwise") else [],
        charts=_charts(document),
        ballot_file=election.state == CLOSED,
    )
