"""/v1/{projects,stories,tasks,users}/search

StoryBoard's search endpoints: `q` plus the filters of the matching list,
paging and sorting. Unlike StoryBoard they answer X-Total, and an empty `q`
is a 400 instead of a 500. The query language is described in
`storyline.services.search_query`.

This router is registered before the resource routers, whose `/{id}` paths
would otherwise take "search" for an id (or, for projects, a name).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from storyline.api.deps import ContextDep, PageDep, set_page_headers
from storyline.api.projects import ProjectOut
from storyline.services import search as service
from storyline.services.projects import ProjectFilter

router = APIRouter()

Q = Annotated[
    str | None,
    Query(
        description=(
            "Words to search for. Each word matches as a prefix ('frob' finds "
            "'frobnicator'); \"quoted phrases\" match whole words in order; "
            "-word excludes; all items must match."
        )
    ),
]


@router.get("/projects/search", response_model=list[ProjectOut], tags=["projects"])
def search_projects(
    ctx: ContextDep,
    paging: PageDep,
    response: Response,
    q: Q = None,
    name: str | None = None,
    description: str | None = None,
    project_group_id: int | None = None,
    subscriber_id: int | None = None,
) -> Any:
    filters = ProjectFilter(
        name=name,
        description=description,
        project_group_id=project_group_id,
        subscriber_id=subscriber_id,
    )
    with ctx.db.read() as session:
        page = service.search_projects(
            session, q=q, filters=filters, page=paging.request(ctx.settings)
        )
    set_page_headers(response, page)
    return page.items


__all__ = ["router"]
