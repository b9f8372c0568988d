"""Cycles, their schedules and the series projects take part with: the core
every other part of release management reads.

Writes here are the release team's: superusers open cycles; a cycle's
release managers (its `manager` role) change its schedule and who takes
part. Everyone may read cycles and schedules: they are public plans.

A series is a project in a cycle. Joining creates, on the series' branch, one
tracker milestone per milestone entry of the cycle (named after the entry,
"icehouse-1"), so that targeting a task to a cycle milestone is StoryBoard's
own `milestone_id` and API v1 clients keep working. A milestone entry added
later gets its tracker milestone on every series at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storyline.errors import Conflict, InvalidInput, NotFound
from storyline.kernel import roles
from storyline.kernel.access import Actor, require_superuser
from storyline.kernel.validation import Id, id_or_name
from storyline.releases.models import (
    CYCLE_ROLES,
    ENTRY_KINDS,
    FEATURE_FREEZE,
    FREEZE_FEATURE,
    FREEZE_STRING,
    MILESTONE,
    NUMBERED_KINDS,
    RELEASE_MANAGER,
    STRING_FREEZE,
    Cycle,
    ScheduleEntry,
    Series,
    SeriesMilestone,
)
from storyline.tracker.models import Branch, Milestone, Project

# How many entries a schedule may hold: a year of weekly events and more.
MAX_ENTRIES = 200
# Which schedule entry starts each freeze.
FREEZE_ENTRY = {FREEZE_FEATURE: FEATURE_FREEZE, FREEZE_STRING: STRING_FREEZE}

CycleName = Annotated[
    str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,49}$")
]
Tag = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=r"^\S+$")
]


class CycleIn(roles.HoldersIn):
    # Release managers besides the creator.
    managers: list[Id] = Field(default_factory=list, max_length=100)

    _managers = field_validator("managers", mode="before")(roles.id_list)

    # Letters, digits, dots, dashes: it appears in URLs and tags.
    name: CycleName
    title: str | None = Field(default=None, max_length=255)
    description: str | None = Field(default=None, max_length=10_000)
    starts_on: dt.date
    releases_on: dt.date

    @model_validator(mode="after")
    def _ordered(self) -> CycleIn:
        if self.releases_on <= self.starts_on:
            raise ValueError("releases_on must come after starts_on")
        return self


class EntryIn(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    kind: str
    number: int | None = Field(default=None, ge=1, le=99)
    # Defaults to a name made from the cycle and the kind ("icehouse-2").
    name: str | None = Field(default=None, min_length=1, max_length=100)
    starts_on: dt.date
    ends_on: dt.date | None = None
    description: str | None = Field(default=None, max_length=10_000)

    @model_validator(mode="after")
    def _consistent(self) -> EntryIn:
        if self.kind not in ENTRY_KINDS:
            raise ValueError(f"kind must be one of {', '.join(ENTRY_KINDS)}")
        if (self.kind in NUMBERED_KINDS) != (self.number is not None):
            raise ValueError("milestones and RCs have a number; the other kinds have none")
        if self.ends_on is not None and self.ends_on < self.starts_on:
            raise ValueError("ends_on must not come before starts_on")
        return self


class SeriesIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    project_id: Id
    branch_id: Id
    release_tag: Tag | None = None
    # Milestone entry id -> the project's tag for it.
    tags: dict[int, Tag] = Field(default_factory=dict, max_length=MAX_ENTRIES)


def default_name(cycle: Cycle, data: EntryIn) -> str:
    """ "icehouse-2", "icehouse-rc1", "icehouse" for the release; the kind's
    words otherwise ("Feature freeze")."""
    if data.kind == MILESTONE:
        return f"{cycle.name}-{data.number}"
    if data.number is not None:
        return f"{cycle.name}-{data.kind}{data.number}"
    if data.kind == "final_release":
        return f"{cycle.name} release"
    return data.kind.replace("_", " ").capitalize()


# Reading


def get_cycle(session: Session, ref: int | str) -> Cycle:
    """A cycle by id or by name."""
    key = id_or_name(ref, "cycle")
    if isinstance(key, int):
        cycle = session.get(Cycle, key)
    else:
        cycle = session.scalar(select(Cycle).where(Cycle.name == key))
    if cycle is None:
        raise NotFound.of("cycle", ref)
    return cycle


def list_cycles(session: Session) -> list[Cycle]:
    return list(session.scalars(select(Cycle).order_by(Cycle.position)))


def schedule(session: Session, cycle_id: int) -> list[ScheduleEntry]:
    """The cycle's entries by date (milestones before events on one day)."""
    return list(
        session.scalars(
            select(ScheduleEntry)
            .where(ScheduleEntry.cycle_id == cycle_id)
            .order_by(ScheduleEntry.starts_on, ScheduleEntry.kind == "event", ScheduleEntry.id)
        )
    )


