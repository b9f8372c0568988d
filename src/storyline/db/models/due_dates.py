"""Due dates: named dates shown on cards, shared by boards and worklists."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from storyline.db.base import Base, IdMixin, TimestampMixin, UTCDateTime

# Owners change the date; assigners put it on cards (StoryBoard's
# `edit_date` / `assign_date`).
DATE_OWNER = "owner"
DATE_ASSIGNER = "assigner"


class DueDate(IdMixin, TimestampMixin, Base):
    __tablename__ = "due_dates"

    name: Mapped[str] = mapped_column(String(255))
    date: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    creator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class DueDatePermission(Base):
    __tablename__ = "due_date_permissions"
    __table_args__ = (Index("ix_due_date_permissions_user_id", "user_id"),)

    due_date_id: Mapped[int] = mapped_column(
        ForeignKey("due_dates.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(10), primary_key=True)


class BoardDueDate(Base):
    __tablename__ = "board_due_dates"
    __table_args__ = (Index("ix_board_due_dates_due_date_id", "due_date_id"),)

    board_id: Mapped[int] = mapped_column(
        ForeignKey("boards.id", ondelete="CASCADE"), primary_key=True
    )
    due_date_id: Mapped[int] = mapped_column(
        ForeignKey("due_dates.id", ondelete="CASCADE"), primary_key=True
    )


class WorklistDueDate(Base):
    __tablename__ = "worklist_due_dates"
    __table_args__ = (Index("ix_worklist_due_dates_due_date_id", "due_date_id"),)

    worklist_id: Mapped[int] = mapped_column(
        ForeignKey("worklists.id", ondelete="CASCADE"), primary_key=True
    )
    due_date_id: Mapped[int] = mapped_column(
        ForeignKey("due_dates.id", ondelete="CASCADE"), primary_key=True
    )
