"""/v1/users/{id}/preferences: a flat dictionary of typed values."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body

from storyline.accounts import preferences as service
from storyline.api.deps import ContextDep
from storyline.kernel.validation import Id

router = APIRouter(prefix="/users", tags=["users"])

# Values keep their JSON type: a boolean is answered as a boolean.
Preferences = dict[str, bool | int | float | str]


@router.get("/{user_id:int}/preferences", response_model=Preferences)
def get_preferences(ctx: ContextDep, user_id: Id) -> Any:
    with ctx.db.read() as session:
        return service.get_preferences(session, actor=ctx.actor, user_id=user_id)


@router.post("/{user_id:int}/preferences", response_model=Preferences)
def set_preferences(
    ctx: ContextDep,
    user_id: Id,
    body: Annotated[dict[str, Any], Body(description="key → value; null deletes the key")],
) -> Any:
    with ctx.db.write() as session:
        return service.set_preferences(session, actor=ctx.actor, user_id=user_id, changes=body)
