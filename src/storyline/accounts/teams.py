"""Teams: named sets of users, linked to projects. Teams are how a private
story is shared with a group, and a project's security teams see its
security stories, so only administrators change them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session

from storyline.accounts.models import Team, TeamMembership, User, project_teams
from storyline.accounts.users import get_user
from storyline.errors import Conflict, InvalidInput, NotFound
from storyline.kernel.access import Actor, require_superuser
from storyline.kernel.paging import Page, PageRequest, paginate
from storyline.kernel.text import contains
from storyline.kernel.validation import LongText, id_or_name, is_number, validate

TEAM_SORT = {
    "id": Team.id,
    "name": Team.name,
    "created_at": Team.created_at,
    "updated_at": Team.updated_at,
}


class TeamIn(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    # StoryBoard's team names: letters, digits and separators, usable in URLs.
    name: str = Field(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9_.\-]+$")
    description: LongText | None = None
    security: bool = False


@dataclass(frozen=True, kw_only=True)
class TeamFilter:
    name: str | None = None
    description: str | None = None
    project_id: int | None = None


def team_query(filters: TeamFilter) -> Select[Team]:
    stmt = select(Team)
    if filters.name:
        stmt = stmt.where(contains(Team.name, filters.name))
    if filters.description:
        stmt = stmt.where(contains(Team.description, filters.description))
    if filters.project_id is not None:
        stmt = stmt.where(
            Team.id.in_(
                select(project_teams.c.team_id).where(
                    project_teams.c.project_id == filters.project_id
                )
            )
        )
    return stmt


def list_teams(session: Session, *, filters: TeamFilter, page: PageRequest) -> Page[Team]:
    return paginate(session, team_query(filters), model=Team, page=page, sortable=TEAM_SORT)


def get_team(session: Session, *, ref: str | int) -> Team:
    """A team by id or by name."""
    team: Team | None
    key = id_or_name(ref)
    if isinstance(key, int):
        team = session.get(Team, key)
    else:
        team = session.scalars(select(Team).where(Team.name == key)).one_or_none()
    if team is None:
        raise NotFound.of("team", ref)
    return team


def _check_name(session: Session, name: str, *, exclude_id: int | None = None) -> None:
    if is_number(name):
        raise InvalidInput.field(
            "name", "must not be a number, so that it can't be taken for an id"
        )
    stmt = select(Team.id).where(func.lower(Team.name) == name.lower())
    if exclude_id is not None:
        stmt = stmt.where(Team.id != exclude_id)
    if session.scalar(stmt) is not None:
        raise Conflict(f"A team named {name!r} already exists.", details={"field": "name"})


def create_team(session: Session, *, actor: Actor, data: TeamIn) -> Team:
    require_superuser(actor)
    _check_name(session, data.name)
    team = Team(**data.model_dump())
    session.add(team)
    session.flush()
    return team


def update_team(session: Session, *, actor: Actor, team_id: int, changes: dict[str, Any]) -> Team:
    require_superuser(actor)
    team = get_team(session, ref=team_id)
    current = {key: getattr(team, key) for key in TeamIn.model_fields}
    writable = {key: value for key, value in changes.items() if key in TeamIn.model_fields}
    merged = validate(TeamIn, {**current, **writable})
    if merged.name != team.name:
        _check_name(session, merged.name, exclude_id=team.id)
    for key, value in merged.model_dump().items():
        setattr(team, key, value)
    session.flush()
    return team


def delete_team(session: Session, *, actor: Actor, team_id: int) -> None:
    """Delete a team; its memberships, project links and story shares go with it."""
    require_superuser(actor)
    team = get_team(session, ref=team_id)
    session.delete(team)
    session.flush()


# Members


def team_users(session: Session, *, team_id: int) -> Sequence[User]:
    get_team(session, ref=team_id)
    stmt = (
        select(User)
        .join(TeamMembership, TeamMembership.user_id == User.id)
        .where(TeamMembership.team_id == team_id)
        .order_by(User.id)
    )
    return session.scalars(stmt).all()


def team_user(session: Session, *, team_id: int, user_id: int) -> User:
    """One member; NotFound when the user is not in the team."""
    get_team(session, ref=team_id)
    user = session.scalars(
        select(User)
        .join(TeamMembership, TeamMembership.user_id == User.id)
        .where(TeamMembership.team_id == team_id, User.id == user_id)
    ).one_or_none()
    if user is None:
        raise NotFound(
            f"user {user_id} is not in team {team_id}",
            details={"resource": "user", "id": str(user_id)},
        )
    return user


def add_user(session: Session, *, actor: Actor, team_id: int, user_id: int) -> User:
    """Add a member; adding a member twice is not an error."""
    require_superuser(actor)
    get_team(session, ref=team_id)
    user = get_user(session, user_id=user_id)
    present = session.get(TeamMembership, (team_id, user_id))
    if present is None:
        session.add(TeamMembership(team_id=team_id, user_id=user_id))
        session.flush()
    return user


def remove_user(session: Session, *, actor: Actor, team_id: int, user_id: int) -> None:
    require_superuser(actor)
    get_team(session, ref=team_id)
    result = session.execute(
        delete(TeamMembership).where(
            TeamMembership.team_id == team_id, TeamMembership.user_id == user_id
        )
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise NotFound(
            f"user {user_id} is not in team {team_id}",
            details={"resource": "user", "id": str(user_id)},
        )