def get_entry(session: Session, cycle_id: int, entry_id: int) -> ScheduleEntry:
    entry = session.get(ScheduleEntry, entry_id)
    if entry is None or entry.cycle_id != cycle_id:
        raise NotFound.of("schedule entry", entry_id)
    return entry


def entry_of(
    session: Session, cycle_id: int, kind: str, number: int | None = None
) -> ScheduleEntry | None:
    """The first entry of a kind (and number) in a cycle."""
    stmt = select(ScheduleEntry).where(
        ScheduleEntry.cycle_id == cycle_id, ScheduleEntry.kind == kind
    )
    if number is not None:
        stmt = stmt.where(ScheduleEntry.number == number)
    return session.scalar(stmt.order_by(ScheduleEntry.starts_on).limit(1))


def milestones(session: Session, cycle_id: int) -> list[ScheduleEntry]:
    """The cycle's numbered milestones, in order."""
    return list(
        session.scalars(
            select(ScheduleEntry)
            .where(ScheduleEntry.cycle_id == cycle_id, ScheduleEntry.kind == MILESTONE)
            .order_by(ScheduleEntry.number)
        )
    )


def freeze_starts(session: Session, cycle_id: int, freeze: str) -> dt.date | None:
    """The day a freeze ("feature", "string") begins: changes on that day are
    already frozen. None when the schedule has no such freeze."""
    entry = entry_of(session, cycle_id, FREEZE_ENTRY[freeze])
    return None if entry is None else entry.starts_on


def next_cycle(session: Session, cycle: Cycle) -> Cycle | None:
    return session.scalar(
        select(Cycle).where(Cycle.position > cycle.position).order_by(Cycle.position).limit(1)
    )


def previous_cycle(session: Session, cycle: Cycle) -> Cycle | None:
    return session.scalar(
        select(Cycle)
        .where(Cycle.position < cycle.position)
        .order_by(Cycle.position.desc())
        .limit(1)
    )


def current_cycle(session: Session, today: dt.date) -> Cycle | None:
    """The cycle under development on `today`: the earliest not yet released."""
    return session.scalar(
        select(Cycle).where(Cycle.releases_on >= today).order_by(Cycle.position).limit(1)
    )


def series_of(session: Session, cycle_id: int, project_id: int) -> Series | None:
    return session.scalar(
        select(Series).where(Series.cycle_id == cycle_id, Series.project_id == project_id)
    )


def list_series(session: Session, cycle_id: int) -> list[Series]:
    return list(
        session.scalars(
            select(Series)
            .join(Project, Project.id == Series.project_id)
            .where(Series.cycle_id == cycle_id)
            .order_by(Project.name)
        )
    )


def cycle_milestone(
    session: Session, milestone_id: int
) -> tuple[Cycle, Series, ScheduleEntry] | None:
    """What a tracker milestone stands for in release management, if anything."""
    row = session.execute(
        select(Cycle, Series, ScheduleEntry)
        .join(Series, Series.cycle_id == Cycle.id)
        .join(SeriesMilestone, SeriesMilestone.series_id == Series.id)
        .join(ScheduleEntry, ScheduleEntry.id == SeriesMilestone.entry_id)
        .where(SeriesMilestone.milestone_id == milestone_id)
    ).one_or_none()
    return None if row is None else (row[0], row[1], row[2])


def tracker_milestones(session: Session, entry_ids: Sequence[int]) -> dict[int, list[int]]:
    """Entry id -> the tracker milestones that stand for it, one per series."""
    found: dict[int, list[int]] = {entry_id: [] for entry_id in entry_ids}
    rows = session.execute(
        select(SeriesMilestone.entry_id, SeriesMilestone.milestone_id).where(
            SeriesMilestone.entry_id.in_(entry_ids)
        )
    )
    for entry_id, milestone_id in rows:
        found[entry_id].append(milestone_id)
    return found


# Writing


