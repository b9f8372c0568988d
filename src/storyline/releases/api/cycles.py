"""/v1/cycles: cycles, their schedules, the series of the projects taking
part, release managers (`/permissions`) and the iCalendar feed.

Cycles are public plans: everyone reads them. A cycle is named in paths by
its id or its name (`/v1/cycles/icehouse`), but for `/permissions`, which
takes the id like every other object's.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from storyline.api.deps import ContextDep, Timestamp
from storyline.api.preconditions import IfMatch, IfMatchDep
from storyline.api.roles import mount_permissions
from storyline.kernel.validation import Id
from storyline.releases import calendar, cycles, support
from storyline.releases.cycles import CycleChange, CycleIn, EntryIn, SeriesChange, SeriesIn
from storyline.releases.models import CYCLE_ROLES, Cycle, ScheduleEntry, Series

router = APIRouter(prefix="/cycles", tags=["cycles"])

CycleRef = Annotated[
    str, Path(min_length=1, max_length=50, description="The cycle's id or its name.")
]


class CycleOut(BaseModel):
    id: int
    created_at: Timestamp
    updated_at: Timestamp | None
    name: str
    title: str | None
    description: str | None
    position: int
    starts_on: dt.date
    releases_on: dt.date
    creator_id: int | None
    managers: list[int]

    @classmethod
    def of(cls, cycle: Cycle, managers: list[int]) -> CycleOut:
        return cls(
            id=cycle.id,
            created_at=cycle.created_at,
            updated_at=cycle.updated_at,
            name=cycle.name,
            title=cycle.title,
            description=cycle.description,
            position=cycle.position,
            starts_on=cycle.starts_on,
            releases_on=cycle.releases_on,
            creator_id=cycle.creator_id,
            managers=managers,
        )


class EntryOut(BaseModel):
    id: int
    cycle_id: int
    kind: str
    number: int | None
    name: str
    starts_on: dt.date
    ends_on: dt.date | None
    description: str | None

    @classmethod
    def of(cls, entry: ScheduleEntry) -> EntryOut:
        return cls(
            id=entry.id,
            cycle_id=entry.cycle_id,
            kind=entry.kind,
            number=entry.number,
            name=entry.name,
            starts_on=entry.starts_on,
            ends_on=entry.ends_on,
            description=entry.description,
        )


class SeriesMilestoneOut(BaseModel):
    entry_id: int
    # The tracker milestone (StoryBoard's `milestone_id` of a task).
    milestone_id: int
    tag: str | None


class SeriesOut(BaseModel):
    id: int
    cycle_id: int
    project_id: int
    branch_id: int
    stable_branch_id: int | None
    release_tag: str | None
    support_override: str | None
    # The support phase today (the override, or the policy's).
    phase: str
    milestones: list[SeriesMilestoneOut]


def _cycle(session: Session, ref: int | str) -> CycleOut:
    cycle = cycles.get_cycle(session, ref)
    return CycleOut.of(cycle, cycles.managers(session, [cycle.id])[cycle.id])


def _series_out(session: Session, rows: list[Series]) -> list[SeriesOut]:
    phases = support.cycle_support(session)
    milestones = cycles.series_milestones(session, [s.id for s in rows])
    return [
        SeriesOut(
            id=s.id,
            cycle_id=s.cycle_id,
            project_id=s.project_id,
            branch_id=s.branch_id,
            stable_branch_id=s.stable_branch_id,
            release_tag=s.release_tag,
            support_override=s.support_override,
            phase=support.phase_of(s, phases),
            milestones=[
                SeriesMilestoneOut(entry_id=m.entry_id, milestone_id=m.milestone_id, tag=m.tag)
                for m in milestones[s.id]
            ],
        )
        for s in rows
    ]


# Cycles


@router.get("", response_model=list[CycleOut])
def list_cycles(ctx: ContextDep) -> Any:
    """Every cycle, oldest first."""
    with ctx.db.read() as session:
        found = cycles.list_cycles(session)
        held = cycles.managers(session, [cycle.id for cycle in found])
        return [CycleOut.of(cycle, held[cycle.id]) for cycle in found]


@router.post("", response_model=CycleOut)
def create_cycle(ctx: ContextDep, body: CycleIn) -> Any:
    """Open a cycle after the others (superusers); its creator manages it."""
    with ctx.db.write() as session:
        cycle = cycles.create_cycle(session, actor=ctx.actor, data=body)
        return _cycle(session, cycle.id)


@router.get("/{cycle_id}", response_model=CycleOut)
def get_cycle(ctx: ContextDep, cycle_id: CycleRef) -> Any:
    with ctx.db.read() as session:
        return _cycle(session, cycle_id)


def _checked(session: Session, if_match: IfMatch, ref: str) -> Cycle:
    cycle = cycles.get_cycle(session, ref)
    if_match.check(session, Cycle.id, cycle.id, lambda: _cycle(session, cycle.id))
    return cycle


@router.put("/{cycle_id}", response_model=CycleOut)
def update_cycle(
    ctx: ContextDep, cycle_id: CycleRef, body: CycleChange, if_match: IfMatchDep
) -> Any:
    """Change the title, description or dates (release managers); the
    schedule must still fall between the dates."""
    with ctx.db.write() as session:
        cycle = _checked(session, if_match, cycle_id)
        cycles.update_cycle(session, actor=ctx.actor, cycle=cycle, data=body)
        return _cycle(session, cycle.id)


@router.delete("/{cycle_id}", status_code=204)
def delete_cycle(ctx: ContextDep, cycle_id: CycleRef, if_match: IfMatchDep) -> Response:
    """Delete a cycle (superusers): refused (409) while projects take part
    in it or it has freeze exception requests."""
    with ctx.db.write() as session:
        cycle = _checked(session, if_match, cycle_id)
        cycles.delete_cycle(session, actor=ctx.actor, cycle=cycle)
    return Response(status_code=204)


# The schedule


@router.get("/{cycle_id}/schedule", response_model=list[EntryOut])
def get_schedule(ctx: ContextDep, cycle_id: CycleRef) -> Any:
    """The cycle's entries by date."""
    with ctx.db.read() as session:
        cycle = cycles.get_cycle(session, cycle_id)
        return [EntryOut.of(entry) for entry in cycles.schedule(session, cycle.id)]


