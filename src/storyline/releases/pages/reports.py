"""The weekly status reports of a cycle: every project's report of one week
together, for the status meeting, with a form for each project the reader
may write for."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Form, Response

from storyline.errors import InvalidInput
from storyline.kernel import markdown
from storyline.kernel.validation import Id, validate
from storyline.releases import cycles
from storyline.releases import reports as service
from storyline.releases.reports import ReportIn
from storyline.web.rendering import PageRoute, field_errors, redirect, render
from storyline.web.security import FormDep, PageContext, PageDep

router = APIRouter(route_class=PageRoute, include_in_schema=False)
WEEK = dt.timedelta(days=7)


def _week(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput.field("week", f"{value!r} is not a date (YYYY-MM-DD)") from None


def _page(
    ctx: PageContext,
    name: str,
    week: dt.date | None,
    *,
    status: int = 200,
    typed: dict[int, str] | None = None,
    errors: dict[int, dict[str, str]] | None = None,
) -> Response:
    with ctx.container.db.read() as session:
        cycle = cycles.get_cycle(session, name)
        week = week or service.current_week(cycle)
        rows = service.week_reports(session, actor=ctx.actor, cycle=cycle, week=week)
        first, last = service.weeks(cycle)
        return render(
            ctx,
            "releases/reports.html",
            status=status,
            cycle=cycle,
            week=week,
            previous=week - WEEK if week > first else None,
            next=week + WEEK if week < last else None,
            rows=rows,
            html={r.project.id: markdown.render(r.report.content) for r in rows if r.report},
            typed=typed or {},
            errors=errors or {},
            limit=service.MAX_CONTENT,
        )


@router.get("/cycles/{name}/reports")
def reports_page(ctx: PageDep, name: str, week: str = "") -> Response:
    return _page(ctx, name, _week(week) if week else None)


@router.post("/cycles/{name}/reports/{project_id:int}/{week}")
def write_report(
    ctx: FormDep, name: str, project_id: Id, week: str, content: Annotated[str, Form()] = ""
) -> Response:
    day = _week(week)
    try:
        data = validate(ReportIn, {"content": content})
        with ctx.container.db.write() as session:
            cycle = cycles.get_cycle(session, name)
            service.put_report(
                session, actor=ctx.actor, cycle=cycle, project_id=project_id, week=day, data=data
            )
    except InvalidInput as error:
        # The form comes back with what was typed and the reason next to it.
        return _page(
            ctx, name, day, status=400, typed={project_id: content},
            errors={project_id: field_errors(error)},
        )  # fmt: skip
    return redirect(ctx, f"/cycles/{name}/reports?week={day.isoformat()}#project-{project_id}")


@router.post("/cycles/{name}/reports/{project_id:int}/{week}/delete")
def delete_report(ctx: FormDep, name: str, project_id: Id, week: str) -> Response:
    day = _week(week)
    with ctx.container.db.write() as session:
        cycle = cycles.get_cycle(session, name)
        service.delete_report(
            session, actor=ctx.actor, cycle=cycle, project_id=project_id, week=day
        )
    return redirect(ctx, f"/cycles/{name}/reports?week={day.isoformat()}#project-{project_id}")


__all__ = ["router"]
