"""/v1/stories/{id}/targets (targeting to cycle milestones) and
/v1/cycles/{id}/milestones/{entry_id}/status (where a milestone stands)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from storyline.api.deps import ContextDep, Timestamp
from storyline.kernel.validation import Id
from storyline.releases import cycles
from storyline.releases import targeting as service
from storyline.releases.targeting import (
    LISTS,
    Counts,
    MilestoneStatus,
    Scope,
    StoryTargets,
    TargetIn,
    UntargetIn,
)
from storyline.tracker.models import Task

router = APIRouter(tags=["release cycles"])


class TargetTaskOut(BaseModel):
    id: int
    title: str
    status: str
    project_id: int
    branch_id: int | None
    milestone_id: int | None
    updated_at: Timestamp | None

    @classmethod
    def of(cls, task: Task) -> TargetTaskOut:
        return cls(
            id=task.id,
            title=task.title,
            status=task.status,
            project_id=task.project_id,
            branch_id=task.branch_id,
            milestone_id=task.milestone_id,
            updated_at=task.updated_at,
        )


class TargetOut(BaseModel):
    cycle_id: int
    cycle_name: str
    entry_id: int
    entry_name: str
    number: int | None
    date: dt.date
    tasks: list[TargetTaskOut]


class StoryTargetsOut(BaseModel):
    story_id: int
    targets: list[TargetOut]
    untargeted: list[TargetTaskOut]

    @classmethod
    def of(cls, found: StoryTargets) -> StoryTargetsOut:
        return cls(
            story_id=found.story_id,
            targets=[
                TargetOut(
                    cycle_id=t.cycle.id,
                    cycle_name=t.cycle.name,
                    entry_id=t.entry.id,
                    entry_name=t.entry.name,
                    number=t.entry.number,
                    date=t.entry.starts_on,
                    tasks=[TargetTaskOut.of(task) for task in t.tasks],
                )
                for t in found.targets
            ],
            untargeted=[TargetTaskOut.of(task) for task in found.untargeted],
        )


@router.get("/stories/{story_id}/targets", response_model=StoryTargetsOut)
def get_targets(ctx: ContextDep, story_id: Id) -> Any:
    """The story's tasks by the cycle milestone they are targeted to."""
    with ctx.db.read() as session:
        found = service.story_targets(session, actor=ctx.actor, story_id=story_id)
        return StoryTargetsOut.of(found)


@router.put("/stories/{story_id}/targets", response_model=StoryTargetsOut)
def put_target(ctx: ContextDep, story_id: Id, body: TargetIn) -> Any:
    """Target one task (`task_id`), or all the story's tasks in a project
    (`project_id`), to a cycle milestone (`entry_id`). Only tasks on the
    branch of the project's series in that cycle can be targeted."""
    with ctx.db.write() as session:
        found = service.target(session, actor=ctx.actor, story_id=story_id, data=body)
        return StoryTargetsOut.of(found)


@router.delete("/stories/{story_id}/targets", response_model=StoryTargetsOut)
def delete_target(
    ctx: ContextDep,
    story_id: Id,
    cycle_id: Id,
    project_id: Id | None = None,
    task_id: Id | None = None,
) -> Any:
    """Take the story's tasks (those of a project, or one task) off the
    cycle's milestones."""
    data = UntargetIn(cycle_id=cycle_id, project_id=project_id, task_id=task_id)
    with ctx.db.write() as session:
        found = service.untarget(session, actor=ctx.actor, story_id=story_id, data=data)
        return StoryTargetsOut.of(found)


# Milestone status

ByType = dict[str, int]


class StoryStateOut(BaseModel):
    story_id: int
    title: str
    type: str
    state: str
    slipping: bool
    tasks: int
    merged: int


class MilestoneStatusOut(BaseModel):
    cycle_id: int
    entry_id: int
    name: str
    date: dt.date
    today: dt.date
    project_ids: list[int]
    # targeted, done, in_progress, not_started, slipping: each by feature,
    # bug and total.
    counts: dict[str, ByType]
    # The page of `stories` asked for, of `total` matching `state`.
    total: int
    stories: list[StoryStateOut]

    @classmethod
    def of(
        cls, status: MilestoneStatus, *, state: str | None, limit: int, offset: int
    ) -> MilestoneStatusOut:
        chosen = status.having(state)
        return cls(
            cycle_id=status.cycle.id,
            entry_id=status.entry.id,
            name=status.entry.name,
            date=status.entry.starts_on,
            today=status.today,
            project_ids=status.project_ids,
            counts=_counts(status.counts),
            total=len(chosen),
            stories=[
                StoryStateOut(
                    story_id=s.story_id,
                    title=s.title,
                    type=s.type,
                    state=s.state,
                    slipping=s.slipping,
                    tasks=s.tasks,
                    merged=s.merged,
                )
                for s in chosen[offset : offset + limit]
            ],
        )


def _counts(counts: Counts) -> dict[str, ByType]:
    return {name: dict(by_type) for name, by_type in counts.by_state.items()}


@router.get("/cycles/{cycle_id}/milestones/{entry_id}/status", response_model=MilestoneStatusOut)
def milestone_status(
    ctx: ContextDep,
    response: Response,
    cycle_id: Id,
    entry_id: Id,
    project_id: Id | None = None,
    project_group_id: Id | None = None,
    state: Annotated[
        str | None,
        Query(description="List only stories in this state: " + ", ".join(LISTS)),
    ] = None,
    limit: Annotated[int | None, Query(ge=1, description="Page size (capped by the server).")] = (
        None
    ),
    offset: Annotated[int, Query(ge=0, description="Skip this many stories.")] = 0,
) -> Any:
    """Stories targeted to a cycle milestone, for a project, a project group
    or (neither given) the whole cycle: counts by state and type, and the
    stories (slipping first), as the caller may see them."""
    scope = Scope(project_id=project_id, project_group_id=project_group_id)
    size = min(limit or ctx.settings.page_size_default, ctx.settings.page_size_maximum)
    with ctx.db.read() as session:
        cycle = cycles.get_cycle(session, cycle_id)
        entry = service.milestone_entry(session, cycle, entry_id, by_number=False)
        status = service.milestone_status(
            session, actor=ctx.actor, cycle=cycle, entry=entry, scope=scope
        )
    out = MilestoneStatusOut.of(status, state=state, limit=size, offset=offset)
    response.headers["X-Total"] = str(out.total)
    response.headers["X-Limit"] = str(size)
    return out
