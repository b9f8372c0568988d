"""/v1/stories, its ACL (/users, /teams) and its nested timeline is in
tracker/api/events.py, its nested tasks in tracker/api/tasks.py."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Body, Depends, Query, Response
from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from storyline.accounts.models import Team, User
from storyline.api.deps import (
    Context,
    ContextDep,
    PageDep,
    Timestamp,
    bounded_read,
    nonblocking,
    set_page_headers,
)
from storyline.api.preconditions import IfMatch, IfMatchDep
from storyline.kernel.validation import Id
from storyline.tracker import stories as service
from storyline.tracker import story_acl
from storyline.tracker.models import Story
from storyline.tracker.stories import StoryFilter, StoryIn, StoryView

router = APIRouter(prefix="/stories", tags=["stories"])


class StoryUserOut(BaseModel):
    """A user on a private story's ACL. Email, OpenID and last login are left
    out: everyone who can see the story can see its ACL, and those fields are
    private to the user (see accounts/users.py)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: Timestamp
    updated_at: Timestamp | None
    full_name: str | None
    is_active: bool


class StoryTeamOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: Timestamp
    updated_at: Timestamp | None
    name: str
    description: str | None
    security: bool


class TaskStatusCount(BaseModel):
    key: str
    count: int


class StoryOut(BaseModel):
    id: int
    created_at: Timestamp
    updated_at: Timestamp | None
    title: str
    description: str | None
    is_bug: bool
    creator_id: int | None
    story_type_id: int
    # StoryBoard's derived status: a story with no tasks is "invalid".
    status: str
    # Storyline's own: like status, but "new" for a story with no tasks yet.
    lifecycle: str
    task_statuses: list[TaskStatusCount]
    tags: list[str]
    due_dates: list[int]
    private: bool
    security: bool
    users: list[StoryUserOut]
    teams: list[StoryTeamOut]

    @classmethod
    def of(cls, view: StoryView) -> StoryOut:
        story = view.story
        return cls(
            id=story.id,
            created_at=story.created_at,
            updated_at=story.updated_at,
            title=story.title,
            description=story.description,
            is_bug=story.is_bug,
            creator_id=story.creator_id,
            story_type_id=story.story_type_id,
            status=story.status,
            lifecycle=view.lifecycle,
            task_statuses=[TaskStatusCount(**item) for item in view.task_statuses],
            tags=view.tags,
            due_dates=[],
            private=story.private,
            security=story.security,
            users=[StoryUserOut.model_validate(user) for user in view.users],
            teams=[StoryTeamOut.model_validate(team) for team in view.teams],
        )


def iso(value: dt.datetime | None) -> str | None:
    # The same format as deps.Timestamp: seconds, explicit UTC offset.
    return None if value is None else value.astimezone(dt.UTC).isoformat(timespec="seconds")


def _user_json(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "created_at": iso(user.created_at),
        "updated_at": iso(user.updated_at),
        "full_name": user.full_name,
        "is_active": user.is_active,
    }


def _team_json(team: Team) -> dict[str, Any]:
    return {
        "id": team.id,
        "created_at": iso(team.created_at),
        "updated_at": iso(team.updated_at),
        "name": team.name,
        "description": team.description,
        "security": team.security,
    }


def story_json(view: StoryView) -> dict[str, Any]:
    """The StoryOut document as plain JSON data.

    Lists build these directly instead of validating a StoryOut per story
    (and FastAPI validating it again): for a page of 100 stories that was
    most of the request's time. The API tests check every response against
    the OpenAPI schema, so this cannot drift from StoryOut unnoticed.
    """
    story = view.story
    return {
        "id": story.id,
        "created_at": iso(story.created_at),
        "updated_at": iso(story.updated_at),
        "title": story.title,
        "description": story.description,
        "is_bug": story.is_bug,
        "creator_id": story.creator_id,
        "story_type_id": story.story_type_id,
        "status": story.status,
        "lifecycle": view.lifecycle,
        "task_statuses": view.task_statuses,
        "tags": view.tags,
        "due_dates": [],
        "private": story.private,
        "security": story.security,
        "users": [_user_json(user) for user in view.users],
        "teams": [_team_json(team) for team in view.teams],
    }


def json_response(content: Any) -> Response:
    return Response(orjson.dumps(content), media_type="application/json")


def story_filter(
    title: str | None = None,
    description: str | None = None,
    status: Annotated[list[str] | None, Query()] = None,
    assignee_id: Id | None = None,
    creator_id: Id | None = None,
    project_group_id: Id | None = None,
    project_id: Id | None = None,
    subscriber_id: Id | None = None,
    tags: Annotated[list[str] | None, Query()] = None,
    tags_filter_type: str | None = None,
    updated_since: dt.datetime | None = None,
) -> StoryFilter:
    return StoryFilter(
        title=title,
        description=description,
        status=tuple(status or ()),
        assignee_id=assignee_id,
        creator_id=creator_id,
        project_group_id=project_group_id,
        project_id=project_id,
        subscriber_id=subscriber_id,
        tags=tuple(tags or ()),
        tags_filter_type=tags_filter_type or "all",
        updated_since=updated_since,
    )


