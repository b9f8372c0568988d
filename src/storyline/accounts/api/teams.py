"""/v1/teams"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Response
from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from storyline.accounts import teams as service
from storyline.accounts.api.users import UserOut, users_out
from storyline.accounts.models import Team
from storyline.accounts.teams import TeamFilter, TeamIn
from storyline.api.deps import Context, ContextDep, PageDep, Timestamp, set_page_headers
from storyline.api.preconditions import IfMatch, IfMatchDep
from storyline.api.refs import MemberRef, member_id
from storyline.kernel.validation import Id

router = APIRouter(prefix="/teams", tags=["teams"])


class TeamOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: Timestamp
    updated_at: Timestamp | None
    name: str
    description: str | None
    security: bool


@router.get("", response_model=list[TeamOut])
def list_teams(
    ctx: ContextDep,
    paging: PageDep,
    response: Response,
    name: str | None = None,
    description: str | None = None,
    project_id: Id | None = None,
) -> Any:
    filters = TeamFilter(name=name, description=description, project_id=project_id)
    with ctx.db.read() as session:
        page = service.list_teams(session, filters=filters, page=paging.request(ctx.settings))
    set_page_headers(response, page)
    return page.items


@router.post("", response_model=TeamOut)
def create_team(ctx: ContextDep, body: TeamIn) -> Any:
    with ctx.db.write() as session:
        return service.create_team(session, actor=ctx.actor, data=body)


# Members. The id is taken from the path (python-storyboardclient) or, as
# StoryBoard also accepted, from the query string or a JSON body.


@router.get("/{team_id:int}/users", response_model=list[UserOut])
def list_team_users(ctx: ContextDep, team_id: Id) -> Any:
    with ctx.db.read() as session:
        members = service.team_users(session, team_id=team_id)
    return users_out(members, ctx.actor)


# python-storyboardclient reads a member back after adding it.
@router.get("/{team_id:int}/users/{user_id:int}", response_model=UserOut)
def get_team_user(ctx: ContextDep, team_id: Id, user_id: Id) -> Any:
    with ctx.db.read() as session:
        user = service.team_user(session, team_id=team_id, user_id=user_id)
    return UserOut.of(user, ctx.actor)


@router.put("/{team_id:int}/users", response_model=UserOut)
def add_team_user_by_query(
    ctx: ContextDep, team_id: Id, user_id: Id | None = None, body: MemberRef | None = None
) -> Any:
    return _add_user(ctx, team_id, member_id("user_id", user_id, body))


@router.put("/{team_id:int}/users/{user_id:int}", response_model=UserOut)
def add_team_user(ctx: ContextDep, team_id: Id, user_id: Id) -> Any:
    return _add_user(ctx, team_id, user_id)


def _add_user(ctx: Context, team_id: int, user_id: int) -> UserOut:
    with ctx.db.write() as session:
        user = service.add_user(session, actor=ctx.actor, team_id=team_id, user_id=user_id)
    return UserOut.of(user, ctx.actor)


@router.delete("/{team_id:int}/users", status_code=204)
def remove_team_user_by_query(
    ctx: ContextDep, team_id: Id, user_id: Id | None = None, body: MemberRef | None = None
) -> Response:
    return _remove_user(ctx, team_id, member_id("user_id", user_id, body))


@router.delete("/{team_id:int}/users/{user_id:int}", status_code=204)
def remove_team_user(ctx: ContextDep, team_id: Id, user_id: Id) -> Response:
    return _remove_user(ctx, team_id, user_id)


def _remove_user(ctx: Context, team_id: int, user_id: int) -> Response:
    with ctx.db.write() as session:
        service.remove_user(session, actor=ctx.actor, team_id=team_id, user_id=user_id)
    return Response(status_code=204)


@router.get("/{ref}", response_model=TeamOut)
def get_team(ctx: ContextDep, ref: str) -> Any:
    with ctx.db.read() as session:
        return service.get_team(session, ref=ref)


def _check(session: Session, if_match: IfMatch, team_id: int) -> None:
    if_match.check(
        session,
        Team.id,
        team_id,
        lambda: TeamOut.model_validate(service.get_team(session, ref=str(team_id))),
    )


@router.put("/{team_id}", response_model=TeamOut)
def update_team(
    ctx: ContextDep, team_id: Id, body: Annotated[dict[str, Any], Body()], if_match: IfMatchDep
) -> Any:
    with ctx.db.write() as session:
        _check(session, if_match, team_id)
        return service.update_team(session, actor=ctx.actor, team_id=team_id, changes=body)


@router.delete("/{team_id}", status_code=204)
def delete_team(ctx: ContextDep, team_id: Id, if_match: IfMatchDep) -> Response:
    with ctx.db.write() as session:
        _check(session, if_match, team_id)
        service.delete_team(session, actor=ctx.actor, team_id=team_id)
    return Response(status_code=204)