def require_manager(session: Session, actor: Actor, cycle: Cycle, to: str) -> int:
    """The actor's user id if they are one of the cycle's release managers
    (or a superuser); PermissionDenied saying who may `to` otherwise."""
    return roles.require(
        session, CYCLE_ROLES, actor=actor, object_id=cycle.id, role=RELEASE_MANAGER, to=to
    )


def create_cycle(session: Session, *, actor: Actor, data: CycleIn) -> Cycle:
    """Open a cycle after the others; its creator is its first release manager."""
    user_id = require_superuser(actor)
    if session.scalar(select(Cycle.id).where(Cycle.name == data.name)) is not None:
        raise Conflict(f"There is already a cycle named {data.name!r}.", details={"field": "name"})
    last = session.scalar(select(func.max(Cycle.position)))
    cycle = Cycle(
        **data.model_dump(include={"name", "title", "description", "starts_on", "releases_on"}),
        position=(last or 0) + 1,
        creator_id=user_id,
    )
    session.add(cycle)
    session.flush()
    roles.grant_new(session, CYCLE_ROLES, object_id=cycle.id, creator_id=user_id, data=data)
    return cycle


def add_entry(session: Session, *, actor: Actor, cycle: Cycle, data: EntryIn) -> ScheduleEntry:
    require_manager(session, actor, cycle, "change its schedule")
    count = session.scalar(
        select(func.count()).select_from(ScheduleEntry).where(ScheduleEntry.cycle_id == cycle.id)
    )
    if (count or 0) >= MAX_ENTRIES:
        raise InvalidInput(f"A cycle's schedule holds at most {MAX_ENTRIES} entries.")
    if data.kind != "event" and entry_of(session, cycle.id, data.kind, data.number) is not None:
        number = "" if data.number is None else f" {data.number}"
        raise Conflict(
            f"Cycle {cycle.name} already has a {data.kind.replace('_', ' ')}{number}.",
            details={"field": "kind"},
        )
    entry = ScheduleEntry(
        cycle_id=cycle.id,
        **data.model_dump(exclude={"name"}),
        name=data.name or default_name(cycle, data),
    )
    session.add(entry)
    session.flush()
    if entry.kind == MILESTONE:
        for series in list_series(session, cycle.id):
            _add_series_milestone(session, series, entry, tag=None)
    return entry


def join(session: Session, *, actor: Actor, cycle: Cycle, data: SeriesIn) -> Series:
    """Add a project to a cycle on one of its branches."""
    require_manager(session, actor, cycle, "add projects to it")
    branch = session.get(Branch, data.branch_id)
    if branch is None or branch.project_id != data.project_id:
        raise InvalidInput.field(
            "branch_id", f"project {data.project_id} has no branch {data.branch_id}"
        )
    if series_of(session, cycle.id, data.project_id) is not None:
        raise Conflict(
            f"Project {data.project_id} already takes part in cycle {cycle.name}.",
            details={"field": "project_id"},
        )
    entries = {entry.id: entry for entry in milestones(session, cycle.id)}
    unknown = sorted(set(data.tags) - set(entries))
    if unknown:
        raise InvalidInput.field("tags", f"cycle {cycle.name} has no milestone entry {unknown[0]}")
    series = Series(
        cycle_id=cycle.id,
        project_id=data.project_id,
        branch_id=data.branch_id,
        release_tag=data.release_tag,
    )
    session.add(series)
    session.flush()
    for entry in entries.values():
        _add_series_milestone(session, series, entry, tag=data.tags.get(entry.id))
    return series


def _add_series_milestone(
    session: Session, series: Series, entry: ScheduleEntry, *, tag: str | None
) -> None:
    # A branch may already have a milestone of that name (made by hand in
    # StoryBoard's API before the cycle existed): it is the same milestone.
    milestone = session.scalar(
        select(Milestone).where(
            Milestone.branch_id == series.branch_id, Milestone.name == entry.name
        )
    )
    if milestone is None:
        milestone = Milestone(name=entry.name, branch_id=series.branch_id)
        session.add(milestone)
        session.flush()
    elif session.get(SeriesMilestone, (series.id, entry.id)) is None and session.scalar(
        select(SeriesMilestone.series_id).where(SeriesMilestone.milestone_id == milestone.id)
    ):
        raise Conflict(
            f"Milestone {milestone.name!r} of branch {series.branch_id} already stands for "
            "another cycle milestone."
        )
    session.add(
        SeriesMilestone(series_id=series.id, entry_id=entry.id, milestone_id=milestone.id, tag=tag)
    )
    session.flush()
