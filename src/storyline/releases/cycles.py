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
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from storyline.accounts import audit
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
    SUPPORT_PHASES,
    Cycle,
    FreezeException,
    ScheduleEntry,
    Series,
    SeriesMilestone,
)
from storyline.tracker.models import Branch, Milestone, Project, Task
from storyline.tracker.projects import get_project

# How many entries a schedule may hold: a year of weekly events and more.
MAX_ENTRIES = 200
# How long a cycle may last (about three years): longer is a typo.
MAX_CYCLE_DAYS = 1100
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

    @field_validator("name")
    @classmethod
    def _not_a_number(cls, value: str) -> str:
        # A reference of digits is an id (`get_cycle`), so a name never is one.
        if value.isdigit():
            raise ValueError("must not be all digits")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> CycleIn:
        _check_span(self.starts_on, self.releases_on)
        return self


class CycleChange(BaseModel):
    """What a release manager may change of a cycle; absent fields stay."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    title: str | None = Field(default=None, max_length=255)
    description: str | None = Field(default=None, max_length=10_000)
    starts_on: dt.date | None = None
    releases_on: dt.date | None = None


def _check_span(starts_on: dt.date, releases_on: dt.date) -> None:
    if releases_on <= starts_on:
        raise ValueError("releases_on must come after starts_on")
    # The week table has a row per week; a cycle of years is a typo.
    if (releases_on - starts_on).days > MAX_CYCLE_DAYS:
        raise ValueError(f"a cycle lasts at most {MAX_CYCLE_DAYS} days")


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


class SeriesChange(BaseModel):
    """What a release manager may change of a series; only the fields sent change."""

    model_config = ConfigDict(extra="ignore")

    stable_branch_id: Id | None = None
    release_tag: Tag | None = None
    # Milestone entry id -> the project's tag for it (null removes it).
    tags: dict[int, Tag | None] = Field(default_factory=dict, max_length=MAX_ENTRIES)
    # A phase that overrules the support policy for this series; null follows it.
    support_override: str | None = None

    @field_validator("support_override")
    @classmethod
    def _phase(cls, value: str | None) -> str | None:
        if value is not None and value not in SUPPORT_PHASES:
            raise ValueError(f"must be one of {', '.join(SUPPORT_PHASES)}")
        return value


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


def load_cycle(
    session: Session, *, actor: Actor, object_id: int, for_update: bool = False
) -> Cycle:
    """The loader the permission endpoints use: cycles are public plans."""
    stmt = select(Cycle).where(Cycle.id == object_id)
    if for_update:
        stmt = stmt.with_for_update()
    cycle = session.scalar(stmt)
    if cycle is None:
        raise NotFound.of("cycle", object_id)
    return cycle


def managers(session: Session, cycle_ids: Sequence[int]) -> dict[int, list[int]]:
    """Cycle id -> its release managers' user ids."""
    held = roles.holders(session, CYCLE_ROLES, cycle_ids)
    return {cycle_id: held.get(cycle_id, {}).get(RELEASE_MANAGER, []) for cycle_id in cycle_ids}


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


def series_projects(session: Session, cycle_id: int) -> list[tuple[Series, Project]]:
    """`list_series` with each series' project, in one query."""
    rows = session.execute(
        select(Series, Project)
        .join(Project, Project.id == Series.project_id)
        .where(Series.cycle_id == cycle_id)
        .order_by(Project.name)
    )
    return [(series, project) for series, project in rows]


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


def get_series(session: Session, cycle_id: int, series_id: int) -> Series:
    series = session.get(Series, series_id)
    if series is None or series.cycle_id != cycle_id:
        raise NotFound.of("series", series_id)
    return series


