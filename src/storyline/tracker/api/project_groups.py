"""/v1/project_groups"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Response
from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from storyline.api.deps import ContextDep, PageDep, Timestamp, set_page_headers
from storyline.api.preconditions import IfMatch, IfMatchDep
from storyline.kernel.validation import Id
from storyline.tracker import projects as service
from storyline.tracker.api.projects import ProjectOut
from storyline.tracker.models import ProjectGroup
from storyline.tracker.projects import ProjectGroupFilter, ProjectGroupIn

router = APIRouter(prefix="/project_groups", tags=["project groups"])


class ProjectGroupOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: Timestamp
    updated_at: Timestamp | None
    name: str
    title: str | None


@router.get("", response_model=list[ProjectGroupOut])
def list_project_groups(
    ctx: ContextDep,
    paging: PageDep,
    response: Response,
    name: str | None = None,
    title: str | None = None,
    subscriber_id: Id | None = None,
) -> Any:
    filters = ProjectGroupFilter(name=name, title=title, subscriber_id=subscriber_id)
    with ctx.db.read() as session:
        page = service.list_project_groups(
            session, filters=filters, page=paging.request(ctx.settings)
        )
    set_page_headers(response, page)
    return page.items


@router.post("", response_model=ProjectGroupOut)
def create_project_group(ctx: ContextDep, body: ProjectGroupIn) -> Any:
    with ctx.db.write() as session:
        return service.create_project_group(session, actor=ctx.actor, data=body)


@router.get("/{group_id}/projects", response_model=list[ProjectOut])
def list_group_projects(ctx: ContextDep, group_id: Id) -> Any:
    with ctx.db.read() as session:
        return service.group_projects(session, group_id=group_id)


@router.put("/{group_id}/projects/{project_id}", response_model=ProjectOut)
def add_group_project(ctx: ContextDep, group_id: Id, project_id: Id) -> Any:
    with ctx.db.write() as session:
        return service.add_project_to_group(
            session, actor=ctx.actor, group_id=group_id, project_id=project_id
        )


@router.delete("/{group_id}/projects/{project_id}", status_code=204)
def remove_group_project(ctx: ContextDep, group_id: Id, project_id: Id) -> Response:
    with ctx.db.write() as session:
        service.remove_project_from_group(
            session, actor=ctx.actor, group_id=group_id, project_id=project_id
        )
    return Response(status_code=204)


@router.get("/{ref}", response_model=ProjectGroupOut)
def get_project_group(ctx: ContextDep, ref: str) -> Any:
    with ctx.db.read() as session:
        return service.get_project_group(session, ref=ref)


def _check(session: Session, if_match: IfMatch, group_id: int) -> None:
    if_match.check(
        session,
        ProjectGroup.id,
        group_id,
        lambda: ProjectGroupOut.model_validate(
            service.get_project_group(session, ref=str(group_id))
        ),
    )


@router.put("/{group_id}", response_model=ProjectGroupOut)
def update_project_group(
    ctx: ContextDep, group_id: Id, body: Annotated[dict[str, Any], Body()], if_match: IfMatchDep
) -> Any:
    changes = {k: v for k, v in body.items() if k in ProjectGroupIn.model_fields}
    with ctx.db.write() as session:
        _check(session, if_match, group_id)
        return service.update_project_group(
            session, actor=ctx.actor, group_id=group_id, changes=changes
        )


@router.delete("/{group_id}", status_code=204)
def delete_project_group(ctx: ContextDep, group_id: Id, if_match: IfMatchDep) -> Response:
    with ctx.db.write() as session:
        _check(session, if_match, group_id)
        service.delete_project_group(session, actor=ctx.actor, group_id=group_id)
    return Response(status_code=204)
