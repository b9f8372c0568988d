"""Targeting stories and tasks to cycle milestones, and where each milestone
stands.

A task is targeted to a cycle milestone when its `milestone_id` is the
tracker milestone that its project's series has for that milestone
(`SeriesMilestone`); nothing else records a target, so StoryBoard's
`PUT /v1/tasks/{id}` with `milestone_id` targets too. Targeting here writes
through the tracker's task update (`tracker.tasks.update_task`): its rules
on who may change a task, its checks (the freezes among them), its timeline
events and its story locking apply unchanged.

Only tasks on the series' branch can be targeted: the series' milestones
live on that branch, and moving a task to another branch silently would
change what the task is about (a backport is its own task).

**Milestone status.** Of a milestone entry, for a project's series, a
group's or the whole cycle's: the *targeted tasks* are those on the tracker
milestones standing for the entry, except invalid ones (work dropped is
neither done nor late). A story is *targeted* when it has a targeted task
that the actor may see (the gate's `story_visibility`); over its targeted
tasks it is

- **done** when all of them are merged,
- **in progress** when not done and one of them is in progress, in review
  or merged,
- **not started** when all of them are still to do;

and **slipping** when it is not done and the milestone's day is before
`today` (on the milestone's day itself nothing slips yet). Counts are by
story type: features (`is_bug` false) and bugs.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, model_validator
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from storyline.errors import InvalidInput, NotFound
from storyline.kernel.access import Actor, get_story, require_user, story_visibility
from storyline.kernel.validation import Id
from storyline.releases import cycles
from storyline.releases.models import MILESTONE, Cycle, ScheduleEntry, Series, SeriesMilestone
from storyline.tracker import tasks
from storyline.tracker.models import Branch, Project, ProjectGroup, Story, Task
from storyline.tracker.models import project_group_mapping as groups

DONE = "done"
IN_PROGRESS = "in_progress"
NOT_STARTED = "not_started"
SLIPPING = "slipping"
STATES = (DONE, IN_PROGRESS, NOT_STARTED)
# What a status's story list can be narrowed to.
LISTS = (*STATES, SLIPPING)
FEATURE = "feature"
BUG = "bug"


class TargetIn(BaseModel):
    """Target one task, or all the story's tasks in a project, to a milestone
    entry. `cycle_id`, when sent, must be the entry's cycle."""

    model_config = ConfigDict(extra="forbid")

    entry_id: Id
    cycle_id: Id | None = None
    project_id: Id | None = None
    task_id: Id | None = None

    @model_validator(mode="after")
    def _one_scope(self) -> TargetIn:
        if (self.project_id is None) == (self.task_id is None):
            raise ValueError("send either project_id (all the story's tasks in it) or task_id")
        return self


class UntargetIn(BaseModel):
    """Take the story's tasks off the milestones of a cycle: all of them, or
    those of one project, or one task."""

    model_config = ConfigDict(extra="forbid")

    cycle_id: Id
    project_id: Id | None = None
    task_id: Id | None = None


@dataclass(frozen=True)
class Target:
    cycle: Cycle
    entry: ScheduleEntry
    tasks: list[Task]


@dataclass(frozen=True)
class StoryTargets:
    story_id: int
    # By cycle, then by the milestone's date.
    targets: list[Target]
    # Tasks on no cycle milestone (on none, or on a tracker milestone of
    # their own branch that stands for no cycle milestone).
    untargeted: list[Task]


# Targeting


def story_targets(session: Session, *, actor: Actor, story_id: int) -> StoryTargets:
    """The story's tasks by the cycle milestone they are targeted to."""
    get_story(session, actor=actor, story_id=story_id)
    story_tasks = list(
        session.scalars(select(Task).where(Task.story_id == story_id).order_by(Task.id))
    )
    milestone_ids = {task.milestone_id for task in story_tasks if task.milestone_id is not None}
    standing: dict[int, tuple[Cycle, ScheduleEntry]] = {}
    if milestone_ids:
        rows = session.execute(
            select(SeriesMilestone.milestone_id, Cycle, ScheduleEntry)
            .join(ScheduleEntry, ScheduleEntry.id == SeriesMilestone.entry_id)
            .join(Cycle, Cycle.id == ScheduleEntry.cycle_id)
            .where(SeriesMilestone.milestone_id.in_(milestone_ids))
        )
        standing = {milestone_id: (cycle, entry) for milestone_id, cycle, entry in rows}
    by_entry: dict[int, Target] = {}
    untargeted = []
    for task in story_tasks:
        found = standing.get(task.milestone_id) if task.milestone_id is not None else None
        if found is None:
            untargeted.append(task)
            continue
        cycle, entry = found
        by_entry.setdefault(entry.id, Target(cycle=cycle, entry=entry, tasks=[])).tasks.append(task)
    targets = sorted(
        by_entry.values(), key=lambda t: (t.cycle.position, t.entry.starts_on, t.entry.id)
    )
    return StoryTargets(story_id=story_id, targets=targets, untargeted=untargeted)


