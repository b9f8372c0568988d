"""A cycle's velocity from the tracker's own data and the projects' repositories.

For each project taking part in the cycle, and for a project group (the sum
of its projects), and for each milestone of the cycle that has passed:

- **features** and **bugs**: the stories (`is_bug` false or true) whose tasks
  for that project are targeted to the series' tracker milestone for that
  cycle milestone, with at least one of those tasks merged and none still
  open (todo, in progress, in review); invalid tasks do not count either way.
  Stories the caller may not see are not counted (the gate's
  `story_visibility`);
- **commits**: commits without merges in the project's repository between the
  previous boundary and the milestone's tag: the previous cycle's release tag
  for milestone 1. Where a tag is missing, the development branch's last
  commit by the end of the milestone's day stands for it (by the end of the
  day before the cycle starts, for a missing release tag). A remote
  repository is counted in the clone the worker keeps (`mirrors`).

Each measure is compared with the same milestones of the baseline cycle
(`scores.score_milestones`: milestone 1 sets the growth). A project without
a series in the baseline cycle compares with zeros, so it has no score.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session

from storyline.errors import InvalidInput, NotFound, StorylineError
from storyline.kernel.access import Actor, story_visibility
from storyline.releases import cycles as cycle_service
from storyline.releases.models import (
    Cycle,
    ProjectRepository,
    ScheduleEntry,
    Series,
    SeriesMilestone,
)
from storyline.releases.velocity import git, mirrors
from storyline.releases.velocity.repositories import is_remote
from storyline.releases.velocity.scores import MilestoneScore, score_milestones
from storyline.tracker.models import (
    Branch,
    Project,
    ProjectGroup,
    Story,
    Task,
    project_group_mapping,
)

__all__ = ["MAX_PROJECTS", "CycleVelocity", "Measures", "cycle_totals", "cycle_velocity"]

# Each project with a repository costs a few git processes per cycle the
# first time (counts are then cached by commit ids); a larger cycle is read
# a group or a project at a time. Without commits there is no such cost, and
# no limit.
MAX_PROJECTS = 30
OPEN_STATUSES = ("todo", "inprogress", "review")


@dataclass(frozen=True, slots=True)
class Measures:
    """One row: a project, a group or a whole cycle, each measure per milestone."""

    kind: str  # "project", "project_group" or "cycle"
    id: int
    name: str
    features: list[MilestoneScore]
    bugs: list[MilestoneScore]
    # None when there is no repository to count in; `commits_note` says why
    # (or, for a group, how many of its projects could not be counted).
    commits: list[MilestoneScore] | None
    commits_note: str | None = None
    # For a remote repository: when the worker last fetched its clone.
    commits_fetched_at: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class CycleVelocity:
    cycle: Cycle
    baseline: Cycle
    # How many milestones are compared: the current cycle's passed ones, at
    # most as many as the baseline has.
    milestones: int
    projects: list[Measures]
    groups: list[Measures]


@dataclass(slots=True)
class _Counts:
    features: list[int]
    bugs: list[int]
    commits: list[int] | None
    note: str | None = None
    fetched_at: dt.datetime | None = None


def _projects(
    session: Session,
    cycle: Cycle,
    project_id: int | None,
    group: ProjectGroup | None,
    *,
    limited: bool,
) -> list[Project]:
    stmt = (
        select(Project)
        .join(Series, Series.project_id == Project.id)
        .where(Series.cycle_id == cycle.id)
    )
    if project_id is not None:
        if session.get(Project, project_id) is None:
            raise NotFound.of("project", project_id)
        stmt = stmt.where(Project.id == project_id)
    if group is not None:
        members = select(project_group_mapping.c.project_id).where(
            project_group_mapping.c.project_group_id == group.id
        )
        stmt = stmt.where(Project.id.in_(members))
    if not limited:
        return list(session.scalars(stmt.order_by(Project.name)))
    projects = list(session.scalars(stmt.order_by(Project.name).limit(MAX_PROJECTS + 1)))
    if len(projects) > MAX_PROJECTS:
        raise InvalidInput.field(
            "project_group_id" if group is not None else "project_id",
            f"more than {MAX_PROJECTS} projects take part: ask for one project or a smaller group",
        )
    return projects


def _tracker_counts(
    session: Session, actor: Actor, milestone_ids: Sequence[int]
) -> dict[tuple[int, int, bool], int]:
    """Done stories per (project, tracker milestone, is_bug), in one query."""
    if not milestone_ids:
        return {}
    other = Task.__table__.alias("other")
    still_open = exists().where(
        and_(
            other.c.story_id == Task.story_id,
            other.c.project_id == Task.project_id,
            other.c.milestone_id == Task.milestone_id,
            other.c.status.in_(OPEN_STATUSES),
        )
    )
    rows = session.execute(
        select(
            Task.project_id, Task.milestone_id, Story.is_bug, func.count(func.distinct(Story.id))
        )
        .join(Story, Story.id == Task.story_id)
        .where(
            Task.milestone_id.in_(milestone_ids),
            Task.status == "merged",
            ~still_open,
            story_visibility(actor),
        )
        .group_by(Task.project_id, Task.milestone_id, Story.is_bug)
    )
    return {(p, m, bool(b)): n for p, m, b, n in rows if m is not None}


def _boundaries(
    cycle: Cycle,
    entries: Sequence[ScheduleEntry],
    branch: str,
    tags: dict[int, str | None],
    release_tag: str | None,
) -> list[git.Boundary]:
    start = (
        git.Boundary(f"{cycle.name} previous release", release_tag)
        if release_tag
        else git.Boundary(
            f"{cycle.name} start", branch, until=cycle.starts_on - dt.timedelta(days=1)
        )
    )
    points = [start]
    for entry in entries:
        tag = tags.get(entry.id)
        points.append(
            git.Boundary(f"{entry.name} tag", tag)
            if tag
            else git.Boundary(entry.name, branch, until=entry.starts_on)
        )
    return points


def cycle_velocity(
    session: Session,
    *,
    actor: Actor,
    cycle_ref: int | str,
    baseline_ref: int | str | None = None,
    project_id: int | None = None,
    project_group_id: int | None = None,
    today: dt.date | None = None,
    data_dir: Path | None = None,
) -> CycleVelocity:
    """The velocity of the cycle (an id or a name) against `baseline_ref` (by
    default the cycle before it), for its projects, one project, or one group
    and its projects. Commits are counted when `data_dir` is given (remote
    repositories in their clones under it); without it, from the tracker
    alone, and no repository is read."""
    count_commits = data_dir is not None
    if project_id is not None and project_group_id is not None:
        raise InvalidInput.field("project_group_id", "give a project or a group, not both")
    cycle = cycle_service.get_cycle(session, cycle_ref)
    baseline = (
        cycle_service.get_cycle(session, baseline_ref)
        if baseline_ref is not None
        else cycle_service.previous_cycle(session, cycle)
    )
    if baseline is None:
        raise InvalidInput.field("baseline", f"no cycle comes before {cycle.name}: name one")
    if baseline.id == cycle.id:
        raise InvalidInput.field("baseline", "must be another cycle")
    group = None
    if project_group_id is not None:
        group = session.get(ProjectGroup, project_group_id)
        if group is None:
            raise NotFound.of("project group", project_group_id)
    projects = _projects(session, cycle, project_id, group, limited=count_commits)

    today = today or dt.datetime.now(dt.UTC).date()
    current_entries = [
        e for e in cycle_service.milestones(session, cycle.id) if e.starts_on <= today
    ]
    baseline_entries = cycle_service.milestones(session, baseline.id)
    size = min(len(current_entries), len(baseline_entries))
    entries = {cycle.id: current_entries[:size], baseline.id: baseline_entries[:size]}

    # Everything the rows need, a query per table.
    ids = [p.id for p in projects]
    cycles = [cycle, baseline]
    previous = {c.id: cycle_service.previous_cycle(session, c) for c in cycles}
    cycle_ids = {c.id for c in cycles} | {p.id for p in previous.values() if p is not None}
    series = {
        (s.cycle_id, s.project_id): s
        for s in session.scalars(
            select(Series).where(Series.cycle_id.in_(cycle_ids), Series.project_id.in_(ids))
        )
    }
    wanted = [s.id for (c, _), s in series.items() if c in entries]
    milestones = {
        (m.series_id, m.entry_id): m
        for m in session.scalars(
            select(SeriesMilestone).where(SeriesMilestone.series_id.in_(wanted))
        )
    }
    branches = dict(
        session.execute(
            select(Branch.id, Branch.name).where(
                Branch.id.in_([s.branch_id for s in series.values()])
            )
        ).all()
    )
    repositories = {
        r.project_id: r
        for r in session.scalars(
            select(ProjectRepository).where(ProjectRepository.project_id.in_(ids))
        )
    }
    done = _tracker_counts(session, actor, [m.milestone_id for m in milestones.values()])

    def counts(project: Project, of: Cycle) -> _Counts:
        own = series.get((of.id, project.id))
        zeros = [0] * size
        if own is None:
            return _Counts(zeros, list(zeros), list(zeros))
        targets = [milestones.get((own.id, e.id)) for e in entries[of.id]]
        features = [done.get((project.id, t.milestone_id, False), 0) if t else 0 for t in targets]
        bugs = [done.get((project.id, t.milestone_id, True), 0) if t else 0 for t in targets]
        if data_dir is None:
            return _Counts(features, bugs, None)
        repository = repositories.get(project.id)
        if repository is None:
            return _Counts(features, bugs, None, "no repository is configured")
        path, note = Path(repository.location), None
        if is_remote(repository.location):
            path = mirrors.mirror_path(data_dir, project.id)
            # Why a fetch failed names hosts and paths of the server: for
            # administrators only, like the location itself.
            failed = repository.last_error is not None
            why = f": {repository.last_error}" if failed and actor.is_superuser else ""
            if not path.is_dir():
                waiting = "the repository has not been cloned yet"
                return _Counts(features, bugs, None, f"cloning failed{why}" if failed else waiting)
            if failed:
                note = f"the last fetch failed{why}; counts may be behind"
        before = previous[of.id]
        before_series = series.get((before.id, project.id)) if before is not None else None
        boundaries = _boundaries(
            of,
            entries[of.id],
            branches[own.branch_id],
            {e.id: (m.tag if m else None) for e, m in zip(entries[of.id], targets, strict=True)},
            before_series.release_tag if before_series is not None else None,
        )
        fetched_at = repository.fetched_at if is_remote(repository.location) else None
        try:
            commits = git.count_ranges(path, boundaries)
        except StorylineError as error:
            return _Counts(features, bugs, None, error.message, fetched_at)
        return _Counts(features, bugs, commits, note, fetched_at)

    def measures(kind: str, id_: int, name: str, now: _Counts, then: _Counts) -> Measures:
        def scored(current: list[int], earlier: list[int]) -> list[MilestoneScore]:
            return score_milestones(earlier, current) if size else []

        commits = (
            scored(now.commits, then.commits)
            if now.commits is not None and then.commits is not None
            else None
        )
        return Measures(
            kind,
            id_,
            name,
            scored(now.features, then.features),
            scored(now.bugs, then.bugs),
            commits,
            now.note or then.note,
            now.fetched_at,
        )

    rows = [(p, counts(p, cycle), counts(p, baseline)) for p in projects]
    groups = []
    if group is not None:
        groups.append(
            measures(
                "project_group",
                group.id,
                group.name,
                _sum([now for _, now, _ in rows], size),
                _sum([then for _, _, then in rows], size),
            )
        )
    return CycleVelocity(
        cycle=cycle,
        baseline=baseline,
        milestones=size,
        projects=[measures("project", p.id, p.name, now, then) for p, now, then in rows],
        groups=groups,
    )


def _sum(counts: Sequence[_Counts], size: int) -> _Counts:
    """A group's counts: its projects' summed. Commits sum over the projects
    that have them; none at all is no count."""
    counted = [c.commits for c in counts if c.commits is not None]
    missing = len(counts) - len(counted)
    return _Counts(
        [sum(c.features[i] for c in counts) for i in range(size)],
        [sum(c.bugs[i] for c in counts) for i in range(size)],
        [sum(c[i] for c in counted) for i in range(size)] if counted else None,
        f"{missing} of {len(counts)} projects have no commit count" if missing else None,
    )


def cycle_totals(
    session: Session, *, actor: Actor, cycle: Cycle, baseline: Cycle, today: dt.date | None = None
) -> Measures:
    """The features and bugs of all the cycle's projects together, against
    `baseline`: the cycle page's summary. From the tracker alone, so that
    showing a cycle never waits for git."""
    result = cycle_velocity(
        session,
        actor=actor,
        cycle_ref=cycle.id,
        baseline_ref=baseline.id,
        today=today,
    )

    def total(rows: Sequence[list[MilestoneScore]]) -> list[MilestoneScore]:
        if not result.milestones:
            return []
        # Every row has one score per compared milestone, zeros included.
        return score_milestones(
            [sum(row[i].baseline for row in rows) for i in range(result.milestones)],
            [sum(row[i].current for row in rows) for i in range(result.milestones)],
        )

    return Measures(
        "cycle",
        cycle.id,
        cycle.name,
        total([row.features for row in result.projects]),
        total([row.bugs for row in result.projects]),
        None,
    )
