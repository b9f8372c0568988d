from __future__ import annotations

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storyline.db.base import Base, IdMixin, TimestampMixin


class Event(IdMixin, TimestampMixin, Base):
    """A timeline event. `event_info` is a JSON document, as in StoryBoard."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_story_id_id", "story_id", "id"),
        Index("ix_events_event_type", "event_type"),
    )

    story_id: Mapped[int | None] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"))
    # Worklists and boards get their timeline with the kanban work; the columns
    # exist now so that the event shape is StoryBoard's from the start.
    worklist_id: Mapped[int | None] = mapped_column(index=True)
    board_id: Mapped[int | None] = mapped_column(index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"))
    event_type: Mapped[str] = mapped_column(String(60))
    event_info: Mapped[str | None] = mapped_column(Text)