def target(session: Session, *, actor: Actor, story_id: int, data: TargetIn) -> StoryTargets:
    """Target a task, or the story's tasks in a project, to a cycle milestone.

    Tasks already on it are left alone. Every task is checked before any
    changes, so a refusal changes nothing."""
    require_user(actor)
    story = get_story(session, actor=actor, story_id=story_id)
    entry = session.get(ScheduleEntry, data.entry_id)
    if entry is None or (data.cycle_id is not None and entry.cycle_id != data.cycle_id):
        raise InvalidInput.field("entry_id", f"no milestone entry {data.entry_id} in that cycle")
    if entry.kind != MILESTONE:
        raise InvalidInput.field(
            "entry_id", f"{entry.name} is not a milestone; tasks are targeted to milestones"
        )
    chosen = _story_tasks(session, story.id, project_id=data.project_id, task_id=data.task_id)
    project_id = chosen[0].project_id
    series = cycles.series_of(session, entry.cycle_id, project_id)
    if series is None:
        cycle = session.get(Cycle, entry.cycle_id)
        assert cycle is not None
        raise InvalidInput.field(
            "project_id", f"project {_project_name(session, project_id)} does not take part "
            f"in cycle {cycle.name}",
        )  # fmt: skip
    link = session.get(SeriesMilestone, (series.id, entry.id))
    assert link is not None, "joining gives a series every milestone of its cycle"
    off_branch = [task for task in chosen if task.branch_id != series.branch_id]
    if off_branch:
        raise _off_branch(session, off_branch[0], series)
    for task in chosen:
        if task.milestone_id != link.milestone_id:
            tasks.update_task(
                session, actor=actor, task_id=task.id, changes={"milestone_id": link.milestone_id}
            )
    return story_targets(session, actor=actor, story_id=story.id)


def untarget(session: Session, *, actor: Actor, story_id: int, data: UntargetIn) -> StoryTargets:
    """Take tasks of the story off the cycle's milestones. Tasks on other
    milestones (another cycle's, or StoryBoard milestones of their own) stay."""
    require_user(actor)
    story = get_story(session, actor=actor, story_id=story_id)
    if session.get(Cycle, data.cycle_id) is None:
        raise InvalidInput.field("cycle_id", f"no cycle with id {data.cycle_id}")
    chosen = _story_tasks(
        session, story.id, project_id=data.project_id, task_id=data.task_id, required=False
    )
    of_cycle = set(
        session.scalars(
            select(SeriesMilestone.milestone_id)
            .join(Series, Series.id == SeriesMilestone.series_id)
            .where(
                Series.cycle_id == data.cycle_id,
                SeriesMilestone.milestone_id.in_({task.milestone_id for task in chosen}),
            )
        )
    )
    for task in chosen:
        if task.milestone_id in of_cycle:
            tasks.update_task(session, actor=actor, task_id=task.id, changes={"milestone_id": None})
    return story_targets(session, actor=actor, story_id=story.id)


def _story_tasks(
    session: Session,
    story_id: int,
    *,
    project_id: int | None,
    task_id: int | None,
    required: bool = True,
) -> list[Task]:
    stmt = select(Task).where(Task.story_id == story_id).order_by(Task.id)
    if task_id is not None:
        found = list(session.scalars(stmt.where(Task.id == task_id)))
        if not found:
            raise InvalidInput.field("task_id", f"story {story_id} has no task {task_id}")
        return found
    if project_id is not None:
        stmt = stmt.where(Task.project_id == project_id)
    found = list(session.scalars(stmt))
    if required and not found:
        raise InvalidInput.field(
            "project_id", f"story {story_id} has no task in project {project_id}"
        )
    return found


def _project_name(session: Session, project_id: int) -> str:
    return session.scalar(select(Project.name).where(Project.id == project_id)) or str(project_id)


def _off_branch(session: Session, task: Task, series: Series) -> InvalidInput:
    rows = session.execute(
        select(Branch.id, Branch.name).where(Branch.id.in_([task.branch_id, series.branch_id]))
    )
    names: dict[int, str] = dict(rows.all())
    where = names.get(task.branch_id, "no branch") if task.branch_id is not None else "no branch"
    return InvalidInput.field(
        "task_id",
        f"task {task.id} is on branch {where}, but project "
        f"{_project_name(session, task.project_id)} develops this cycle on branch "
        f"{names[series.branch_id]}; only tasks on that branch can be targeted to its milestones",
    )


