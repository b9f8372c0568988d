"""Worklists: who may see and change them, their items and how items move,
and the live evaluation of automatic lists.

Ordering. Each item has a sparse integer `sort_key`; a move gives the item a
key between its new neighbours' keys and rewrites that one row, so a move
costs the same in a list of 50 items as in one of 5,000. When two neighbours'
keys touch, the list is renumbered once (every row, rarely). Every change to
a list's items first locks the list row(s) in id order, so concurrent moves
serialize per list and can't deadlock; the moved item is re-read under the
lock, so a card is never lost or duplicated.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    delete,
    func,
    or_,
    select,
    true,
    union,
    update,
)
from sqlalchemy.orm import Session

from storyline.accounts.models import User
from storyline.domain import events
from storyline.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from storyline.kernel import subscriptions, timeline
from storyline.kernel.access import (
    Actor,
    board_probe,
    item_visibility,
    require_user,
    story_visibility,
    worklist_visibility,
)
from storyline.kernel.paging import Page, PageRequest, paginate
from storyline.kernel.schema import utcnow
from storyline.kernel.text import contains
from storyline.kernel.validation import Id, validate
from storyline.lists.models import (
    MOVER,
    OWNER,
    BoardLane,
    BoardPermission,
    DueDate,
    FilterCriterion,
    Worklist,
    WorklistFilter,
    WorklistItem,
    WorklistPermission,
)
from storyline.tracker.models import Project, Story, Task
from storyline.tracker.stories import StoryFilter, StoryView, load_story_views, story_query
from storyline.tracker.tasks import TaskFilter, task_query

# Room between neighbouring keys: about twenty moves into the same gap before
# the list has to be renumbered.
GAP = 1 << 20

WORKLIST_SORT = {
    "id": Worklist.id,
    "title": Worklist.title,
    "created_at": Worklist.created_at,
    "updated_at": Worklist.updated_at,
    "creator_id": Worklist.creator_id,
    "project_id": Worklist.project_id,
}

# StoryBoard's permission codenames and the roles they stand for.
WORKLIST_CODENAMES = {"edit_worklist": OWNER, "move_items": MOVER}

ITEM_TYPES = ("story", "task")

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


def _ids(value: Any) -> Any:
    if not isinstance(value, list):
        return value
    return [item.get("id") if isinstance(item, dict) else item for item in value]


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

    type: str
    # StoryBoard's field name.
    filter_criteria: list[CriterionIn] = Field(default_factory=list, max_length=50)

    @field_validator("type", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        # StoryBoard's web client sends "Story" / "Task".
        return value.lower() if isinstance(value, str) else value


class WorklistIn(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=255)
    project_id: Id | None = None
    private: bool = False
    archived: bool = False
    automatic: bool = False
    owners: list[Id] = Field(default_factory=list)
    users: list[Id] = Field(default_factory=list)
    filters: list[FilterIn] = Field(default_factory=list, max_length=20)

    _user_ids = field_validator("owners", "users", mode="before")(_ids)


@dataclass(frozen=True, kw_only=True)
class WorklistQuery:
    """One definition of "which worklists" for the API, the web pages and the CLI."""

    title: str | None = None
    creator_id: int | None = None
    project_id: int | None = None
    archived: bool | None = None
    # Worklists this user owns or may move items in.
    user_id: int | None = None
    story_id: int | None = None
    task_id: int | None = None
    # Leave out the worklists that are lanes of a board.
    hide_lanes: bool = False
    item_type: str | None = None
    board_id: int | None = None
    subscriber_id: int | None = None

    def __post_init__(self) -> None:
        if self.item_type is not None and self.item_type not in ITEM_TYPES:
            raise InvalidInput.field("item_type", "must be story or task")


# Access


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


def roles(session: Session, *, actor: Actor, worklist_id: int) -> set[str]:
    """The actor's roles on the list; a board's owners and movers have the
    same roles on its lanes."""
    if actor.is_superuser:
        return {OWNER, MOVER}
    if actor.user_id is None:
        return set()
    direct = select(WorklistPermission.role).where(
        WorklistPermission.worklist_id == worklist_id, WorklistPermission.user_id == actor.user_id
    )
    board = (
        select(BoardPermission.role)
        .join(BoardLane, BoardLane.board_id == BoardPermission.board_id)
        .where(BoardLane.list_id == worklist_id, BoardPermission.user_id == actor.user_id)
    )
    return set(session.scalars(union(direct, board)))


def require_owner(session: Session, *, actor: Actor, worklist: Worklist) -> None:
    require_user(actor)
    if OWNER not in roles(session, actor=actor, worklist_id=worklist.id):
        raise PermissionDenied("Only the worklist's owners may change it.")


def require_mover(session: Session, *, actor: Actor, worklist: Worklist) -> None:
    require_user(actor)
    if not roles(session, actor=actor, worklist_id=worklist.id) & {OWNER, MOVER}:
        raise PermissionDenied("Only the worklist's owners and movers may change its items.")


def permission_users(
    session: Session, worklist_ids: Sequence[int]
) -> dict[int, dict[str, list[int]]]:
    """Owners and movers of many lists in one query."""
    result: dict[int, dict[str, list[int]]] = {wid: {OWNER: [], MOVER: []} for wid in worklist_ids}
    if worklist_ids:
        rows = session.execute(
            select(
                WorklistPermission.worklist_id, WorklistPermission.role, WorklistPermission.user_id
            )
            .where(WorklistPermission.worklist_id.in_(worklist_ids))
            .order_by(WorklistPermission.user_id)
        )
        for wid, role, uid in rows:
            result[wid][role].append(uid)
    return result


# Reading


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


@dataclass
class WorklistView:
    worklist: Worklist
    owners: list[int] = field(default_factory=list)
    users: list[int] = field(default_factory=list)
    filters: list[tuple[WorklistFilter, list[FilterCriterion]]] = field(default_factory=list)
    items: list[ItemView] | None = None
    item_count: int | None = None


def worklist_query(actor: Actor, query: WorklistQuery) -> Select[Worklist]:
    stmt = select(Worklist).where(worklist_visibility(actor))
    if query.title:
        stmt = stmt.where(contains(Worklist.title, query.title))
    if query.creator_id is not None:
        stmt = stmt.where(Worklist.creator_id == query.creator_id)
    if query.project_id is not None:
        stmt = stmt.where(Worklist.project_id == query.project_id)
    if query.archived is not None:
        stmt = stmt.where(Worklist.archived.is_(query.archived))
    if query.user_id is not None:
        stmt = stmt.where(
            Worklist.id.in_(
                select(WorklistPermission.worklist_id).where(
                    WorklistPermission.user_id == query.user_id
                )
            )
        )
    # Only items the actor may see count: a story or task they may not see
    # matches no list, as if it did not exist.
    if query.story_id is not None:
        stmt = stmt.where(
            Worklist.id.in_(
                select(WorklistItem.list_id).where(
                    WorklistItem.story_id == query.story_id, item_visibility(actor)
                )
            )
        )
    if query.task_id is not None:
        stmt = stmt.where(
            Worklist.id.in_(
                select(WorklistItem.list_id).where(
                    WorklistItem.task_id == query.task_id, item_visibility(actor)
                )
            )
        )
    if query.item_type is not None:
        column = WorklistItem.story_id if query.item_type == "story" else WorklistItem.task_id
        stmt = stmt.where(
            Worklist.id.in_(
                select(WorklistItem.list_id).where(column.is_not(None), item_visibility(actor))
            )
        )
    if query.hide_lanes:
        stmt = stmt.where(Worklist.id.not_in(select(BoardLane.list_id)))
    if query.board_id is not None:
        # The lanes of a board the actor may not see are nobody's business.
        stmt = stmt.where(
            Worklist.id.in_(select(BoardLane.list_id).where(BoardLane.board_id == query.board_id)),
            board_probe(actor, query.board_id),
        )
    if query.subscriber_id is not None:
        stmt = stmt.where(Worklist.id.in_(subscriptions.followed("worklist", query.subscriber_id)))
    return stmt


def list_worklists(
    session: Session, *, actor: Actor, query: WorklistQuery, page: PageRequest
) -> Page[WorklistView]:
    result = paginate(
        session, worklist_query(actor, query), model=Worklist, page=page, sortable=WORKLIST_SORT
    )
    views = load_worklist_views(session, actor=actor, worklists=result.items, with_items=False)
    return Page(items=views, total=result.total, request=page)


def load_worklist_views(
    session: Session,
    *,
    actor: Actor,
    worklists: Sequence[Worklist],
    with_items: bool = True,
    item_limit: int | None = None,
) -> list[WorklistView]:
    """Permissions and filters of many lists in two queries, and their items
    (manual lists: one query for all of them plus one per item kind)."""
    ids = [w.id for w in worklists]
    perms = permission_users(session, ids)
    filters = _load_filters(session, ids)
    views = [
        WorklistView(
            worklist=w,
            owners=perms[w.id][OWNER],
            users=perms[w.id][MOVER],
            filters=filters.get(w.id, []),
        )
        for w in worklists
    ]
    if with_items:
        manual = [w.id for w in worklists if not w.automatic]
        items = _manual_items(session, actor=actor, list_ids=manual, limit=item_limit, offset=0)
        for view in views:
            if view.worklist.automatic:
                view.items = automatic_items(
                    session, actor=actor, view=view, limit=item_limit or 500, offset=0
                )
            else:
                view.items = items.get(view.worklist.id, [])
    return views


def _load_filters(
    session: Session, list_ids: Sequence[int]
) -> dict[int, list[tuple[WorklistFilter, list[FilterCriterion]]]]:
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
    result: dict[int, list[tuple[WorklistFilter, list[FilterCriterion]]]] = defaultdict(list)
    for f in filters:
        result[f.list_id].append((f, criteria[f.id]))
    return result


def get_worklist_view(
    session: Session, *, actor: Actor, worklist_id: int, with_items: bool = True
) -> WorklistView:
    worklist = get_worklist(session, actor=actor, worklist_id=worklist_id)
    return load_worklist_views(session, actor=actor, worklists=[worklist], with_items=with_items)[0]


def _manual_items(
    session: Session,
    *,
    actor: Actor,
    list_ids: Sequence[int],
    limit: int | None,
    offset: int,
) -> dict[int, list[ItemView]]:
    """The unarchived items of many manual lists, in order, with their rank
    among all of the list's unarchived items (so that every viewer sees the
    same `list_position` for an item)."""
    if not list_ids:
        return {}
    rank = (
        func.row_number()
        .over(partition_by=WorklistItem.list_id, order_by=(WorklistItem.sort_key, WorklistItem.id))
        .label("rank")
    )
    ranked = (
        select(WorklistItem.id.label("item_pk"), rank)
        .where(WorklistItem.list_id.in_(list_ids), WorklistItem.archived.is_(False))
        .subquery()
    )
    stmt = (
        select(WorklistItem, ranked.c.rank)
        .join(ranked, ranked.c.item_pk == WorklistItem.id)
        .where(item_visibility(actor))
        .order_by(WorklistItem.list_id, WorklistItem.sort_key, WorklistItem.id)
    )
    if limit is not None and len(list_ids) == 1:
        stmt = stmt.limit(limit).offset(offset)
    elif limit is not None:
        # A page of each list, cut in SQL: a board's first cards must not
        # cost loading all of its 5,000 cards.
        shown = (
            select(
                WorklistItem.id.label("shown_pk"),
                ranked.c.rank,
                func.row_number()
                .over(
                    partition_by=WorklistItem.list_id,
                    order_by=(WorklistItem.sort_key, WorklistItem.id),
                )
                .label("shown"),
            )
            .join(ranked, ranked.c.item_pk == WorklistItem.id)
            .where(item_visibility(actor))
            .subquery()
        )
        stmt = (
            select(WorklistItem, shown.c.rank)
            .join(shown, shown.c.shown_pk == WorklistItem.id)
            .where(shown.c.shown > offset, shown.c.shown <= offset + limit)
            .order_by(WorklistItem.list_id, WorklistItem.sort_key, WorklistItem.id)
        )
    rows = session.execute(stmt).all()
    per_list: dict[int, list[ItemView]] = defaultdict(list)
    for item, position in rows:
        per_list[item.list_id].append(
            ItemView(
                item=item,
                list_id=item.list_id,
                item_type=item.item_type,
                item_id=item.item_id,
                list_position=int(position) - 1,
            )
        )
    _resolve(session, [view for views in per_list.values() for view in views])
    return per_list


def _resolve(session: Session, views: Sequence[ItemView]) -> None:
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


def list_items(
    session: Session, *, actor: Actor, worklist_id: int, page: PageRequest
) -> Page[ItemView]:
    """A page of a list's items in order (manual lists) or of its matches
    (automatic lists). Paged by limit/offset."""
    worklist = get_worklist(session, actor=actor, worklist_id=worklist_id)
    if worklist.automatic:
        view = load_worklist_views(session, actor=actor, worklists=[worklist], with_items=False)[0]
        items = automatic_items(
            session, actor=actor, view=view, limit=page.limit, offset=page.offset or 0
        )
        return Page(items=items, total=None, request=page)
    total = session.scalar(
        select(func.count())
        .select_from(WorklistItem)
        .where(
            WorklistItem.list_id == worklist.id,
            WorklistItem.archived.is_(False),
            item_visibility(actor),
        )
    )
    items = _manual_items(
        session, actor=actor, list_ids=[worklist.id], limit=page.limit, offset=page.offset or 0
    ).get(worklist.id, [])
    return Page(items=items, total=total, request=page)


def item_counts(session: Session, *, actor: Actor, list_ids: Sequence[int]) -> dict[int, int]:
    """The unarchived items the actor may see, per manual list, in one query."""
    if not list_ids:
        return {}
    rows = session.execute(
        select(WorklistItem.list_id, func.count())
        .where(
            WorklistItem.list_id.in_(list_ids),
            WorklistItem.archived.is_(False),
            item_visibility(actor),
        )
        .group_by(WorklistItem.list_id)
    )
    counts = dict.fromkeys(list_ids, 0)
    counts.update({list_id: int(count) for list_id, count in rows})
    return counts


def get_item(session: Session, *, actor: Actor, worklist_id: int, item_id: int) -> ItemView:
    get_worklist(session, actor=actor, worklist_id=worklist_id)
    item = session.scalars(
        select(WorklistItem).where(
            WorklistItem.id == item_id,
            WorklistItem.list_id == worklist_id,
            item_visibility(actor),
        )
    ).one_or_none()
    if item is None:
        raise NotFound.of("worklist item", item_id)
    return _view_of(session, item)


def _view_of(session: Session, item: WorklistItem) -> ItemView:
    position = session.scalar(
        select(func.count()).where(
            WorklistItem.list_id == item.list_id,
            WorklistItem.archived.is_(False),
            or_(
                WorklistItem.sort_key < item.sort_key,
                and_(WorklistItem.sort_key == item.sort_key, WorklistItem.id < item.id),
            ),
        )
    )
    view = ItemView(
        item=item,
        list_id=item.list_id,
        item_type=item.item_type,
        item_id=item.item_id,
        list_position=int(position or 0),
    )
    _resolve(session, [view])
    return view


# Automatic lists


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
    session: Session, *, actor: Actor, view: WorklistView, limit: int, offset: int
) -> list[ItemView]:
    """The stories, then the tasks, matching any of the list's filters, by id.

    Evaluated on every read, so the list is always current; every criterion
    goes through the shared story and task filters, and so through the
    visibility gate.
    """
    story_parts: list[ColumnElement[bool]] = []
    task_parts: list[ColumnElement[bool]] = []
    for list_filter, criteria in view.filters:
        if list_filter.type == "story":
            story_parts.append(and_(true(), *(_story_condition(actor, c) for c in criteria)))
        else:
            task_parts.append(and_(true(), *(_task_condition(actor, c) for c in criteria)))
    wid = view.worklist.id
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
    _resolve(session, result)
    return result


def _check_filters(filters: Iterable[FilterIn]) -> None:
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


def _add_filters(session: Session, worklist_id: int, filters: Iterable[FilterIn]) -> None:
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
    return _load_filters(session, [worklist_id]).get(worklist_id, [])


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
    _check_filters([data])
    before = {f.id for f, _ in _load_filters(session, [worklist_id]).get(worklist_id, [])}
    _add_filters(session, worklist_id, [data])
    created = next(
        pair
        for pair in _load_filters(session, [worklist_id])[worklist_id]
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
    _check_filters([data])
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


# Writing the list itself


def _check_users(session: Session, user_ids: Sequence[int], name: str) -> list[int]:
    unique = list(dict.fromkeys(user_ids))
    if unique:
        known = set(session.scalars(select(User.id).where(User.id.in_(unique))))
        missing = [uid for uid in unique if uid not in known]
        if missing:
            raise InvalidInput.field(name, f"no user with id {missing[0]}")
    return unique


def _check_project(session: Session, project_id: int | None) -> None:
    if project_id is not None and session.get(Project, project_id) is None:
        raise InvalidInput.field("project_id", f"no project with id {project_id}")


def set_role_users(
    session: Session, *, worklist_id: int, role: str, user_ids: Sequence[int]
) -> tuple[list[int], list[int]]:
    """Make `user_ids` exactly the users with `role`; answers (added, removed)."""
    current = set(
        session.scalars(
            select(WorklistPermission.user_id).where(
                WorklistPermission.worklist_id == worklist_id, WorklistPermission.role == role
            )
        )
    )
    wanted = set(user_ids)
    removed = sorted(current - wanted)
    added = sorted(wanted - current)
    if removed:
        session.execute(
            delete(WorklistPermission).where(
                WorklistPermission.worklist_id == worklist_id,
                WorklistPermission.role == role,
                WorklistPermission.user_id.in_(removed),
            )
        )
    session.add_all(
        WorklistPermission(worklist_id=worklist_id, user_id=uid, role=role) for uid in added
    )
    session.flush()
    return added, removed


def create_worklist(
    session: Session, *, actor: Actor, data: WorklistIn, record: bool = True
) -> WorklistView:
    user_id = require_user(actor)
    _check_project(session, data.project_id)
    owners = _check_users(session, [user_id, *data.owners], "owners")
    movers = _check_users(session, data.users, "users")
    if data.automatic:
        _check_filters(data.filters)
    elif data.filters:
        raise InvalidInput.field("filters", "only an automatic worklist has filters")
    worklist = Worklist(
        title=data.title,
        project_id=data.project_id,
        private=data.private,
        archived=data.archived,
        automatic=data.automatic,
        creator_id=user_id,
    )
    session.add(worklist)
    session.flush()
    set_role_users(session, worklist_id=worklist.id, role=OWNER, user_ids=owners)
    set_role_users(session, worklist_id=worklist.id, role=MOVER, user_ids=movers)
    if data.automatic:
        _add_filters(session, worklist.id, data.filters)
    if record:
        timeline.record(
            session,
            event_type=events.WORKLIST_CREATED,
            author_id=user_id,
            worklist_id=worklist.id,
            info={"worklist_id": worklist.id, "worklist_title": worklist.title},
        )
    return load_worklist_views(session, actor=actor, worklists=[worklist], with_items=False)[0]


_DETAILS = ("title", "project_id", "private", "archived", "automatic")


def update_worklist(
    session: Session, *, actor: Actor, worklist_id: int, changes: dict[str, Any]
) -> WorklistView:
    user_id = require_user(actor)
    worklist = get_worklist(session, actor=actor, worklist_id=worklist_id, for_update=True)
    require_owner(session, actor=actor, worklist=worklist)
    current = {name: getattr(worklist, name) for name in _DETAILS}
    data = validate(WorklistIn, {**current, **changes})
    sent = data.model_fields_set & set(changes)
    if "project_id" in sent:
        _check_project(session, data.project_id)
    changed = [name for name in _DETAILS if getattr(data, name) != current[name]]
    if "automatic" in changed and not data.automatic:
        session.execute(delete(WorklistFilter).where(WorklistFilter.list_id == worklist.id))
    if "automatic" in changed and data.automatic:
        has_items = session.scalar(
            select(WorklistItem.id).where(WorklistItem.list_id == worklist.id).limit(1)
        )
        if has_items is not None:
            raise Conflict("Remove the worklist's items before making it automatic.")
    for name in changed:
        setattr(worklist, name, getattr(data, name))
    for name in changed:
        timeline.record(
            session,
            event_type=events.WORKLIST_DETAILS_CHANGED,
            author_id=user_id,
            worklist_id=worklist.id,
            info={
                "worklist_id": worklist.id,
                "worklist_title": worklist.title,
                "field": name,
                "old_value": current[name],
                "new_value": getattr(data, name),
            },
        )
    # Owners and users sent with the list replace the permission sets.
    for role, key in ((OWNER, "owners"), (MOVER, "users")):
        if key in changes:
            wanted = _check_users(session, getattr(data, key), key)
            if role == OWNER and not wanted:
                raise InvalidInput.field("owners", "a worklist needs at least one owner")
            _change_role(session, worklist, role, wanted, author_id=user_id)
    if changed:
        worklist.updated_at = utcnow()
    session.flush()
    return load_worklist_views(session, actor=actor, worklists=[worklist], with_items=False)[0]


def archive_worklist(session: Session, *, actor: Actor, worklist_id: int) -> None:
    """StoryBoard's DELETE archives a worklist; its items stay."""
    update_worklist(session, actor=actor, worklist_id=worklist_id, changes={"archived": True})


