"""What the worklist and board pages share: cards, the people fields of a
permissions form, and running a change in a write unit of work."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Form
from sqlalchemy.orm import Session

from storyline.domain.statuses import TASK_STATUSES
from storyline.errors import InvalidInput
from storyline.kernel.validation import MAX_INT, is_number
from storyline.lists import due_dates
from storyline.lists.common import ItemView
from storyline.lists.models import DueDate
from storyline.tracker.page_data import Names, load_names
from storyline.web.listing import parse_user_ref
from storyline.web.security import PageContext

TextField = Annotated[str, Form()]
STORY_STATUS_LABELS = {"active": "Active", "merged": "Merged", "invalid": "Invalid"}


# Cards


@dataclass(frozen=True)
class Card:
    """What a card or a worklist row shows."""

    item_id: int | None
    list_id: int
    position: int
    kind: str
    target_id: int
    title: str
    url: str
    status: str
    status_label: str
    assignee: str
    due: DueDate | None


def build_cards(
    session: Session, ctx: PageContext, views: Sequence[ItemView], names: Names | None = None
) -> list[Card]:
    """Cards for items whose stories and tasks are loaded; due dates and
    assignees in one query each."""
    dues = due_dates.visible_due_dates(
        session,
        actor=ctx.actor,
        ids=(v.display_due_date for v in views if v.display_due_date is not None),
    )
    if names is None:
        names = load_names(
            session,
            actor=ctx.actor,
            user_ids=[v.task.assignee_id for v in views if v.task is not None],
        )
    cards = []
    for v in views:
        due = dues.get(v.display_due_date) if v.display_due_date is not None else None
        if v.task is not None:
            task = v.task
            cards.append(
                Card(
                    item_id=v.id, list_id=v.list_id, position=v.list_position, kind="task",
                    target_id=task.id, title=task.title,
                    url=f"/stories/{task.story_id}#task-{task.id}", status=task.status,
                    status_label=TASK_STATUSES.get(task.status, task.status),
                    assignee=names.user(task.assignee_id), due=due,
                )
            )  # fmt: skip
        elif v.story is not None:
            story = v.story.story
            status = v.story.lifecycle
            cards.append(
                Card(
                    item_id=v.id, list_id=v.list_id, position=v.list_position, kind="story",
                    target_id=story.id, title=story.title, url=f"/stories/{story.id}",
                    status=status, status_label=STORY_STATUS_LABELS.get(status, status.title()),
                    assignee="", due=due,
                )
            )  # fmt: skip
    return cards


def _user_refs(ctx: PageContext, text: str, field_name: str) -> list[int]:
    refs = []
    for part in text.replace("\n", ",").split(","):
        found = parse_user_ref(part, ctx, field_name)
        if found is not None:
            refs.append(found)
    return refs


def run(ctx: PageContext, change: Callable[[Session], Any]) -> Any:
    """One change in a write unit of work, retried on a PostgreSQL deadlock
    (two cards moved between the same lanes at once), as the API does."""
    return ctx.container.db.run_write(change)


def role_changes(ctx: PageContext, owners: str, users: str) -> dict[str, list[int]]:
    """A permissions form's people (names, or ids, one per line or comma
    separated), as the `owners` and `users` a worklist's or a board's update
    replaces its holders with."""
    return {
        "owners": _user_refs(ctx, owners, "owners"),
        "users": _user_refs(ctx, users, "users"),
    }


def moved_message(cards: Sequence[Card], moved: int | None) -> str:
    if moved is None:
        return ""
    for card in cards:
        if card.item_id == moved:
            return f"Moved “{card.title}” to position {card.position + 1}."
    return "Moved."


def parse_int(value: str, name: str) -> int | None:
    text = value.strip()
    if not text:
        return None
    if not is_number(text) or len(text) > len(str(MAX_INT)) or int(text) > MAX_INT:
        raise InvalidInput.field(name, f"must be a whole number up to {MAX_INT}")
    return int(text)


def item_title(view: ItemView) -> str:
    if view.task is not None:
        return view.task.title
    if view.story is not None:
        return view.story.story.title
    return f"{view.item_type} {view.item_id}"
