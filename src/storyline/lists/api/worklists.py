"""/v1/worklists, its items, filters and permissions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Response
from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from storyline.api.deps import Context, ContextDep, PageDep, Timestamp, set_page_headers
from storyline.api.preconditions import IfMatch, IfMatchDep, set_etag
from storyline.api.roles import mount_permissions
from storyline.errors import InvalidInput
from storyline.kernel.validation import Id
from storyline.lists import automatic, items
from storyline.lists import worklists as service
from storyline.lists.automatic import FilterIn
from storyline.lists.common import ItemView
from storyline.lists.models import WORKLIST_ROLES, FilterCriterion, Worklist, WorklistFilter
from storyline.lists.worklists import WorklistIn, WorklistQuery, WorklistView
from storyline.tracker.api.stories import StoryOut
from storyline.tracker.api.tasks import TaskOut

router = APIRouter(prefix="/worklists", tags=["worklists"])


class CriterionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    filter_id: int
    title: str | None
    field: str
    value: str
    negative: bool


class FilterOut(BaseModel):
    id: int
    list_id: int
    type: str
    filter_criteria: list[CriterionOut]

    @classmethod
    def of(cls, pair: tuple[WorklistFilter, list[FilterCriterion]]) -> FilterOut:
        f, criteria = pair
        return cls(
            id=f.id,
            list_id=f.list_id,
            type=f.type,
            filter_criteria=[CriterionOut.model_validate(c) for c in criteria],
        )


class WorklistItemOut(BaseModel):
    # Items of automatic lists are computed, so they have no id of their own.
    id: int | None
    list_id: int
    item_id: int
    item_type: str
    list_position: int
    archived: bool
    display_due_date: int | None
    story: StoryOut | None = None
    task: TaskOut | None = None

    @classmethod
    def of(cls, view: ItemView) -> WorklistItemOut:
        return cls(
            id=view.id,
            list_id=view.list_id,
            item_id=view.item_id,
            item_type=view.item_type,
            list_position=view.list_position,
            archived=view.archived,
            display_due_date=view.display_due_date,
            story=StoryOut.of(view.story) if view.story is not None else None,
            task=TaskOut.model_validate(view.task, from_attributes=True)
            if view.task is not None
            else None,
        )


class WorklistOut(BaseModel):
    id: int
    created_at: Timestamp
    updated_at: Timestamp | None
    title: str
    creator_id: int | None
    project_id: int | None
    private: bool
    archived: bool
    automatic: bool
    filters: list[FilterOut]
    owners: list[int]
    users: list[int]
    # Only when one worklist is read; lists of worklists leave it null.
    items: list[WorklistItemOut] | None

    @classmethod
    def of(cls, view: WorklistView) -> WorklistOut:
        w = view.worklist
        return cls(
            id=w.id,
            created_at=w.created_at,
            updated_at=w.updated_at,
            title=w.title,
            creator_id=w.creator_id,
            project_id=w.project_id,
            private=w.private,
            archived=w.archived,
            automatic=w.automatic,
            filters=[FilterOut.of(pair) for pair in view.filters],
            owners=view.owners,
            users=view.users,
            items=[WorklistItemOut.of(i) for i in view.items] if view.items is not None else None,
        )


@router.get("", response_model=list[WorklistOut])
def list_worklists(
    ctx: ContextDep,
    paging: PageDep,
    response: Response,
    title: str | None = None,
    creator_id: Id | None = None,
    project_id: Id | None = None,
    archived: bool | None = None,
    user_id: Id | None = None,
    story_id: Id | None = None,
    task_id: Id | None = None,
    hide_lanes: bool | None = None,
    item_type: str | None = None,
    board_id: Id | None = None,
    subscriber_id: Id | None = None,
) -> Any:
    query = WorklistQuery(
        title=title,
        creator_id=creator_id,
        project_id=project_id,
        archived=archived,
        user_id=user_id,
        story_id=story_id,
        task_id=task_id,
        hide_lanes=bool(hide_lanes),
        item_type=item_type,
        board_id=board_id,
        subscriber_id=subscriber_id,
    )
    with ctx.db.read() as session:
        page = service.list_worklists(
            session, actor=ctx.actor, query=query, page=paging.request(ctx.settings)
        )
        items = [WorklistOut.of(view) for view in page.items]
    set_page_headers(response, page)
    return items


@router.post("", response_model=WorklistOut)
def create_worklist(ctx: ContextDep, body: WorklistIn) -> Any:
    with ctx.db.write() as session:
        return WorklistOut.of(service.create_worklist(session, actor=ctx.actor, data=body))


def _check(
    session: Session, if_match: IfMatch, worklist_id: int, current: Callable[[], Any]
) -> None:
    # Every write to a worklist, its items and its filters locks its row
    # (lists/common.py); so does the check.
    if_match.check(session, Worklist.id, worklist_id, current)


def _worklist(session: Session, ctx: Context, worklist_id: int) -> WorklistOut:
    """The worklist without its items: its version, and what writes answer.
    Items have versions of their own, so that moving a card does not make
    a concurrent edit of the title fail."""
    return WorklistOut.of(
        service.get_worklist_view(
            session, actor=ctx.actor, worklist_id=worklist_id, with_items=False
        )
    )


def without_items(worklist: WorklistOut) -> WorklistOut:
    return worklist.model_copy(update={"items": None})


@router.get("/{worklist_id}", response_model=WorklistOut)
def get_worklist(ctx: ContextDep, worklist_id: Id, response: Response) -> Any:
    with ctx.db.read() as session:
        out = WorklistOut.of(
            service.get_worklist_view(session, actor=ctx.actor, worklist_id=worklist_id)
        )
    set_etag(response, without_items(out))
    return out


_WRITABLE = {"title", "project_id", "private", "archived", "automatic", "owners", "users"}


@router.put("/{worklist_id}", response_model=WorklistOut)
def update_worklist(
    ctx: ContextDep, worklist_id: Id, body: Annotated[dict[str, Any], Body()], if_match: IfMatchDep
) -> Any:
    changes = {key: value for key, value in body.items() if key in _WRITABLE}
    with ctx.db.write() as session:
        _check(session, if_match, worklist_id, lambda: _worklist(session, ctx, worklist_id))
        return WorklistOut.of(
            service.update_worklist(
                session, actor=ctx.actor, worklist_id=worklist_id, changes=changes
            )
        )


@router.delete("/{worklist_id}", status_code=204)
def archive_worklist(ctx: ContextDep, worklist_id: Id, if_match: IfMatchDep) -> Response:
    with ctx.db.write() as session:
        _check(session, if_match, worklist_id, lambda: _worklist(session, ctx, worklist_id))
        service.archive_worklist(session, actor=ctx.actor, worklist_id=worklist_id)
    return Response(status_code=204)


# Items. StoryBoard's POST and PUT take query parameters; a JSON body with
# the same names works too.


def _pick(body: dict[str, Any] | None, name: str, query_value: Any) -> Any:
    if query_value is not None:
        return query_value
    if body and name in body:
        return body[name]
    return None


def _int_or_none(value: Any, name: str) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidInput.field(name, "must be a whole number") from None


@router.get("/{worklist_id}/items", response_model=list[WorklistItemOut])
def list_items(ctx: ContextDep, worklist_id: Id, paging: PageDep, response: Response) -> Any:
    with ctx.db.read() as session:
        page = items.list_items(
            session,
            actor=ctx.actor,
            worklist_id=worklist_id,
            page=paging.request(ctx.settings, count=False),
        )
        shown = [WorklistItemOut.of(view) for view in page.items]
    set_page_headers(response, page)
    return shown


@router.post("/{worklist_id}/items", response_model=WorklistItemOut)
def add_item(
    ctx: ContextDep,
    worklist_id: Id,
    item_id: Id | None = None,
    item_type: str | None = None,
    list_position: int | None = None,
    display_due_date: int | None = None,
    body: Annotated[dict[str, Any] | None, Body()] = None,
) -> Any:
    target = _int_or_none(_pick(body, "item_id", item_id), "item_id")
    if target is None:
        raise InvalidInput.field("item_id", "is required")
    kind = _pick(body, "item_type", item_type)
    with ctx.db.write() as session:
        view = items.add_item(
            session,
            actor=ctx.actor,
            worklist_id=worklist_id,
            item_id=target,
            item_type=str(kind or ""),
            list_position=_int_or_none(
                _pick(body, "list_position", list_position), "list_position"
            ),
            display_due_date=_int_or_none(
                _pick(body, "display_due_date", display_due_date), "display_due_date"
            ),
        )
        return WorklistItemOut.of(view)


def _move(
    ctx: ContextDep,
    worklist_id: int,
    item_id: int,
    list_position: int | None,
    list_id: int | None,
    display_due_date: int | None,
    archived: bool | None,
    body: dict[str, Any] | None,
    if_match: IfMatch,
) -> WorklistItemOut:
    changes: dict[str, Any] = {}
    due = _pick(body, "display_due_date", display_due_date)
    if due is not None or (body and "display_due_date" in body):
        changes["display_due_date"] = _int_or_none(due, "display_due_date")
    flag = _pick(body, "archived", archived)
    if flag is not None:
        changes["archived"] = bool(flag)
    position = _int_or_none(_pick(body, "list_position", list_position), "list_position")
    target = _int_or_none(_pick(body, "list_id", list_id), "list_id")

    def work(session: Session) -> WorklistItemOut:
        _check(session, if_match, worklist_id, lambda: _item(session, ctx, worklist_id, item_id))
        view = items.move_item(
            session,
            actor=ctx.actor,
            worklist_id=worklist_id,
            item_id=item_id,
            list_position=position,
            list_id=target,
            changes=changes,
        )
        return WorklistItemOut.of(view)

    # A card that moves while we wait for its lane's lock makes us lock a
    # third lane out of order; PostgreSQL may then report a deadlock, and the
    # whole move is simply run again.
    return ctx.db.run_write(work)


@router.put("/{worklist_id}/items", response_model=WorklistItemOut)
def move_item(
    ctx: ContextDep,
    worklist_id: Id,
    if_match: IfMatchDep,
    item_id: Id | None = None,
    list_position: int | None = None,
    list_id: Id | None = None,
    display_due_date: int | None = None,
    archived: bool | None = None,
    body: Annotated[dict[str, Any] | None, Body()] = None,
) -> Any:
    """Move an item (`item_id` is the worklist item's id) to `list_position`,
    in this list or in `list_id` (a card to another lane)."""
    target = _int_or_none(_pick(body, "item_id", item_id), "item_id")
    if target is None:
        raise InvalidInput.field("item_id", "is required")
    return _move(
        ctx, worklist_id, target, list_position, list_id, display_due_date, archived, body, if_match
    )


def _item(session: Session, ctx: Context, worklist_id: int, item_id: int) -> WorklistItemOut:
    return WorklistItemOut.of(
        items.get_item(session, actor=ctx.actor, worklist_id=worklist_id, item_id=item_id)
    )


@router.get("/{worklist_id}/items/{item_id}", response_model=WorklistItemOut)
def get_item(ctx: ContextDep, worklist_id: Id, item_id: Id) -> Any:
    with ctx.db.read() as session:
        return _item(session, ctx, worklist_id, item_id)


@router.put("/{worklist_id}/items/{item_id}", response_model=WorklistItemOut)
def move_item_by_path(
    ctx: ContextDep,
    worklist_id: Id,
    item_id: Id,
    if_match: IfMatchDep,
    list_position: int | None = None,
    list_id: Id | None = None,
    display_due_date: int | None = None,
    archived: bool | None = None,
    body: Annotated[dict[str, Any] | None, Body()] = None,
) -> Any:
    return _move(
        ctx,
        worklist_id,
        item_id,
        list_position,
        list_id,
        display_due_date,
        archived,
        body,
        if_match,
    )


@router.delete("/{worklist_id}/items/{item_id}", status_code=204)
def remove_item(ctx: ContextDep, worklist_id: Id, item_id: Id, if_match: IfMatchDep) -> Response:
    with ctx.db.write() as session:
        _check(session, if_match, worklist_id, lambda: _item(session, ctx, worklist_id, item_id))
        items.remove_item(session, actor=ctx.actor, worklist_id=worklist_id, item_id=item_id)
    return Response(status_code=204)


# Filters of automatic lists


@router.get("/{worklist_id}/filters", response_model=list[FilterOut])
def list_filters(ctx: ContextDep, worklist_id: Id) -> Any:
    with ctx.db.read() as session:
        return [
            FilterOut.of(pair)
            for pair in automatic.list_filters(session, actor=ctx.actor, worklist_id=worklist_id)
        ]


@router.post("/{worklist_id}/filters", response_model=FilterOut)
def create_filter(ctx: ContextDep, worklist_id: Id, body: FilterIn) -> Any:
    with ctx.db.write() as session:
        return FilterOut.of(
            automatic.create_filter(session, actor=ctx.actor, worklist_id=worklist_id, data=body)
        )


def _filter(session: Session, ctx: Context, worklist_id: int, filter_id: int) -> FilterOut:
    return FilterOut.of(
        automatic.get_filter(session, actor=ctx.actor, worklist_id=worklist_id, filter_id=filter_id)
    )


@router.get("/{worklist_id}/filters/{filter_id}", response_model=FilterOut)
def get_filter(ctx: ContextDep, worklist_id: Id, filter_id: Id) -> Any:
    with ctx.db.read() as session:
        return _filter(session, ctx, worklist_id, filter_id)


@router.put("/{worklist_id}/filters/{filter_id}", response_model=FilterOut)
def update_filter(
    ctx: ContextDep, worklist_id: Id, filter_id: Id, body: FilterIn, if_match: IfMatchDep
) -> Any:
    with ctx.db.write() as session:
        _check(
            session, if_match, worklist_id, lambda: _filter(session, ctx, worklist_id, filter_id)
        )
        return FilterOut.of(
            automatic.update_filter(
                session, actor=ctx.actor, worklist_id=worklist_id, filter_id=filter_id, data=body
            )
        )


@router.delete("/{worklist_id}/filters/{filter_id}", status_code=204)
def delete_filter(
    ctx: ContextDep, worklist_id: Id, filter_id: Id, if_match: IfMatchDep
) -> Response:
    with ctx.db.write() as session:
        _check(
            session, if_match, worklist_id, lambda: _filter(session, ctx, worklist_id, filter_id)
        )
        automatic.delete_filter(
            session, actor=ctx.actor, worklist_id=worklist_id, filter_id=filter_id
        )
    return Response(status_code=204)


# Permissions: the caller's codenames; POST adds users, PUT replaces them.
mount_permissions(
    router,
    spec=WORKLIST_ROLES,
    param="worklist_id",
    load=service.load_worklist,
    row=Worklist.id,
    current=_worklist,
)


__all__ = ["FilterOut", "WorklistItemOut", "WorklistOut", "router", "without_items"]
