"""Worklists: ordered lists of stories and tasks, by hand or by saved criteria.

Items are ordered by `sort_key`, a sparse integer: a new position is picked
between the two neighbours' keys, so moving one item rewrites one row at any
list size. Only when two neighbours' keys touch is the list renumbered
(under the list's lock), which spreads the keys out again for a long while.
The position clients see (`list_position`) is the item's rank, computed on read.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storyline.domain import events
from storyline.kernel.schema import (
    Base,
    IdMixin,
    RoleGrant,
    RoleInheritance,
    RoleSpec,
    TimestampMixin,
    UTCDateTime,
    role_object_key,
    role_table_args,
)

# Roles on worklists and boards: owners change everything, movers change the
# contents (StoryBoard's `edit_worklist`/`move_items`, `edit_board`/`move_cards`).
OWNER = "owner"
MOVER = "mover"


class Worklist(IdMixin, TimestampMixin, Base):
    __tablename__ = "worklists"
    __table_args__ = (Index("ix_worklists_creator_id", "creator_id"),)

    title: Mapped[str] = mapped_column(String(255))
    creator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    project_id: Mapped[int | None] = mapped_column(
        ForeignKey("projects.id", ondelete="SET NULL"), index=True
    )
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    automatic: Mapped[bool] = mapped_column(Boolean, default=False)


class WorklistItem(IdMixin, TimestampMixin, Base):
    """A story or a task in a manual worklist (a card, when the list is a lane).

    The item is one of two nullable foreign keys rather than StoryBoard's
    untyped (item_type, item_id) pair, so that deleting a story or a task
    removes its cards instead of leaving them pointing at nothing.
    """

    __tablename__ = "worklist_items"
    __table_args__ = (
        # Covers a move's neighbour lookup and rank count (both filter on
        # `archived` and order by (sort_key, id)) without reading the rows.
        Index("ix_worklist_items_list_order", "list_id", "archived", "sort_key", "id"),
        UniqueConstraint("list_id", "story_id"),
        UniqueConstraint("list_id", "task_id"),
        Index("ix_worklist_items_story_id", "story_id"),
        Index("ix_worklist_items_task_id", "task_id"),
        CheckConstraint("(story_id IS NULL) <> (task_id IS NULL)", name="one_item"),
    )

    list_id: Mapped[int] = mapped_column(ForeignKey("worklists.id", ondelete="CASCADE"))
    sort_key: Mapped[int] = mapped_column(BigInteger)
    story_id: Mapped[int | None] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    display_due_date: Mapped[int | None] = mapped_column(
        ForeignKey("due_dates.id", ondelete="SET NULL")
    )
    archived: Mapped[bool] = mapped_column(Boolean, default=False)

    @property
    def item_type(self) -> str:
        return "story" if self.story_id is not None else "task"

    @property
    def item_id(self) -> int:
        item = self.story_id if self.story_id is not None else self.task_id
        assert item is not None
        return item


class WorklistFilter(IdMixin, TimestampMixin, Base):
    """One filter of an automatic worklist: its criteria all hold (AND); an
    item matching any of the list's filters is in the list (OR)."""

    __tablename__ = "worklist_filters"

    list_id: Mapped[int] = mapped_column(ForeignKey("worklists.id", ondelete="CASCADE"), index=True)
    # "story" or "task": what the filter selects.
    type: Mapped[str] = mapped_column(String(10))


class FilterCriterion(IdMixin, TimestampMixin, Base):
    __tablename__ = "filter_criteria"

    filter_id: Mapped[int] = mapped_column(
        ForeignKey("worklist_filters.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str | None] = mapped_column(String(255))
    field: Mapped[str] = mapped_column(String(50))
    value: Mapped[str] = mapped_column(String(255))
    negative: Mapped[bool] = mapped_column(Boolean, default=False)


class WorklistPermission(RoleGrant, Base):
    __tablename__ = "worklist_permissions"
    __table_args__ = role_table_args("worklist_permissions")

    worklist_id: Mapped[int] = role_object_key("worklists")


# Kanban boards: lanes that are worklists, plus who may change them.


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


class BoardPermission(RoleGrant, Base):
    __tablename__ = "board_permissions"
    __table_args__ = role_table_args("board_permissions")

    board_id: Mapped[int] = role_object_key("boards")


# Due dates: named dates shown on cards, shared by boards and worklists.


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


class DueDatePermission(RoleGrant, Base):
    __tablename__ = "due_date_permissions"
    __table_args__ = role_table_args("due_date_permissions")

    due_date_id: Mapped[int] = role_object_key("due_dates")


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


# Who may do what with worklists, boards and due dates, in StoryBoard's
# permission codenames (the `/permissions` endpoints).
BOARD_ROLES = RoleSpec(
    kind="board",
    noun="board",
    table=BoardPermission,
    object_key="board_id",
    codenames={"edit_board": OWNER, "move_cards": MOVER},
    event_type=events.BOARD_PERMISSIONS_CHANGED,
)
# A board's owners and movers are owners and movers of its lanes: a lane is
# changed, and a private lane seen, by whoever works on the board.
WORKLIST_ROLES = RoleSpec(
    kind="worklist",
    noun="worklist",
    table=WorklistPermission,
    object_key="worklist_id",
    codenames={"edit_worklist": OWNER, "move_items": MOVER},
    event_type=events.WORKLIST_PERMISSIONS_CHANGED,
    inherit=RoleInheritance(
        parent=BOARD_ROLES, link=BoardLane, child_key="list_id", parent_key="board_id"
    ),
)
DUE_DATE_ROLES = RoleSpec(
    kind="due_date",
    noun="due date",
    table=DueDatePermission,
    object_key="due_date_id",
    codenames={"edit_date": DATE_OWNER, "assign_date": DATE_ASSIGNER},
)
