"""Kanban boards: lanes are worklists; cards are their items.

Moving a card is a worklist item move (`items.move_item`), so the rules
for ordering, locking and permissions are written once. A board's owners and
movers have the same roles on its lanes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Select, delete, func, select
from sqlalchemy.orm import Session

from storyline.domain import events
from storyline.errors import InvalidInput, NotFound
from storyline.kernel import roles, subscriptions, timeline
from storyline.kernel.access import (
    Actor,
    board_visibility,
    due_date_visibility,
    item_visibility,
    require_user,
    worklist_visibility,
)
from storyline.kernel.paging import Page, PageRequest, paginate
from storyline.kernel.text import contains
from storyline.kernel.validation import Id, LongText, validate
from storyline.lists import worklists as lists
from storyline.lists.common import (
    ITEM_TYPES,
    ListIn,
    apply_details,
    changed_details,
    check_project,
    get_worklist,
    require_owner,
)
from storyline.lists.models import (
    BOARD_ROLES,
    MOVER,
    OWNER,
    Board,
    BoardDueDate,
    BoardLane,
    DueDate,
    Worklist,
    WorklistItem,
)

BOARD_SORT = {
    "id": Board.id,
    "title": Board.title,
    "created_at": Board.created_at,
    "updated_at": Board.updated_at,
    "creator_id": Board.creator_id,
    "project_id": Board.project_id,
}


class LaneWorklistIn(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=255)


class LaneIn(BaseModel):
    """A lane: an existing worklist (`list_id`) or a new one (`worklist.title`)."""

    model_config = ConfigDict(extra="ignore")

    list_id: Id | None = None
    position: int | None = None
    worklist: LaneWorklistIn | None = None


class BoardIn(ListIn):
    description: LongText | None = None
    lanes: list[LaneIn] = Field(default_factory=list, max_length=100)


@dataclass(frozen=True, kw_only=True)
class BoardQuery:
    title: str | None = None
    creator_id: int | None = None
    project_id: int | None = None
    archived: bool | None = None
    user_id: int | None = None
    story_id: int | None = None
    task_id: int | None = None
    item_type: str | None = None
    subscriber_id: int | None = None

    def __post_init__(self) -> None:
        if self.item_type is not None and self.item_type not in ITEM_TYPES:
            raise InvalidInput.field("item_type", "must be story or task")


@dataclass
class LaneView:
    lane: BoardLane
    worklist: lists.WorklistView


@dataclass
class BoardView:
    board: Board
    owners: list[int] = field(default_factory=list)
    users: list[int] = field(default_factory=list)
    lanes: list[LaneView] = field(default_factory=list)
    due_dates: list[DueDate] = field(default_factory=list)


def get_board(session: Session, *, actor: Actor, board_id: int, for_update: bool = False) -> Board:
    stmt = select(Board).where(Board.id == board_id, board_visibility(actor))
    if for_update:
        stmt = stmt.with_for_update()
    board = session.scalars(stmt).one_or_none()
    if board is None:
        raise NotFound.of("board", board_id)
    return board


def load_board(
    session: Session, *, actor: Actor, object_id: int, for_update: bool = False
) -> Board:
    """The loader the permission endpoints use (`storyline.api.roles`)."""
    return get_board(session, actor=actor, board_id=object_id, for_update=for_update)


def board_of_lane(session: Session, *, actor: Actor, list_id: int) -> Board | None:
    """A board the actor may see that has the worklist as a lane, if any
    (the worklist page links back to it)."""
    stmt = board_query(actor, BoardQuery()).where(
        Board.id.in_(select(BoardLane.board_id).where(BoardLane.list_id == list_id))
    )
    return session.scalars(stmt.order_by(Board.id).limit(1)).first()


def my_boards(session: Session, *, actor: Actor, limit: int) -> list[Board]:
    """The actor's unarchived boards, by title (the dashboard)."""
    if actor.user_id is None:
        return []
    stmt = board_query(actor, BoardQuery(user_id=actor.user_id, archived=False))
    return list(session.scalars(stmt.order_by(Board.title, Board.id).limit(limit)))


