"""Worklists: browse them, read one, and change its items; and the card
move handler that the board pages post to as well.

Every change calls the services the API uses (items.add_item, move_item,
remove_item; worklists.update_worklist ...), so the rules about who may move
what, and how ordering and locking work, exist once.

Moving works three ways, all through one form handler: SortableJS drag and
drop (static/boards.js posts the card's new rank with the CSRF header and
asks for JSON), and without JavaScript (or from the keyboard) each card's
"Up"/"Down" buttons and "Move to lane" select, which post a plain form and
come back to the page with the result announced in a live region.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from storyline.errors import Conflict, InvalidInput, NotFound, PreconditionFailed, StorylineError
from storyline.http.preconditions import form_version
from storyline.kernel import roles
from storyline.kernel.paging import PageRequest
from storyline.kernel.timeline import EventFilter
from storyline.kernel.validation import Id, is_number, parse_id, validate
from storyline.lists import automatic
from storyline.lists import boards as board_service
from storyline.lists import items as item_service
from storyline.lists import worklists as service
from storyline.lists.automatic import STORY_CRITERIA, TASK_CRITERIA, CriterionIn, FilterIn
from storyline.lists.common import ItemView, get_worklist
from storyline.lists.models import MOVER, OWNER, WORKLIST_ROLES, Worklist
from storyline.lists.pages.common import (
    TextField,
    build_cards,
    item_title,
    moved_message,
    parse_int,
    role_changes,
    run,
)
from storyline.lists.worklists import WorklistIn, WorklistQuery
from storyline.tracker.page_data import history, load_names
from storyline.web.conflicts import check_version
from storyline.web.listing import Pager, errors_by_field, page_number, page_size
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
        items = item_service.list_items(
            session,
            actor=ctx.actor,
            worklist_id=worklist_id,
            page=PageRequest(limit=size, offset=(number - 1) * size),
        )
        mine = roles.roles_of(session, WORKLIST_ROLES, actor=ctx.actor, object_id=worklist_id)
        lane_of = board_service.board_of_lane(session, actor=ctx.actor, list_id=worklist_id)
        names = load_names(
            session,
            actor=ctx.actor,
            user_ids=[
                *view.owners,
                *view.users,
                *(v.task.assignee_id for v in items.items if v.task is not None),
            ],
        )
        cards = build_cards(session, ctx, items.items, names)
        message = moved_message(cards, moved)
        pager = Pager(number, size, items.total, len(items.items), ctx.request)
        events = history(session, actor=ctx.actor, filters=EventFilter(worklist_id=worklist_id))
        return render(
            ctx, "lists/worklist.html", status=status, view=view, worklist=view.worklist,
            cards=cards, pager=pager, names=names, history=events,
            can_move=bool(mine & {OWNER, MOVER}) and not view.worklist.automatic,
            can_edit=OWNER in mine, lane_of=lane_of, message=message,
            forms=forms or WorklistForms(), story_fields=sorted(STORY_CRITERIA),
            edit_version=form_version(_worklist_fields(view.worklist)),
            task_fields=sorted(TASK_CRITERIA), back=str(ctx.request.url.path) + (
                f"?page={number}" if number > 1 else ""
            ),
        )  # fmt: skip


@router.get("/worklists/{worklist_id:int}")
def worklist_page(
    ctx: PageDep, worklist_id: Id, page: int | None = None, moved: int | None = None
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
        run(ctx, change)
    except (InvalidInput, Conflict, PreconditionFailed) as error:
        # After a conflict the form comes back with what was typed in it and
        # the version it now has (web/conflicts.py).
        forms = WorklistForms(form, errors_by_field(error), values)
        status = 409 if isinstance(error, PreconditionFailed) else 400
        return _worklist_page(ctx, worklist_id, forms=forms, status=status)
    return redirect(ctx, f"/worklists/{worklist_id}{anchor}")


@router.post("/worklists/{worklist_id:int}/items")
def add_item(
    ctx: FormDep, worklist_id: Id, item_type: TextField = "story", item: TextField = ""
) -> Response:
    def change(session: Session) -> None:
        text = item.strip().lstrip("#")
        if not is_number(text):
            raise InvalidInput.field("item_id", f"enter the number of a {item_type}")
        item_id = parse_id(text, "item_id")
        try:
            item_service.add_item(
                session, actor=ctx.actor, worklist_id=worklist_id, item_id=item_id,
                item_type=item_type, list_position=None,
            )  # fmt: skip
        except NotFound as error:
            if (error.details or {}).get("resource") == "worklist":
                raise
            raise InvalidInput.field("item_id", f"no {item_type} {text} that you can see") from None

    values = {"item_type": item_type, "item": item}
    return _worklist_change(ctx, worklist_id, change, form="add", values=values, anchor="#items")


@router.post("/worklists/{worklist_id:int}/items/{item_id:int}/remove")
def remove_item(ctx: FormDep, worklist_id: Id, item_id: Id, back: TextField = "") -> Response:
    if ctx.signed_in is None:
        return sign_in_first(ctx)
    run(
        ctx,
        lambda session: item_service.remove_item(
            session, actor=ctx.actor, worklist_id=worklist_id, item_id=item_id
        ),
    )
    return redirect(ctx, safe_next(back, f"/worklists/{worklist_id}"))


@router.post("/worklists/{worklist_id:int}/items/{item_id:int}/move")
def move_item(
    ctx: FormDep,
    worklist_id: Id,
    item_id: Id,
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
    target = parse_int(to_list, "to_list")

    def change(session: Session) -> tuple[ItemView, str]:
        rank: int | None
        if position.strip():
            rank = parse_int(position, "position")
        elif direction in ("up", "down"):
            current = item_service.get_item(
                session, actor=ctx.actor, worklist_id=worklist_id, item_id=item_id
            )
            step = -1 if direction == "up" else 1
            rank = max(0, current.list_position + step)
        elif target is not None:
            rank = 0
        else:
            raise InvalidInput.field("position", "choose where to move the card")
        view = item_service.move_item(
            session, actor=ctx.actor, worklist_id=target or worklist_id, item_id=item_id,
            list_position=rank, list_id=target,
        )  # fmt: skip
        lane = get_worklist(session, actor=ctx.actor, worklist_id=view.list_id)
        title = item_title(view)
        return view, f"Moved “{title}” to position {view.list_position + 1} in {lane.title}."

    try:
        view, message = run(ctx, change)
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


# What the details form shows, as its version is made of.
WORKLIST_FIELDS = {"title": "title", "private": "privacy"}


def _worklist_fields(worklist: Worklist) -> dict[str, Any]:
    return {"title": worklist.title, "private": "private" if worklist.private else "public"}


@router.post("/worklists/{worklist_id:int}/edit")
def edit_worklist(
    ctx: FormDep,
    worklist_id: Id,
    title: TextField = "",
    private: TextField = "",
    version: TextField = "",
) -> Response:
    def change(session: Session) -> None:
        # Every write to a worklist locks its row; the check takes it first.
        worklist = get_worklist(session, actor=ctx.actor, worklist_id=worklist_id, for_update=True)
        check_version(
            session,
            actor=ctx.actor,
            version=version,
            current=_worklist_fields(worklist),
            what="worklist",
            labels=WORKLIST_FIELDS,
            events=EventFilter(worklist_id=worklist_id),
        )
        service.update_worklist(
            session, actor=ctx.actor, worklist_id=worklist_id,
            changes={"title": title, "private": private == "on"},
        )  # fmt: skip

    values = {"title": title, "private": private}
    return _worklist_change(ctx, worklist_id, change, form="edit", values=values, anchor="#details")


@router.post("/worklists/{worklist_id:int}/archive")
def archive_worklist(ctx: FormDep, worklist_id: Id, archived: TextField = "yes") -> Response:
    def change(session: Session) -> None:
        service.update_worklist(
            session, actor=ctx.actor, worklist_id=worklist_id,
            changes={"archived": archived == "yes"},
        )  # fmt: skip

    return _worklist_change(ctx, worklist_id, change, form="archive", values={})


@router.post("/worklists/{worklist_id:int}/permissions")
def worklist_permissions(
    ctx: FormDep, worklist_id: Id, owners: TextField = "", users: TextField = ""
) -> Response:
    def change(session: Session) -> None:
        service.update_worklist(
            session, actor=ctx.actor, worklist_id=worklist_id,
            changes=role_changes(ctx, owners, users),
        )  # fmt: skip

    values = {"owners": owners, "users": users}
    return _worklist_change(
        ctx, worklist_id, change, form="permissions", values=values, anchor="#permissions"
    )


@router.post("/worklists/{worklist_id:int}/filters")
def add_filter(
    ctx: FormDep,
    worklist_id: Id,
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
        automatic.create_filter(session, actor=ctx.actor, worklist_id=worklist_id, data=data)

    values = {"type": type, "criterion": criterion, "value": value, "negative": negative}
    return _worklist_change(
        ctx, worklist_id, change, form="filter", values=values, anchor="#criteria"
    )


@router.post("/worklists/{worklist_id:int}/filters/{filter_id:int}/delete")
def delete_filter(ctx: FormDep, worklist_id: Id, filter_id: Id) -> Response:
    def change(session: Session) -> None:
        automatic.delete_filter(
            session, actor=ctx.actor, worklist_id=worklist_id, filter_id=filter_id
        )

    return _worklist_change(ctx, worklist_id, change, form="filter", values={}, anchor="#criteria")


@router.post("/stories/{story_id:int}/worklists")
def add_story_to_worklist(ctx: FormDep, story_id: Id, worklist: TextField = "") -> Response:
    if ctx.signed_in is None:
        return sign_in_first(ctx)
    list_id = parse_int(worklist, "worklist")
    if list_id is None:
        raise InvalidInput.field("worklist", "choose a worklist")

    def change(session: Session) -> None:
        item_service.add_item(
            session, actor=ctx.actor, worklist_id=list_id, item_id=story_id,
            item_type="story", list_position=None,
        )  # fmt: skip

    run(ctx, change)
    return redirect(ctx, f"/stories/{story_id}#worklists")