def series_milestones(
    session: Session, series_ids: Sequence[int]
) -> dict[int, list[SeriesMilestone]]:
    """Series id -> its milestones (entry, tracker milestone, tag), in one query."""
    found: dict[int, list[SeriesMilestone]] = {series_id: [] for series_id in series_ids}
    rows = session.scalars(
        select(SeriesMilestone)
        .join(ScheduleEntry, ScheduleEntry.id == SeriesMilestone.entry_id)
        .where(SeriesMilestone.series_id.in_(series_ids))
        .order_by(ScheduleEntry.number)
    )
    for row in rows:
        found[row.series_id].append(row)
    return found


@dataclass(frozen=True)
class Week:
    """One row of a schedule's week table: Monday to Sunday."""

    number: int
    monday: dt.date
    entries: list[ScheduleEntry]
    current: bool

    @property
    def sunday(self) -> dt.date:
        return self.monday + dt.timedelta(days=6)


def weeks(cycle: Cycle, entries: Sequence[ScheduleEntry], today: dt.date) -> list[Week]:
    """The week table: one row per Monday-based week from the week of the
    cycle's start to the week of its release, each with the entries that
    fall in it (an entry spanning weeks is in each), week 1 first."""
    first = cycle.starts_on - dt.timedelta(days=cycle.starts_on.weekday())
    last = cycle.releases_on - dt.timedelta(days=cycle.releases_on.weekday())
    table: list[Week] = []
    monday = first
    while monday <= last:
        sunday = monday + dt.timedelta(days=6)
        table.append(
            Week(
                number=len(table) + 1,
                monday=monday,
                entries=[
                    entry
                    for entry in entries
                    if entry.starts_on <= sunday and (entry.ends_on or entry.starts_on) >= monday
                ],
                current=monday <= today <= sunday,
            )
        )
        monday += dt.timedelta(days=7)
    return table


# Writing


def _audit(session: Session, user_id: int, cycle: Cycle, action: str, **details: Any) -> None:
    # Cycles have no timeline (events are about stories and lists); the
    # audit log is where release managers' changes can be traced.
    audit.record(
        session,
        event_type=audit.CYCLE_CHANGED,
        user_id=user_id,
        cycle_id=cycle.id,
        cycle=cycle.name,
        action=action,
        **details,
    )


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
    _audit(session, user_id, cycle, "created")
    return cycle


def add_entry(session: Session, *, actor: Actor, cycle: Cycle, data: EntryIn) -> ScheduleEntry:
    user_id = require_manager(session, actor, cycle, "change its schedule")
    count = session.scalar(
        select(func.count()).select_from(ScheduleEntry).where(ScheduleEntry.cycle_id == cycle.id)
    )
    if (count or 0) >= MAX_ENTRIES:
        raise InvalidInput(f"A cycle's schedule holds at most {MAX_ENTRIES} entries.")
    _check_within(cycle, data)
    _check_unique(session, cycle, data, entry_id=None)
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
    _audit(session, user_id, cycle, "entry_added", entry_id=entry.id, name=entry.name)
    return entry


def _check_within(cycle: Cycle, data: EntryIn) -> None:
    # The schedule is the cycle's: its week table runs from start to release.
    if data.starts_on < cycle.starts_on or (data.ends_on or data.starts_on) > cycle.releases_on:
        raise InvalidInput.field(
            "starts_on",
            f"must fall within the cycle, {cycle.starts_on} to {cycle.releases_on}",
        )


def _check_unique(session: Session, cycle: Cycle, data: EntryIn, *, entry_id: int | None) -> None:
    if data.kind == "event":
        return
    other = entry_of(session, cycle.id, data.kind, data.number)
    if other is not None and other.id != entry_id:
        number = "" if data.number is None else f" {data.number}"
        raise Conflict(
            f"Cycle {cycle.name} already has a {data.kind.replace('_', ' ')}{number}.",
            details={"field": "kind"},
        )


