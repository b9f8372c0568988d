"""Tasks, and keeping each story's derived status right as its tasks change.

Every task write locks the story row (or both rows, in id order, when a task
moves between stories) before it touches the task, then recounts that story's
tasks with one small GROUP BY on the `tasks.story_id` index. Reads never
aggregate: they read the counts stored on the story.

Unlike StoryBoard, a task write does not touch `projects.updated_at`: that
row is shared by every story of the project, so updating it serialized all
writers of a project and, taken in no particular order, deadlocked them.
Nothing reads a project's `updated_at` to mean "its tasks changed";
`updated_since` on stories is what clients poll.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session

from storyline.accounts.models import User
from storyline.domain import events
from storyline.domain.statuses import TASK_PRIORITIES, TASK_STATUSES, story_status
from storyline.errors import Conflict, InvalidInput, NotFound
from storyline.kernel import timeline
from storyline.kernel.access import Actor, get_story, require_user, story_visibility
from storyline.kernel.checks import TaskWrite, check_task
from storyline.kernel.db import PREPARED
from storyline.kernel.paging import Page, PageRequest, paginate
from storyline.kernel.schema import utcnow
from storyline.kernel.text import contains
from storyline.kernel.validation import Id, LongText, Name, validate
from storyline.tracker.models import Branch, Milestone, Project, Story, Task, project_group_mapping

TASK_SORT = {
    "id": Task.id,
    "title": Task.title,
    "created_at": Task.created_at,
    "updated_at": Task.updated_at,
    "status": Task.status,
    "priority": Task.priority,
    "story_id": Task.story_id,
    "project_id": Task.project_id,
    "assignee_id": Task.assignee_id,
    "creator_id": Task.creator_id,
    "branch_id": Task.branch_id,
    "milestone_id": Task.milestone_id,
}


class TaskIn(BaseModel):
    """A new task. `story_id` comes from the path for the nested route."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=255)
    story_id: Id | None = None
    project_id: Id | None = None
    status: Name = "todo"
    priority: Name | None = "medium"
    assignee_id: Id | None = None
    branch_id: Id | None = None
    milestone_id: Id | None = None
    link: LongText | None = None


