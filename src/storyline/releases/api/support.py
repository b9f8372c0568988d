"""/v1/support: which series of which projects are supported, and the policy."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storyline.api.deps import ContextDep, PageDep, set_page_headers
from storyline.api.preconditions import IfMatchDep
from storyline.kernel.validation import Id
from storyline.releases import support
from storyline.releases.models import SupportRule
from storyline.releases.support import PolicyIn, RuleIn

router = APIRouter(prefix="/support", tags=["support"])


class SeriesSupportOut(BaseModel):
    series_id: int
    project_id: int
    project_name: str
    cycle_id: int
    cycle_name: str
    phase: str
    # True when a release manager set the phase instead of the policy.
    overridden: bool
    # The day each phase begins under the policy; null: not scheduled yet.
    released_on: dt.date
    security_from: dt.date | None
    eol_from: dt.date | None


class PolicyOut(BaseModel):
    rules: list[RuleIn]
    # True when no policy is set and the documented default applies.
    default: bool


@router.get("", response_model=list[SeriesSupportOut])
def list_support(
    ctx: ContextDep,
    paging: PageDep,
    response: Response,
    date: Annotated[
        dt.date | None, Query(description="The day to tell phases on (default: today, UTC).")
    ] = None,
    phase: Annotated[
        str | None, Query(description="Only series in this phase (security, maintained...).")
    ] = None,
    cycle_id: Annotated[Id | None, Query(description="Only the series of this cycle.")] = None,
) -> Any:
    """Every project's series with its support phase on a date."""
    with ctx.db.read() as session:
        page = support.list_support(
            session,
            page=paging.request(ctx.settings, default_sort_field="id"),
            phase=support.check_phase(phase),
            cycle_id=cycle_id,
            today=date,
        )
    set_page_headers(response, page)
    return [
        SeriesSupportOut(
            series_id=row.series.id,
            project_id=row.project.id,
            project_name=row.project.name,
            cycle_id=row.support.cycle.id,
            cycle_name=row.support.cycle.name,
            phase=row.phase,
            overridden=row.series.support_override is not None,
            released_on=row.support.begins["maintained"] or row.support.cycle.releases_on,
            security_from=row.support.begins.get("security"),
            eol_from=row.support.begins.get("eol"),
        )
        for row in page.items
    ]


def _policy(session: Session) -> PolicyOut:
    policy = support.get_policy(session)
    return PolicyOut(rules=policy.rules, default=policy.default)


@router.get("/policy", response_model=PolicyOut)
def get_policy(ctx: ContextDep) -> Any:
    with ctx.db.read() as session:
        return _policy(session)


@router.put("/policy", response_model=PolicyOut)
def set_policy(ctx: ContextDep, body: PolicyIn, if_match: IfMatchDep) -> Any:
    """Replace the policy (superusers); no rules restores the default."""
    with ctx.db.write() as session:
        # The first rule's row stands for the policy: a second writer waits
        # on it, then finds it replaced. (The default policy has no row to
        # lock; its If-Match is still compared.)
        first = select(func.min(SupportRule.id)).scalar_subquery()
        if_match.check(session, SupportRule.id, first, lambda: _policy(session))
        support.set_policy(session, actor=ctx.actor, data=body)
        return _policy(session)
