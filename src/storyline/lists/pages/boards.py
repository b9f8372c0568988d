"""Boards: browse them, read one lane by lane, and change its lanes, roles
and archived flag. Cards move through the worklist pages' move handler (a
card is a lane's item), so dragging works the same on both."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Response
from sqlalchemy.orm import Session

from storyline.errors import Conflict, InvalidInput, NotFound
from storyline.kernel import roles
from storyline.kernel.paging import PageRequest
from storyline.kernel.timeline import EventFilter
from storyline.kernel.validation import Id, validate
from storyline.lists import boards as board_service
from storyline.lists import items as item_service
from storyline.lists.boards import BoardIn, BoardQuery, LaneIn, LaneWorklistIn
from storyline.lists.models import BOARD_ROLES, OWNER
from storyline.lists.pages.common import (
    Card,
    TextField,
    build_cards,
    moved_message,
    role_changes,
    run,
)
from storyline.tracker.page_data import history, load_names
from storyline.web.listing import Pager, errors_by_field, page_number, page_size
from storyline.web.rendering import PageRoute, redirect, render, sign_in_first
from storyline.web.security import FormDep, PageContext, PageDep

router = APIRouter(route_class=PageRoute, include_in_schema=False)

# Cards per lane when a board opens; the rest loads a page at a time.
LANE_PAGE = 25


@router.get("/boards")
def board_list(
    ctx: PageDep, q: str = "", show: str = "", archived: str = "", page: int | None = None
) -> Response:
    return _board_list(ctx, q=q, show=show, archived=archived, number=page_number(page))


def _board_list(
    ctx: PageContext,
    *,
    q: str = "",
    show: str = "",
    archived: str = "",
    number: int = 1,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    mine = show == "mine" and ctx.signed_in is not None
    with ctx.container.db.read() as session:
        size = page_size(ctx, session)
        result = board_service.list_boards(
            session,
            actor=ctx.actor,
            query=BoardQuery(
                title=q.strip() or None,
                user_id=ctx.signed_in.user_id if mine and ctx.signed_in else None,
                archived=None if archived == "yes" else False,
            ),
            page=PageRequest(
                limit=size, offset=(number - 1) * size, sort_field="title", sort_dir="asc"
            ),
        )
        pager = Pager(number, size, result.total, len(result.items), ctx.request)
        return render(
            ctx, "lists/boards.html", status=400 if errors else 200, boards=result.items,
            q=q, mine=mine, archived=archived == "yes", pager=pager, errors=errors or {},
            values=values or {},
        )  # fmt: skip


def _lane_titles(text: str) -> list[str]:
    return [t.strip() for t in text.replace("\n", ",").split(",") if t.strip()]


@router.post("/boards")
def create_board(
    ctx: FormDep,
    title: TextField = "",
    description: TextField = "",
    lanes: TextField = "Todo, In progress, Done",
    private: TextField = "",
) -> Response:
    if ctx.signed_in is None:
        return sign_in_first(ctx)
    values = {"title": title, "description": description, "lanes": lanes, "private": private}
    try:
        with ctx.container.db.write() as session:
            data = validate(
                BoardIn,
                {
                    "title": title,
                    "description": description.strip() or None,
                    "private": private == "on",
                    "lanes": [
                        {"worklist": {"title": t}, "position": i}
                        for i, t in enumerate(_lane_titles(lanes))
                    ],
                },
            )
            view = board_service.create_board(session, actor=ctx.actor, data=data)
    except InvalidInput as error:
        return _board_list(ctx, errors=errors_by_field(error), values=values)
    return redirect(ctx, f"/boards/{view.board.id}")


@dataclass
class LaneCards:
    list_id: int
    title: str
    total: int
    cards: list[Card]

    @property
    def more(self) -> int:
        return self.total - len(self.cards)


def _board_page(
    ctx: PageContext,
    board_id: int,
    *,
    moved: int | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    with ctx.container.db.read() as session:
        view = board_service.get_board_view(
            session, actor=ctx.actor, board_id=board_id, with_items=True, item_limit=LANE_PAGE
        )
        lane_ids = [lane.worklist.worklist.id for lane in view.lanes]
        counts = item_service.item_counts(session, actor=ctx.actor, list_ids=lane_ids)
        items = [item for lane in view.lanes for item in lane.worklist.items or []]
        names = load_names(
            session,
            actor=ctx.actor,
            user_ids=[
                *view.owners,
                *view.users,
                *(v.task.assignee_id for v in items if v.task is not None),
            ],
        )
        cards = build_cards(session, ctx, items, names)
        by_lane: dict[int, list[Card]] = {lid: [] for lid in lane_ids}
        for card in cards:
            by_lane[card.list_id].append(card)
        lanes = [
            LaneCards(
                list_id=lane.worklist.worklist.id,
                title=lane.worklist.worklist.title,
                total=counts.get(lane.worklist.worklist.id, 0)
                if not lane.worklist.worklist.automatic
                else len(by_lane[lane.worklist.worklist.id]),
                cards=by_lane[lane.worklist.worklist.id],
            )
            for lane in view.lanes
        ]
        mine = roles.roles_of(session, BOARD_ROLES, actor=ctx.actor, object_id=board_id)
        events = history(session, actor=ctx.actor, filters=EventFilter(board_id=board_id))
        return render(
            ctx, "lists/board.html", status=400 if errors else 200, view=view,
            board=view.board, lanes=lanes, names=names, can_move=bool(mine), history=events,
            can_edit=OWNER in mine, message=moved_message(cards, moved),
            total=sum(lane.total for lane in lanes), errors=errors or {}, values=values or {},
            back=f"/boards/{board_id}",
            lane_choices=[(lane.list_id, lane.title) for lane in lanes],
        )  # fmt: skip


@router.get("/boards/{board_id:int}")
def board_page(ctx: PageDep, board_id: Id, moved: int | None = None) -> Response:
    return _board_page(ctx, board_id, moved=moved)


@router.get("/boards/{board_id:int}/lanes/{list_id:int}")
def lanecards(ctx: PageDep, board_id: Id, list_id: Id, offset: int = 0) -> Response:
    """The next cards of a lane, for the board's "More cards" button
    (htmx); without htmx, the lane's own worklist page shows them."""
    offset = max(0, offset)
    if ctx.request.headers.get("hx-request") != "true":
        number = offset // LANE_PAGE + 1
        return redirect(ctx, f"/worklists/{list_id}" + (f"?page={number}" if number > 1 else ""))
    with ctx.container.db.read() as session:
        view = board_service.get_board_view(
            session, actor=ctx.actor, board_id=board_id, with_items=False
        )
        lanes = {lane.worklist.worklist.id: lane for lane in view.lanes}
        if list_id not in lanes:
            raise NotFound.of("lane", list_id)
        page = item_service.list_items(
            session,
            actor=ctx.actor,
            worklist_id=list_id,
            page=PageRequest(limit=LANE_PAGE, offset=offset),
        )
        cards = build_cards(session, ctx, page.items)
        mine = roles.roles_of(session, BOARD_ROLES, actor=ctx.actor, object_id=board_id)
        total = page.total if page.total is not None else offset + len(cards)
        lane = LaneCards(list_id, lanes[list_id].worklist.worklist.title, total, cards)
        return render(
            ctx, "lists/_lane_cards.html", board=view.board, lane=lane,
            lanes=[(lid, lv.worklist.worklist.title) for lid, lv in lanes.items()],
            can_move=bool(mine), next_offset=offset + len(cards), back=f"/boards/{board_id}",
        )  # fmt: skip