def update_cycle(session: Session, *, actor: Actor, cycle: Cycle, data: CycleChange) -> Cycle:
    """Change a cycle's title, description or dates; its schedule must still
    fall between the new dates."""
    user_id = require_manager(session, actor, cycle, "change it")
    starts_on = data.starts_on or cycle.starts_on
    releases_on = data.releases_on or cycle.releases_on
    try:
        _check_span(starts_on, releases_on)
    except ValueError as error:
        raise InvalidInput.field("releases_on", str(error)) from None
    outside = [
        entry.name
        for entry in schedule(session, cycle.id)
        if entry.starts_on < starts_on or (entry.ends_on or entry.starts_on) > releases_on
    ]
    if outside:
        raise InvalidInput.field(
            "starts_on" if data.starts_on else "releases_on",
            f"the schedule's {', '.join(outside)} would fall outside {starts_on} to "
            f"{releases_on}; move those entries first",
        )
    for field_name in data.model_fields_set & {"title", "description"}:
        setattr(cycle, field_name, getattr(data, field_name))
    cycle.starts_on, cycle.releases_on = starts_on, releases_on
    session.flush()
    _audit(session, user_id, cycle, "updated", fields=sorted(data.model_fields_set))
    return cycle


def delete_cycle(session: Session, *, actor: Actor, cycle: Cycle) -> None:
    """Delete a cycle that nothing hangs off yet: no series, no freeze exception."""
    user_id = require_superuser(actor)
    if session.scalar(select(Series.id).where(Series.cycle_id == cycle.id).limit(1)):
        raise Conflict(
            f"Projects take part in cycle {cycle.name}; remove their series first.",
            details={"resource": "series"},
        )
    if session.scalar(
        select(FreezeException.id).where(FreezeException.cycle_id == cycle.id).limit(1)
    ):
        raise Conflict(
            f"Cycle {cycle.name} has freeze exception requests; it cannot be deleted.",
            details={"resource": "freeze_exception"},
        )
    _audit(session, user_id, cycle, "deleted")
    session.delete(cycle)
    session.flush()


def update_entry(
    session: Session, *, actor: Actor, cycle: Cycle, entry: ScheduleEntry, data: EntryIn
) -> ScheduleEntry:
    """Replace an entry's fields (not its kind). Renaming a milestone renames
    the tracker milestones that stand for it on every series."""
    user_id = require_manager(session, actor, cycle, "change its schedule")
    if data.kind != entry.kind:
        raise InvalidInput.field(
            "kind", f"an entry keeps its kind ({entry.kind}); delete it and add another"
        )
    _check_within(cycle, data)
    _check_unique(session, cycle, data, entry_id=entry.id)
    name = data.name or default_name(cycle, data)
    if entry.kind == MILESTONE and name != entry.name:
        _rename_milestones(session, entry, name)
    entry.number = data.number
    entry.name = name
    entry.starts_on = data.starts_on
    entry.ends_on = data.ends_on
    entry.description = data.description
    session.flush()
    _audit(session, user_id, cycle, "entry_updated", entry_id=entry.id, name=entry.name)
    return entry


def _rename_milestones(session: Session, entry: ScheduleEntry, name: str) -> None:
    milestone_ids = tracker_milestones(session, [entry.id])[entry.id]
    linked = list(session.scalars(select(Milestone).where(Milestone.id.in_(milestone_ids))))
    taken = session.scalar(
        select(Milestone.branch_id)
        .where(
            Milestone.branch_id.in_([m.branch_id for m in linked]),
            Milestone.name == name,
            Milestone.id.not_in(milestone_ids),
        )
        .limit(1)
    )
    if taken is not None:
        raise Conflict(
            f"Branch {taken} already has a milestone named {name!r}.", details={"field": "name"}
        )
    for milestone in linked:
        milestone.name = name