def _change_role(
    session: Session, worklist: Worklist, role: str, user_ids: Sequence[int], *, author_id: int
) -> None:
    added, removed = set_role_users(session, worklist_id=worklist.id, role=role, user_ids=user_ids)
    if added or removed:
        codename = next(c for c, r in WORKLIST_CODENAMES.items() if r == role)
        timeline.record(
            session,
            event_type=events.WORKLIST_PERMISSIONS_CHANGED,
            author_id=author_id,
            worklist_id=worklist.id,
            info={
                "worklist_id": worklist.id,
                "codename": codename,
                "added": added,
                "removed": removed,
            },
        )


# Permissions (StoryBoard's /permissions: codenames and user lists)


def my_permissions(session: Session, *, actor: Actor, worklist_id: int) -> list[str]:
    get_worklist(session, actor=actor, worklist_id=worklist_id)
    mine = roles(session, actor=actor, worklist_id=worklist_id)
    if OWNER in mine:
        # Owners may do everything movers may.
        mine.add(MOVER)
    return [codename for codename, role in WORKLIST_CODENAMES.items() if role in mine]


def change_permission(
    session: Session,
    *,
    actor: Actor,
    worklist_id: int,
    body: dict[str, Any],
    replace: bool,
) -> str:
    """POST adds users to a codename's set; PUT replaces the set."""
    user_id = require_user(actor)
    worklist = get_worklist(session, actor=actor, worklist_id=worklist_id, for_update=True)
    require_owner(session, actor=actor, worklist=worklist)
    codename = body.get("codename")
    if codename not in WORKLIST_CODENAMES:
        raise InvalidInput.field("codename", "must be edit_worklist or move_items")
    users = _user_list(body.get("users", []))
    wanted = _check_users(session, users, "users")
    role = WORKLIST_CODENAMES[codename]
    if not replace:
        wanted = sorted(
            set(wanted) | set(permission_users(session, [worklist_id])[worklist_id][role])
        )
    if role == OWNER and not wanted:
        raise InvalidInput.field("users", "a worklist needs at least one owner")
    _change_role(session, worklist, role, wanted, author_id=user_id)
    return str(codename)