def board_query(actor: Actor, query: BoardQuery) -> Select[Board]:
    stmt = select(Board).where(board_visibility(actor))
    if query.title:
        stmt = stmt.where(contains(Board.title, query.title))
    if query.creator_id is not None:
        stmt = stmt.where(Board.creator_id == query.creator_id)
    if query.project_id is not None:
        stmt = stmt.where(Board.project_id == query.project_id)
    if query.archived is not None:
        stmt = stmt.where(Board.archived.is_(query.archived))
    if query.user_id is not None:
        stmt = stmt.where(Board.id.in_(roles.objects_held(BOARD_ROLES, query.user_id)))
    item_conditions = []
    if query.story_id is not None:
        item_conditions.append(WorklistItem.story_id == query.story_id)
    if query.task_id is not None:
        item_conditions.append(WorklistItem.task_id == query.task_id)
    if query.item_type is not None:
        column = WorklistItem.story_id if query.item_type == "story" else WorklistItem.task_id
        item_conditions.append(column.is_not(None))
    if item_conditions:
        # Only cards the actor may see count: a story or task they may not
        # see matches no board, as if it did not exist.
        stmt = stmt.where(
            Board.id.in_(
                select(BoardLane.board_id)
                .join(WorklistItem, WorklistItem.list_id == BoardLane.list_id)
                .where(*item_conditions, item_visibility(actor))
            )
        )
    if query.subscriber_id is not None:
        stmt = stmt.where(Board.id.in_(subscriptions.followed("board", query.subscriber_id)))
    return stmt


def load_board_views(
    session: Session,
    *,
    actor: Actor,
    boards: Sequence[Board],
    with_lanes: bool = True,
    with_items: bool = True,
    item_limit: int | None = None,
) -> list[BoardView]:
    ids = [b.id for b in boards]
    perms = roles.holders(session, BOARD_ROLES, ids)
    views = {
        b.id: BoardView(board=b, owners=perms[b.id][OWNER], users=perms[b.id][MOVER])
        for b in boards
    }
    if with_lanes and ids:
        # A board shows the lanes and due dates the actor may see: a private
        # worklist can be a lane of a public board, and a private due date
        # can be on one.
        rows = session.execute(
            select(BoardLane, Worklist)
            .join(Worklist, Worklist.id == BoardLane.list_id)
            .where(BoardLane.board_id.in_(ids), worklist_visibility(actor))
            .order_by(BoardLane.board_id, BoardLane.position, BoardLane.id)
        ).all()
        worklist_views = lists.load_worklist_views(
            session,
            actor=actor,
            worklists=[w for _, w in rows],
            with_items=with_items,
            item_limit=item_limit,
        )
        by_id = {v.worklist.id: v for v in worklist_views}
        for lane, worklist in rows:
            views[lane.board_id].lanes.append(LaneView(lane=lane, worklist=by_id[worklist.id]))
        dates: dict[int, list[DueDate]] = defaultdict(list)
        for board_id, due in session.execute(
            select(BoardDueDate.board_id, DueDate)
            .join(DueDate, DueDate.id == BoardDueDate.due_date_id)
            .where(BoardDueDate.board_id.in_(ids), due_date_visibility(actor))
            .order_by(DueDate.date, DueDate.id)
        ):
            dates[board_id].append(due)
        for board_id, due_list in dates.items():
            views[board_id].due_dates = due_list
    return [views[b.id] for b in boards]


def list_boards(
    session: Session, *, actor: Actor, query: BoardQuery, page: PageRequest
) -> Page[BoardView]:
    result = paginate(
        session, board_query(actor, query), model=Board, page=page, sortable=BOARD_SORT
    )
    views = load_board_views(session, actor=actor, boards=result.items, with_items=False)
    return Page(items=views, total=result.total, request=page)


def get_board_view(
    session: Session,
    *,
    actor: Actor,
    board_id: int,
    with_items: bool = True,
    item_limit: int | None = None,
) -> BoardView:
    board = get_board(session, actor=actor, board_id=board_id)
    return load_board_views(
        session, actor=actor, boards=[board], with_items=with_items, item_limit=item_limit
    )[0]


