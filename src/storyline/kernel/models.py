"""The kernel's own tables: the timeline's events, who follows what, and the
outbox."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storyline.kernel.schema import Base, IdMixin, TimestampMixin, UTCDateTime


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


OUTBOX_PENDING = "pending"
OUTBOX_SENT = "sent"
OUTBOX_FAILED = "failed"


class OutboxMessage(IdMixin, TimestampMixin, Base):
    """A message to deliver (email, digest, webhook call), written in the same
    transaction as the change it reports and delivered by the worker.

    `idempotency_key` is fixed when the row is written and sent with every
    attempt, so a receiver can drop the duplicates that at-least-once
    delivery produces after a crash.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),)

    kind: Mapped[str] = mapped_column(String(20))
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default=OUTBOX_PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    # A claimed row is invisible to other workers until this passes; a
    # worker that dies mid-batch leaves its rows to be claimed again.
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    recipient_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    webhook_id: Mapped[int | None] = mapped_column(
        ForeignKey("webhooks.id", ondelete="CASCADE"), index=True
    )


class Subscription(IdMixin, TimestampMixin, Base):
    """A user following a story, project, project group, worklist or board.

    `target_id` has no foreign key because it points into different tables
    depending on `target_type`, as in StoryBoard.
    """

    __tablename__ = "subscriptions"
    __table_args__ = (
        UniqueConstraint("user_id", "target_type", "target_id"),
        Index("ix_subscriptions_target_type_target_id", "target_type", "target_id"),
    )

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    target_type: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[int]
