"""Automatic worklists: their filters, and the live evaluation of them.

A list's filters are OR'd, each filter's criteria AND'd; every criterion
goes through the tracker's shared story and task filters, and so through
the visibility gate, and is evaluated on every read so the list is always
current.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import ColumnElement, Select, and_, delete, func, or_, select, true
from sqlalchemy.orm import Session

from storyline.domain import events
from storyline.errors import InvalidInput, NotFound
from storyline.kernel import timeline
from storyline.kernel.access import Actor, require_user, story_visibility
from storyline.kernel.validation import Name
from storyline.lists.common import ITEM_TYPES, ItemView, get_worklist, require_owner, resolve_items
from storyline.lists.models import FilterCriterion, WorklistFilter
from storyline.tracker.models import Story, Task
from storyline.tracker.stories import StoryFilter, story_query
from storyline.tracker.tasks import TaskFilter, task_query

Filters = list[tuple[WorklistFilter, list[FilterCriterion]]]

# Fields an automatic list's criteria may test, per filter type, and how the
# value is read. "priority" on a story means "has a task of that priority".
_INT, _TEXT = "int", "text"
STORY_CRITERIA = {
    "title": _TEXT,
    "description": _TEXT,
    "status": _TEXT,
    "tags": _TEXT,
    "priority": _TEXT,
    "assignee_id": _INT,
    "creator_id": _INT,
    "project_id": _INT,
    "project_group_id": _INT,
}
TASK_CRITERIA = {
    "title": _TEXT,
    "status": _TEXT,
    "priority": _TEXT,
    "link": _TEXT,
    "assignee_id": _INT,
    "project_id": _INT,
    "project_group_id": _INT,
    "story_id": _INT,
    "branch_id": _INT,
    "milestone_id": _INT,
}


class CriterionIn(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    title: str | None = Field(default=None, max_length=255)
    field: str = Field(min_length=1, max_length=50)
    value: str = Field(max_length=255)
    negative: bool = False

    @field_validator("value", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        # Clients send ids as numbers; criteria store text.
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
        return value


class FilterIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: Name
    # StoryBoard's field name.
    filter_criteria: list[CriterionIn] = Field(default_factory=list, max_length=50)

    @field_validator("type", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        # StoryBoard's web client sends "Story" / "Task".
        return value.lower() if isinstance(value, str) else value


def load_filters(session: Session, list_ids: Sequence[int]) -> dict[int, Filters]:
    if not list_ids:
        return {}
    filters = session.scalars(
        select(WorklistFilter)
        .where(WorklistFilter.list_id.in_(list_ids))
        .order_by(WorklistFilter.id)
    ).all()
    criteria: dict[int, list[FilterCriterion]] = defaultdict(list)
    if filters:
        for criterion in session.scalars(
            select(FilterCriterion)
            .where(FilterCriterion.filter_id.in_([f.id for f in filters]))
            .order_by(FilterCriterion.id)
        ):
            criteria[criterion.filter_id].append(criterion)
    result: dict[int, Filters] = defaultdict(list)
    for f in filters:
        result[f.list_id].append((f, criteria[f.id]))
    return result


def _criterion_value(kind: str, field_name: str, raw: str) -> Any:
    if kind == _INT:
        try:
            return int(raw)
        except ValueError:
            raise InvalidInput.field(
                "filter_criteria", f"{field_name} must be a whole number, not {raw!r}"
            ) from None
    return raw


def _story_condition(actor: Actor, criterion: FilterCriterion) -> ColumnElement[bool]:
    kind = STORY_CRITERIA[criterion.field]
    value = _criterion_value(kind, criterion.field, criterion.value)
    if criterion.field == "priority":
        matched: Select[Any] = select(Task.story_id).where(Task.priority == value)
    else:
        name = criterion.field
        if name in {"status", "tags"}:
            filters = StoryFilter(**{name: (value,)})  # type: ignore[arg-type]
        else:
            filters = StoryFilter(**{name: value})
        matched = story_query(actor, filters).with_only_columns(Story.id)
    return Story.id.not_in(matched) if criterion.negative else Story.id.in_(matched)


def _task_condition(actor: Actor, criterion: FilterCriterion) -> ColumnElement[bool]:
    kind = TASK_CRITERIA[criterion.field]
    value = _criterion_value(kind, criterion.field, criterion.value)
    name = criterion.field
    if name in {"status", "priority"}:
        filters = TaskFilter(**{name: (value,)})  # type: ignore[arg-type]
    else:
        filters = TaskFilter(**{name: value})
    matched = task_query(actor, filters).with_only_columns(Task.id)
    return Task.id.not_in(matched) if criterion.negative else Task.id.in_(matched)


def automatic_items(
    session: Session,
    *,
    actor: Actor,
    worklist_id: int,
    filters: Filters,
    limit: int,
    offset: int,
) -> list[ItemView]:
    """The stories, then the tasks, matching any of the list's filters, by id.

    Evaluated on every read, so the list is always current; every criterion
    goes through the shared story and task filters, and so through the
    visibility gate.
    """
    story_parts: list[ColumnElement[bool]] = []
    task_parts: list[ColumnElement[bool]] = []
    for list_filter, criteria in filters:
        if list_filter.type == "story":
            story_parts.append(and_(true(), *(_story_condition(actor, c) for c in criteria)))
        else:
            task_parts.append(and_(true(), *(_task_condition(actor, c) for c in criteria)))
    wid = worklist_id
    result: list[ItemView] = []
    story_count = 0
    if story_parts:
        stmt = select(Story.id).where(story_visibility(actor), or_(*story_parts))
        story_count = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        ids = session.scalars(stmt.order_by(Story.id).offset(offset).limit(limit)).all()
        result.extend(
            ItemView(item=None, list_id=wid, item_type="story", item_id=sid, list_position=0)
            for sid in ids
        )
    remaining = limit - len(result)
    if task_parts and remaining > 0:
        base = task_query(actor, TaskFilter()).where(or_(*task_parts))
        ids = session.scalars(
            base.with_only_columns(Task.id)
            .order_by(Task.id)
            .offset(max(0, offset - story_count))
            .limit(remaining)
        ).all()
        result.extend(
            ItemView(item=None, list_id=wid, item_type="task", item_id=tid, list_position=0)
            for tid in ids
        )
    for index, item in enumerate(result):
        item.list_position = offset + index
    resolve_items(session, result)
    return result


def check_filters(filters: Iterable[FilterIn]) -> None:
    for f in filters:
        if f.type not in ITEM_TYPES:
            raise InvalidInput.field("type", "a filter's type must be story or task")
        allowed = STORY_CRITERIA if f.type == "story" else TASK_CRITERIA
        for c in f.filter_criteria:
            if c.field not in allowed:
                raise InvalidInput.field(
                    "filter_criteria",
                    f"a {f.type} filter cannot test {c.field!r}; use one of "
                    f"{', '.join(sorted(allowed))}",
                )
            value = _criterion_value(allowed[c.field], c.field, c.value)
            # Builds the shared filter once, so that a bad status or priority
            # is refused now rather than when the list is read.
            probe = FilterCriterion(field=c.field, value=str(value), negative=False)
            if f.type == "story":
                _story_condition(Actor(is_superuser=True), probe)
            else:
                _task_condition(Actor(is_superuser=True), probe)


def add_filters(session: Session, worklist_id: int, filters: Iterable[FilterIn]) -> None:
    for f in filters:
        row = WorklistFilter(list_id=worklist_id, type=f.type)
        session.add(row)
        session.flush()
        session.add_all(
            FilterCriterion(
                filter_id=row.id, title=c.title, field=c.field, value=c.value, negative=c.negative
            )
            for c in f.filter_criteria
        )
    session.flush()


def serialize_filter(f: WorklistFilter, criteria: Sequence[FilterCriterion]) -> dict[str, Any]:
    return {
        "id": f.id,
        "type": f.type,
        "criteria": [
            {"title": c.title, "field": c.field, "value": c.value, "negative": c.negative}
            for c in criteria
        ],
    }


def list_filters(
    session: Session, *, actor: Actor, worklist_id: int
) -> list[tuple[WorklistFilter, list[FilterCriterion]]]:
    get_worklist(session, actor=actor, worklist_id=worklist_id)
    return load_filters(session, [worklist_id]).get(worklist_id, [])


def get_filter(
    session: Session, *, actor: Actor, worklist_id: int, filter_id: int
) -> tuple[WorklistFilter, list[FilterCriterion]]:
    for f, criteria in list_filters(session, actor=actor, worklist_id=worklist_id):
        if f.id == filter_id:
            return f, criteria
    raise NotFound.of("worklist filter", filter_id)


def create_filter(
    session: Session, *, actor: Actor, worklist_id: int, data: FilterIn
) -> tuple[WorklistFilter, list[FilterCriterion]]:
    user_id = require_user(actor)
    worklist = get_worklist(session, actor=actor, worklist_id=worklist_id, for_update=True)
    require_owner(session, actor=actor, worklist=worklist)
    check_filters([data])
    before = {f.id for f, _ in load_filters(session, [worklist_id]).get(worklist_id, [])}
    add_filters(session, worklist_id, [data])
    created = next(
        pair
        for pair in load_filters(session, [worklist_id])[worklist_id]
        if pair[0].id not in before
    )
    timeline.record(
        session,
        event_type=events.WORKLIST_FILTERS_CHANGED,
        author_id=user_id,
        worklist_id=worklist_id,
        info={"worklist_id": worklist_id, "added": serialize_filter(*created)},
    )
    return created


def update_filter(
    session: Session, *, actor: Actor, worklist_id: int, filter_id: int, data: FilterIn
) -> tuple[WorklistFilter, list[FilterCriterion]]:
    user_id = require_user(actor)
    worklist = get_worklist(session, actor=actor, worklist_id=worklist_id, for_update=True)
    require_owner(session, actor=actor, worklist=worklist)
    old_filter, old_criteria = get_filter(
        session, actor=actor, worklist_id=worklist_id, filter_id=filter_id
    )
    check_filters([data])
    old = serialize_filter(old_filter, old_criteria)
    old_filter.type = data.type
    session.execute(delete(FilterCriterion).where(FilterCriterion.filter_id == filter_id))
    session.add_all(
        FilterCriterion(
            filter_id=filter_id, title=c.title, field=c.field, value=c.value, negative=c.negative
        )
        for c in data.filter_criteria
    )
    session.flush()
    updated = get_filter(session, actor=actor, worklist_id=worklist_id, filter_id=filter_id)
    timeline.record(
        session,
        event_type=events.WORKLIST_FILTERS_CHANGED,
        author_id=user_id,
        worklist_id=worklist_id,
        info={
            "worklist_id": worklist_id,
            "updated": {"old": old, "new": serialize_filter(*updated)},
        },
    )
    return updated


def delete_filter(session: Session, *, actor: Actor, worklist_id: int, filter_id: int) -> None:
    user_id = require_user(actor)
    worklist = get_worklist(session, actor=actor, worklist_id=worklist_id, for_update=True)
    require_owner(session, actor=actor, worklist=worklist)
    old = serialize_filter(
        *get_filter(session, actor=actor, worklist_id=worklist_id, filter_id=filter_id)
    )
    session.execute(delete(WorklistFilter).where(WorklistFilter.id == filter_id))
    timeline.record(
        session,
        event_type=events.WORKLIST_FILTERS_CHANGED,
        author_id=user_id,
        worklist_id=worklist_id,
        info={"worklist_id": worklist_id, "removed": old},
    )