def delete_entry(session: Session, *, actor: Actor, cycle: Cycle, entry: ScheduleEntry) -> None:
    """Delete an entry. A milestone goes with its tracker milestones, so it
    is refused while tasks are targeted to it."""
    user_id = require_manager(session, actor, cycle, "change its schedule")
    milestone_ids = tracker_milestones(session, [entry.id])[entry.id]
    _refuse_targeted(session, milestone_ids, f"milestone {entry.name}")
    session.execute(delete(SeriesMilestone).where(SeriesMilestone.entry_id == entry.id))
    session.execute(delete(Milestone).where(Milestone.id.in_(milestone_ids)))
    _audit(session, user_id, cycle, "entry_deleted", entry_id=entry.id, name=entry.name)
    session.delete(entry)
    session.flush()


def _refuse_targeted(session: Session, milestone_ids: Sequence[int], what: str) -> None:
    # No count: some of the tasks may be in stories the actor may not see.
    if milestone_ids and session.scalar(
        select(Task.id).where(Task.milestone_id.in_(milestone_ids)).limit(1)
    ):
        raise Conflict(
            f"Tasks are targeted to {what}; target them elsewhere first.",
            details={"resource": "task"},
        )


def join(session: Session, *, actor: Actor, cycle: Cycle, data: SeriesIn) -> Series:
    """Add a project to a cycle on one of its branches."""
    user_id = require_manager(session, actor, cycle, "add projects to it")
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
    _audit(session, user_id, cycle, "project_joined", project_id=data.project_id)
    return series


def join_project(
    session: Session, *, actor: Actor, cycle: Cycle, project: str, branch: str = "master"
) -> Series:
    """`join` naming the project (id or name) and its branch by name, as the
    pages and the command line do."""
    found = get_project(session, ref=project)
    branch_id = session.scalar(
        select(Branch.id).where(Branch.project_id == found.id, Branch.name == branch)
    )
    if branch_id is None:
        raise InvalidInput.field("branch", f"project {found.name} has no branch {branch!r}")
    return join(
        session,
        actor=actor,
        cycle=cycle,
        data=SeriesIn(project_id=found.id, branch_id=branch_id),
    )


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


def update_series(
    session: Session, *, actor: Actor, cycle: Cycle, series: Series, data: SeriesChange
) -> Series:
    """Set a series' stable branch, release tag, milestone tags or support
    override; only the fields sent change."""
    user_id = require_manager(session, actor, cycle, "change its series")
    sent = data.model_fields_set
    if "stable_branch_id" in sent and data.stable_branch_id is not None:
        branch = session.get(Branch, data.stable_branch_id)
        if branch is None or branch.project_id != series.project_id:
            raise InvalidInput.field(
                "stable_branch_id",
                f"project {series.project_id} has no branch {data.stable_branch_id}",
            )
    for field_name in sent & {"stable_branch_id", "release_tag", "support_override"}:
        setattr(series, field_name, getattr(data, field_name))
    if data.tags:
        rows = {row.entry_id: row for row in series_milestones(session, [series.id])[series.id]}
        unknown = sorted(set(data.tags) - set(rows))
        if unknown:
            raise InvalidInput.field(
                "tags", f"cycle {cycle.name} has no milestone entry {unknown[0]}"
            )
        for entry_id, tag in data.tags.items():
            rows[entry_id].tag = tag
    session.flush()
    _audit(
        session, user_id, cycle, "series_updated", project_id=series.project_id, fields=sorted(sent)
    )
    return series


def leave(session: Session, *, actor: Actor, cycle: Cycle, series: Series) -> None:
    """Take a project out of a cycle, with the tracker milestones of its
    series; refused while tasks are targeted to them."""
    user_id = require_manager(session, actor, cycle, "change its series")
    milestone_ids = [row.milestone_id for row in series_milestones(session, [series.id])[series.id]]
    _refuse_targeted(session, milestone_ids, f"the milestones of series {series.id}")
    session.execute(delete(SeriesMilestone).where(SeriesMilestone.series_id == series.id))
    session.execute(delete(Milestone).where(Milestone.id.in_(milestone_ids)))
    _audit(session, user_id, cycle, "project_left", project_id=series.project_id)
    session.delete(series)
    session.flush()