StoryFilterDep = Annotated[StoryFilter, Depends(nonblocking(story_filter))]


@router.get("", response_model=list[StoryOut])
def list_stories(ctx: ContextDep, paging: PageDep, filters: StoryFilterDep) -> Any:
    with ctx.db.read() as session:
        page = service.list_stories(
            session, actor=ctx.actor, filters=filters, page=paging.request(ctx.settings)
        )
        response = json_response([story_json(view) for view in page.items])
    set_page_headers(response, page)
    return response


@router.post("", response_model=StoryOut)
def create_story(ctx: ContextDep, body: StoryIn) -> Any:
    with ctx.db.write() as session:
        return json_response(story_json(service.create_story(session, actor=ctx.actor, data=body)))


def current_story(session: Session, ctx: Context, story_id: int) -> dict[str, Any]:
    """What GET /v1/stories/{id} answers: the representation that `If-Match`
    on the story and on what it holds (ACL, tags) is checked against."""
    return story_json(service.get_story_view(session, actor=ctx.actor, story_id=story_id))


def check_story(session: Session, ctx: Context, if_match: IfMatch, story_id: int) -> None:
    if_match.check(session, Story.id, story_id, lambda: current_story(session, ctx, story_id))


@router.get("/{story_id}", response_model=StoryOut)
@bounded_read
def get_story(ctx: ContextDep, story_id: Id) -> Any:
    with ctx.db.read() as session:
        return json_response(current_story(session, ctx, story_id))


@router.put("/{story_id}", response_model=StoryOut)
def update_story(
    ctx: ContextDep, story_id: Id, body: Annotated[dict[str, Any], Body()], if_match: IfMatchDep
) -> Any:
    with ctx.db.write() as session:
        check_story(session, ctx, if_match, story_id)
        view = service.update_story(session, actor=ctx.actor, story_id=story_id, changes=body)
        return json_response(story_json(view))


@router.delete("/{story_id}", status_code=204)
def delete_story(ctx: ContextDep, story_id: Id, if_match: IfMatchDep) -> Response:
    with ctx.db.write() as session:
        check_story(session, ctx, if_match, story_id)
        service.delete_story(session, actor=ctx.actor, story_id=story_id)
    return Response(status_code=204)


# The ACL of a private story


@router.get("/{story_id}/users", response_model=list[StoryUserOut])
def list_story_users(ctx: ContextDep, story_id: Id) -> Any:
    with ctx.db.read() as session:
        return story_acl.list_users(session, actor=ctx.actor, story_id=story_id)


@router.put("/{story_id}/users/{user_id}", response_model=StoryUserOut)
def add_story_user(ctx: ContextDep, story_id: Id, user_id: Id, if_match: IfMatchDep) -> User:
    with ctx.db.write() as session:
        check_story(session, ctx, if_match, story_id)
        return story_acl.add_user(session, actor=ctx.actor, story_id=story_id, user_id=user_id)


@router.delete("/{story_id}/users/{user_id}", status_code=204)
def remove_story_user(ctx: ContextDep, story_id: Id, user_id: Id, if_match: IfMatchDep) -> Response:
    with ctx.db.write() as session:
        check_story(session, ctx, if_match, story_id)
        story_acl.remove_user(session, actor=ctx.actor, story_id=story_id, user_id=user_id)
    return Response(status_code=204)


@router.get("/{story_id}/teams", response_model=list[StoryTeamOut])
def list_story_teams(ctx: ContextDep, story_id: Id) -> Any:
    with ctx.db.read() as session:
        return story_acl.list_teams(session, actor=ctx.actor, story_id=story_id)


@router.put("/{story_id}/teams/{team_id}", response_model=StoryTeamOut)
def add_story_team(ctx: ContextDep, story_id: Id, team_id: Id, if_match: IfMatchDep) -> Team:
    with ctx.db.write() as session:
        check_story(session, ctx, if_match, story_id)
        return story_acl.add_team(session, actor=ctx.actor, story_id=story_id, team_id=team_id)


@router.delete("/{story_id}/teams/{team_id}", status_code=204)
def remove_story_team(ctx: ContextDep, story_id: Id, team_id: Id, if_match: IfMatchDep) -> Response:
    with ctx.db.write() as session:
        check_story(session, ctx, if_match, story_id)
        story_acl.remove_team(session, actor=ctx.actor, story_id=story_id, team_id=team_id)
    return Response(status_code=204)


__all__ = [
    "StoryFilterDep",
    "StoryOut",
    "StoryTeamOut",
    "StoryUserOut",
    "check_story",
    "current_story",
    "iso",
    "json_response",
    "router",
    "story_filter",
    "story_json",
]
