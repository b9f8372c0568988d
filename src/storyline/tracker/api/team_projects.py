"""/v1/teams/{id}/projects: the projects a team works on."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from storyline.api.deps import Context, ContextDep
from storyline.api.refs import MemberRef, member_id
from storyline.kernel.validation import Id
from storyline.tracker import team_projects
from storyline.tracker.api.projects import ProjectOut

router = APIRouter(prefix="/teams", tags=["teams"])


@router.get("/{team_id:int}/projects", response_model=list[ProjectOut])
def list_team_projects(ctx: ContextDep, team_id: Id) -> Any:
    with ctx.db.read() as session:
        return team_projects.team_projects(session, team_id=team_id)


@router.put("/{team_id:int}/projects", response_model=ProjectOut)
def add_team_project_by_query(
    ctx: ContextDep, team_id: Id, project_id: Id | None = None, body: MemberRef | None = None
) -> Any:
    return _add_project(ctx, team_id, member_id("project_id", project_id, body))


@router.put("/{team_id:int}/projects/{project_id:int}", response_model=ProjectOut)
def add_team_project(ctx: ContextDep, team_id: Id, project_id: Id) -> Any:
    return _add_project(ctx, team_id, project_id)


def _add_project(ctx: Context, team_id: int, project_id: int) -> Any:
    with ctx.db.write() as session:
        return team_projects.add_project(
            session, actor=ctx.actor, team_id=team_id, project_id=project_id
        )


@router.delete("/{team_id:int}/projects", status_code=204)
def remove_team_project_by_query(
    ctx: ContextDep, team_id: Id, project_id: Id | None = None, body: MemberRef | None = None
) -> Response:
    return _remove_project(ctx, team_id, member_id("project_id", project_id, body))


@router.delete("/{team_id:int}/projects/{project_id:int}", status_code=204)
def remove_team_project(ctx: ContextDep, team_id: Id, project_id: Id) -> Response:
    return _remove_project(ctx, team_id, project_id)


def _remove_project(ctx: Context, team_id: int, project_id: int) -> Response:
    with ctx.db.write() as session:
        team_projects.remove_project(
            session, actor=ctx.actor, team_id=team_id, project_id=project_id
        )
    return Response(status_code=204)
