"""/v1/due_dates and their permissions."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Body, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from storyline.api.deps import Context, ContextDep, PageDep, Timestamp, set_page_headers
from storyline.api.preconditions import IfMatch, IfMatchDep
from storyline.api.roles import mount_permissions
from storyline.kernel.validation import Id
from storyline.lists import due_dates as service
from storyline.lists.due_dates import DueDateFilter, DueDateIn, DueDateView
from storyline.lists.models import DUE_DATE_ROLES, DueDate

router = APIRouter(prefix="/due_dates", tags=["due dates"])


class DueDateOut(BaseModel):
    id: int
    created_at: Timestamp
    updated_at: Timestamp | None
    name: str
    date: Timestamp
    private: bool
    creator_id: int | None
    owners: list[int] | None = None
    users: list[int] | None = None
    editable: bool | None = None
    assignable: bool | None = None
    count: int | None = None

    @classmethod
    def brief(cls, due: DueDate) -> DueDateOut:
        return cls(
            id=due.id,
            created_at=due.created_at,
            updated_at=due.updated_at,
            name=due.name,
            date=due.date,
            private=due.private,
            creator_id=due.creator_id,
        )

    @classmethod
    def of(cls, view: DueDateView) -> DueDateOut:
        out = cls.brief(view.due_date)
        out.owners = view.owners
        out.users = view.users
        out.editable = view.editable
        out.assignable = view.assignable
        out.count = view.count
        return out


@router.get("", response_model=list[DueDateOut])
def list_due_dates(
    ctx: ContextDep,
    paging: PageDep,
    response: Response,
    name: str | None = None,
    date: dt.datetime | None = None,
    board_id: Id | None = None,
    worklist_id: Id | None = None,
    user: int | None = None,
    owner: int | None = None,
) -> Any:
    filters = DueDateFilter(
        name=name, date=date, board_id=board_id, worklist_id=worklist_id, user=user, owner=owner
    )
    with ctx.db.read() as session:
        page = service.list_due_dates(
            session, actor=ctx.actor, filters=filters, page=paging.request(ctx.settings)
        )
    set_page_headers(response, page)
    return [DueDateOut.of(view) for view in page.items]


@router.post("", response_model=DueDateOut)
def create_due_date(ctx: ContextDep, body: DueDateIn) -> Any:
    with ctx.db.write() as session:
        return DueDateOut.of(service.create_due_date(session, actor=ctx.actor, data=body))


def _due_date(session: Session, ctx: Context, due_date_id: int) -> DueDateOut:
    return DueDateOut.of(service.get_due_date(session, actor=ctx.actor, due_date_id=due_date_id))


def _check(session: Session, ctx: Context, if_match: IfMatch, due_date_id: int) -> None:
    if_match.check(session, DueDate.id, due_date_id, lambda: _due_date(session, ctx, due_date_id))


@router.get("/{due_date_id}", response_model=DueDateOut)
def get_due_date(ctx: ContextDep, due_date_id: Id) -> Any:
    with ctx.db.read() as session:
        return _due_date(session, ctx, due_date_id)


@router.put("/{due_date_id}", response_model=DueDateOut)
def update_due_date(
    ctx: ContextDep, due_date_id: Id, body: Annotated[dict[str, Any], Body()], if_match: IfMatchDep
) -> Any:
    with ctx.db.write() as session:
        _check(session, ctx, if_match, due_date_id)
        return DueDateOut.of(
            service.update_due_date(session, actor=ctx.actor, due_date_id=due_date_id, changes=body)
        )


@router.delete("/{due_date_id}", status_code=204)
def delete_due_date(ctx: ContextDep, due_date_id: Id, if_match: IfMatchDep) -> Response:
    with ctx.db.write() as session:
        _check(session, ctx, if_match, due_date_id)
        service.delete_due_date(session, actor=ctx.actor, due_date_id=due_date_id)
    return Response(status_code=204)


mount_permissions(
    router,
    spec=DUE_DATE_ROLES,
    param="due_date_id",
    load=service.load_due_date,
    row=DueDate.id,
    current=_due_date,
)


__all__ = ["DueDateOut", "router"]
