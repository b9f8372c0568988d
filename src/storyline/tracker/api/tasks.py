"""/v1/tasks and /v1/stories/{id}/tasks"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Response
from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

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
from storyline.kernel.paging import Page
from storyline.kernel.validation import Id, validate
from storyline.tracker import tasks as service
from storyline.tracker.api.stories import iso, json_response
from storyline.tracker.models import Story, Task
from storyline.tracker.tasks import TaskFilter, TaskIn

router = APIRouter(tags=["tasks"])


class TaskOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: Timestamp
    updated_at: Timestamp | None
    title: str
    status: str
    priority: str | None
    creator_id: int | None
    story_id: int
    link: str | None
    project_id: int
    assignee_id: int | None
    branch_id: int | None
    milestone_id: int | None
    due_dates: list[int] = []


def task_json(task: Task) -> dict[str, Any]:
    """The TaskOut document as plain JSON data, built without a validation
    pass per task (see api/stories.story_json)."""
    return {
        "id": task.id,
        "created_at": iso(task.created_at),
        "updated_at": iso(task.updated_at),
        "title": task.title,
        "status": task.status,
        "priority": task.priority,
        "creator_id": task.creator_id,
        "story_id": task.story_id,
        "link": task.link,
        "project_id": task.project_id,
        "assignee_id": task.assignee_id,
        "branch_id": task.branch_id,
        "milestone_id": task.milestone_id,
        "due_dates": [],
    }


def _page_response(page: Page[Task]) -> Response:
    response = json_response([task_json(task) for task in page.items])
    set_page_headers(response, page)
    return response


def task_filter(
    title: str | None = None,
    story_id: Id | None = None,
    assignee_id: Id | None = None,
    project_id: Id | None = None,
    project_group_id: Id | None = None,
    branch_id: Id | None = None,
    milestone_id: Id | None = None,
    status: Annotated[list[str] | None, Query()] = None,
    priority: Annotated[list[str] | None, Query()] = None,
    link: str | None = None,
) -> TaskFilter:
    return TaskFilter(
        title=title,
        story_id=story_id,
        assignee_id=assignee_id,
        project_id=project_id,
        project_group_id=project_group_id,
        branch_id=branch_id,
        milestone_id=milestone_id,
        status=tuple(status or ()),
        priority=tuple(priority or ()),
        link=link,
    )


# Under /stories/{story_id}/tasks the same dependency takes `story_id` from
# the path, so one parameter list serves both routes.
TaskFilterDep = Annotated[TaskFilter, Depends(nonblocking(task_filter))]


def _writable(body: dict[str, Any]) -> dict[str, Any]:
    # Clients send whole objects back (id, created_at, due_dates, ...); only
    # the fields a task input has are changes.
    return {key: value for key, value in body.items() if key in service.TaskChanges.model_fields}


@router.get("/tasks", response_model=list[TaskOut])
def list_tasks(ctx: ContextDep, paging: PageDep, filters: TaskFilterDep) -> Any:
    with ctx.db.read() as session:
        page = service.list_tasks(
            session, actor=ctx.actor, filters=filters, page=paging.request(ctx.settings)
        )
        return _page_response(page)


@router.post("/tasks", response_model=TaskOut)
def create_task(ctx: ContextDep, body: TaskIn) -> Any:
    with ctx.db.write() as session:
        return service.create_task(session, actor=ctx.actor, data=body)


def _check_task(
    session: Session, ctx: Context, if_match: IfMatch, task_id: int, story_id: int | None = None
) -> None:
    # Task writes lock the task's story row (tracker/tasks.py); so does this.
    story = select(Task.story_id).where(Task.id == task_id).scalar_subquery()
    if_match.check(
        session,
        Story.id,
        story,
        lambda: TaskOut.model_validate(
            service.get_task(session, actor=ctx.actor, task_id=task_id, story_id=story_id)
        ),
    )


@router.get("/tasks/{task_id}", response_model=TaskOut)
def get_task(ctx: ContextDep, task_id: Id) -> Any:
    with ctx.db.read() as session:
        return service.get_task(session, actor=ctx.actor, task_id=task_id)


@router.put("/tasks/{task_id}", response_model=TaskOut)
def update_task(
    ctx: ContextDep, task_id: Id, body: Annotated[dict[str, Any], Body()], if_match: IfMatchDep
) -> Any:
    with ctx.db.write() as session:
        _check_task(session, ctx, if_match, task_id)
        return service.update_task(
            session, actor=ctx.actor, task_id=task_id, changes=_writable(body)
        )


@router.delete("/tasks/{task_id}", status_code=204)
def delete_task(ctx: ContextDep, task_id: Id, if_match: IfMatchDep) -> Response:
    with ctx.db.write() as session:
        _check_task(session, ctx, if_match, task_id)
        service.delete_task(session, actor=ctx.actor, task_id=task_id)
    return Response(status_code=204)


# Nested under a story


@router.get("/stories/{story_id}/tasks", response_model=list[TaskOut])
@bounded_read
def list_story_tasks(
    ctx: ContextDep,
    story_id: Id,
    paging: PageDep,
    filters: TaskFilterDep,
) -> Any:
    with ctx.db.read() as session:
        page = service.list_story_tasks(
            session,
            actor=ctx.actor,
            story_id=story_id,
            filters=filters,
            page=paging.request(ctx.settings),
        )
        return _page_response(page)


@router.post("/stories/{story_id}/tasks", response_model=TaskOut)
def create_story_task(
    ctx: ContextDep, story_id: Id, body: Annotated[dict[str, Any], Body()]
) -> Any:
    data = validate(TaskIn, {**body, "story_id": story_id})
    with ctx.db.write() as session:
        return service.create_story_task(session, actor=ctx.actor, story_id=story_id, data=data)


@router.get("/stories/{story_id}/tasks/{task_id}", response_model=TaskOut)
def get_story_task(ctx: ContextDep, story_id: Id, task_id: Id) -> Any:
    with ctx.db.read() as session:
        return service.get_task(session, actor=ctx.actor, task_id=task_id, story_id=story_id)


@router.put("/stories/{story_id}/tasks/{task_id}", response_model=TaskOut)
def update_story_task(
    ctx: ContextDep,
    story_id: Id,
    task_id: Id,
    body: Annotated[dict[str, Any], Body()],
    if_match: IfMatchDep,
) -> Any:
    with ctx.db.write() as session:
        _check_task(session, ctx, if_match, task_id, story_id)
        return service.update_task(
            session, actor=ctx.actor, task_id=task_id, story_id=story_id, changes=_writable(body)
        )


@router.delete("/stories/{story_id}/tasks/{task_id}", status_code=204)
def delete_story_task(ctx: ContextDep, story_id: Id, task_id: Id, if_match: IfMatchDep) -> Response:
    with ctx.db.write() as session:
        _check_task(session, ctx, if_match, task_id, story_id)
        service.delete_task(session, actor=ctx.actor, task_id=task_id, story_id=story_id)
    return Response(status_code=204)


__all__ = ["TaskFilterDep", "TaskOut", "router", "task_filter", "task_json"]
