"""/v1/systeminfo and /v1/task_statuses"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel

from storyline import __version__
from storyline.api.deps import ContextDep
from storyline.domain.statuses import TASK_STATUSES

router = APIRouter(tags=["system"])


class SystemInfoOut(BaseModel):
    version: str
    product: str = "storyline"
    features: dict[str, bool]


class TaskStatusOut(BaseModel):
    key: str
    name: str


@router.get("/systeminfo", response_model=SystemInfoOut)
def systeminfo(ctx: ContextDep) -> Any:
    return SystemInfoOut(
        version=__version__,
        features={
            "editable_comments": ctx.settings.enable_editable_comments,
            "private_stories": True,
            "search": True,
            "attachments": False,
        },
    )


@router.get("/task_statuses", response_model=list[TaskStatusOut])
def task_statuses(response: Response, limit: int | None = None, name: str | None = None) -> Any:
    items = [TaskStatusOut(key=k, name=v) for k, v in TASK_STATUSES.items()]
    if name:
        items = [s for s in items if name.lower() in s.name.lower() or name.lower() in s.key]
    if limit is not None and limit > 0:
        items = items[:limit]
    response.headers["X-Total"] = str(len(items))
    return items
