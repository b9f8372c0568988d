"""/cycles/{name}/velocity: a cycle's milestones against an earlier cycle's."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

from fastapi import APIRouter, Response
from markupsafe import Markup

from storyline.elections.svg import inline_svg
from storyline.kernel.validation import Id
from storyline.releases.velocity.charts import render_velocity
from storyline.releases.velocity.report import Measures, cycle_velocity
from storyline.releases.velocity.scores import MilestoneScore, rounded
from storyline.web.rendering import PageRoute, render
from storyline.web.security import PageDep

router = APIRouter(route_class=PageRoute, include_in_schema=False)

LABELS = {"features": "Features completed", "bugs": "Bugs fixed", "commits": "Commits"}
# Drawing a chart takes a quarter of a second, and the counts behind it
# change only when stories are done or commits land: pages show the same
# charts again and again. A chart is tens of kilobytes.
CHART_CACHE = 256


@dataclass(frozen=True)
class Measure:
    label: str
    # Per milestone: number, both counts, expected and score, as shown.
    cells: list[tuple[str, ...]]
    chart: Markup


def _cells(m: MilestoneScore) -> tuple[str, ...]:
    return (
        str(m.milestone),
        str(m.baseline),
        str(m.current),
        rounded(m.expected),
        rounded(m.score, "%"),
    )


@dataclass(frozen=True)
class Row:
    kind: str
    name: str
    measures: list[Measure]
    note: str | None
    fetched_at: dt.datetime | None


@functools.lru_cache(maxsize=CHART_CACHE)
def _chart(
    milestones: tuple[MilestoneScore, ...],
    *,
    baseline: str,
    current: str,
    title: str,
    unit: str,
    prefix: str,
) -> Markup:
    svg = render_velocity(milestones, baseline=baseline, current=current, title=title, unit=unit)
    # Safe as markup: ElementTree wrote it and escaped every text in it
    # (project names included).
    return Markup(inline_svg(svg, prefix=prefix))


def chart_row(row: Measures, baseline: str, current: str) -> Row:
    """A row's tables and charts, as the velocity page and the cycle page show them."""
    measures = []
    for key, milestones in (
        ("features", row.features),
        ("bugs", row.bugs),
        ("commits", row.commits),
    ):
        if not milestones:
            continue
        chart = _chart(
            tuple(milestones),
            baseline=baseline,
            current=current,
            title=f"{row.name}: {LABELS[key]}",
            unit=LABELS[key],
            prefix=f"{row.kind}{row.id}-{key}-",
        )
        measures.append(Measure(LABELS[key], [_cells(m) for m in milestones], chart))
    return Row(row.kind, row.name, measures, row.commits_note, row.commits_fetched_at)


@router.get("/cycles/{name}/velocity")
def velocity_page(
    ctx: PageDep,
    name: str,
    baseline: str | None = None,
    project_id: Id | None = None,
    project_group_id: Id | None = None,
) -> Response:
    with ctx.container.db.read() as session:
        result = cycle_velocity(
            session,
            actor=ctx.actor,
            cycle_ref=name,
            baseline_ref=baseline or None,
            project_id=project_id,
            project_group_id=project_group_id,
            data_dir=ctx.container.settings.data_dir,
        )
    current, earlier = result.cycle.name, result.baseline.name
    return render(
        ctx,
        "releases/velocity.html",
        result=result,
        rows=[chart_row(r, earlier, current) for r in [*result.groups, *result.projects]],
    )