# Milestone status


@dataclass(frozen=True)
class StoryState:
    story_id: int
    title: str
    is_bug: bool
    state: str
    slipping: bool
    # The story's targeted tasks, and how many of them are merged.
    tasks: int
    merged: int

    @property
    def type(self) -> str:
        return BUG if self.is_bug else FEATURE


@dataclass
class Counts:
    """Stories by state (plus "targeted" and "slipping"), each by type."""

    by_state: dict[str, dict[str, int]] = field(
        default_factory=lambda: {
            name: {FEATURE: 0, BUG: 0, "total": 0} for name in ("targeted", *LISTS)
        }
    )

    def add(self, story: StoryState) -> None:
        names = ["targeted", story.state] + ([SLIPPING] if story.slipping else [])
        for name in names:
            self.by_state[name][story.type] += 1
            self.by_state[name]["total"] += 1

    def __getitem__(self, name: str) -> dict[str, int]:
        return self.by_state[name]


@dataclass(frozen=True)
class MilestoneStatus:
    cycle: Cycle
    entry: ScheduleEntry
    # The projects counted: one, a group's that take part, or all the cycle's.
    project_ids: list[int]
    counts: Counts
    # Slipping first, then not started, in progress, done; by story id within.
    stories: list[StoryState]
    today: dt.date

    def having(self, state: str | None) -> list[StoryState]:
        """The stories in `state` (one of LISTS), or all of them."""
        if state is None:
            return self.stories
        if state not in LISTS:
            raise InvalidInput.field("state", f"{state!r} is not a state; use {', '.join(LISTS)}")
        if state == SLIPPING:
            return [story for story in self.stories if story.slipping]
        return [story for story in self.stories if story.state == state]


@dataclass(frozen=True)
class Scope:
    """Whose series a status covers: a project's, a group's, or (neither
    given) every project of the cycle."""

    project_id: int | None = None
    project_group_id: int | None = None

    def __post_init__(self) -> None:
        if self.project_id is not None and self.project_group_id is not None:
            raise InvalidInput.field(
                "project_group_id", "send either project_id or project_group_id, not both"
            )


def milestone_entry(session: Session, cycle: Cycle, ref: int, *, by_number: bool) -> ScheduleEntry:
    """A milestone entry of the cycle by entry id, or by milestone number."""
    if by_number:
        entry = cycles.entry_of(session, cycle.id, MILESTONE, ref)
        if entry is None:
            raise NotFound.of("milestone", f"{cycle.name}-{ref}")
        return entry
    entry = cycles.get_entry(session, cycle.id, ref)
    if entry.kind != MILESTONE:
        raise NotFound.of("milestone", ref)
    return entry


def milestone_status(
    session: Session,
    *,
    actor: Actor,
    cycle: Cycle,
    entry: ScheduleEntry,
    scope: Scope,
    today: dt.date | None = None,
) -> MilestoneStatus:
    """Where the milestone stands for the scope, as `actor` may see it: the
    story list and counts come from one grouped query."""
    today = today or dt.datetime.now(dt.UTC).date()
    series = _series_in(session, cycle, scope)
    project_ids = sorted(project_id for _, project_id in series)
    found = _stories(session, actor, [entry], [series_id for series_id, _ in series], today)
    stories = found.get(entry.id, [])
    counts = Counts()
    for story in stories:
        counts.add(story)
    return MilestoneStatus(
        cycle=cycle,
        entry=entry,
        project_ids=project_ids,
        counts=counts,
        stories=stories,
        today=today,
    )


def cycle_overview(
    session: Session,
    *,
    actor: Actor,
    cycle: Cycle,
    scope: Scope,
    today: dt.date | None = None,
) -> list[tuple[ScheduleEntry, Counts]]:
    """Every milestone of the cycle with its counts for the scope (a
    project's page in a cycle), from one grouped query."""
    today = today or dt.datetime.now(dt.UTC).date()
    entries = cycles.milestones(session, cycle.id)
    series_ids = [series_id for series_id, _ in _series_in(session, cycle, scope)]
    found = _stories(session, actor, entries, series_ids, today)
    overview = []
    for entry in entries:
        counts = Counts()
        for story in found.get(entry.id, []):
            counts.add(story)
        overview.append((entry, counts))
    return overview


