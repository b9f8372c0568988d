"""/v1/stories/{id}/comments

Ids in these paths are declared with Starlette's `int` convertor: a path
like `/comments/search` matches no route here (StoryBoard parsed "search" as
a comment id and answered 400), so a search route can be added beside these
without depending on router order.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from storyline.api.compat import id_last
from storyline.api.deps import Context, ContextDep, PageDep, Timestamp, set_page_headers
from storyline.api.preconditions import IfMatch, IfMatchDep
from storyline.kernel.models import Event
from storyline.kernel.validation import Id
from storyline.tracker import comments as service
from storyline.tracker.api.events import EventOut
from storyline.tracker.comments import CommentEdit, CommentIn
from storyline.tracker.models import Comment

router = APIRouter(prefix="/stories", tags=["comments"])


class CommentOut(BaseModel):
    """StoryBoard's Comment (content, is_active, in_reply_to) plus who wrote
    it and where; clients that don't know the extra fields ignore them."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: Timestamp
    updated_at: Timestamp | None
    content: str | None
    is_active: bool
    in_reply_to: int | None
    author_id: int | None
    story_id: int


class CommentHistoryOut(BaseModel):
    """One earlier version of an edited comment."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: Timestamp
    updated_at: Timestamp | None
    comment_id: int
    content: str | None


class TimelineEventOut(EventOut):
    """StoryBoard's TimeLineEvent with the comment it is about resolved, as
    POST answers it (python-storyboardclient maps this onto a Comment, so its
    `.id` is the event's id)."""

    comment: CommentOut | None = None


def timeline_event_out(event: Event, comment: Comment | None) -> TimelineEventOut:
    out = TimelineEventOut.model_validate(event)
    if comment is not None:
        out.comment = CommentOut.model_validate(comment)
    return out


@router.get("/{story_id:int}/comments", response_model=list[CommentOut])
def list_comments(ctx: ContextDep, paging: PageDep, response: Response, story_id: Id) -> Any:
    with ctx.db.read() as session:
        page = service.list_comments(
            session, actor=ctx.actor, story_id=story_id, page=paging.request(ctx.settings)
        )
    set_page_headers(response, page)
    return page.items


@router.post("/{story_id:int}/comments", response_model=TimelineEventOut)
def create_comment(ctx: ContextDep, story_id: Id, body: CommentIn) -> Any:
    with ctx.db.write() as session:
        event, comment = service.create_comment(
            session, actor=ctx.actor, story_id=story_id, data=body
        )
        return id_last(timeline_event_out(event, comment))


def _check(
    session: Session, ctx: Context, if_match: IfMatch, story_id: int, comment_id: int
) -> None:
    if_match.check(
        session,
        Comment.id,
        comment_id,
        lambda: CommentOut.model_validate(
            service.get_comment(session, actor=ctx.actor, story_id=story_id, comment_id=comment_id)
        ),
    )


@router.get("/{story_id:int}/comments/{comment_id:int}", response_model=CommentOut)
def get_comment(ctx: ContextDep, story_id: Id, comment_id: Id) -> Any:
    with ctx.db.read() as session:
        return service.get_comment(
            session, actor=ctx.actor, story_id=story_id, comment_id=comment_id
        )


@router.put("/{story_id:int}/comments/{comment_id:int}", response_model=CommentOut)
def update_comment(
    ctx: ContextDep, story_id: Id, comment_id: Id, body: CommentEdit, if_match: IfMatchDep
) -> Any:
    with ctx.db.write() as session:
        _check(session, ctx, if_match, story_id, comment_id)
        return service.update_comment(
            session,
            actor=ctx.actor,
            settings=ctx.settings,
            story_id=story_id,
            comment_id=comment_id,
            data=body,
        )


@router.delete("/{story_id:int}/comments/{comment_id:int}", status_code=204)
def delete_comment(ctx: ContextDep, story_id: Id, comment_id: Id, if_match: IfMatchDep) -> Response:
    with ctx.db.write() as session:
        _check(session, ctx, if_match, story_id, comment_id)
        service.delete_comment(
            session,
            actor=ctx.actor,
            settings=ctx.settings,
            story_id=story_id,
            comment_id=comment_id,
        )
    return Response(status_code=204)


@router.get(
    "/{story_id:int}/comments/{comment_id:int}/history",
    response_model=list[CommentHistoryOut],
)
def comment_history(ctx: ContextDep, story_id: Id, comment_id: Id) -> Any:
    with ctx.db.read() as session:
        return service.comment_history(
            session, actor=ctx.actor, story_id=story_id, comment_id=comment_id
        )


__all__ = ["CommentHistoryOut", "CommentOut", "TimelineEventOut", "router", "timeline_event_out"]
