"""Due dates: named dates that boards and worklists use and cards display."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import Field, field_validator
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from storyline.errors import NotFound
from storyline.kernel import roles
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
from storyline.lists import boards
from storyline.lists.common import get_worklist, require_mover
from storyline.lists.models import (
    BOARD_ROLES,
    DATE_ASSIGNER,
    DATE_OWNER,
    DUE_DATE_ROLES,
    MOVER,
    BoardDueDate,
    DueDate,
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


class DueDateIn(roles.HoldersIn):
    name: str = Field(min_length=1, max_length=255)
    date: dt.datetime
    private: bool = False
    # Used by POST and PUT to add the date to a board or a worklist.
    board_id: Id | None = None
    worklist_id: Id | None = None

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
    for user_id, held in (
        (filters.user, (DATE_OWNER, DATE_ASSIGNER)),
        (filters.owner, (DATE_OWNER,)),
    ):
        if user_id is not None:
            stmt = stmt.where(DueDate.id.in_(roles.objects_held(DUE_DATE_ROLES, user_id, held)))
    return stmt


def _views(session: Session, actor: Actor, dates: Sequence[DueDate]) -> list[DueDateView]:
    ids = [d.id for d in dates]
    perms = roles.holders(session, DUE_DATE_ROLES, ids)
    counts: dict[int, int] = defaultdict(int)
    if ids:
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


def get_due_date(session: Session, *, actor: Actor, due_date_id: int) -> DueDateView:
    return _views(session, actor, [load_due_date(session, actor=actor, object_id=due_date_id)])[0]


def _attach(session: Session, actor: Actor, due: DueDate, data: DueDateIn) -> None:
    if data.board_id is not None:
        board = boards.get_board(session, actor=actor, board_id=data.board_id)
        roles.require(
            session,
            BOARD_ROLES,
            actor=actor,
            object_id=board.id,
            role=MOVER,
            to="add due dates to it",
        )
        if session.get(BoardDueDate, (board.id, due.id)) is None:
            session.add(BoardDueDate(board_id=board.id, due_date_id=due.id))
    if data.worklist_id is not None:
        worklist = get_worklist(session, actor=actor, worklist_id=data.worklist_id)
        require_mover(session, actor=actor, worklist=worklist)
        if session.get(WorklistDueDate, (worklist.id, due.id)) is None:
            session.add(WorklistDueDate(worklist_id=worklist.id, due_date_id=due.id))
    session.flush()


def create_due_date(session: Session, *, actor: Actor, data: DueDateIn) -> DueDateView:
    user_id = require_user(actor)
    due = DueDate(name=data.name, date=data.date, private=data.private, creator_id=user_id)
    session.add(due)
    session.flush()
    roles.grant_new(
        session,
        DUE_DATE_ROLES,
        object_id=due.id,
        creator_id=user_id,
        data=data,
    )
    _attach(session, actor, due, data)
    return get_due_date(session, actor=actor, due_date_id=due.id)


def _require_owner(session: Session, actor: Actor, due: DueDate) -> int:
    return roles.require(
        session, DUE_DATE_ROLES, actor=actor, object_id=due.id, role=DATE_OWNER, to="change it"
    )


def load_due_date(
    session: Session, *, actor: Actor, object_id: int, for_update: bool = False
) -> DueDate:
    """The loader the permission endpoints use (`storyline.api.roles`)."""
    stmt = select(DueDate).where(DueDate.id == object_id, due_date_visibility(actor))
    if for_update:
        stmt = stmt.with_for_update()
    due = session.scalars(stmt).one_or_none()
    if due is None:
        raise NotFound.of("due date", object_id)
    return due


def update_due_date(
    session: Session, *, actor: Actor, due_date_id: int, changes: dict[str, Any]
) -> DueDateView:
    due = load_due_date(session, actor=actor, object_id=due_date_id)
    attaching = {k: changes[k] for k in ("board_id", "worklist_id") if changes.get(k) is not None}
    editing = {
        k: v for k, v in changes.items() if k in {"name", "date", "private", "owners", "users"}
    }
    user_id = _require_owner(session, actor, due) if editing else None
    data = validate(
        DueDateIn,
        {"name": due.name, "date": due.date, "private": due.private, **editing, **attaching},
    )
    due.name, due.date, due.private = data.name, data.date, data.private
    if user_id is not None:
        roles.replace_sent(
            session, DUE_DATE_ROLES, object_id=due.id, changes=editing, data=data, author_id=user_id
        )
    if attaching:
        require_user(actor)
        _attach(session, actor, due, data)
    session.flush()
    return get_due_date(session, actor=actor, due_date_id=due.id)


def delete_due_date(session: Session, *, actor: Actor, due_date_id: int) -> None:
    due = load_due_date(session, actor=actor, object_id=due_date_id)
    _require_owner(session, actor, due)
    session.delete(due)
    session.flush()


def visible_due_dates(session: Session, *, actor: Actor, ids: Iterable[int]) -> dict[int, DueDate]:
    """The due dates among `ids` the actor may see, by id (what cards show)."""
    wanted = set(ids)
    if not wanted:
        return {}
    stmt = select(DueDate).where(DueDate.id.in_(wanted), due_date_visibility(actor))
    return {due.id: due for due in session.scalars(stmt)}
