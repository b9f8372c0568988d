"""/v1/milestones"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Response
from pydantic import BaseModel, ConfigDict

from storyline.api.deps import ContextDep, PageDep, Timestamp, set_page_headers
from storyline.api.preconditions import IfMatchDep
from storyline.kernel.validation import Id
from storyline.tracker import branches as service
from storyline.tracker.branches import MilestoneFilter, MilestoneIn
from storyline.tracker.models import Milestone

router = APIRouter(prefix="/milestones", tags=["milestones"])


class MilestoneOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: Timestamp
    updated_at: Timestamp | None
    name: str
    branch_id: int
    expired: bool
    # When `expired` was last switched on; set by the server.
    expiration_date: Timestamp | None


@router.get("", response_model=list[MilestoneOut])
def list_milestones(
    ctx: ContextDep,
    paging: PageDep,
    response: Response,
    name: str | None = None,
    branch_id: Id | None = None,
) -> Any:
    filters = MilestoneFilter(name=name, branch_id=branch_id)
    with ctx.db.read() as session:
        page = service.list_milestones(session, filters=filters, page=paging.request(ctx.settings))
    set_page_headers(response, page)
    return page.items


@router.post("", response_model=MilestoneOut)
def create_milestone(ctx: ContextDep, body: MilestoneIn) -> Any:
    with ctx.db.write() as session:
        return service.create_milestone(session, actor=ctx.actor, data=body)


@router.get("/{milestone_id:int}", response_model=MilestoneOut)
def get_milestone(ctx: ContextDep, milestone_id: Id) -> Any:
    with ctx.db.read() as session:
        return service.get_milestone(session, milestone_id=milestone_id)


@router.put("/{milestone_id:int}", response_model=MilestoneOut)
def update_milestone(
    ctx: ContextDep,
    milestone_id: Id,
    body: Annotated[dict[str, Any], Body()],
    if_match: IfMatchDep,
) -> Any:
    with ctx.db.write() as session:
        if_match.check(
            session,
            Milestone.id,
            milestone_id,
            lambda: MilestoneOut.model_validate(
                service.get_milestone(session, milestone_id=milestone_id)
            ),
        )
        return service.update_milestone(
            session, actor=ctx.actor, milestone_id=milestone_id, changes=body
        )


__all__ = ["MilestoneOut", "router"]
