"""/v1/boards and their permissions. Cards move through /v1/worklists/{lane}/items."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from storyline.api.deps import Context, ContextDep, PageDep, Timestamp, set_page_headers
from storyline.api.preconditions import IfMatch, IfMatchDep, set_etag
from storyline.api.roles import mount_permissions
from storyline.kernel.validation import Id
from storyline.lists import boards as service
from storyline.lists.api.due_dates import DueDateOut
from storyline.lists.api.worklists import WorklistOut, without_items
from storyline.lists.boards import BoardIn, BoardQuery, BoardView
from storyline.lists.models import BOARD_ROLES, Board

router = APIRouter(prefix="/boards", tags=["boards"])


class LaneOut(BaseModel):
    id: int
    board_id: int
    list_id: int
    position: int
    worklist: WorklistOut


class BoardOut(BaseModel):
    id: int
    created_at: Timestamp
    updated_at: Timestamp | None
    title: str
    description: str | None
    creator_id: int | None
    project_id: int | None
    private: bool
    archived: bool
    lanes: list[LaneOut]
    due_dates: list[DueDateOut]
    owners: list[int]
    users: list[int]

    @classmethod
    def of(cls, view: BoardView) -> BoardOut:
        b = view.board
        return cls(
            id=b.id,
            created_at=b.created_at,
            updated_at=b.updated_at,
            title=b.title,
            description=b.description,
            creator_id=b.creator_id,
            project_id=b.project_id,
            private=b.private,
            archived=b.archived,
            lanes=[
                LaneOut(
                    id=lane.lane.id,
                    board_id=lane.lane.board_id,
                    list_id=lane.lane.list_id,
                    position=lane.lane.position,
                    worklist=WorklistOut.of(lane.worklist),
                )
                for lane in view.lanes
            ],
            due_dates=[DueDateOut.brief(d) for d in view.due_dates],
            owners=view.owners,
            users=view.users,
        )


@router.get("", response_model=list[BoardOut])
def list_boards(
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
    item_type: str | None = None,
    subscriber_id: Id | None = None,
) -> Any:
    query = BoardQuery(
        title=title,
        creator_id=creator_id,
        project_id=project_id,
        archived=archived,
        user_id=user_id,
        story_id=story_id,
        task_id=task_id,
        item_type=item_type,
        subscriber_id=subscriber_id,
    )
    with ctx.db.read() as session:
        page = service.list_boards(
            session, actor=ctx.actor, query=query, page=paging.request(ctx.settings)
        )
        items = [BoardOut.of(view) for view in page.items]
    set_page_headers(response, page)
    return items


@router.post("", response_model=BoardOut)
def create_board(ctx: ContextDep, body: BoardIn) -> Any:
    with ctx.db.write() as session:
        return BoardOut.of(service.create_board(session, actor=ctx.actor, data=body))


@router.get("/{board_id}", response_model=BoardOut)
def get_board(
    ctx: ContextDep,
    board_id: Id,
    response: Response,
    lane_items: Annotated[
        int | None,
        Query(
            ge=0,
            description="Load at most this many cards per lane (0: none; the rest "
            "comes from /v1/worklists/{id}/items). Default: all cards.",
        ),
    ] = None,
) -> Any:
    with ctx.db.read() as session:
        view = service.get_board_view(
            session,
            actor=ctx.actor,
            board_id=board_id,
            with_items=lane_items != 0,
            item_limit=lane_items or None,
        )
        out = BoardOut.of(view)
    set_etag(response, _without_cards(out))
    return out


_WRITABLE = {
    "title",
    "description",
    "project_id",
    "private",
    "archived",
    "owners",
    "users",
    "lanes",
}


def _board(session: Session, ctx: Context, board_id: int) -> BoardOut:
    """The board without its lanes' cards: its version (whatever `lane_items`
    a GET asks for), and what writes answer. Cards have versions of their
    own, so that moving one does not make a concurrent edit of the board fail."""
    return BoardOut.of(
        service.get_board_view(session, actor=ctx.actor, board_id=board_id, with_items=False)
    )


def _without_cards(board: BoardOut) -> BoardOut:
    lanes = [
        lane.model_copy(update={"worklist": without_items(lane.worklist)}) for lane in board.lanes
    ]
    return board.model_copy(update={"lanes": lanes})


def _check(session: Session, ctx: Context, if_match: IfMatch, board_id: int) -> None:
    if_match.check(session, Board.id, board_id, lambda: _board(session, ctx, board_id))


@router.put("/{board_id}", response_model=BoardOut)
def update_board(
    ctx: ContextDep, board_id: Id, body: Annotated[dict[str, Any], Body()], if_match: IfMatchDep
) -> Any:
    changes = {key: value for key, value in body.items() if key in _WRITABLE}
    with ctx.db.write() as session:
        _check(session, ctx, if_match, board_id)
        return BoardOut.of(
            service.update_board(session, actor=ctx.actor, board_id=board_id, changes=changes)
        )


@router.delete("/{board_id}", status_code=204)
def archive_board(ctx: ContextDep, board_id: Id, if_match: IfMatchDep) -> Response:
    with ctx.db.write() as session:
        _check(session, ctx, if_match, board_id)
        service.archive_board(session, actor=ctx.actor, board_id=board_id)
    return Response(status_code=204)


mount_permissions(
    router,
    spec=BOARD_ROLES,
    param="board_id",
    load=service.load_board,
    row=Board.id,
    current=_board,
)


__all__ = ["BoardOut", "router"]
