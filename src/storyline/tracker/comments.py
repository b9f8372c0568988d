"""Comments on stories: threaded replies, editing with history, deletion.

Every read starts from `comment_query()`, which joins through the visibility
gate, so that a comment of a private story is as invisible as the story. The
search engineer's comment search builds on the same statement.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, field_validator
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from storyline.config import Settings
from storyline.domain import events
from storyline.errors import InvalidInput, NotFound, PermissionDenied
from storyline.kernel import timeline
from storyline.kernel.access import (
    Actor,
    get_story,
    require_superuser,
    require_user,
    story_visibility,
)
from storyline.kernel.models import Event
from storyline.kernel.paging import Page, PageRequest, paginate
from storyline.kernel.schema import utcnow
from storyline.kernel.validation import Id, LongText
from storyline.tracker.models import Comment, CommentHistory, Story

COMMENT_SORT = {
    "id": Comment.id,
    "created_at": Comment.created_at,
    "updated_at": Comment.updated_at,
}


def _check_content(value: str) -> str:
    # Markdown is whitespace-sensitive (indented code), so the content is kept
    # as written; only a comment with nothing but whitespace is refused.
    if not value.strip():
        raise ValueError("must not be empty")
    return value


class CommentIn(BaseModel):
    """A new comment. Clients may send more (is_active, ids); it is ignored."""

    model_config = ConfigDict(extra="ignore")

    content: LongText
    in_reply_to: Id | None = None

    _content = field_validator("content")(_check_content)


class CommentEdit(BaseModel):
    """An edit: only the content of a comment changes."""

    model_config = ConfigDict(extra="ignore")

    content: LongText

    _content = field_validator("content")(_check_content)


def comment_query(actor: Actor, story_id: int | None = None) -> Select[Comment]:
    """The comments `actor` may see, optionally of one story.

    The join to `stories` carries the visibility clause, so callers can add
    filters (full-text search, authors) without re-deciding access.
    """
    stmt = select(Comment).join(Story, Story.id == Comment.story_id).where(story_visibility(actor))
    if story_id is not None:
        stmt = stmt.where(Comment.story_id == story_id)
    return stmt


def list_comments(
    session: Session, *, actor: Actor, story_id: int, page: PageRequest
) -> Page[Comment]:
    # The story lookup first, so that an invisible story answers 404 rather
    # than an empty list that would confirm nothing but hint at existence.
    get_story(session, actor=actor, story_id=story_id)
    stmt = comment_query(actor, story_id=story_id)
    return paginate(session, stmt, model=Comment, page=page, sortable=COMMENT_SORT)


def get_comment(session: Session, *, actor: Actor, story_id: int, comment_id: int) -> Comment:
    comment = session.scalars(
        comment_query(actor, story_id=story_id).where(Comment.id == comment_id)
    ).one_or_none()
    if comment is None:
        # Also when the story itself is invisible: one answer for both, so a
        # comment id never reveals a private story.
        raise NotFound.of("comment", comment_id)
    return comment


def create_comment(
    session: Session, *, actor: Actor, story_id: int, data: CommentIn
) -> tuple[Event, Comment]:
    """Add a comment and its `user_comment` event; StoryBoard answers with the event."""
    user_id = require_user(actor)
    story = get_story(session, actor=actor, story_id=story_id)
    if data.in_reply_to is not None:
        parent_story = session.scalar(
            select(Comment.story_id).where(Comment.id == data.in_reply_to)
        )
        if parent_story != story.id:
            raise InvalidInput.field(
                "in_reply_to", f"comment {data.in_reply_to} is not a comment of story {story.id}"
            )
    comment = Comment(
        content=data.content,
        is_active=True,
        story_id=story.id,
        author_id=user_id,
        in_reply_to=data.in_reply_to,
    )
    session.add(comment)
    session.flush()
    event = timeline.record(
        session,
        event_type=events.USER_COMMENT,
        author_id=user_id,
        story_id=story.id,
        comment_id=comment.id,
    )
    _touch(story)
    return event, comment


def _require_editing(settings: Settings) -> None:
    if not settings.enable_editable_comments:
        raise PermissionDenied(
            "Editing and deleting comments is turned off on this server.",
            code="comment_editing_disabled",
        )


def update_comment(
    session: Session,
    *,
    actor: Actor,
    settings: Settings,
    story_id: int,
    comment_id: int,
    data: CommentEdit,
) -> Comment:
    """Replace the content; the previous content is kept in the history."""
    _require_editing(settings)
    user_id = require_user(actor)
    comment = get_comment(session, actor=actor, story_id=story_id, comment_id=comment_id)
    if comment.author_id != user_id and not actor.is_superuser:
        raise PermissionDenied("Only the author of a comment may edit it.")
    if data.content == comment.content:
        return comment
    history = CommentHistory(comment_id=comment.id, content=comment.content)
    session.add(history)
    comment.content = data.content
    session.flush()
    timeline.record(
        session,
        event_type=events.COMMENT_EDITED,
        author_id=user_id,
        story_id=comment.story_id,
        comment_id=comment.id,
        info={"comment_id": comment.id, "history_id": history.id},
    )
    story = session.get(Story, comment.story_id)
    if story is not None:
        _touch(story)
    return comment


def delete_comment(
    session: Session, *, actor: Actor, settings: Settings, story_id: int, comment_id: int
) -> None:
    """Remove a comment for good (moderation: spam, leaked secrets).

    Superusers only, as in StoryBoard's API reference. Its history and its
    timeline events go with it; replies stay, no longer threaded under it.
    """
    _require_editing(settings)
    require_superuser(actor)
    comment = get_comment(session, actor=actor, story_id=story_id, comment_id=comment_id)
    session.delete(comment)
    session.flush()


def comment_history(
    session: Session, *, actor: Actor, story_id: int, comment_id: int
) -> Sequence[CommentHistory]:
    """Earlier versions of a comment, oldest first."""
    get_comment(session, actor=actor, story_id=story_id, comment_id=comment_id)
    stmt = (
        select(CommentHistory)
        .where(CommentHistory.comment_id == comment_id)
        .order_by(CommentHistory.id)
    )
    return session.scalars(stmt).all()


def _touch(story: Story) -> None:
    # A comment is activity on the story: `updated_since` filters and
    # "recently updated" lists must see it, as StoryBoard's did.
    story.updated_at = utcnow()