def _board_change(
    ctx: PageContext,
    board_id: int,
    change: Callable[[Session], Any],
    *,
    values: dict[str, str],
    anchor: str = "",
) -> Response:
    if ctx.signed_in is None:
        return sign_in_first(ctx)
    try:
        run(ctx, change)
    except (InvalidInput, Conflict) as error:
        return _board_page(ctx, board_id, errors=errors_by_field(error), values=values)
    return redirect(ctx, f"/boards/{board_id}{anchor}")


@router.post("/boards/{board_id:int}/lanes")
def add_lane(ctx: FormDep, board_id: Id, title: TextField = "") -> Response:
    def change(session: Session) -> None:
        if not title.strip():
            raise InvalidInput.field("lane_title", "give the lane a title")
        view = board_service.get_board_view(
            session, actor=ctx.actor, board_id=board_id, with_items=False
        )
        lanes: list[dict[str, Any]] = [
            LaneIn(list_id=lane.lane.list_id, position=lane.lane.position).model_dump()
            for lane in view.lanes
        ]
        position = max((lane.lane.position for lane in view.lanes), default=-1) + 1
        lanes.append(
            LaneIn(worklist=LaneWorklistIn(title=title.strip()), position=position).model_dump()
        )
        board_service.update_board(
            session, actor=ctx.actor, board_id=board_id, changes={"lanes": lanes}
        )

    return _board_change(ctx, board_id, change, values={"lane_title": title}, anchor="#lanes")


@router.post("/boards/{board_id:int}/archive")
def archive_board(ctx: FormDep, board_id: Id, archived: TextField = "yes") -> Response:
    def change(session: Session) -> None:
        board_service.update_board(
            session, actor=ctx.actor, board_id=board_id, changes={"archived": archived == "yes"}
        )

    return _board_change(ctx, board_id, change, values={})


@router.post("/boards/{board_id:int}/permissions")
def board_permissions(
    ctx: FormDep, board_id: Id, owners: TextField = "", users: TextField = ""
) -> Response:
    def change(session: Session) -> None:
        board_service.update_board(
            session, actor=ctx.actor, board_id=board_id,
            changes=role_changes(ctx, owners, users),
        )  # fmt: skip

    return _board_change(
        ctx, board_id, change, values={"owners": owners, "users": users}, anchor="#permissions"
    )