def _user_list(raw: Any) -> list[int]:
    if isinstance(raw, str):
        # StoryBoard's body is a dict of text; accept "1,2" and "[1, 2]".
        raw = [part for part in raw.strip("[] ").split(",") if part.strip()]
    if not isinstance(raw, list):
        raise InvalidInput.field("users", "must be a list of user ids")
    try:
        return [int(item["id"] if isinstance(item, dict) else item) for item in raw]
    except (TypeError, ValueError, KeyError):
        raise InvalidInput.field("users", "must be a list of user ids") from None


# Items and moves


def lock_lists(session: Session, list_ids: Iterable[int]) -> None:
    """Lock worklist rows in id order (PostgreSQL); SQLite's write transaction
    already holds the database lock."""
    ids = sorted(set(list_ids))
    session.execute(
        select(Worklist.id).where(Worklist.id.in_(ids)).order_by(Worklist.id).with_for_update()
    ).all()


def _neighbour_keys(
    session: Session, list_id: int, position: int, exclude: int | None
) -> tuple[int | None, int | None]:
    """The keys of the items that will be just before and just after an item
    placed at rank `position` (the moved item itself left out)."""
    stmt = select(WorklistItem.sort_key).where(
        WorklistItem.list_id == list_id, WorklistItem.archived.is_(False)
    )
    if exclude is not None:
        stmt = stmt.where(WorklistItem.id != exclude)
    stmt = stmt.order_by(WorklistItem.sort_key, WorklistItem.id)
    if position <= 0:
        return None, session.scalar(stmt.limit(1))
    keys = session.scalars(stmt.offset(position - 1).limit(2)).all()
    if not keys:
        # Past the end: after the last item.
        return session.scalar(
            stmt.order_by(None).with_only_columns(func.max(WorklistItem.sort_key))
        ), None
    if len(keys) == 1:
        return keys[0], None
    return keys[0], keys[1]


