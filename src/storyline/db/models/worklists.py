"""Worklists: ordered lists of stories and tasks, by hand or by saved criteria.

Items are ordered by `sort_key`, a sparse integer: a new position is picked
between the two neighbours' keys, so moving one item rewrites one row at any
list size. Only when two neighbours' keys touch is the list renumbered
(under the list's lock), which spreads the keys out again for a long while.
The position clients see (`list_position`) is the item's rank, computed on read.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storyline.db.base import Base, IdMixin, TimestampMixin

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


class WorklistPermission(Base):
    __tablename__ = "worklist_permissions"
    __table_args__ = (Index("ix_worklist_permissions_user_id", "user_id"),)

    worklist_id: Mapped[int] = mapped_column(
        ForeignKey("worklists.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(10), primary_key=True)
