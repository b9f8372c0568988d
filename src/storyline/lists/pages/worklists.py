"""Worklists and boards: browse them, read one, and change its items.

Every change calls the services the API uses (worklists.add_item,
move_item, remove_item; boards.update_board ...), so the rules about who may
move what, and how ordering and locking work, exist once.

Moving works three ways, all through one form handler: SortableJS drag and
drop (static/boards.js posts the card's new rank with the CSRF header and
asks for JSON), and without JavaScript (or from the keyboard) each card's
"Up"/"Down" buttons and "Move to lane" select, which post a plain form and
come back to the page with the result announced in a live region.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Form, Response
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from storyline.domain.statuses import TASK_STATUSES
from storyline.errors import Conflict, InvalidInput, NotFound, StorylineError
from storyline.kernel.access import due_date_visibility
from storyline.kernel.paging import PageRequest
from storyline.kernel.timeline import EventFilter
from storyline.kernel.validation import validate
from storyline.lists import boards as board_service
from storyline.lists import worklists as service
from storyline.lists.boards import BoardIn, BoardQuery, LaneIn, LaneWorklistIn
from storyline.lists.models import MOVER, OWNER, Board, DueDate, Worklist
from storyline.lists.worklists import (
    STORY_CRITERIA,
    TASK_CRITERIA,
    CriterionIn,
    FilterIn,
    ItemView,
    WorklistIn,
    WorklistQuery,
)
from storyline.tracker.page_data import Names, history, load_names
from storyline.web.listing import Pager, errors_by_field, page_number, page_size, parse_user_ref
from storyline.web.rendering import (
    PageRoute,
    redirect,
    render,
    safe_next,
    sign_in_first,
    wants_json,
)
from storyline.web.security import FormDep, PageContext, PageDep

router = APIRouter(route_class=PageRoute, include_in_schema=False)

TextField = Annotated[str, Form()]
# Cards per lane when a board opens; the rest loads a page at a time.
LANE_PAGE = 25
STORY_STATUS_LABELS = {"active": "Active", "merged": "Merged", "invalid": "Invalid"}


# Cards


@dataclass(frozen=True)
class Card:
    """What a card or a worklist row shows."""

    item_id: int | None
    list_id: int
    position: int
    kind: str
    target_id: int
    title: str
    url: str
    status: str
    status_label: str
    assignee: str
    due: DueDate | None


def _cards(
    session: Session, ctx: PageContext, views: Sequence[ItemView], names: Names | None = None
) -> list[Card]:
    """Cards for items whose stories and tasks are loaded; due dates and
    assignees in one query each."""
    due_ids = {v.display_due_date for v in views if v.display_due_date is not None}
    dues: dict[int, DueDate] = {}
    if due_ids:
        dues = {
            d.id: d
            for d in session.scalars(
                select(DueDate).where(DueDate.id.in_(due_ids), due_date_visibility(ctx.actor))
            )
        }
    if names is None:
        names = load_names(
            session,
            actor=ctx.actor,
            user_ids=[v.task.assignee_id for v in views if v.task is not None],
        )
    cards = []
    for v in views:
        due = dues.get(v.display_due_date) if v.display_due_date is not None else None
        if v.task is not None:
            task = v.task
            cards.append(
                Card(
                    item_id=v.id, list_id=v.list_id, position=v.list_position, kind="task",
                    target_id=task.id, title=task.title,
                    url=f"/stories/{task.story_id}#task-{task.id}", status=task.status,
                    status_label=TASK_STATUSES.get(task.status, task.status),
                    assignee=names.user(task.assignee_id), due=due,
                )
            )  # fmt: skip
        elif v.story is not None:
            story = v.story.story
            status = v.story.lifecycle
            cards.append(
                Card(
                    item_id=v.id, list_id=v.list_id, position=v.list_position, kind="story",
                    target_id=story.id, title=story.title, url=f"/stories/{story.id}",
                    status=status, status_label=STORY_STATUS_LABELS.get(status, status.title()),
                    assignee="", due=due,
                )
            )  # fmt: skip
    return cards


def _user_refs(ctx: PageContext, text: str, field_name: str) -> list[int]:
    refs = []
    for part in text.replace("\n", ",").split(","):
        found = parse_user_ref(part, ctx, field_name)
        if found is not None:
            refs.append(found)
    return refs


def _run(ctx: PageContext, change: Callable[[Session], Any]) -> Any:
    """One change in a write unit of work, retried on a PostgreSQL deadlock
    (two cards moved between the same lanes at once), as the API does."""
    return ctx.container.db.run_write(change)


# Worklists: browse and create


@router.get("/worklists")
def worklist_list(
    ctx: PageDep, q: str = "", show: str = "", archived: str = "", page: int | None = None
) -> Response:
    number = page_number(page)
    mine = show == "mine" and ctx.signed_in is not None
    with ctx.container.db.read() as session:
        size = page_size(ctx, session)
        query = WorklistQuery(
            title=q.strip() or None,
            user_id=ctx.signed_in.user_id if mine and ctx.signed_in else None,
            archived=None if archived == "yes" else False,
            hide_lanes=not mine,
        )
        result = service.list_worklists(
            session,
            actor=ctx.actor,
            query=query,
            page=PageRequest(
                limit=size, offset=(number - 1) * size, sort_field="title", sort_dir="asc"
            ),
        )
        pager = Pager(number, size, result.total, len(result.items), ctx.request)
        return render(
            ctx, "lists/worklists.html", worklists=result.items, q=q, mine=mine,
            archived=archived == "yes", pager=pager, errors={}, values={},
        )  # fmt: skip


@router.post("/worklists")
def create_worklist(
    ctx: FormDep, title: TextField = "", private: TextField = "", automatic: TextField = ""
) -> Response:
    if ctx.signed_in is None:
        return sign_in_first(ctx)
    values = {"title": title, "private": private, "automatic": automatic}
    try:
        with ctx.container.db.write() as session:
            data = _validate_worklist(title, private == "on", automatic == "on")
            view = service.create_worklist(session, actor=ctx.actor, data=data)
    except InvalidInput as error:
        with ctx.container.db.read() as session:
            size = page_size(ctx, session)
            result = service.list_worklists(
                session, actor=ctx.actor, query=WorklistQuery(archived=False, hide_lanes=True),
                page=PageRequest(limit=size, sort_field="title", sort_dir="asc"),
            )  # fmt: skip
            pager = Pager(1, size, result.total, len(result.items), ctx.request)
            return render(
                ctx, "lists/worklists.html", status=400, worklists=result.items, q="",
                mine=False, archived=False, pager=pager, errors=errors_by_field(error),
                values=values,
            )  # fmt: skip
    return redirect(ctx, f"/worklists/{view.worklist.id}")


def _validate_worklist(title: str, private: bool, automatic: bool) -> WorklistIn:
    return validate(WorklistIn, {"title": title, "private": private, "automatic": automatic})


# One worklist


@dataclass
class WorklistForms:
    """A form on the worklist page that came back with errors."""

    name: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)


def _worklist_page(
    ctx: PageContext,
    worklist_id: int,
    *,
    number: int = 1,
    moved: int | None = None,
    forms: WorklistForms | None = None,
    status: int = 200,
) -> Response:
    with ctx.container.db.read() as session:
        view = service.get_worklist_view(
            session, actor=ctx.actor, worklist_id=worklist_id, with_items=False
        )
        size = page_size(ctx, session)
        items = service.list_items(
            session,
            actor=ctx.actor,
            worklist_id=worklist_id,
            page=PageRequest(limit=size, offset=(number - 1) * size),
        )
        mine = service.roles(session, actor=ctx.actor, worklist_id=worklist_id)
        boards = board_service.boards_with_lanes(session, [worklist_id])
        lane_of = None
        if boards:
            visible = board_service.board_query(ctx.actor, BoardQuery()).where(Board.id.in_(boards))
            lane_of = session.scalars(visible.limit(1)).first()
        names = load_names(
            session,
            actor=ctx.actor,
            user_ids=[
                *view.owners,
                *view.users,
                *(v.task.assignee_id for v in items.items if v.task is not None),
            ],
        )
        cards = _cards(session, ctx, items.items, names)
        message = _moved_message(cards, moved)
        pager = Pager(number, size, items.total, len(items.items), ctx.request)
        events = history(session, actor=ctx.actor, filters=EventFilter(worklist_id=worklist_id))
        return render(
            ctx, "lists/worklist.html", status=status, view=view, worklist=view.worklist,
            cards=cards, pager=pager, names=names, history=events,
            can_move=bool(mine & {OWNER, MOVER}) and not view.worklist.automatic,
            can_edit=OWNER in mine, lane_of=lane_of, message=message,
            forms=forms or WorklistForms(), story_fields=sorted(STORY_CRITERIA),
            task_fields=sorted(TASK_CRITERIA), back=str(ctx.request.url.path) + (
                f"?page={number}" if number > 1 else ""
            ),
        )  # fmt: skip


def _moved_message(cards: Sequence[Card], moved: int | None) -> str:
    if moved is None:
        return ""
    for card in cards:
        if card.item_id == moved:
            return f"Moved “{card.title}” to position {card.position + 1}."
    return "Moved."


@router.get("/worklists/{worklist_id:int}")
def worklist_page(
    ctx: PageDep, worklist_id: int, page: int | None = None, moved: int | None = None
) -> Response:
    return _worklist_page(ctx, worklist_id, number=page_number(page), moved=moved)


def _worklist_change(
    ctx: PageContext,
    worklist_id: int,
    change: Callable[[Session], Any],
    *,
    form: str,
    values: dict[str, str],
    anchor: str = "",
) -> Response:
    if ctx.signed_in is None:
        return sign_in_first(ctx)
    try:
        _run(ctx, change)
    except (InvalidInput, Conflict) as error:
        forms = WorklistForms(form, errors_by_field(error), values)
        return _worklist_page(ctx, worklist_id, forms=forms, status=400)
    return redirect(ctx, f"/worklists/{worklist_id}{anchor}")


@router.post("/worklists/{worklist_id:int}/items")
def add_item(
    ctx: FormDep, worklist_id: int, item_type: TextField = "story", item: TextField = ""
) -> Response:
    def change(session: Session) -> None:
        text = item.strip().lstrip("#")
        if not text.isdigit():
            raise InvalidInput.field("item_id", f"enter the number of a {item_type}")
        try:
            service.add_item(
                session, actor=ctx.actor, worklist_id=worklist_id, item_id=int(text),
                item_type=item_type, list_position=None,
            )  # fmt: skip
        except NotFound as error:
            if (error.details or {}).get("resource") == "worklist":
                raise
            raise InvalidInput.field("item_id", f"no {item_type} {text} that you can see") from None

    values = {"item_type": item_type, "item": item}
    return _worklist_change(ctx, worklist_id, change, form="add", values=values, anchor="#items")


@router.post("/worklists/{worklist_id:int}/items/{item_id:int}/remove")
def remove_item(ctx: FormDep, worklist_id: int, item_id: int, back: TextField = "") -> Response:
    if ctx.signed_in is None:
        return sign_in_first(ctx)
    _run(
        ctx,
        lambda session: service.remove_item(
            session, actor=ctx.actor, worklist_id=worklist_id, item_id=item_id
        ),
    )
    return redirect(ctx, safe_next(back, f"/worklists/{worklist_id}"))


@router.post("/worklists/{worklist_id:int}/items/{item_id:int}/move")
def move_item(
    ctx: FormDep,
    worklist_id: int,
    item_id: int,
    direction: TextField = "",
    position: TextField = "",
    to_list: TextField = "",
    back: TextField = "",
) -> Response:
    """Move a card: to `position` (a rank, from drag and drop), one step
    `direction` up or down, or to the top of the lane `to_list`."""
    if ctx.signed_in is None:
        if wants_json(ctx.request):
            return JSONResponse({"message": "Sign in to move cards."}, status_code=401)
        return sign_in_first(ctx)
    target = _int(to_list, "to_list")

    def change(session: Session) -> tuple[ItemView, str]:
        rank: int | None
        if position.strip():
            rank = _int(position, "position")
        elif direction in ("up", "down"):
            current = service.get_item(
                session, actor=ctx.actor, worklist_id=worklist_id, item_id=item_id
            )
            step = -1 if direction == "up" else 1
            rank = max(0, current.list_position + step)
        elif target is not None:
            rank = 0
        else:
            raise InvalidInput.field("position", "choose where to move the card")
        view = service.move_item(
            session, actor=ctx.actor, worklist_id=target or worklist_id, item_id=item_id,
            list_position=rank, list_id=target,
        )  # fmt: skip
        lane = service.get_worklist(session, actor=ctx.actor, worklist_id=view.list_id)
        title = _item_title(view)
        return view, f"Moved “{title}” to position {view.list_position + 1} in {lane.title}."

    try:
        view, message = _run(ctx, change)
    except StorylineError as error:
        if wants_json(ctx.request) and isinstance(error, (InvalidInput, Conflict)):
            return JSONResponse({"message": error.message}, status_code=400)
        raise
    if wants_json(ctx.request):
        return JSONResponse(
            {
                "item_id": item_id,
                "list_id": view.list_id,
                "list_position": view.list_position,
                "message": message,
            }
        )
    default = f"/worklists/{view.list_id}"
    url = safe_next(back, default)
    joiner = "&" if "?" in url else "?"
    return redirect(ctx, f"{url}{joiner}moved={item_id}#card-{item_id}")


def _int(value: str, name: str) -> int | None:
    text = value.strip()
    if not text:
        return None
    if not text.isdigit():
        raise InvalidInput.field(name, "must be a whole number")
    return int(text)


def _item_title(view: ItemView) -> str:
    if view.task is not None:
        return view.task.title
    if view.story is not None:
        return view.story.story.title
    return f"{view.item_type} {view.item_id}"


@router.post("/worklists/{worklist_id:int}/edit")
def edit_worklist(
    ctx: FormDep, worklist_id: int, title: TextField = "", private: TextField = ""
) -> Response:
    def change(session: Session) -> None:
        service.update_worklist(
            session, actor=ctx.actor, worklist_id=worklist_id,
            changes={"title": title, "private": private == "on"},
        )  # fmt: skip

    values = {"title": title, "private": private}
    return _worklist_change(ctx, worklist_id, change, form="edit", values=values, anchor="#details")


@router.post("/worklists/{worklist_id:int}/archive")
def archive_worklist(ctx: FormDep, worklist_id: int, archived: TextField = "yes") -> Response:
    def change(session: Session) -> None:
        service.update_worklist(
            session, actor=ctx.actor, worklist_id=worklist_id,
            changes={"archived": archived == "yes"},
        )  # fmt: skip

    return _worklist_change(ctx, worklist_id, change, form="archive", values={})


@router.post("/worklists/{worklist_id:int}/permissions")
def worklist_permissions(
    ctx: FormDep, worklist_id: int, owners: TextField = "", users: TextField = ""
) -> Response:
    def change(session: Session) -> None:
        service.update_worklist(
            session, actor=ctx.actor, worklist_id=worklist_id,
            changes={
                "owners": _user_refs(ctx, owners, "owners"),
                "users": _user_refs(ctx, users, "users"),
            },
        )  # fmt: skip

    values = {"owners": owners, "users": users}
    return _worklist_change(
        ctx, worklist_id, change, form="permissions", values=values, anchor="#permissions"
    )


@router.post("/worklists/{worklist_id:int}/filters")
def add_filter(
    ctx: FormDep,
    worklist_id: int,
    type: TextField = "story",
    criterion: TextField = "",
    value: TextField = "",
    negative: TextField = "",
) -> Response:
    def change(session: Session) -> None:
        data = FilterIn(
            type=type,
            filter_criteria=[
                CriterionIn(field=criterion or "title", value=value, negative=negative == "on")
            ],
        )
        service.create_filter(session, actor=ctx.actor, worklist_id=worklist_id, data=data)

    values = {"type": type, "criterion": criterion, "value": value, "negative": negative}
    return _worklist_change(
        ctx, worklist_id, change, form="filter", values=values, anchor="#criteria"
    )


@router.post("/worklists/{worklist_id:int}/filters/{filter_id:int}/delete")
def delete_filter(ctx: FormDep, worklist_id: int, filter_id: int) -> Response:
    def change(session: Session) -> None:
        service.delete_filter(
            session, actor=ctx.actor, worklist_id=worklist_id, filter_id=filter_id
        )

    return _worklist_change(ctx, worklist_id, change, form="filter", values={}, anchor="#criteria")


# Boards


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
        counts = service.item_counts(session, actor=ctx.actor, list_ids=lane_ids)
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
        cards = _cards(session, ctx, items, names)
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
        mine = board_service.board_roles(session, actor=ctx.actor, board_id=board_id)
        events = history(session, actor=ctx.actor, filters=EventFilter(board_id=board_id))
        return render(
            ctx, "lists/board.html", status=400 if errors else 200, view=view,
            board=view.board, lanes=lanes, names=names, can_move=bool(mine), history=events,
            can_edit=OWNER in mine, message=_moved_message(cards, moved),
            total=sum(lane.total for lane in lanes), errors=errors or {}, values=values or {},
            back=f"/boards/{board_id}",
            lane_choices=[(lane.list_id, lane.title) for lane in lanes],
        )  # fmt: skip


@router.get("/boards/{board_id:int}")
def board_page(ctx: PageDep, board_id: int, moved: int | None = None) -> Response:
    return _board_page(ctx, board_id, moved=moved)


@router.get("/boards/{board_id:int}/lanes/{list_id:int}")
def lane_cards(ctx: PageDep, board_id: int, list_id: int, offset: int = 0) -> Response:
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
        page = service.list_items(
            session,
            actor=ctx.actor,
            worklist_id=list_id,
            page=PageRequest(limit=LANE_PAGE, offset=offset),
        )
        cards = _cards(session, ctx, page.items)
        mine = board_service.board_roles(session, actor=ctx.actor, board_id=board_id)
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
        _run(ctx, change)
    except (InvalidInput, Conflict) as error:
        return _board_page(ctx, board_id, errors=errors_by_field(error), values=values)
    return redirect(ctx, f"/boards/{board_id}{anchor}")


@router.post("/boards/{board_id:int}/lanes")
def add_lane(ctx: FormDep, board_id: int, title: TextField = "") -> Response:
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
def archive_board(ctx: FormDep, board_id: int, archived: TextField = "yes") -> Response:
    def change(session: Session) -> None:
        board_service.update_board(
            session, actor=ctx.actor, board_id=board_id, changes={"archived": archived == "yes"}
        )

    return _board_change(ctx, board_id, change, values={})


@router.post("/boards/{board_id:int}/permissions")
def board_permissions(
    ctx: FormDep, board_id: int, owners: TextField = "", users: TextField = ""
) -> Response:
    def change(session: Session) -> None:
        board_service.update_board(
            session, actor=ctx.actor, board_id=board_id,
            changes={
                "owners": _user_refs(ctx, owners, "owners"),
                "users": _user_refs(ctx, users, "users"),
            },
        )  # fmt: skip

    return _board_change(
        ctx, board_id, change, values={"owners": owners, "users": users}, anchor="#permissions"
    )


# The story page's "Worklists" section


@dataclass(frozen=True)
class StoryWorklists:
    containing: list[Any]
    addable: list[Any]


def story_worklists(session: Session, ctx: PageContext, story_id: int) -> StoryWorklists:
    """Worklists the reader may see that hold the story, and the manual ones
    they may add it to: two small queries."""
    containing = service.worklist_query(ctx.actor, WorklistQuery(story_id=story_id))
    holding = session.scalars(containing.order_by(Worklist.title).limit(20)).all()
    addable: list[Any] = []
    if ctx.signed_in is not None:
        mine = service.list_worklists(
            session,
            actor=ctx.actor,
            query=WorklistQuery(user_id=ctx.signed_in.user_id, archived=False),
            page=PageRequest(limit=50, sort_field="title", sort_dir="asc", count=False),
        )
        held = {w.id for w in holding}
        addable = [
            v.worklist for v in mine.items if not v.worklist.automatic and v.worklist.id not in held
        ]
    return StoryWorklists(containing=list(holding), addable=addable)


@router.post("/stories/{story_id:int}/worklists")
def add_story_to_worklist(ctx: FormDep, story_id: int, worklist: TextField = "") -> Response:
    if ctx.signed_in is None:
        return sign_in_first(ctx)
    list_id = _int(worklist, "worklist")
    if list_id is None:
        raise InvalidInput.field("worklist", "choose a worklist")

    def change(session: Session) -> None:
        service.add_item(
            session, actor=ctx.actor, worklist_id=list_id, item_id=story_id,
            item_type="story", list_position=None,
        )  # fmt: skip

    _run(ctx, change)
    return redirect(ctx, f"/stories/{story_id}#worklists")


# The dashboard's "My worklists and boards"

DASHBOARD_LISTS = 10


@dataclass(frozen=True)
class MyLists:
    worklists: list[Any]
    boards: list[Any]


def my_lists(session: Session, ctx: PageContext) -> MyLists:
    """The signed-in person's unarchived worklists (not lanes) and boards: two
    short queries, no items."""
    if ctx.signed_in is None:
        return MyLists([], [])
    me = ctx.signed_in.user_id
    worklists = session.scalars(
        service.worklist_query(
            ctx.actor, WorklistQuery(user_id=me, archived=False, hide_lanes=True)
        )
        .order_by(Worklist.title, Worklist.id)
        .limit(DASHBOARD_LISTS)
    ).all()
    boards = session.scalars(
        board_service.board_query(ctx.actor, BoardQuery(user_id=me, archived=False))
        .order_by(Board.title, Board.id)
        .limit(DASHBOARD_LISTS)
    ).all()
    return MyLists(list(worklists), list(boards))