def _renumber(session: Session, list_id: int) -> None:
    ids = session.scalars(
        select(WorklistItem.id)
        .where(WorklistItem.list_id == list_id)
        .order_by(WorklistItem.archived, WorklistItem.sort_key, WorklistItem.id)
    ).all()
    session.execute(
        update(WorklistItem),
        [{"id": item_id, "sort_key": (index + 1) * GAP} for index, item_id in enumerate(ids)],
    )


def _key_for(session: Session, list_id: int, position: int, exclude: int | None) -> int:
    for _ in range(2):
        before, after = _neighbour_keys(session, list_id, position, exclude)
        if before is None and after is None:
            return GAP
        if before is None:
            assert after is not None
            return after - GAP
        if after is None:
            return before + GAP
        if after - before >= 2:
            return (before + after) // 2
        _renumber(session, list_id)
        session.expire_all()
    raise AssertionError("renumbering leaves room between neighbours")


def _position(value: int | None) -> int:
    if value is None:
        return 1 << 62
    if value < 0:
        raise InvalidInput.field("list_position", "must not be negative")
    return value


def add_item(
    session: Session,
    *,
    actor: Actor,
    worklist_id: int,
    item_id: int,
    item_type: str,
    list_position: int | None,
    display_due_date: int | None = None,
) -> ItemView:
    user_id = require_user(actor)
    if item_type not in ITEM_TYPES:
        raise InvalidInput.field("item_type", "must be story or task")
    worklist = get_worklist(session, actor=actor, worklist_id=worklist_id)
    require_mover(session, actor=actor, worklist=worklist)
    if worklist.automatic:
        raise InvalidInput.field("item_id", "an automatic worklist's items come from its filters")
    title = _item_title(session, actor=actor, item_type=item_type, item_id=item_id)
    if display_due_date is not None:
        _check_due_date(session, display_due_date)
    lock_lists(session, [worklist_id])
    column = WorklistItem.story_id if item_type == "story" else WorklistItem.task_id
    present = session.scalar(
        select(WorklistItem.id).where(WorklistItem.list_id == worklist_id, column == item_id)
    )
    if present is not None:
        raise Conflict(
            f"The {item_type} is already in this worklist.",
            details={"item_id": present},
        )
    position = _position(list_position)
    item = WorklistItem(
        list_id=worklist_id,
        sort_key=_key_for(session, worklist_id, position, None),
        story_id=item_id if item_type == "story" else None,
        task_id=item_id if item_type == "task" else None,
        display_due_date=display_due_date,
        archived=False,
    )
    session.add(item)
    session.flush()
    view = _view_of(session, item)
    timeline.record(
        session,
        event_type=events.WORKLIST_CONTENTS_CHANGED,
        author_id=user_id,
        worklist_id=worklist_id,
        info={
            "worklist_id": worklist_id,
            "added": {
                "item_id": item_id,
                "item_type": item_type,
                "item_title": title,
                "position": view.list_position,
            },
        },
    )
    return view


