"""The cycle pages: the list of cycles (and opening one), a cycle's page
(with its freeze exceptions, this week's status reports and its velocity,
each read through the service of its own page), its week-by-week schedule
(adding entries and projects), its iCalendar feed, and the stable support
table.

Cycles are public plans; the forms call the services the API calls, which
decide who may change what (superusers open cycles; release managers
change a cycle's schedule and series).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Form, Path, Response
from sqlalchemy.orm import Session

from storyline.errors import Conflict, InvalidInput, NotFound
from storyline.kernel import markdown, roles
from storyline.kernel.paging import PageRequest
from storyline.kernel.validation import validate
from storyline.releases import calendar, cycles, exceptions, reports, support
from storyline.releases.cycles import CycleIn, EntryIn
from storyline.releases.exceptions import ExceptionFilter
from storyline.releases.models import CYCLE_ROLES, ENTRY_KINDS, MILESTONE, RELEASE_MANAGER, Cycle
from storyline.releases.pages.velocity import chart_row
from storyline.releases.velocity.report import cycle_totals
from storyline.tracker.page_data import load_names
from storyline.web.listing import errors_by_field
from storyline.web.rendering import PageRoute, redirect, render, sign_in_first
from storyline.web.security import FormDep, PageContext, PageDep

router = APIRouter(route_class=PageRoute, include_in_schema=False)

TextField = Annotated[str, Form(max_length=10_000)]
CycleName = Annotated[str, Path(min_length=1, max_length=50)]
# The support table shows this many series; the API pages through all of them.
SUPPORT_ROWS = 500
# The cycle page shows the most recent requests; the exceptions page has them all.
CYCLE_EXCEPTIONS = 20


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


# Cycles


def _list_page(
    ctx: PageContext, *, errors: dict[str, str] | None = None, values: dict[str, str] | None = None
) -> Response:
    with ctx.container.db.read() as session:
        found = cycles.list_cycles(session)
        current = cycles.current_cycle(session, _today())
        return render(
            ctx, "releases/cycles.html", status=400 if errors else 200, cycles=found,
            current=current, errors=errors or {}, values=values or {},
        )  # fmt: skip


@router.get("/cycles")
def cycle_list(ctx: PageDep) -> Response:
    return _list_page(ctx)


@router.post("/cycles")
def open_cycle(
    ctx: FormDep,
    name: TextField = "",
    title: TextField = "",
    starts_on: TextField = "",
    releases_on: TextField = "",
) -> Response:
    if ctx.signed_in is None:
        return sign_in_first(ctx)
    values = {"name": name, "title": title, "starts_on": starts_on, "releases_on": releases_on}
    try:
        with ctx.container.db.write() as session:
            data = validate(CycleIn, {**values, "title": title.strip() or None})
            cycle = cycles.create_cycle(session, actor=ctx.actor, data=data)
            cycle_name = cycle.name
    except (InvalidInput, Conflict) as error:
        return _list_page(ctx, errors=errors_by_field(error), values=values)
    return redirect(ctx, f"/cycles/{cycle_name}")


# One cycle


def _manages(session: Session, ctx: PageContext, cycle: Cycle) -> bool:
    return roles.held(
        session, CYCLE_ROLES, actor=ctx.actor, object_id=cycle.id, role=RELEASE_MANAGER
    )


@router.get("/cycles/{name}")
def cycle_page(ctx: PageDep, name: CycleName) -> Response:
    today = _today()
    with ctx.container.db.read() as session:
        cycle = cycles.get_cycle(session, name)
        entries = cycles.schedule(session, cycle.id)
        series = cycles.series_projects(session, cycle.id)
        phases = support.cycle_support(session, today=today)
        managers = cycles.managers(session, [cycle.id])[cycle.id]
        names = load_names(session, actor=ctx.actor, user_ids=managers)
        requests = exceptions.list_exceptions(
            session,
            actor=ctx.actor,
            filters=ExceptionFilter(cycle_id=cycle.id),
            page=PageRequest(limit=CYCLE_EXCEPTIONS, sort_dir="desc"),
        )
        week = reports.current_week(cycle, today)
        week_rows = reports.week_reports(session, actor=ctx.actor, cycle=cycle, week=week)
        previous = cycles.previous_cycle(session, cycle)
        velocity = None
        if previous is not None:
            totals = cycle_totals(
                session, actor=ctx.actor, cycle=cycle, baseline=previous, today=today
            )
            # Until its first milestone passes, a cycle has nothing to compare.
            if totals.features:
                velocity = chart_row(totals, previous.name, cycle.name)
        return render(
            ctx, "releases/cycle.html", cycle=cycle, entries=entries,
            milestones=[e for e in entries if e.kind == MILESTONE],
            upcoming=[e for e in entries if (e.ends_on or e.starts_on) >= today][:5],
            series=[(s, project, support.phase_of(s, phases)) for s, project in series],
            days_to_release=(cycle.releases_on - today).days, today=today,
            managers=[names.user(user_id) for user_id in managers],
            previous=previous, next=cycles.next_cycle(session, cycle),
            exceptions=exceptions.views(session, actor=ctx.actor, found=requests.items),
            exceptions_total=requests.total, week=week,
            reported=[r for r in week_rows if r.report],
            unreported=[r for r in week_rows if not r.report],
            report_html={
                r.project.id: markdown.render(r.report.content) for r in week_rows if r.report
            },
            velocity=velocity,
        )  # fmt: skip


def _schedule_page(
    ctx: PageContext,
    name: str,
    *,
    form: str = "",
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    today = _today()
    with ctx.container.db.read() as session:
        cycle = cycles.get_cycle(session, name)
        entries = cycles.schedule(session, cycle.id)
        return render(
            ctx, "releases/cycle_schedule.html", status=400 if errors else 200, cycle=cycle,
            weeks=cycles.weeks(cycle, entries, today), today=today,
            can_manage=ctx.signed_in is not None and _manages(session, ctx, cycle),
            kinds=ENTRY_KINDS, form=form, errors=errors or {}, values=values or {},
        )  # fmt: skip


@router.get("/cycles/{name}/schedule")
def schedule_page(ctx: PageDep, name: CycleName) -> Response:
    return _schedule_page(ctx, name)


@router.post("/cycles/{name}/schedule")
def add_entry(
    ctx: FormDep,
    name: CycleName,
    kind: TextField = "",
    number: TextField = "",
    entry_name: TextField = "",
    starts_on: TextField = "",
    ends_on: TextField = "",
) -> Response:
    if ctx.signed_in is None:
        return sign_in_first(ctx)
    values = {
        "kind": kind, "number": number, "entry_name": entry_name, "starts_on": starts_on,
        "ends_on": ends_on,
    }  # fmt: skip
    fields: dict[str, Any] = {
        "kind": kind, "number": number.strip() or None, "name": entry_name.strip() or None,
        "starts_on": starts_on, "ends_on": ends_on.strip() or None,
    }  # fmt: skip
    try:
        with ctx.container.db.write() as session:
            cycle = cycles.get_cycle(session, name)
            cycles.add_entry(session, actor=ctx.actor, cycle=cycle, data=validate(EntryIn, fields))
    except (InvalidInput, Conflict) as error:
        return _schedule_page(ctx, name, form="entry", errors=errors_by_field(error), values=values)
    return redirect(ctx, f"/cycles/{name}/schedule")


@router.post("/cycles/{name}/series")
def join_project(
    ctx: FormDep, name: CycleName, project: TextField = "", branch: TextField = "master"
) -> Response:
    if ctx.signed_in is None:
        return sign_in_first(ctx)
    values = {"project": project, "branch": branch}
    try:
        with ctx.container.db.write() as session:
            cycle = cycles.get_cycle(session, name)
            if not project.strip():
                raise InvalidInput.field("project", "name the project")
            try:
                cycles.join_project(
                    session, actor=ctx.actor, cycle=cycle, project=project.strip(),
                    branch=branch.strip() or "master",
                )  # fmt: skip
            except NotFound:
                raise InvalidInput.field("project", f"there is no project {project!r}") from None
    except (InvalidInput, Conflict) as error:
        return _schedule_page(
            ctx, name, form="series", errors=errors_by_field(error), values=values
        )
    return redirect(ctx, f"/cycles/{name}")


@router.get("/cycles/{name}/calendar.ics")
def calendar_feed(ctx: PageDep, name: CycleName) -> Response:
    with ctx.container.db.read() as session:
        cycle = cycles.get_cycle(session, name)
        body = calendar.feed(
            cycle,
            cycles.schedule(session, cycle.id),
            public_url=ctx.settings.public_url,
        )
    return Response(body, media_type="text/calendar; charset=utf-8")


# Stable support


@router.get("/support")
def support_page(ctx: PageDep, phase: str = "") -> Response:
    today = _today()
    chosen = support.check_phase(phase or None)
    with ctx.container.db.read() as session:
        page = support.list_support(
            session,
            page=PageRequest(limit=SUPPORT_ROWS, sort_field="project"),
            phase=chosen,
            today=today,
        )
        policy = support.get_policy(session)
        return render(
            ctx, "releases/support.html", rows=page.items, total=page.total, phase=chosen,
            policy=policy, today=today,
        )  # fmt: skip