class TaskChanges(BaseModel):
    """A partial update; only the fields sent change."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    title: str = Field(default="", min_length=1, max_length=255)
    story_id: Id | None = None
    project_id: Id | None = None
    status: Name = "todo"
    priority: Name | None = None
    assignee_id: Id | None = None
    branch_id: Id | None = None
    milestone_id: Id | None = None
    link: LongText | None = None


@dataclass(frozen=True, kw_only=True)
class TaskFilter:
    """One definition of "which tasks", shared by the list, the search, the
    nested story list, the web pages and the CLI."""

    title: str | None = None
    story_id: int | None = None
    assignee_id: int | None = None
    project_id: int | None = None
    project_group_id: int | None = None
    branch_id: int | None = None
    milestone_id: int | None = None
    status: tuple[str, ...] = ()
    priority: tuple[str, ...] = ()
    link: str | None = None

    def __post_init__(self) -> None:
        for status in self.status:
            if status not in TASK_STATUSES:
                raise InvalidInput.field(
                    "status", f"{status!r} is not a task status; use {', '.join(TASK_STATUSES)}"
                )
        for priority in self.priority:
            if priority not in TASK_PRIORITIES:
                raise InvalidInput.field(
                    "priority", f"{priority!r} is not a priority; use low, medium or high"
                )


def task_query(actor: Actor, filters: TaskFilter) -> Select[Task]:
    """The tasks of stories `actor` may see that match `filters`, unordered."""
    stmt = select(Task)
    if not actor.is_superuser:
        stmt = stmt.join(Story, Story.id == Task.story_id).where(story_visibility(actor))
    return _matching(stmt, filters)


def _matching(stmt: Select[Task], filters: TaskFilter) -> Select[Task]:
    if filters.title:
        stmt = stmt.where(contains(Task.title, filters.title))
    if filters.link:
        stmt = stmt.where(contains(Task.link, filters.link))
    if filters.story_id is not None:
        stmt = stmt.where(Task.story_id == filters.story_id)
    if filters.assignee_id is not None:
        stmt = stmt.where(Task.assignee_id == filters.assignee_id)
    if filters.project_id is not None:
        stmt = stmt.where(Task.project_id == filters.project_id)
    if filters.project_group_id is not None:
        stmt = stmt.where(
            Task.project_id.in_(
                select(project_group_mapping.c.project_id).where(
                    project_group_mapping.c.project_group_id == filters.project_group_id
                )
            )
        )
    if filters.branch_id is not None:
        stmt = stmt.where(Task.branch_id == filters.branch_id)
    if filters.milestone_id is not None:
        stmt = stmt.where(Task.milestone_id == filters.milestone_id)
    if filters.status:
        stmt = stmt.where(Task.status.in_(filters.status))
    if filters.priority:
        stmt = stmt.where(Task.priority.in_(filters.priority))
    return stmt


def list_tasks(
    session: Session, *, actor: Actor, filters: TaskFilter, page: PageRequest
) -> Page[Task]:
    return paginate(session, task_query(actor, filters), model=Task, page=page, sortable=TASK_SORT)


def list_story_tasks(
    session: Session, *, actor: Actor, story_id: int, filters: TaskFilter, page: PageRequest
) -> Page[Task]:
    """The nested list: an invisible story is a 404, not an empty list.

    The story passed the access gate, and a story's tasks are visible to
    whoever sees the story, so its tasks are read without the visibility
    join. Unfiltered, their number is the story's own task counts (kept by
    `recount_story` in every task write) rather than a count query: the two
    together halve the database time of the most common task read."""
    story = get_story(session, actor=actor, story_id=story_id)
    filters = TaskFilter(**{**filters.__dict__, "story_id": story_id})
    total = None
    if page.count and filters == TaskFilter(story_id=story_id):
        total = sum(story.task_counts.values())
    # One story's tasks: an index probe whatever the story, so PostgreSQL
    # may keep the statement's plan.
    return paginate(
        session,
        _matching(select(Task), filters).execution_options(**{PREPARED: True}),
        model=Task,
        page=page,
        sortable=TASK_SORT,
        total=total,
    )


def get_task(session: Session, *, actor: Actor, task_id: int, story_id: int | None = None) -> Task:
    stmt = task_query(actor, TaskFilter(story_id=story_id)).where(Task.id == task_id)
    task = session.scalars(stmt).one_or_none()
    if task is None:
        raise NotFound.of("task", task_id)
    return task


# The derived story status


# Statements every task write runs: built once, and prepared on PostgreSQL
# (index probes, whatever the values).
_STATUS_COUNTS = (
    select(Task.status, func.count())
    .where(Task.story_id == bindparam("story_id"))
    .group_by(Task.status)
    .execution_options(**{PREPARED: True})
)
_MASTER_BRANCH = (
    select(Branch.id)
    .where(Branch.project_id == bindparam("project_id"), Branch.name == "master")
    .execution_options(**{PREPARED: True})
)


def recount_story(session: Session, story: Story) -> None:
    """Rewrite the story's task counts and status. The caller holds the lock
    on the story row."""
    rows = session.execute(_STATUS_COUNTS, {"story_id": story.id}).all()
    counts: dict[str, int] = dict(rows)
    story.todo_count = counts.get("todo", 0)
    story.inprogress_count = counts.get("inprogress", 0)
    story.review_count = counts.get("review", 0)
    story.merged_count = counts.get("merged", 0)
    story.invalid_count = counts.get("invalid", 0)
    story.status = story_status(counts)
    story.updated_at = utcnow()


def _lock_stories(session: Session, *, actor: Actor, story_ids: Sequence[int]) -> dict[int, Story]:
    """Lock the stories in id order, so that two writers moving tasks between
    the same two stories in opposite directions wait instead of deadlocking."""
    return {
        story_id: get_story(session, actor=actor, story_id=story_id, for_update=True)
        for story_id in sorted(set(story_ids))
    }


# Validation of references


def _check_status(status: str) -> None:
    if status not in TASK_STATUSES:
        raise InvalidInput.field(
            "status", f"{status!r} is not a task status; use {', '.join(TASK_STATUSES)}"
        )


def _check_priority(priority: str | None) -> None:
    if priority is not None and priority not in TASK_PRIORITIES:
        raise InvalidInput.field(
            "priority", f"{priority!r} is not a priority; use low, medium or high"
        )


def _check_assignee(session: Session, assignee_id: int | None) -> None:
    if assignee_id is not None and session.get(User, assignee_id) is None:
        raise InvalidInput.field("assignee_id", f"no user with id {assignee_id}")


def _resolve_placement(
    session: Session, *, project_id: int, branch_id: int | None, milestone_id: int | None
) -> int:
    """Check project, branch and milestone against each other; return the
    branch id (the project's master branch when none is given)."""
    if session.get(Project, project_id) is None:
        raise InvalidInput.field("project_id", f"no project with id {project_id}")
    if branch_id is None:
        master = session.scalar(_MASTER_BRANCH, {"project_id": project_id})
        if master is None:
            raise InvalidInput.field("branch_id", "the project has no master branch; name one")
        branch_id = master
    else:
        branch = session.get(Branch, branch_id)
        if branch is None:
            raise InvalidInput.field("branch_id", f"no branch with id {branch_id}")
        if branch.project_id != project_id:
            raise InvalidInput.field("branch_id", f"branch {branch_id} belongs to another project")
    if milestone_id is not None:
        milestone = session.get(Milestone, milestone_id)
        if milestone is None:
            raise InvalidInput.field("milestone_id", f"no milestone with id {milestone_id}")
        if milestone.branch_id != branch_id:
            raise InvalidInput.field(
                "milestone_id", f"milestone {milestone_id} belongs to another branch"
            )
    return branch_id


def _target_story(story_id: int | None) -> int:
    if story_id is None:
        raise InvalidInput.field("story_id", "is required")
    return story_id


def _lock_for_reference(
    session: Session, *, actor: Actor, story_ids: Sequence[int], referenced: int
) -> dict[int, Story]:
    """Lock stories; an invisible story named in the body is a field error."""
    try:
        return _lock_stories(session, actor=actor, story_ids=story_ids)
    except NotFound as error:
        if error.details and error.details.get("id") == str(referenced):
            raise InvalidInput.field("story_id", f"no story with id {referenced}") from None
        raise


# Writing


def create_task(session: Session, *, actor: Actor, data: TaskIn) -> Task:
    user_id = require_user(actor)
    story_id = _target_story(data.story_id)
    if data.project_id is None:
        raise InvalidInput.field("project_id", "is required")
    _check_status(data.status)
    _check_priority(data.priority)
    story = _lock_for_reference(session, actor=actor, story_ids=[story_id], referenced=story_id)[
        story_id
    ]
    branch_id = _resolve_placement(
        session,
        project_id=data.project_id,
        branch_id=data.branch_id,
        milestone_id=data.milestone_id,
    )
    _check_assignee(session, data.assignee_id)
    fields = {
        "title": data.title,
        "story_id": story_id,
        "project_id": data.project_id,
        "status": data.status,
        "priority": data.priority,
        "assignee_id": data.assignee_id,
        "branch_id": branch_id,
        "milestone_id": data.milestone_id,
        "link": data.link,
    }
    # Other subsystems' rules (a freeze) may refuse the task as it would be.
    check_task(session, TaskWrite(author_id=user_id, task_id=None, old={}, new=fields))
    task = Task(**fields, creator_id=user_id)
    session.add(task)
    session.flush()
    recount_story(session, story)
    timeline.record(
        session,
        event_type=events.TASK_CREATED,
        author_id=user_id,
        story_id=story_id,
        info={"task_id": task.id, "task_title": task.title, "project_id": task.project_id},
    )
    session.flush()
    return task


def create_story_task(session: Session, *, actor: Actor, story_id: int, data: TaskIn) -> Task:
    """The nested POST: the story comes from the path, so an invisible one is
    a 404 like every other nested resource of it."""
    get_story(session, actor=actor, story_id=story_id)
    return create_task(session, actor=actor, data=data.model_copy(update={"story_id": story_id}))


_DETAILS = ("title", "project_id", "branch_id", "milestone_id", "link", "story_id")


def update_task(
    session: Session,
    *,
    actor: Actor,
    task_id: int,
    changes: dict[str, Any],
    story_id: int | None = None,
) -> Task:
    """Change a task. With `story_id` (the nested route) the task must belong
    to that story."""
    user_id = require_user(actor)
    data = validate(TaskChanges, changes)
    sent = data.model_fields_set
    current = get_task(session, actor=actor, task_id=task_id, story_id=story_id)
    old_story_id = current.story_id
    new_story_id = old_story_id
    if "story_id" in sent:
        new_story_id = _target_story(data.story_id)
    stories = _lock_for_reference(
        session, actor=actor, story_ids=[old_story_id, new_story_id], referenced=new_story_id
    )
    # Re-read under the lock: another writer may have changed the task
    # between the first read and the lock.
    task = session.scalars(
        select(Task).where(Task.id == task_id).execution_options(populate_existing=True)
    ).one_or_none()
    if task is None:
        raise NotFound.of("task", task_id)
    if task.story_id != old_story_id:
        raise Conflict("The task moved to another story while you changed it; try again.")

    old = {name: getattr(task, name) for name in (*_DETAILS, "status", "priority", "assignee_id")}
    new = dict(old)
    for name in sent:
        new[name] = getattr(data, name)
    if new["project_id"] is None:
        raise InvalidInput.field("project_id", "must not be empty")
    _check_status(new["status"])
    _check_priority(new["priority"])
    if "assignee_id" in sent:
        _check_assignee(session, new["assignee_id"])
    if sent & {"project_id", "branch_id", "milestone_id"}:
        if (
            "project_id" in sent
            and "branch_id" not in sent
            and new["project_id"] != old["project_id"]
        ):
            # The old branch belongs to the old project; follow the move.
            new["branch_id"] = None
            if "milestone_id" not in sent:
                new["milestone_id"] = None
        new["branch_id"] = _resolve_placement(
            session,
            project_id=new["project_id"],
            branch_id=new["branch_id"],
            milestone_id=new["milestone_id"],
        )

    changed = [name for name in old if new[name] != old[name]]
    if not changed:
        return task
    check_task(session, TaskWrite(author_id=user_id, task_id=task.id, old=old, new=new))
    for name in changed:
        setattr(task, name, new[name])
    task.updated_at = utcnow()
    session.flush()
    if "status" in changed or "story_id" in changed:
        for story in stories.values():
            recount_story(session, story)
    else:
        stories[new_story_id].updated_at = utcnow()
    _record_task_changes(session, task=task, author_id=user_id, old=old, changed=changed)
    session.flush()
    return task


def _record_task_changes(
    session: Session, *, task: Task, author_id: int, old: dict[str, Any], changed: list[str]
) -> None:
    base = {"task_id": task.id, "task_title": task.title}

    def record(event_type: str, info: dict[str, Any]) -> None:
        timeline.record(
            session,
            event_type=event_type,
            author_id=author_id,
            story_id=task.story_id,
            info={**base, **info},
        )

    if "status" in changed:
        record(events.TASK_STATUS_CHANGED, {"old_status": old["status"], "new_status": task.status})
    if "assignee_id" in changed:
        record(
            events.TASK_ASSIGNEE_CHANGED,
            {"old_assignee_id": old["assignee_id"], "new_assignee_id": task.assignee_id},
        )
    if "priority" in changed:
        record(
            events.TASK_PRIORITY_CHANGED,
            {"old_priority": old["priority"], "new_priority": task.priority},
        )
    details = [name for name in _DETAILS if name in changed]
    if details:
        record(
            events.TASK_DETAILS_CHANGED,
            {
                "old": {name: old[name] for name in details},
                "new": {name: getattr(task, name) for name in details},
            },
        )
        if "story_id" in details:
            # The story the task left keeps a trace of it in its timeline.
            timeline.record(
                session,
                event_type=events.TASK_DETAILS_CHANGED,
                author_id=author_id,
                story_id=old["story_id"],
                info={
                    **base,
                    "old": {"story_id": old["story_id"]},
                    "new": {"story_id": task.story_id},
                },
            )


def delete_task(
    session: Session, *, actor: Actor, task_id: int, story_id: int | None = None
) -> None:
    user_id = require_user(actor)
    current = get_task(session, actor=actor, task_id=task_id, story_id=story_id)
    owner_id = current.story_id
    story = _lock_stories(session, actor=actor, story_ids=[owner_id])[owner_id]
    task = session.scalars(
        select(Task).where(Task.id == task_id).execution_options(populate_existing=True)
    ).one_or_none()
    if task is None or task.story_id != owner_id:
        raise NotFound.of("task", task_id)
    info = {"task_id": task.id, "task_title": task.title}
    session.delete(task)
    session.flush()
    recount_story(session, story)
    timeline.record(
        session, event_type=events.TASK_DELETED, author_id=user_id, story_id=owner_id, info=info
    )