@router.post("/{cycle_id}/schedule", response_model=EntryOut)
def add_entry(ctx: ContextDep, cycle_id: CycleRef, body: EntryIn) -> Any:
    """Add a milestone, freeze, RC, release or event (release managers). A
    milestone gets a tracker milestone on every series at once."""
    with ctx.db.write() as session:
        cycle = cycles.get_cycle(session, cycle_id)
        return EntryOut.of(cycles.add_entry(session, actor=ctx.actor, cycle=cycle, data=body))


def _entry(
    session: Session, if_match: IfMatch, ref: str, entry_id: int
) -> tuple[Cycle, ScheduleEntry]:
    cycle = cycles.get_cycle(session, ref)
    if_match.check(
        session,
        ScheduleEntry.id,
        entry_id,
        lambda: EntryOut.of(cycles.get_entry(session, cycle.id, entry_id)),
    )
    return cycle, cycles.get_entry(session, cycle.id, entry_id)


@router.put("/{cycle_id}/schedule/{entry_id}", response_model=EntryOut)
def update_entry(
    ctx: ContextDep, cycle_id: CycleRef, entry_id: Id, body: EntryIn, if_match: IfMatchDep
) -> Any:
    """Replace an entry's fields but its kind; renaming a milestone renames
    its tracker milestones."""
    with ctx.db.write() as session:
        cycle, entry = _entry(session, if_match, cycle_id, entry_id)
        return EntryOut.of(
            cycles.update_entry(session, actor=ctx.actor, cycle=cycle, entry=entry, data=body)
        )


