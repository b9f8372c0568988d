"""/v1/projects"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Response
from pydantic import BaseModel, ConfigDict

from storyline.api.deps import ContextDep, PageDep, Timestamp, set_page_headers
from storyline.api.preconditions import IfMatchDep
from storyline.kernel.validation import Id
from storyline.tracker import projects as service
from storyline.tracker.models import Project
from storyline.tracker.projects import ProjectFilter, ProjectIn

router = APIRouter(prefix="/projects", tags=["projects"])


class ProjectOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: Timestamp
    updated_at: Timestamp | None
    name: str
    description: str | None
    repo_url: str | None
    is_active: bool
    autocreate_branches: bool


@router.get("", response_model=list[ProjectOut])
def list_projects(
    ctx: ContextDep,
    paging: PageDep,
    response: Response,
    name: str | None = None,
    description: str | None = None,
    project_group_id: Id | None = None,
    subscriber_id: Id | None = None,
) -> Any:
    filters = ProjectFilter(
        name=name,
        description=description,
        project_group_id=project_group_id,
        subscriber_id=subscriber_id,
    )
    with ctx.db.read() as session:
        page = service.list_projects(session, filters=filters, page=paging.request(ctx.settings))
    set_page_headers(response, page)
    return page.items


@router.post("", response_model=ProjectOut)
def create_project(ctx: ContextDep, body: ProjectIn) -> Any:
    with ctx.db.write() as session:
        return service.create_project(session, actor=ctx.actor, data=body)


# The name may contain slashes, so this path swallows the rest: its router is
# mounted after every subsystem's (`CATCH_ALL_ROUTERS`), so that a resource
# below a project (`/v1/projects/{id}/leads`) is found first.
by_name = APIRouter(prefix="/projects", tags=["projects"])


@by_name.get("/{ref:path}", response_model=ProjectOut)
def get_project(ctx: ContextDep, ref: str) -> Any:
    with ctx.db.read() as session:
        return service.get_project(session, ref=ref)


@router.put("/{project_id}", response_model=ProjectOut)
def update_project(
    ctx: ContextDep, project_id: Id, body: Annotated[dict[str, Any], Body()], if_match: IfMatchDep
) -> Any:
    with ctx.db.write() as session:
        if_match.check(
            session,
            Project.id,
            project_id,
            lambda: ProjectOut.model_validate(service.get_project(session, ref=str(project_id))),
        )
        return service.update_project(
            session, actor=ctx.actor, project_id=project_id, changes=_writable(body)
        )


def _writable(body: dict[str, Any]) -> dict[str, Any]:
    # Clients send whole objects back (id, created_at, ...); only the fields a
    # project input has are changes.
    return {key: value for key, value in body.items() if key in ProjectIn.model_fields}


__all__ = ["ProjectOut", "router"]