def _series_in(session: Session, cycle: Cycle, scope: Scope) -> list[tuple[int, int]]:
    """(series id, project id) of the scope's series in the cycle."""
    stmt = select(Series.id, Series.project_id).where(Series.cycle_id == cycle.id)
    if scope.project_id is not None:
        stmt = stmt.where(Series.project_id == scope.project_id)
    if scope.project_group_id is not None:
        if session.get(ProjectGroup, scope.project_group_id) is None:
            raise InvalidInput.field(
                "project_group_id", f"no project group with id {scope.project_group_id}"
            )
        stmt = stmt.where(
            Series.project_id.in_(
                select(groups.c.project_id).where(
                    groups.c.project_group_id == scope.project_group_id
                )
            )
        )
    found = [(series_id, project_id) for series_id, project_id in session.execute(stmt)]
    if scope.project_id is not None and not found:
        raise InvalidInput.field(
            "project_id",
            f"project {_project_name(session, scope.project_id)} does not take part "
            f"in cycle {cycle.name}",
        )
    return found


_ORDER = {NOT_STARTED: 1, IN_PROGRESS: 2, DONE: 3}


def _stories(
    session: Session,
    actor: Actor,
    entries: Sequence[ScheduleEntry],
    series_ids: Iterable[int],
    today: dt.date,
) -> dict[int, list[StoryState]]:
    """Entry id -> the visible stories targeted to it in the series, with
    their state. One query, grouped by entry and story in the database."""
    series_ids = list(series_ids)
    if not entries or not series_ids:
        return {}
    dates = {entry.id: entry.starts_on for entry in entries}
    link = SeriesMilestone
    todo = func.sum(case((Task.status == "todo", 1), else_=0))
    merged = func.sum(case((Task.status == "merged", 1), else_=0))
    rows = session.execute(
        select(link.entry_id, Story.id, Story.title, Story.is_bug, func.count(), todo, merged)
        .select_from(Task)
        .join(link, link.milestone_id == Task.milestone_id)
        .join(Story, Story.id == Task.story_id)
        .where(
            link.entry_id.in_(list(dates)),
            link.series_id.in_(series_ids),
            Task.status != "invalid",
            story_visibility(actor),
        )
        .group_by(link.entry_id, Story.id, Story.title, Story.is_bug)
    )
    found: dict[int, list[StoryState]] = defaultdict(list)
    for entry_id, story_id, title, is_bug, count, todo_count, merged_count in rows:
        if merged_count == count:
            state = DONE
        elif todo_count == count:
            state = NOT_STARTED
        else:
            state = IN_PROGRESS
        found[entry_id].append(
            StoryState(
                story_id=story_id,
                title=title,
                is_bug=bool(is_bug),
                state=state,
                slipping=state != DONE and dates[entry_id] < today,
                tasks=count,
                merged=merged_count,
            )
        )
    for stories in found.values():
        stories.sort(key=lambda s: (not s.slipping, _ORDER[s.state], s.story_id))
    return found


# What the pages offer


@dataclass(frozen=True)
class Choice:
    """A cycle milestone one of the story's projects can be targeted to."""

    cycle: Cycle
    entry: ScheduleEntry
    project_id: int
    project_name: str


def target_choices(
    session: Session, *, actor: Actor, story_id: int, today: dt.date | None = None
) -> list[Choice]:
    """The milestones not yet past of the cycles the story's projects take
    part in: what the story page offers to target to. One query."""
    today = today or dt.datetime.now(dt.UTC).date()
    get_story(session, actor=actor, story_id=story_id)
    projects = select(Task.project_id).where(Task.story_id == story_id)
    rows = session.execute(
        select(Cycle, ScheduleEntry, Project.id, Project.name)
        .join(ScheduleEntry, ScheduleEntry.cycle_id == Cycle.id)
        .join(Series, Series.cycle_id == Cycle.id)
        .join(Project, Project.id == Series.project_id)
        .where(
            ScheduleEntry.kind == MILESTONE,
            ScheduleEntry.starts_on >= today,
            Series.project_id.in_(projects),
        )
        .order_by(Cycle.position, ScheduleEntry.starts_on, Project.name)
    )
    return [
        Choice(cycle=cycle, entry=entry, project_id=project_id, project_name=name)
        for cycle, entry, project_id, name in rows
    ]


def cycle_scopes(
    session: Session, cycle: Cycle
) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """The cycle's projects and the groups holding any of them, as (id,
    name) by name: a milestone page's choice of scope."""
    projects = [
        (project_id, name)
        for project_id, name in session.execute(
            select(Project.id, Project.name)
            .join(Series, Series.project_id == Project.id)
            .where(Series.cycle_id == cycle.id)
            .order_by(Project.name)
        )
    ]
    taking_part = select(Series.project_id).where(Series.cycle_id == cycle.id)
    found = [
        (group_id, name)
        for group_id, name in session.execute(
            select(ProjectGroup.id, ProjectGroup.name)
            .where(
                ProjectGroup.id.in_(
                    select(groups.c.project_group_id).where(groups.c.project_id.in_(taking_part))
                )
            )
            .order_by(ProjectGroup.name)
        )
    ]
    return projects, found