@router.delete("/{cycle_id}/schedule/{entry_id}", status_code=204)
def delete_entry(
    ctx: ContextDep, cycle_id: CycleRef, entry_id: Id, if_match: IfMatchDep
) -> Response:
    """Delete an entry; a milestone with tasks targeted to it is refused (409)."""
    with ctx.db.write() as session:
        cycle, entry = _entry(session, if_match, cycle_id, entry_id)
        cycles.delete_entry(session, actor=ctx.actor, cycle=cycle, entry=entry)
    return Response(status_code=204)


@router.get(
    "/{cycle_id}/calendar.ics",
    response_class=Response,
    responses={200: {"content": {"text/calendar": {}}, "description": "An iCalendar feed."}},
)
def get_calendar(ctx: ContextDep, cycle_id: CycleRef) -> Response:
    """The schedule as an iCalendar feed: an all-day event per entry."""
    with ctx.db.read() as session:
        cycle = cycles.get_cycle(session, cycle_id)
        body = calendar.feed(
            cycle,
            cycles.schedule(session, cycle.id),
            public_url=ctx.settings.public_url,
        )
    return Response(body, media_type="text/calendar; charset=utf-8")


# Series


@router.get("/{cycle_id}/series", response_model=list[SeriesOut])
def get_series_list(ctx: ContextDep, cycle_id: CycleRef) -> Any:
    """The projects taking part, by project name."""
    with ctx.db.read() as session:
        cycle = cycles.get_cycle(session, cycle_id)
        return _series_out(session, cycles.list_series(session, cycle.id))


@router.post("/{cycle_id}/series", response_model=SeriesOut)
def join_cycle(ctx: ContextDep, cycle_id: CycleRef, body: SeriesIn) -> Any:
    """A project joins the cycle on one of its branches (release managers)."""
    with ctx.db.write() as session:
        cycle = cycles.get_cycle(session, cycle_id)
        series = cycles.join(session, actor=ctx.actor, cycle=cycle, data=body)
        return _series_out(session, [series])[0]


def _series(session: Session, if_match: IfMatch, ref: str, series_id: int) -> tuple[Cycle, Series]:
    cycle = cycles.get_cycle(session, ref)
    if_match.check(
        session,
        Series.id,
        series_id,
        lambda: _series_out(session, [cycles.get_series(session, cycle.id, series_id)])[0],
    )
    return cycle, cycles.get_series(session, cycle.id, series_id)


@router.put("/{cycle_id}/series/{series_id}", response_model=SeriesOut)
def update_series(
    ctx: ContextDep, cycle_id: CycleRef, series_id: Id, body: SeriesChange, if_match: IfMatchDep
) -> Any:
    """Set the stable branch, the release tag, milestone tags or the
    support override (release managers); only the fields sent change."""
    with ctx.db.write() as session:
        cycle, series = _series(session, if_match, cycle_id, series_id)
        cycles.update_series(session, actor=ctx.actor, cycle=cycle, series=series, data=body)
        return _series_out(session, [series])[0]


@router.delete("/{cycle_id}/series/{series_id}", status_code=204)
def leave_cycle(
    ctx: ContextDep, cycle_id: CycleRef, series_id: Id, if_match: IfMatchDep
) -> Response:
    """Take the project out of the cycle; refused (409) while tasks are
    targeted to its milestones."""
    with ctx.db.write() as session:
        cycle, series = _series(session, if_match, cycle_id, series_id)
        cycles.leave(session, actor=ctx.actor, cycle=cycle, series=series)
    return Response(status_code=204)


mount_permissions(
    router,
    spec=CYCLE_ROLES,
    param="cycle_id",
    load=cycles.load_cycle,
    row=Cycle.id,
    current=lambda session, ctx, cycle_id: _cycle(session, cycle_id),
)


__all__ = ["CycleOut", "EntryOut", "SeriesOut", "router"]
