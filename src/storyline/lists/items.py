"""A manual worklist's items: reading them in order, and adding, moving and
removing them.

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
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from storyline.domain import events
from storyline.errors import Conflict, InvalidInput, NotFound
from storyline.kernel import timeline
from storyline.kernel.access import Actor, item_visibility, require_user, story_visibility
from storyline.kernel.paging import Page, PageRequest
from storyline.lists import automatic
from storyline.lists.common import (
    ITEM_TYPES,
    ItemView,
    get_worklist,
    lock_lists,
    require_mover,
    resolve_items,
)
from storyline.lists.models import DueDate, WorklistItem
from storyline.tracker.models import Story, Task
from storyline.tracker.tasks import TaskFilter, task_query

# Room between neighbouring keys: about twenty moves into the same gap before
# the list has to be renumbered.
GAP = 1 << 20


def manual_items(
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
    resolve_items(session, [view for views in per_list.values() for view in views])
    return per_list


def list_items(
    session: Session, *, actor: Actor, worklist_id: int, page: PageRequest
) -> Page[ItemView]:
    """A page of a list's items in order (manual lists) or of its matches
    (automatic lists). Paged by limit/offset."""
    worklist = get_worklist(session, actor=actor, worklist_id=worklist_id)
    if worklist.automatic:
        items = automatic.automatic_items(
            session,
            actor=actor,
            worklist_id=worklist.id,
            filters=automatic.load_filters(session, [worklist.id]).get(worklist.id, []),
            limit=page.limit,
            offset=page.offset or 0,
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
    items = manual_items(
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
    resolve_items(session, [view])
    return view


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