def _item_title(session: Session, *, actor: Actor, item_type: str, item_id: int) -> str | None:
    """The title the list's timeline may show for an item (NotFound if the
    actor can't see it). None for an item of a private story: a list's events
    are read by everyone who can see the list, not by the story's ACL."""
    if item_type == "story":
        story = session.scalars(
            select(Story).where(Story.id == item_id, story_visibility(actor))
        ).one_or_none()
        if story is None:
            raise NotFound.of("story", item_id)
        return None if story.private else story.title
    task = session.scalars(task_query(actor, TaskFilter()).where(Task.id == item_id)).one_or_none()
    if task is None:
        raise NotFound.of("task", item_id)
    private = session.scalar(select(Story.private).where(Story.id == task.story_id))
    return None if private else task.title


def _check_due_date(session: Session, due_date_id: int) -> None:
    if session.get(DueDate, due_date_id) is None:
        raise InvalidInput.field("display_due_date", f"no due date with id {due_date_id}")


def move_item(
    session: Session,
    *,
    actor: Actor,
    worklist_id: int,
    item_id: int,
    list_position: int | None,
    list_id: int | None = None,
    changes: dict[str, Any] | None = None,
) -> ItemView:
    """Move an item within its list or to another list (a card to another
    lane), and/or change its due date or archived flag.

    `item_id` is the worklist item's own id; the path's worklist is the
    target unless `list_id` names another (StoryBoard's clients send either
    the old or the new list there). The item's list and the target list are locked in id order and
    the item is re-read under the lock, so two people moving the same card
    at once end with the card in one place: the later move wins.
    """
    user_id = require_user(actor)
    changes = changes or {}
    named = get_worklist(session, actor=actor, worklist_id=worklist_id)
    target = named
    if list_id is not None and list_id != named.id:
        target = get_worklist(session, actor=actor, worklist_id=list_id)
    if target.automatic:
        raise InvalidInput.field("list_id", "an automatic worklist's items come from its filters")
    require_mover(session, actor=actor, worklist=target)
    item: WorklistItem | None = None
    for _ in range(3):
        current = session.scalar(
            select(WorklistItem.list_id).where(WorklistItem.id == item_id, item_visibility(actor))
        )
        if current is None:
            raise NotFound.of("worklist item", item_id)
        lock_lists(session, [current, target.id])
        item = session.scalars(
            select(WorklistItem)
            .where(WorklistItem.id == item_id)
            .execution_options(populate_existing=True)
        ).one_or_none()
        if item is None:
            raise NotFound.of("worklist item", item_id)
        if item.list_id == current:
            break
        # Moved by someone else between the read and the lock: lock again.
        item = None
    if item is None:
        raise Conflict("The item keeps moving; try again.")
    if item.list_id != target.id:
        source = get_worklist(session, actor=actor, worklist_id=item.list_id)
        require_mover(session, actor=actor, worklist=source)
    old_view = _view_of(session, item)
    if "display_due_date" in changes:
        due = changes["display_due_date"]
        if due is not None:
            _check_due_date(session, int(due))
        item.display_due_date = due
    if "archived" in changes:
        item.archived = bool(changes["archived"])
    moved = list_position is not None or item.list_id != target.id
    if moved:
        if item.list_id != target.id:
            column = WorklistItem.story_id if item.story_id is not None else WorklistItem.task_id
            clash = session.scalar(
                select(WorklistItem.id).where(
                    WorklistItem.list_id == target.id, column == item.item_id
                )
            )
            if clash is not None:
                raise Conflict(f"The {item.item_type} is already in the target worklist.")
        item.sort_key = _key_for(session, target.id, _position(list_position), item.id)
        item.list_id = target.id
    session.flush()
    view = _view_of(session, item)
    if moved:
        info = {
            "item_id": item.item_id,
            "item_type": item.item_type,
            "old": {"list_id": old_view.list_id, "position": old_view.list_position},
            "new": {"list_id": view.list_id, "position": view.list_position},
        }
        for affected in dict.fromkeys([old_view.list_id, view.list_id]):
            timeline.record(
                session,
                event_type=events.WORKLIST_CONTENTS_CHANGED,
                author_id=user_id,
                worklist_id=affected,
                info={"worklist_id": affected, "updated": info},
            )
    return view


