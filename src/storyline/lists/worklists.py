"""Worklists: ordered lists of stories and tasks, by hand (`items`) or by
saved criteria (`automatic`); finding them, reading them with their owners
and movers, and changing the list itself.

Who may see a list is the gate's (`worklist_visibility`); who may change it
is its roles' (`WORKLIST_ROLES`: owners and movers, and a board's owners and
movers on the board's lanes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import Field
from sqlalchemy import Select, delete, select
from sqlalchemy.orm import Session

from storyline.domain import events
from storyline.errors import Conflict, InvalidInput
from storyline.kernel import roles, subscriptions, timeline
from storyline.kernel.access import (
    Actor,
    board_probe,
    item_visibility,
    require_user,
    worklist_visibility,
)
from storyline.kernel.paging import Page, PageRequest, paginate
from storyline.kernel.text import contains
from storyline.kernel.validation import validate
from storyline.lists import automatic, items
from storyline.lists.automatic import FilterIn, Filters
from storyline.lists.common import (
    ITEM_TYPES,
    ItemView,
    ListIn,
    apply_details,
    changed_details,
    check_project,
    get_worklist,
    require_owner,
)
from storyline.lists.models import (
    MOVER,
    OWNER,
    WORKLIST_ROLES,
    BoardLane,
    Worklist,
    WorklistFilter,
    WorklistItem,
)

WORKLIST_SORT = {
    "id": Worklist.id,
    "title": Worklist.title,
    "created_at": Worklist.created_at,
    "updated_at": Worklist.updated_at,
    "creator_id": Worklist.creator_id,
    "project_id": Worklist.project_id,
}


class WorklistIn(ListIn):
    automatic: bool = False
    filters: list[FilterIn] = Field(default_factory=list, max_length=20)


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


@dataclass
class WorklistView:
    worklist: Worklist
    owners: list[int] = field(default_factory=list)
    users: list[int] = field(default_factory=list)
    filters: Filters = field(default_factory=list)
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
        stmt = stmt.where(Worklist.id.in_(roles.objects_held(WORKLIST_ROLES, query.user_id)))
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
    perms = roles.holders(session, WORKLIST_ROLES, ids)
    filters = automatic.load_filters(session, ids)
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
        shown = items.manual_items(
            session, actor=actor, list_ids=manual, limit=item_limit, offset=0
        )
        for view in views:
            if view.worklist.automatic:
                view.items = automatic.automatic_items(
                    session,
                    actor=actor,
                    worklist_id=view.worklist.id,
                    filters=view.filters,
                    limit=item_limit or 500,
                    offset=0,
                )
            else:
                view.items = shown.get(view.worklist.id, [])
    return views


def get_worklist_view(
    session: Session, *, actor: Actor, worklist_id: int, with_items: bool = True
) -> WorklistView:
    worklist = get_worklist(session, actor=actor, worklist_id=worklist_id)
    return load_worklist_views(session, actor=actor, worklists=[worklist], with_items=with_items)[0]


def create_worklist(
    session: Session, *, actor: Actor, data: WorklistIn, record: bool = True
) -> WorklistView:
    user_id = require_user(actor)
    check_project(session, data.project_id)
    if not data.automatic and data.filters:
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
    roles.grant_new(
        session,
        WORKLIST_ROLES,
        object_id=worklist.id,
        creator_id=user_id,
        data=data,
    )
    if data.automatic:
        automatic.check_filters(data.filters)
        automatic.add_filters(session, worklist.id, data.filters)
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
    require_user(actor)
    worklist = get_worklist(session, actor=actor, worklist_id=worklist_id, for_update=True)
    user_id = require_owner(session, actor=actor, worklist=worklist)
    current = {name: getattr(worklist, name) for name in _DETAILS}
    data = validate(WorklistIn, {**current, **changes})
    sent = data.model_fields_set & set(changes)
    if "project_id" in sent:
        check_project(session, data.project_id)
    changed = changed_details(data, current)
    if "automatic" in changed and not data.automatic:
        session.execute(delete(WorklistFilter).where(WorklistFilter.list_id == worklist.id))
    if "automatic" in changed and data.automatic:
        has_items = session.scalar(
            select(WorklistItem.id).where(WorklistItem.list_id == worklist.id).limit(1)
        )
        if has_items is not None:
            raise Conflict("Remove the worklist's items before making it automatic.")
    apply_details(
        session,
        worklist,
        kind="worklist",
        event_type=events.WORKLIST_DETAILS_CHANGED,
        changed=changed,
        current=current,
        data=data,
        author_id=user_id,
    )
    roles.replace_sent(
        session,
        WORKLIST_ROLES,
        object_id=worklist.id,
        changes=changes,
        data=data,
        author_id=user_id,
    )
    session.flush()
    return load_worklist_views(session, actor=actor, worklists=[worklist], with_items=False)[0]


def archive_worklist(session: Session, *, actor: Actor, worklist_id: int) -> None:
    """StoryBoard's DELETE archives a worklist; its items stay."""
    update_worklist(session, actor=actor, worklist_id=worklist_id, changes={"archived": True})


def load_worklist(
    session: Session, *, actor: Actor, object_id: int, for_update: bool = False
) -> Worklist:
    """The loader the permission endpoints use (`storyline.api.roles`)."""
    return get_worklist(session, actor=actor, worklist_id=object_id, for_update=for_update)


# What the pages show besides the lists' own pages


def my_worklists(session: Session, *, actor: Actor, limit: int) -> list[Worklist]:
    """The actor's unarchived worklists that are not lanes, by title (the
    dashboard)."""
    if actor.user_id is None:
        return []
    query = WorklistQuery(user_id=actor.user_id, archived=False, hide_lanes=True)
    stmt = worklist_query(actor, query).order_by(Worklist.title, Worklist.id).limit(limit)
    return list(session.scalars(stmt))


def story_worklists(session: Session, *, actor: Actor, story_id: int, limit: int) -> list[Worklist]:
    """Worklists the actor may see that hold the story, by title."""
    stmt = worklist_query(actor, WorklistQuery(story_id=story_id))
    return list(session.scalars(stmt.order_by(Worklist.title).limit(limit)))


def addable_worklists(
    session: Session, *, actor: Actor, story_id: int, limit: int
) -> list[Worklist]:
    """The actor's unarchived manual worklists that do not hold the story yet:
    where the story page offers to add it."""
    if actor.user_id is None:
        return []
    holding = select(WorklistItem.list_id).where(WorklistItem.story_id == story_id)
    stmt = (
        worklist_query(actor, WorklistQuery(user_id=actor.user_id, archived=False))
        .where(Worklist.automatic.is_(False), Worklist.id.not_in(holding))
        .order_by(Worklist.title, Worklist.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))
