"""/v1/branches"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Response
from pydantic import BaseModel, ConfigDict

from storyline.api.deps import ContextDep, PageDep, Timestamp, set_page_headers
from storyline.api.preconditions import IfMatchDep
from storyline.kernel.validation import Id
from storyline.tracker import branches as service
from storyline.tracker.branches import BranchFilter, BranchIn
from storyline.tracker.models import Branch

router = APIRouter(prefix="/branches", tags=["branches"])


class BranchOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: Timestamp
    updated_at: Timestamp | None
    name: str
    project_id: int
    expired: bool
    # When `expired` was last switched on; set by the server.
    expiration_date: Timestamp | None
    autocreated: bool
    restricted: bool


@router.get("", response_model=list[BranchOut])
def list_branches(
    ctx: ContextDep,
    paging: PageDep,
    response: Response,
    name: str | None = None,
    project_id: Id | None = None,
    project_group_id: Id | None = None,
) -> Any:
    filters = BranchFilter(name=name, project_id=project_id, project_group_id=project_group_id)
    with ctx.db.read() as session:
        page = service.list_branches(session, filters=filters, page=paging.request(ctx.settings))
    set_page_headers(response, page)
    return page.items


@router.post("", response_model=BranchOut)
def create_branch(ctx: ContextDep, body: BranchIn) -> Any:
    with ctx.db.write() as session:
        return service.create_branch(session, actor=ctx.actor, data=body)


@router.get("/{branch_id:int}", response_model=BranchOut)
def get_branch(ctx: ContextDep, branch_id: Id) -> Any:
    with ctx.db.read() as session:
        return service.get_branch(session, branch_id=branch_id)


@router.put("/{branch_id:int}", response_model=BranchOut)
def update_branch(
    ctx: ContextDep, branch_id: Id, body: Annotated[dict[str, Any], Body()], if_match: IfMatchDep
) -> Any:
    with ctx.db.write() as session:
        if_match.check(
            session,
            Branch.id,
            branch_id,
            lambda: BranchOut.model_validate(service.get_branch(session, branch_id=branch_id)),
        )
        return service.update_branch(session, actor=ctx.actor, branch_id=branch_id, changes=body)


__all__ = ["BranchOut", "router"]