def remove_item(session: Session, *, actor: Actor, worklist_id: int, item_id: int) -> None:
    user_id = require_user(actor)
    worklist = get_worklist(session, actor=actor, worklist_id=worklist_id)
    require_mover(session, actor=actor, worklist=worklist)
    lock_lists(session, [worklist_id])
    item = session.scalars(
        select(WorklistItem)
        .where(
            WorklistItem.id == item_id,
            WorklistItem.list_id == worklist_id,
            item_visibility(actor),
        )
        .execution_options(populate_existing=True)
    ).one_or_none()
    if item is None:
        raise NotFound.of("worklist item", item_id)
    info = {"item_id": item.item_id, "item_type": item.item_type}
    session.delete(item)
    session.flush()
    timeline.record(
        session,
        event_type=events.WORKLIST_CONTENTS_CHANGED,
        author_id=user_id,
        worklist_id=worklist_id,
        info={"worklist_id": worklist_id, "removed": info},
    )


def lists_containing(session: Session, *, story_ids: Sequence[int]) -> set[int]:
    """Manual worklists holding these stories or their tasks (for notifications)."""
    if not story_ids:
        return set()
    stmt = select(WorklistItem.list_id).where(
        or_(
            WorklistItem.story_id.in_(story_ids),
            WorklistItem.task_id.in_(select(Task.id).where(Task.story_id.in_(story_ids))),
        )
    )
    return set(session.scalars(stmt))


__all__ = [
    "GAP",
    "WORKLIST_CODENAMES",
    "CriterionIn",
    "FilterIn",
    "ItemView",
    "WorklistIn",
    "WorklistQuery",
    "WorklistView",
]
