"""Kanban boards: lanes that are worklists, plus who may change them."""

from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storyline.db.base import Base, IdMixin, TimestampMixin


class Board(IdMixin, TimestampMixin, Base):
    __tablename__ = "boards"
    __table_args__ = (Index("ix_boards_creator_id", "creator_id"),)

    title: Mapped[str] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    creator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    project_id: Mapped[int | None] = mapped_column(
        ForeignKey("projects.id", ondelete="SET NULL"), index=True
    )
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)


class BoardLane(IdMixin, TimestampMixin, Base):
    """A worklist shown as a lane of a board (StoryBoard's `board_worklists`)."""

    __tablename__ = "board_worklists"
    __table_args__ = (
        UniqueConstraint("board_id", "list_id"),
        Index("ix_board_worklists_list_id", "list_id"),
    )

    board_id: Mapped[int] = mapped_column(ForeignKey("boards.id", ondelete="CASCADE"))
    list_id: Mapped[int] = mapped_column(ForeignKey("worklists.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)


class BoardPermission(Base):
    __tablename__ = "board_permissions"
    __table_args__ = (Index("ix_board_permissions_user_id", "user_id"),)

    board_id: Mapped[int] = mapped_column(
        ForeignKey("boards.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(10), primary_key=True)
