"""/v1/cycles/{cycle_id}/velocity and /v1/project_repositories/{project_id}.

A project's repository is not under /v1/projects/{id}/: the tracker's
`GET /v1/projects/{ref:path}` (project names hold slashes) is tried first
and takes every path below it.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from storyline.api.deps import ContextDep, Timestamp
from storyline.api.preconditions import IfMatchDep
from storyline.kernel.validation import Id
from storyline.releases.models import ProjectRepository
from storyline.releases.velocity import repositories
from storyline.releases.velocity.report import CycleVelocity, Measures, cycle_velocity
from storyline.releases.velocity.repositories import RepositoryIn
from storyline.releases.velocity.scores import MilestoneScore
from storyline.tracker.models import Project

router = APIRouter(tags=["velocity"])


class MilestonesOut(BaseModel):
    # The shape of `storyline velocity report --json`: expected and score
    # from milestone 2 on, null where there is nothing to compare with.
    milestones: list[dict[str, Any]]

    @classmethod
    def of(cls, scores: list[MilestoneScore]) -> MilestonesOut:
        return cls(milestones=[s.as_json() for s in scores])


class MeasuresOut(BaseModel):
    id: int
    name: str
    features: MilestonesOut
    bugs: MilestonesOut
    commits: MilestonesOut | None
    commits_note: str | None
    # When the worker last fetched the clone of a remote repository.
    commits_fetched_at: Timestamp | None

    @classmethod
    def of(cls, row: Measures) -> MeasuresOut:
        return cls(
            id=row.id,
            name=row.name,
            features=MilestonesOut.of(row.features),
            bugs=MilestonesOut.of(row.bugs),
            commits=MilestonesOut.of(row.commits) if row.commits is not None else None,
            commits_note=row.commits_note,
            commits_fetched_at=row.commits_fetched_at,
        )


class CycleRef(BaseModel):
    id: int
    name: str


class VelocityOut(BaseModel):
    cycle: CycleRef
    baseline: CycleRef
    milestones: int
    projects: list[MeasuresOut]
    project_groups: list[MeasuresOut]

    @classmethod
    def of(cls, result: CycleVelocity) -> VelocityOut:
        return cls(
            cycle=CycleRef(id=result.cycle.id, name=result.cycle.name),
            baseline=CycleRef(id=result.baseline.id, name=result.baseline.name),
            milestones=result.milestones,
            projects=[MeasuresOut.of(row) for row in result.projects],
            project_groups=[MeasuresOut.of(row) for row in result.groups],
        )


@router.get("/cycles/{cycle_id}/velocity", response_model=VelocityOut)
def get_velocity(
    ctx: ContextDep,
    cycle_id: Id,
    baseline: Id | None = None,
    project_id: Id | None = None,
    project_group_id: Id | None = None,
) -> Any:
    """Features, bugs and commits per milestone against the baseline cycle
    (by default the one before), for the cycle's projects, one project, or
    one group and its projects."""
    with ctx.db.read() as session:
        return VelocityOut.of(
            cycle_velocity(
                session,
                actor=ctx.actor,
                cycle_ref=cycle_id,
                baseline_ref=baseline,
                project_id=project_id,
                project_group_id=project_group_id,
                data_dir=ctx.settings.data_dir,
            )
        )


class RepositoryOut(BaseModel):
    project_id: int
    location: str
    fetched_at: Timestamp | None
    last_error: str | None
    updated_at: Timestamp | None

    @classmethod
    def of(cls, repository: ProjectRepository) -> RepositoryOut:
        return cls(
            project_id=repository.project_id,
            location=repository.location,
            fetched_at=repository.fetched_at,
            last_error=repository.last_error,
            updated_at=repository.updated_at,
        )


@router.get("/project_repositories/{project_id}", response_model=RepositoryOut)
def get_repository(ctx: ContextDep, project_id: Id) -> Any:
    """Where velocity counts the project's commits (administrators only)."""
    with ctx.db.read() as session:
        return RepositoryOut.of(
            repositories.get_repository(session, actor=ctx.actor, project_id=project_id)
        )


@router.put("/project_repositories/{project_id}", response_model=RepositoryOut)
def set_repository(
    ctx: ContextDep, project_id: Id, body: RepositoryIn, if_match: IfMatchDep
) -> Any:
    """Set where velocity counts the project's commits: an absolute path on
    the server or an http(s):// or git:// URL (administrators only)."""
    with ctx.db.write() as session:
        if_match.check(
            session,
            Project.id,
            project_id,
            lambda: RepositoryOut.of(
                repositories.get_repository(session, actor=ctx.actor, project_id=project_id)
            ),
        )
        return RepositoryOut.of(
            repositories.set_repository(session, actor=ctx.actor, project_id=project_id, data=body)
        )


__all__ = ["router"]
