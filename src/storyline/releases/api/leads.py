"""/v1/projects/{id}/leads and /v1/project_groups/{id}/leads: who decides
a project's freeze exceptions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from storyline.api.deps import ContextDep
from storyline.kernel.validation import Id
from storyline.releases import leads as service

router = APIRouter(tags=["release cycles"])


class LeadsIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    leads: list[Id] = Field(max_length=service.MAX_LEADS)


class LeadsOut(BaseModel):
    leads: list[int]


@router.get("/projects/{project_id}/leads", response_model=LeadsOut)
def get_project_leads(ctx: ContextDep, project_id: Id) -> Any:
    with ctx.db.read() as session:
        return LeadsOut(leads=service.leads(session, kind="project", object_id=project_id))


@router.put("/projects/{project_id}/leads", response_model=LeadsOut)
def set_project_leads(ctx: ContextDep, project_id: Id, body: LeadsIn) -> Any:
    with ctx.db.write() as session:
        return LeadsOut(
            leads=service.set_leads(
                session, actor=ctx.actor, kind="project", object_id=project_id, user_ids=body.leads
            )
        )


@router.get("/project_groups/{group_id}/leads", response_model=LeadsOut)
def get_group_leads(ctx: ContextDep, group_id: Id) -> Any:
    with ctx.db.read() as session:
        return LeadsOut(leads=service.leads(session, kind="project_group", object_id=group_id))


@router.put("/project_groups/{group_id}/leads", response_model=LeadsOut)
def set_group_leads(ctx: ContextDep, group_id: Id, body: LeadsIn) -> Any:
    with ctx.db.write() as session:
        return LeadsOut(
            leads=service.set_leads(
                session,
                actor=ctx.actor,
                kind="project_group",
                object_id=group_id,
                user_ids=body.leads,
            )
        )
