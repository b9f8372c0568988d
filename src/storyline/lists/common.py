"""What the worklist modules share: loading a list through the gate, the
role checks on it, the locks that serialize changes to its items, and the
item view that manual and automatic lists both answer with."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from storyline.errors import InvalidInput, NotFound
from storyline.kernel import roles, timeline
from storyline.kernel.access import Actor, worklist_visibility
from storyline.kernel.schema import utcnow
from storyline.kernel.validation import Id
from storyline.lists.models import MOVER, OWNER, WORKLIST_ROLES, Board, Worklist, WorklistItem
from storyline.tracker.models import Project, Story, Task
from storyline.tracker.stories import StoryView, load_story_views

ITEM_TYPES = ("story", "task")


class ListIn(roles.HoldersIn):
    """What a worklist and a board are both made of, as clients send it."""

    title: str = Field(min_length=1, max_length=255)
    project_id: Id | None = None
    private: bool = False
    archived: bool = False


def get_worklist(
    session: Session, *, actor: Actor, worklist_id: int, for_update: bool = False
) -> Worklist:
    stmt = select(Worklist).where(Worklist.id == worklist_id, worklist_visibility(actor))
    if for_update:
        stmt = stmt.with_for_update()
    worklist = session.scalars(stmt).one_or_none()
    if worklist is None:
        raise NotFound.of("worklist", worklist_id)
    return worklist


def require_owner(session: Session, *, actor: Actor, worklist: Worklist) -> int:
    return roles.require(
        session, WORKLIST_ROLES, actor=actor, object_id=worklist.id, role=OWNER, to="change it"
    )


def require_mover(session: Session, *, actor: Actor, worklist: Worklist) -> int:
    return roles.require(
        session,
        WORKLIST_ROLES,
        actor=actor,
        object_id=worklist.id,
        role=MOVER,
        to="change its items",
    )


def check_project(session: Session, project_id: int | None) -> None:
    if project_id is not None and session.get(Project, project_id) is None:
        raise InvalidInput.field("project_id", f"no project with id {project_id}")


def lock_lists(session: Session, list_ids: Iterable[int]) -> None:
    """Lock worklist rows in id order (PostgreSQL); SQLite's write transaction
    already holds the database lock."""
    ids = sorted(set(list_ids))
    session.execute(
        select(Worklist.id).where(Worklist.id.in_(ids)).order_by(Worklist.id).with_for_update()
    ).all()


@dataclass
class ItemView:
    """An item with its rank and the story or task it shows."""

    item: WorklistItem | None
    list_id: int
    item_type: str
    item_id: int
    list_position: int
    story: StoryView | None = None
    task: Task | None = None

    @property
    def id(self) -> int | None:
        return self.item.id if self.item is not None else None

    @property
    def archived(self) -> bool:
        return self.item.archived if self.item is not None else False

    @property
    def display_due_date(self) -> int | None:
        return self.item.display_due_date if self.item is not None else None


def resolve_items(session: Session, views: Sequence[ItemView]) -> None:
    """Load the stories and tasks behind many items: one query per kind."""
    story_ids = {v.item_id for v in views if v.item_type == "story"}
    task_ids = {v.item_id for v in views if v.item_type == "task"}
    stories: dict[int, StoryView] = {}
    if story_ids:
        loaded = session.scalars(select(Story).where(Story.id.in_(story_ids))).all()
        stories = {sv.story.id: sv for sv in load_story_views(session, loaded)}
    tasks: dict[int, Task] = {}
    if task_ids:
        tasks = {t.id: t for t in session.scalars(select(Task).where(Task.id.in_(task_ids)))}
    for view in views:
        if view.item_type == "story":
            view.story = stories.get(view.item_id)
        else:
            view.task = tasks.get(view.item_id)


# Changing an object's details: what worklists and boards share


def changed_details(data: Any, current: Mapping[str, Any]) -> list[str]:
    """The names in `current` whose value `data` changes."""
    return [name for name in current if getattr(data, name) != current[name]]


def apply_details(
    session: Session,
    target: Worklist | Board,
    *,
    kind: str,
    event_type: str,
    changed: Sequence[str],
    current: Mapping[str, Any],
    data: Any,
    author_id: int,
) -> None:
    """Set the `changed` details of a worklist or a board and record one
    timeline event per field, StoryBoard's shape (`worklist_title`, `field`,
    `old_value`, `new_value`)."""
    for name in changed:
        setattr(target, name, getattr(data, name))
    on: dict[str, Any] = {f"{kind}_id": target.id}
    for name in changed:
        timeline.record(
            session,
            event_type=event_type,
            author_id=author_id,
            info={
                f"{kind}_id": target.id,
                f"{kind}_title": target.title,
                "field": name,
                "old_value": current[name],
                "new_value": getattr(data, name),
            },
            **on,
        )
    if changed:
        target.updated_at = utcnow()
