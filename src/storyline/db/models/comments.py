from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column

from storyline.db.base import Base, IdMixin, TimestampMixin


class Comment(IdMixin, TimestampMixin, Base):
    __tablename__ = "comments"
    __table_args__ = (Index("ix_comments_story_id", "story_id"),)

    content: Mapped[str | None] = mapped_column(Text)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    in_reply_to: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="SET NULL"))


class CommentHistory(IdMixin, TimestampMixin, Base):
    """An earlier version of an edited comment."""

    __tablename__ = "comments_history"
    __table_args__ = (Index("ix_comments_history_comment_id", "comment_id"),)

    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    content: Mapped[str | None] = mapped_column(Text)
