"""Subscriptions, the per-user feed of what happened, webhooks and their
delivery log, unsubscribe links and digest state."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storyline.kernel.schema import Base, IdMixin, TimestampMixin, UTCDateTime


class SubscriptionEvent(IdMixin, TimestampMixin, Base):
    """One timeline event in one subscriber's feed (`/v1/subscription_events`)."""

    __tablename__ = "subscription_events"
    __table_args__ = (Index("ix_subscription_events_subscriber_id_id", "subscriber_id", "id"),)

    subscriber_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    event_type: Mapped[str] = mapped_column(String(60))
    event_info: Mapped[str | None] = mapped_column(Text)
    # The timeline event (no foreign key: the feed outlives a deleted story).
    event_id: Mapped[int | None] = mapped_column(Integer)
    story_id: Mapped[int | None] = mapped_column(Integer)


class Webhook(IdMixin, TimestampMixin, Base):
    """An HTTP endpoint told about the changes in a project or a project group."""

    __tablename__ = "webhooks"

    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    project_id: Mapped[int | None] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), index=True
    )
    project_group_id: Mapped[int | None] = mapped_column(
        ForeignKey("project_groups.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(String(255))
    # Comma-separated event types; empty means every event.
    event_types: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(default=True)


class WebhookDelivery(IdMixin, TimestampMixin, Base):
    """One attempt to call a webhook: the log its owner reads."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_webhook_id_id", "webhook_id", "id"),)

    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    outbox_id: Mapped[int | None] = mapped_column(ForeignKey("outbox.id", ondelete="SET NULL"))
    idempotency_key: Mapped[str] = mapped_column(String(200))
    event_type: Mapped[str] = mapped_column(String(60))
    attempt: Mapped[int] = mapped_column(Integer)
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int] = mapped_column(Integer, default=0)


class UnsubscribeToken(IdMixin, TimestampMixin, Base):
    """The secret in an email's one-click unsubscribe link: it names one
    subscription of one user, and works without signing in."""

    __tablename__ = "unsubscribe_tokens"
    __table_args__ = (UniqueConstraint("user_id", "target_type", "target_id"),)

    token: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    target_type: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[int] = mapped_column(Integer)


class DigestState(Base):
    """Where each digest reader's last digest ended."""

    __tablename__ = "digest_state"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    last_event_id: Mapped[int] = mapped_column(Integer, default=0)
    last_sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
