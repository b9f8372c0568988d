"""/v1/{projects,stories,tasks}/search

StoryBoard's search endpoints: `q` plus the filters of the matching list,
paging and sorting. Unlike StoryBoard they answer X-Total, and an empty `q`
is a 400 instead of a 500. The query language is described in
`storyline.kernel.search`.

This router is registered before the resource routers, whose `/{id}` paths
would otherwise take "search" for an id (or, for projects, a name).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from storyline.api.deps import SEARCH_HELP, ContextDep, PageDep, set_page_headers
from storyline.kernel.validation import Id
from storyline.tracker import search as service
from storyline.tracker.api.projects import ProjectOut
from storyline.tracker.api.stories import StoryOut, story_filter
from storyline.tracker.api.tasks import TaskOut, task_filter
from storyline.tracker.projects import ProjectFilter

router = APIRouter()

Q = Annotated[str | None, Query(description=SEARCH_HELP)]


ListParam = Annotated[list[str] | None, Query()]

# Each search takes the filters of its list except those on the searched
# text itself (title, description, name, full_name), as StoryBoard did.


@router.get("/stories/search", response_model=list[StoryOut], tags=["stories"])
def search_stories(
    ctx: ContextDep,
    paging: PageDep,
    response: Response,
    q: Q = None,
    status: ListParam = None,
    assignee_id: Id | None = None,
    creator_id: Id | None = None,
    project_group_id: Id | None = None,
    project_id: Id | None = None,
    subscriber_id: Id | None = None,
    tags: ListParam = None,
    tags_filter_type: str | None = None,
    updated_since: dt.datetime | None = None,
) -> Any:
    filters = story_filter(
        status=status,
        assignee_id=assignee_id,
        creator_id=creator_id,
        project_group_id=project_group_id,
        project_id=project_id,
        subscriber_id=subscriber_id,
        tags=tags,
        tags_filter_type=tags_filter_type,
        updated_since=updated_since,
    )
    with ctx.db.read() as session:
        page = service.search_stories(
            session, actor=ctx.actor, q=q, filters=filters, page=paging.request(ctx.settings)
        )
        items = [StoryOut.of(view) for view in page.items]
    set_page_headers(response, page)
    return items


@router.get("/tasks/search", response_model=list[TaskOut], tags=["tasks"])
def search_tasks(
    ctx: ContextDep,
    paging: PageDep,
    response: Response,
    q: Q = None,
    story_id: Id | None = None,
    assignee_id: Id | None = None,
    project_id: Id | None = None,
    project_group_id: Id | None = None,
    branch_id: Id | None = None,
    milestone_id: Id | None = None,
    status: ListParam = None,
    priority: ListParam = None,
    link: str | None = None,
) -> Any:
    filters = task_filter(
        story_id=story_id,
        assignee_id=assignee_id,
        project_id=project_id,
        project_group_id=project_group_id,
        branch_id=branch_id,
        milestone_id=milestone_id,
        status=status,
        priority=priority,
        link=link,
    )
    with ctx.db.read() as session:
        page = service.search_tasks(
            session, actor=ctx.actor, q=q, filters=filters, page=paging.request(ctx.settings)
        )
    set_page_headers(response, page)
    return page.items


@router.get("/projects/search", response_model=list[ProjectOut], tags=["projects"])
def search_projects(
    ctx: ContextDep,
    paging: PageDep,
    response: Response,
    q: Q = None,
    project_group_id: Id | None = None,
    subscriber_id: Id | None = None,
) -> Any:
    filters = ProjectFilter(project_group_id=project_group_id, subscriber_id=subscriber_id)
    with ctx.db.read() as session:
        page = service.search_projects(
            session, q=q, filters=filters, page=paging.request(ctx.settings)
        )
    set_page_headers(response, page)
    return page.items


__all__ = ["router"]