def _apply_lanes(session: Session, *, actor: Actor, board: Board, lanes: Sequence[LaneIn]) -> bool:
    """Make the board's lanes exactly `lanes`, creating new lane worklists;
    answers whether anything changed."""
    existing = {
        lane.list_id: lane
        for lane in session.scalars(select(BoardLane).where(BoardLane.board_id == board.id))
    }
    wanted: list[int] = []
    changed = False
    for index, lane_in in enumerate(lanes):
        if lane_in.list_id is None:
            title = lane_in.worklist.title if lane_in.worklist else f"Lane {index + 1}"
            created = lists.create_worklist(
                session,
                actor=actor,
                data=lists.WorklistIn(
                    title=title, private=board.private, project_id=board.project_id
                ),
                record=False,
            )
            list_id = created.worklist.id
        else:
            list_id = lane_in.list_id
            if list_id not in existing:
                worklist = get_worklist(session, actor=actor, worklist_id=list_id)
                require_owner(session, actor=actor, worklist=worklist)
        if list_id in wanted:
            raise InvalidInput.field("lanes", f"worklist {list_id} is a lane twice")
        wanted.append(list_id)
        position = lane_in.position if lane_in.position is not None else index
        lane = existing.get(list_id)
        if lane is None:
            session.add(BoardLane(board_id=board.id, list_id=list_id, position=position))
            changed = True
        elif lane.position != position:
            lane.position = position
            changed = True
    gone = [lid for lid in existing if lid not in wanted]
    if gone:
        session.execute(
            delete(BoardLane).where(BoardLane.board_id == board.id, BoardLane.list_id.in_(gone))
        )
        changed = True
    session.flush()
    return changed


def create_board(session: Session, *, actor: Actor, data: BoardIn) -> BoardView:
    user_id = require_user(actor)
    check_project(session, data.project_id)
    board = Board(
        title=data.title,
        description=data.description,
        project_id=data.project_id,
        private=data.private,
        archived=data.archived,
        creator_id=user_id,
    )
    session.add(board)
    session.flush()
    roles.grant_new(
        session,
        BOARD_ROLES,
        object_id=board.id,
        creator_id=user_id,
        data=data,
    )
    _apply_lanes(session, actor=actor, board=board, lanes=data.lanes)
    timeline.record(
        session,
        event_type=events.BOARD_CREATED,
        author_id=user_id,
        board_id=board.id,
        info={"board_id": board.id, "board_title": board.title},
    )
    return load_board_views(session, actor=actor, boards=[board], with_items=False)[0]


_DETAILS = ("title", "description", "project_id", "private", "archived")


def update_board(
    session: Session, *, actor: Actor, board_id: int, changes: dict[str, Any]
) -> BoardView:
    board = get_board(session, actor=actor, board_id=board_id, for_update=True)
    user_id = roles.require(
        session, BOARD_ROLES, actor=actor, object_id=board.id, role=OWNER, to="change it"
    )
    current = {name: getattr(board, name) for name in _DETAILS}
    data = validate(BoardIn, {**current, **changes})
    if "project_id" in changes:
        check_project(session, data.project_id)
    apply_details(
        session,
        board,
        kind="board",
        event_type=events.BOARD_DETAILS_CHANGED,
        changed=changed_details(data, current),
        current=current,
        data=data,
        author_id=user_id,
    )
    roles.replace_sent(
        session, BOARD_ROLES, object_id=board.id, changes=changes, data=data, author_id=user_id
    )
    if "lanes" in changes:
        old_lanes = _lane_summary(session, board.id)
        if _apply_lanes(session, actor=actor, board=board, lanes=data.lanes):
            timeline.record(
                session,
                event_type=events.BOARD_LANES_CHANGED,
                author_id=user_id,
                board_id=board.id,
                info={
                    "board_id": board.id,
                    "old": old_lanes,
                    "new": _lane_summary(session, board.id),
                },
            )
    session.flush()
    return load_board_views(session, actor=actor, boards=[board], with_items=False)[0]


def _lane_summary(session: Session, board_id: int) -> list[dict[str, int]]:
    return [
        {"list_id": lane.list_id, "position": lane.position}
        for lane in session.scalars(
            select(BoardLane).where(BoardLane.board_id == board_id).order_by(BoardLane.position)
        )
    ]


def archive_board(session: Session, *, actor: Actor, board_id: int) -> None:
    """StoryBoard's DELETE archives a board, and its lanes with it."""
    update_board(session, actor=actor, board_id=board_id, changes={"archived": True})


def card_count(session: Session, board_id: int) -> int:
    """Cards on the board (for the page header and the benchmarks)."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(WorklistItem)
            .join(BoardLane, BoardLane.list_id == WorklistItem.list_id)
            .where(BoardLane.board_id == board_id, WorklistItem.archived.is_(False))
        )
        or 0
    )


__all__ = ["BoardIn", "BoardQuery", "BoardView", "LaneIn", "LaneView"]
