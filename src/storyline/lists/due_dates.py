"""Due dates: named dates that boards and worklists use and cards display."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session

from storyline.errors import InvalidInput, NotFound, PermissionDenied
from storyline.kernel.access import (
    Actor,
    board_probe,
    due_date_visibility,
    item_visibility,
    require_user,
    worklist_probe,
)
from storyline.kernel.paging import Page, PageRequest, paginate
from storyline.kernel.text import contains
from storyline.kernel.validation import Id, validate
from storyline.lists import boards, worklists
from storyline.lists.models import (
    DATE_ASSIGNER,
    DATE_OWNER,
    BoardDueDate,
    DueDate,
    DueDatePermission,
    WorklistDueDate,
    WorklistItem,
)

DUE_DATE_SORT = {
    "id": DueDate.id,
    "name": DueDate.name,
    "date": DueDate.date,
    "created_at": DueDate.created_at,
    "updated_at": DueDate.updated_at,
}
DUE_DATE_CODENAMES = {"edit_date": DATE_OWNER, "assign_date": DATE_ASSIGNER}


class DueDateIn(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=255)
    date: dt.datetime
    private: bool = False
    owners: list[Id] = Field(default_factory=list)
    users: list[Id] = Field(default_factory=list)
    # Used by POST and PUT to add the date to a board or a worklist.
    board_id: Id | None = None
    worklist_id: Id | None = None

    _user_ids = field_validator("owners", "users", mode="before")(worklists._ids)

    @field_validator("date")
    @classmethod
    def _aware(cls, value: dt.datetime) -> dt.datetime:
        return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


@dataclass(frozen=True, kw_only=True)
class DueDateFilter:
    name: str | None = None
    date: dt.datetime | None = None
    board_id: int | None = None
    worklist_id: int | None = None
    # Dates this user may assign / edit.
    user: int | None = None
    owner: int | None = None


@dataclass
class DueDateView:
    due_date: DueDate
    owners: list[int] = field(default_factory=list)
    users: list[int] = field(default_factory=list)
    editable: bool = False
    assignable: bool = False
    count: int = 0


def _query(actor: Actor, filters: DueDateFilter) -> Select[DueDate]:
    stmt = select(DueDate).where(due_date_visibility(actor))
    if filters.name:
        stmt = stmt.where(contains(DueDate.name, filters.name))
    if filters.date is not None:
        stmt = stmt.where(DueDate.date == filters.date)
    # A board or worklist the actor may not see has no due dates for them,
    # so the filter does not tell whether it exists.
    if filters.board_id is not None:
        stmt = stmt.where(
            DueDate.id.in_(
                select(BoardDueDate.due_date_id).where(BoardDueDate.board_id == filters.board_id)
            ),
            board_probe(actor, filters.board_id),
        )
    if filters.worklist_id is not None:
        stmt = stmt.where(
            DueDate.id.in_(
                select(WorklistDueDate.due_date_id).where(
                    WorklistDueDate.worklist_id == filters.worklist_id
                )
            ),
            worklist_probe(actor, filters.worklist_id),
        )
    for user_id, roles in (
        (filters.user, (DATE_OWNER, DATE_ASSIGNER)),
        (filters.owner, (DATE_OWNER,)),
    ):
        if user_id is not None:
            stmt = stmt.where(
                DueDate.id.in_(
                    select(DueDatePermission.due_date_id).where(
                        DueDatePermission.user_id == user_id, DueDatePermission.role.in_(roles)
                    )
                )
            )
    return stmt


def _views(session: Session, actor: Actor, dates: Sequence[DueDate]) -> list[DueDateView]:
    ids = [d.id for d in dates]
    perms: dict[int, dict[str, list[int]]] = {i: {DATE_OWNER: [], DATE_ASSIGNER: []} for i in ids}
    counts: dict[int, int] = defaultdict(int)
    if ids:
        for did, role, uid in session.execute(
            select(DueDatePermission.due_date_id, DueDatePermission.role, DueDatePermission.user_id)
            .where(DueDatePermission.due_date_id.in_(ids))
            .order_by(DueDatePermission.user_id)
        ):
            perms[did][role].append(uid)
        for shown, count in session.execute(
            # Cards the actor may not see, or on lists they may not see, are
            # not counted.
            select(WorklistItem.display_due_date, func.count())
            .where(
                WorklistItem.display_due_date.in_(ids),
                item_visibility(actor),
                worklist_probe(actor, WorklistItem.list_id),
            )
            .group_by(WorklistItem.display_due_date)
        ):
            if shown is not None:
                counts[shown] = count
    result = []
    for d in dates:
        owners, users = perms[d.id][DATE_OWNER], perms[d.id][DATE_ASSIGNER]
        mine = actor.user_id
        result.append(
            DueDateView(
                due_date=d,
                owners=owners,
                users=users,
                editable=actor.is_superuser or mine in owners,
                assignable=actor.is_superuser or mine in owners or mine in users,
                count=counts[d.id],
            )
        )
    return result


def list_due_dates(
    session: Session, *, actor: Actor, filters: DueDateFilter, page: PageRequest
) -> Page[DueDateView]:
    result = paginate(
        session, _query(actor, filters), model=DueDate, page=page, sortable=DUE_DATE_SORT
    )
    return Page(items=_views(session, actor, result.items), total=result.total, request=page)


def _get(session: Session, actor: Actor, due_date_id: int) -> DueDate:
    row = session.scalars(
        select(DueDate).where(DueDate.id == due_date_id, due_date_visibility(actor))
    ).one_or_none()
    if row is None:
        raise NotFound.of("due date", due_date_id)
    return row


def get_due_date(session: Session, *, actor: Actor, due_date_id: int) -> DueDateView:
    return _views(session, actor, [_get(session, actor, due_date_id)])[0]


def _set_role(session: Session, due_date_id: int, role: str, user_ids: Sequence[int]) -> None:
    session.execute(
        delete(DueDatePermission).where(
            DueDatePermission.due_date_id == due_date_id, DueDatePermission.role == role
        )
    )
    session.add_all(
        DueDatePermission(due_date_id=due_date_id, user_id=uid, role=role)
        for uid in dict.fromkeys(user_ids)
    )
    session.flush()


def _attach(session: Session, actor: Actor, due: DueDate, data: DueDateIn) -> None:
    if data.board_id is not None:
        board = boards.get_board(session, actor=actor, board_id=data.board_id)
        if not boards.board_roles(session, actor=actor, board_id=board.id):
            raise PermissionDenied("Only the board's owners and movers may add due dates to it.")
        if session.get(BoardDueDate, (board.id, due.id)) is None:
            session.add(BoardDueDate(board_id=board.id, due_date_id=due.id))
    if data.worklist_id is not None:
        worklist = worklists.get_worklist(session, actor=actor, worklist_id=data.worklist_id)
        worklists.require_mover(session, actor=actor, worklist=worklist)
        if session.get(WorklistDueDate, (worklist.id, due.id)) is None:
            session.add(WorklistDueDate(worklist_id=worklist.id, due_date_id=due.id))
    session.flush()


def create_due_date(session: Session, *, actor: Actor, data: DueDateIn) -> DueDateView:
    user_id = require_user(actor)
    owners = worklists._check_users(session, [user_id, *data.owners], "owners")
    users = worklists._check_users(session, data.users, "users")
    due = DueDate(name=data.name, date=data.date, private=data.private, creator_id=user_id)
    session.add(due)
    session.flush()
    _set_role(session, due.id, DATE_OWNER, owners)
    _set_role(session, due.id, DATE_ASSIGNER, users)
    _attach(session, actor, due, data)
    return get_due_date(session, actor=actor, due_date_id=due.id)


def _require_owner(session: Session, actor: Actor, due: DueDate) -> None:
    require_user(actor)
    if not get_due_date(session, actor=actor, due_date_id=due.id).editable:
        raise PermissionDenied("Only the due date's owners may change it.")


def update_due_date(
    session: Session, *, actor: Actor, due_date_id: int, changes: dict[str, Any]
) -> DueDateView:
    due = _get(session, actor, due_date_id)
    attaching = {k: changes[k] for k in ("board_id", "worklist_id") if changes.get(k) is not None}
    editing = {
        k: v for k, v in changes.items() if k in {"name", "date", "private", "owners", "users"}
    }
    if editing:
        _require_owner(session, actor, due)
    data = validate(
        DueDateIn,
        {"name": due.name, "date": due.date, "private": due.private, **editing, **attaching},
    )
    due.name, due.date, due.private = data.name, data.date, data.private
    if "owners" in editing:
        owners = worklists._check_users(session, data.owners, "owners")
        if not owners:
            raise InvalidInput.field("owners", "a due date needs at least one owner")
        _set_role(session, due.id, DATE_OWNER, owners)
    if "users" in editing:
        _set_role(
            session, due.id, DATE_ASSIGNER, worklists._check_users(session, data.users, "users")
        )
    if attaching:
        require_user(actor)
        _attach(session, actor, due, data)
    session.flush()
    return get_due_date(session, actor=actor, due_date_id=due.id)


def delete_due_date(session: Session, *, actor: Actor, due_date_id: int) -> None:
    due = _get(session, actor, due_date_id)
    _require_owner(session, actor, due)
    session.delete(due)
    session.flush()


def my_permissions(session: Session, *, actor: Actor, due_date_id: int) -> list[str]:
    view = get_due_date(session, actor=actor, due_date_id=due_date_id)
    result = []
    if view.editable:
        result.append("edit_date")
    if view.assignable:
        result.append("assign_date")
    return result


def change_permission(
    session: Session, *, actor: Actor, due_date_id: int, body: dict[str, Any], replace: bool
) -> str:
    due = _get(session, actor, due_date_id)
    _require_owner(session, actor, due)
    codename = body.get("codename")
    if codename not in DUE_DATE_CODENAMES:
        raise InvalidInput.field("codename", "must be edit_date or assign_date")
    role = DUE_DATE_CODENAMES[codename]
    wanted = worklists._check_users(session, worklists._user_list(body.get("users", [])), "users")
    if not replace:
        view = get_due_date(session, actor=actor, due_date_id=due.id)
        wanted = sorted(set(wanted) | set(view.owners if role == DATE_OWNER else view.users))
    if role == DATE_OWNER and not wanted:
        raise InvalidInput.field("users", "a due date needs at least one owner")
    _set_role(session, due.id, role, wanted)
    return str(codename)
