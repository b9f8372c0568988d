"""Weekly status reports: one short report per project per cycle per week,
so that a cross-project status meeting reads them instead of going round
the table.

A week is named by its Monday; a report may be written for any week that
overlaps the cycle. The project's leads write it (the `lead` role on the
project, or on one of its groups), and so may the cycle's release managers
and administrators, to fill in for an absent lead. Reports are public, like
the cycles and schedules they belong to.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ColumnElement, false, select, true
from sqlalchemy.orm import Session

from storyline.errors import InvalidInput, NotFound, PermissionDenied
from storyline.kernel import roles
from storyline.kernel.access import Actor, require_user
from storyline.kernel.grants import holds
from storyline.kernel.paging import Page, PageRequest, paginate
from storyline.releases import cycles
from storyline.releases.models import (
    CYCLE_ROLES,
    PROJECT_LEAD,
    PROJECT_ROLES,
    RELEASE_MANAGER,
    Cycle,
    Series,
    StatusReport,
)
from storyline.tracker.models import Project

# A report is read aloud in a meeting, not a design document.
MAX_CONTENT = 5_000

REPORT_SORT = {
    "id": StatusReport.id,
    "week": StatusReport.week,
    "project_id": StatusReport.project_id,
    "updated_at": StatusReport.updated_at,
}


class ReportIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    # Markdown, rendered safely (`kernel.markdown`) wherever it is shown.
    content: str = Field(min_length=1, max_length=MAX_CONTENT)


def monday_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def weeks(cycle: Cycle) -> tuple[dt.date, dt.date]:
    """The first and last Mondays of weeks that overlap the cycle."""
    return monday_of(cycle.starts_on), monday_of(cycle.releases_on)


def check_week(cycle: Cycle, week: dt.date) -> dt.date:
    if week.weekday() != 0:
        raise InvalidInput.field(
            "week", f"{week} is a {week:%A}; a week is named by its Monday ({monday_of(week)})"
        )
    first, last = weeks(cycle)
    if not first <= week <= last:
        raise InvalidInput.field(
            "week", f"cycle {cycle.name} runs from the week of {first} to the week of {last}"
        )
    return week


def current_week(cycle: Cycle, today: dt.date | None = None) -> dt.date:
    """This week, or the cycle's nearest week when today is outside it."""
    first, last = weeks(cycle)
    return min(max(monday_of(today or dt.datetime.now(dt.UTC).date()), first), last)


# Reading


def list_reports(
    session: Session,
    *,
    cycle: Cycle,
    page: PageRequest,
    week: dt.date | None = None,
    project_id: int | None = None,
) -> Page[StatusReport]:
    stmt = select(StatusReport).where(StatusReport.cycle_id == cycle.id)
    if week is not None:
        stmt = stmt.where(StatusReport.week == week)
    if project_id is not None:
        stmt = stmt.where(StatusReport.project_id == project_id)
    return paginate(session, stmt, model=StatusReport, page=page, sortable=REPORT_SORT)


@dataclass(frozen=True)
class WeekRow:
    project: Project
    report: StatusReport | None
    # Whether the reader may write this project's report.
    writable: bool


def week_reports(session: Session, *, actor: Actor, cycle: Cycle, week: dt.date) -> list[WeekRow]:
    """Every project of the cycle, by name, with its report of the week (or
    none) and whether `actor` may write it: one query."""
    check_week(cycle, week)
    writable = _writable_clause(session, actor, cycle)
    rows = session.execute(
        select(Project, StatusReport, writable)
        .join(Series, Series.project_id == Project.id)
        .outerjoin(
            StatusReport,
            (StatusReport.project_id == Project.id)
            & (StatusReport.cycle_id == cycle.id)
            & (StatusReport.week == week),
        )
        .where(Series.cycle_id == cycle.id)
        .order_by(Project.name)
    )
    return [WeekRow(project=p, report=r, writable=bool(w)) for p, r, w in rows]


def _writable_clause(session: Session, actor: Actor, cycle: Cycle) -> ColumnElement[bool]:
    if actor.user_id is None or not actor.can_write:
        return false()
    if actor.is_superuser or _manages(session, actor, cycle):
        return true()
    return holds(PROJECT_ROLES, actor.user_id, Project.id, [PROJECT_LEAD])


def _manages(session: Session, actor: Actor, cycle: Cycle) -> bool:
    return roles.held(session, CYCLE_ROLES, actor=actor, object_id=cycle.id, role=RELEASE_MANAGER)


def may_write(session: Session, *, actor: Actor, cycle: Cycle, project_id: int) -> bool:
    if actor.is_superuser or _manages(session, actor, cycle):
        return True
    return roles.held(session, PROJECT_ROLES, actor=actor, object_id=project_id, role=PROJECT_LEAD)


# Writing


def _require_writer(session: Session, actor: Actor, cycle: Cycle, project_id: int) -> int:
    user_id = require_user(actor)
    if cycles.series_of(session, cycle.id, project_id) is None:
        raise NotFound(
            f"Project {project_id} does not take part in cycle {cycle.name}.",
            details={"resource": "project", "id": str(project_id)},
        )
    if not may_write(session, actor=actor, cycle=cycle, project_id=project_id):
        raise PermissionDenied(
            "Only the project's leads (or the cycle's release managers) may write its reports."
        )
    return user_id


def get_report(session: Session, *, cycle: Cycle, project_id: int, week: dt.date) -> StatusReport:
    report = session.scalar(
        select(StatusReport).where(
            StatusReport.cycle_id == cycle.id,
            StatusReport.project_id == project_id,
            StatusReport.week == week,
        )
    )
    if report is None:
        raise NotFound.of("report", f"{cycle.name}/{project_id}/{week}")
    return report


def put_report(
    session: Session,
    *,
    actor: Actor,
    cycle: Cycle,
    project_id: int,
    week: dt.date,
    data: ReportIn,
) -> StatusReport:
    """Write the project's report of the week, or rewrite it."""
    user_id = _require_writer(session, actor, cycle, project_id)
    check_week(cycle, week)
    try:
        report = get_report(session, cycle=cycle, project_id=project_id, week=week)
    except NotFound:
        report = StatusReport(cycle_id=cycle.id, project_id=project_id, week=week)
        session.add(report)
    report.content = data.content
    report.author_id = user_id
    session.flush()
    return report


def delete_report(
    session: Session, *, actor: Actor, cycle: Cycle, project_id: int, week: dt.date
) -> None:
    _require_writer(session, actor, cycle, project_id)
    session.delete(get_report(session, cycle=cycle, project_id=project_id, week=week))
    session.flush()
