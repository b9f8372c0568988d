"""/v1/cycles/{id}/reports: the projects' weekly status reports."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from storyline.api.deps import ContextDep, PageDep, Timestamp, set_page_headers
from storyline.api.preconditions import IfMatch, IfMatchDep
from storyline.kernel import markdown
from storyline.kernel.validation import Id
from storyline.releases import cycles
from storyline.releases import reports as service
from storyline.releases.models import Cycle, StatusReport
from storyline.releases.reports import ReportIn

router = APIRouter(prefix="/cycles/{cycle_id}/reports", tags=["release cycles"])


class ReportOut(BaseModel):
    id: int
    cycle_id: int
    project_id: int
    # The Monday of the week reported on.
    week: dt.date
    author_id: int | None
    content: str
    # `content` rendered from Markdown, sanitized.
    html: str
    created_at: Timestamp
    updated_at: Timestamp | None

    @classmethod
    def of(cls, report: StatusReport) -> ReportOut:
        return cls(
            id=report.id,
            cycle_id=report.cycle_id,
            project_id=report.project_id,
            week=report.week,
            author_id=report.author_id,
            content=report.content,
            html=markdown.render(report.content),
            created_at=report.created_at,
            updated_at=report.updated_at,
        )


@router.get("", response_model=list[ReportOut])
def list_reports(
    ctx: ContextDep,
    paging: PageDep,
    response: Response,
    cycle_id: Id,
    week: dt.date | None = None,
    project_id: Id | None = None,
) -> Any:
    """The cycle's reports, of one week (a Monday) or one project if asked."""
    with ctx.db.read() as session:
        cycle = cycles.get_cycle(session, cycle_id)
        page = service.list_reports(
            session,
            cycle=cycle,
            page=paging.request(ctx.settings),
            week=week,
            project_id=project_id,
        )
    set_page_headers(response, page)
    return [ReportOut.of(report) for report in page.items]


@router.get("/{project_id}/{week}", response_model=ReportOut)
def get_report(ctx: ContextDep, cycle_id: Id, project_id: Id, week: dt.date) -> Any:
    with ctx.db.read() as session:
        cycle = cycles.get_cycle(session, cycle_id)
        return ReportOut.of(
            service.get_report(session, cycle=cycle, project_id=project_id, week=week)
        )


def _checked(
    session: Session, if_match: IfMatch, cycle_id: int, project_id: int, week: dt.date
) -> Cycle:
    cycle = cycles.get_cycle(session, cycle_id)
    # The report's writers lock its cycle's row (a report may not exist yet).
    if_match.check(
        session,
        Cycle.id,
        cycle.id,
        lambda: ReportOut.of(
            service.get_report(session, cycle=cycle, project_id=project_id, week=week)
        ),
    )
    return cycle


@router.put("/{project_id}/{week}", response_model=ReportOut)
def put_report(
    ctx: ContextDep,
    cycle_id: Id,
    project_id: Id,
    week: dt.date,
    body: ReportIn,
    if_match: IfMatchDep,
) -> Any:
    """Write (or rewrite) the project's report of the week: `week` is a
    Monday of the cycle. The project's leads, the cycle's release managers
    and administrators may."""
    with ctx.db.write() as session:
        cycle = _checked(session, if_match, cycle_id, project_id, week)
        report = service.put_report(
            session, actor=ctx.actor, cycle=cycle, project_id=project_id, week=week, data=body
        )
        return ReportOut.of(report)


@router.delete("/{project_id}/{week}", status_code=204)
def delete_report(
    ctx: ContextDep, cycle_id: Id, project_id: Id, week: dt.date, if_match: IfMatchDep
) -> Response:
    with ctx.db.write() as session:
        cycle = _checked(session, if_match, cycle_id, project_id, week)
        service.delete_report(
            session, actor=ctx.actor, cycle=cycle, project_id=project_id, week=week
        )
    return Response(status_code=204)
