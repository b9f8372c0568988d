"""The projects a team works on (`/v1/teams/{id}/projects`): a team's link to
the tracker's projects, changed by administrators."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from storyline.accounts.models import project_teams
from storyline.accounts.teams import get_team
from storyline.errors import NotFound
from storyline.kernel.access import Actor, require_superuser
from storyline.tracker.models import Project
from storyline.tracker.projects import get_project


def team_projects(session: Session, *, team_id: int) -> Sequence[Project]:
    get_team(session, ref=team_id)
    stmt = (
        select(Project)
        .join(project_teams, project_teams.c.project_id == Project.id)
        .where(project_teams.c.team_id == team_id)
        .order_by(Project.id)
    )
    return session.scalars(stmt).all()


def add_project(session: Session, *, actor: Actor, team_id: int, project_id: int) -> Project:
    require_superuser(actor)
    get_team(session, ref=team_id)
    project = get_project(session, ref=project_id)
    present = session.scalar(
        select(func.count()).where(
            project_teams.c.team_id == team_id, project_teams.c.project_id == project_id
        )
    )
    if not present:
        session.execute(insert(project_teams).values(team_id=team_id, project_id=project_id))
    return project


def remove_project(session: Session, *, actor: Actor, team_id: int, project_id: int) -> None:
    require_superuser(actor)
    get_team(session, ref=team_id)
    result = session.execute(
        delete(project_teams).where(
            project_teams.c.team_id == team_id, project_teams.c.project_id == project_id
        )
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise NotFound(
            f"project {project_id} is not linked to team {team_id}",
            details={"resource": "project", "id": str(project_id)},
        )
