"""What the tracker's web pages read, loaded in a fixed number of queries.

Each loader composes the resources' own services and queries (so the filters
and the visibility gate are theirs), then loads the names a page shows next
to ids — users, projects, branches, milestones, story titles — with one IN
query per kind, never one per row.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storyline.accounts.models import User
from storyline.domain import events as event_types
from storyline.domain.statuses import OPEN_TASK_STATUSES
from storyline.kernel import subscriptions
from storyline.kernel import timeline as event_service
from storyline.kernel.access import Actor, story_visibility
from storyline.kernel.models import Event
from storyline.kernel.paging import Page, PageRequest
from storyline.kernel.timeline import EventFilter
from storyline.tracker import comments as comment_service
from storyline.tracker import stories as story_service
from storyline.tracker import story_links
from storyline.tracker import tasks as task_service
from storyline.tracker.models import Branch, Comment, Milestone, Project, Story, Task
from storyline.tracker.stories import StoryFilter, StoryView
from storyline.tracker.story_links import LinkView
from storyline.tracker.tasks import TaskFilter

# A story with more tasks than this is a tracking list, not a story; the page
# shows the first ones and says how many there are.
MAX_STORY_TASKS = 200
COMMENTS_PER_PAGE = 100
EVENTS_PER_PAGE = 50
DASHBOARD_TASKS = 100
DASHBOARD_STORIES = 10
DASHBOARD_EVENTS = 20
# The most recent events a worklist's or board's page shows.
HISTORY_EVENTS = 20
# Branches and milestones offered in a task's inline editor: a project has a
# handful; the bound keeps a project with thousands of autocreated branches
# from making every story page heavy.
MAX_BRANCHES_PER_PAGE = 500


@dataclass
class Names:
    """Display data for the ids a page shows."""

    users: dict[int, User] = field(default_factory=dict)
    projects: dict[int, Project] = field(default_factory=dict)
    branches: dict[int, Branch] = field(default_factory=dict)
    milestones: dict[int, Milestone] = field(default_factory=dict)
    stories: dict[int, Story] = field(default_factory=dict)

    def user(self, user_id: int | None) -> str:
        if user_id is None:
            return ""
        user = self.users.get(user_id)
        if user is None:
            return f"user {user_id}"
        return user.full_name or f"user {user_id}"

    def story_title(self, story_id: int) -> str | None:
        story = self.stories.get(story_id)
        return story.title if story is not None else None


def _ids(values: Iterable[int | None]) -> set[int]:
    return {value for value in values if value is not None}


def load_names(
    session: Session,
    *,
    actor: Actor,
    user_ids: Collection[int | None] = (),
    project_ids: Collection[int | None] = (),
    branch_ids: Collection[int | None] = (),
    milestone_ids: Collection[int | None] = (),
    story_ids: Collection[int | None] = (),
) -> Names:
    """One query per kind of id. Stories go through the visibility gate: an
    invisible story simply has no entry."""
    names = Names()
    wanted_users = _ids(user_ids)
    if wanted_users:
        names.users = {
            u.id: u for u in session.scalars(select(User).where(User.id.in_(wanted_users)))
        }
    wanted_projects = _ids(project_ids)
    if wanted_projects:
        names.projects = {
            p.id: p for p in session.scalars(select(Project).where(Project.id.in_(wanted_projects)))
        }
    wanted_branches = _ids(branch_ids)
    if wanted_branches:
        names.branches = {
            b.id: b for b in session.scalars(select(Branch).where(Branch.id.in_(wanted_branches)))
        }
    wanted_milestones = _ids(milestone_ids)
    if wanted_milestones:
        names.milestones = {
            m.id: m
            for m in session.scalars(select(Milestone).where(Milestone.id.in_(wanted_milestones)))
        }
    names.stories = visible_stories_by_id(session, actor=actor, story_ids=story_ids)
    return names


def visible_stories_by_id(
    session: Session, *, actor: Actor, story_ids: Collection[int | None]
) -> dict[int, Story]:
    wanted = _ids(story_ids)
    if not wanted:
        return {}
    stmt = select(Story).where(Story.id.in_(wanted), story_visibility(actor))
    return {story.id: story for story in session.scalars(stmt)}


def as_read(session: Session, actor: Actor, events: Sequence[Event]) -> list[Event]:
    """The events with what they name that `actor` may not see blanked
    (`timeline.infos_for`). A changed event is detached first: the page
    shows the reader's copy, and the stored row is never written."""
    result = list(events)
    infos = event_service.infos_for(session, actor=actor, events=result)
    for event, info in zip(result, infos, strict=True):
        if info != event.event_info:
            session.expunge(event)
            event.event_info = info
    return result


def event_info(event: Event) -> dict[str, Any]:
    if not event.event_info:
        return {}
    try:
        info = json.loads(event.event_info)
    except ValueError:
        return {}
    return info if isinstance(info, dict) else {}


def describe_event(event: Event, names: Names) -> str:
    """One sentence for a timeline event, without its author (the registry's)."""
    what = event_types.describe(event.event_type, event_info(event), names)
    # A kind this server doesn't know (written by a newer version): its name.
    return what or event.event_type.replace("_", " ")


def _event_user_ids(events: Iterable[Event]) -> set[int]:
    """The authors, and the people the events' sentences name."""
    ids: set[int] = set()
    for event in events:
        if event.author_id is not None:
            ids.add(event.author_id)
        kind = event_types.REGISTRY.get(event.event_type)
        if kind is not None:
            ids.update(kind.user_ids(event_info(event)))
    return ids


def _event_story_ids(events: Iterable[Event]) -> set[int]:
    """The events' stories, and the other stories their sentences name."""
    ids: set[int] = set()
    for event in events:
        if event.story_id is not None:
            ids.add(event.story_id)
        kind = event_types.REGISTRY.get(event.event_type)
        if kind is not None:
            ids.update(kind.story_ids(event_info(event)))
    return ids


# Lists


@dataclass(frozen=True)
class TaskList:
    page: Page[Task]
    names: Names


def task_list(
    session: Session, *, actor: Actor, filters: TaskFilter, page: PageRequest
) -> TaskList:
    result = task_service.list_tasks(session, actor=actor, filters=filters, page=page)
    return TaskList(result, _task_names(session, actor, result.items))


def search_task_list(
    session: Session, *, actor: Actor, q: str, filters: TaskFilter, page: PageRequest
) -> TaskList:
    # Imported here: search pulls in every searchable resource.
    from storyline.tracker import search

    result = search.search_tasks(session, actor=actor, q=q, filters=filters, page=page)
    return TaskList(result, _task_names(session, actor, result.items))


def _task_names(
    session: Session, actor: Actor, tasks: Sequence[Task], extra_users: Iterable[int] = ()
) -> Names:
    return load_names(
        session,
        actor=actor,
        user_ids=[*(t.assignee_id for t in tasks), *extra_users],
        project_ids=[t.project_id for t in tasks],
        branch_ids=[t.branch_id for t in tasks],
        milestone_ids=[t.milestone_id for t in tasks],
        story_ids=[t.story_id for t in tasks],
    )


@dataclass(frozen=True)
class StoryList:
    page: Page[StoryView]
    names: Names


def story_list(
    session: Session, *, actor: Actor, filters: StoryFilter, page: PageRequest
) -> StoryList:
    result = story_service.list_stories(session, actor=actor, filters=filters, page=page)
    names = load_names(session, actor=actor, user_ids=[v.story.creator_id for v in result.items])
    return StoryList(result, names)


def search_story_list(
    session: Session, *, actor: Actor, q: str, filters: StoryFilter, page: PageRequest
) -> StoryList:
    from storyline.tracker import search

    result = search.search_stories(session, actor=actor, q=q, filters=filters, page=page)
    names = load_names(session, actor=actor, user_ids=[v.story.creator_id for v in result.items])
    return StoryList(result, names)


@dataclass(frozen=True)
class Placement:
    """The branches of some projects and their milestones, for choosing a
    task's branch and milestone."""

    branches: dict[int, list[Branch]]
    milestones: dict[int, list[Milestone]]


def placement(session: Session, *, project_ids: Collection[int]) -> Placement:
    branches: dict[int, list[Branch]] = defaultdict(list)
    milestones: dict[int, list[Milestone]] = defaultdict(list)
    if not project_ids:
        return Placement(branches, milestones)
    branch_rows = session.scalars(
        select(Branch)
        .where(Branch.project_id.in_(set(project_ids)))
        .order_by(Branch.project_id, Branch.name)
        .limit(MAX_BRANCHES_PER_PAGE)
    ).all()
    for branch in branch_rows:
        branches[branch.project_id].append(branch)
    if branch_rows:
        for milestone in session.scalars(
            select(Milestone)
            .where(Milestone.branch_id.in_([b.id for b in branch_rows]))
            .order_by(Milestone.branch_id, Milestone.name)
            .limit(MAX_BRANCHES_PER_PAGE)
        ):
            milestones[milestone.branch_id].append(milestone)
    return Placement(branches, milestones)


# The story page


@dataclass(frozen=True)
class StoryPage:
    view: StoryView
    tasks: Sequence[Task]
    task_total: int
    comments: Page[Comment]
    # Comment id -> its replies (on this page), in order; roots under None.
    threads: dict[int | None, list[Comment]]
    events: Page[Event]
    links: list[LinkView]
    subscription_id: int | None
    placement: Placement
    names: Names
    # People a task could be assigned to without typing an id.
    participants: list[User]


# The story timeline's types: comments have their own section, and worklist
# and board events belong to no story.
TIMELINE_TYPES = event_types.STORY_TIMELINE


def story_page(
    session: Session,
    *,
    actor: Actor,
    story_id: int,
    event_filter: Sequence[str] | None = None,
    events_offset: int = 0,
    comments_offset: int = 0,
) -> StoryPage:
    view = story_service.get_story_view(session, actor=actor, story_id=story_id)
    tasks = task_service.list_tasks(
        session,
        actor=actor,
        filters=TaskFilter(story_id=story_id),
        page=PageRequest(limit=MAX_STORY_TASKS, sort_field="id"),
    )
    comments = comment_service.list_comments(
        session,
        actor=actor,
        story_id=story_id,
        page=PageRequest(limit=COMMENTS_PER_PAGE, offset=comments_offset, sort_field="id"),
    )
    threads: dict[int | None, list[Comment]] = defaultdict(list)
    on_page = {c.id for c in comments.items}
    for comment in comments.items:
        parent = comment.in_reply_to if comment.in_reply_to in on_page else None
        threads[parent].append(comment)
    events_page = PageRequest(
        limit=EVENTS_PER_PAGE, offset=events_offset, sort_field="id", sort_dir="desc"
    )
    if event_filter is not None and not event_filter:
        # Every type filtered out: nothing to ask the database.
        events: Page[Event] = Page(items=[], total=0, request=events_page)
    else:
        events = event_service.list_story_events(
            session,
            actor=actor,
            story_id=story_id,
            filters=EventFilter(event_type=tuple(event_filter or TIMELINE_TYPES)),
            page=events_page,
        )
        events = replace(events, items=as_read(session, actor, events.items))
    links = story_links.list_links(session, actor=actor, story_id=story_id)
    subscription_id = subscriptions.subscription_to(
        session, actor=actor, kind="story", target_id=story_id
    )
    task_items = tasks.items
    participant_ids = _ids(
        [
            view.story.creator_id,
            actor.user_id,
            *(t.assignee_id for t in task_items),
            *(c.author_id for c in comments.items),
        ]
    )
    names = load_names(
        session,
        actor=actor,
        user_ids=[
            *participant_ids,
            *_event_user_ids(events.items),
            *(u.id for u in view.users),
        ],
        project_ids=[t.project_id for t in task_items],
        branch_ids=[t.branch_id for t in task_items],
        milestone_ids=[t.milestone_id for t in task_items],
        story_ids=_event_story_ids(events.items),
    )
    participants = sorted(
        (names.users[uid] for uid in participant_ids if uid in names.users),
        key=lambda u: (u.full_name or "").lower(),
    )
    return StoryPage(
        view=view,
        tasks=task_items,
        task_total=tasks.total or 0,
        comments=comments,
        threads=dict(threads),
        events=events,
        links=links,
        subscription_id=subscription_id,
        placement=placement(session, project_ids={t.project_id for t in task_items}),
        names=names,
        participants=participants,
    )


@dataclass(frozen=True)
class TaskRow:
    """One task with what its inline editor shows."""

    task: Task
    names: Names
    placement: Placement


def task_row(session: Session, *, actor: Actor, story_id: int, task_id: int) -> TaskRow:
    task = task_service.get_task(session, actor=actor, task_id=task_id, story_id=story_id)
    names = _task_names(session, actor, [task])
    return TaskRow(task, names, placement(session, project_ids=[task.project_id]))


# The dashboard


@dataclass(frozen=True)
class Dashboard:
    tasks_by_status: dict[str, list[Task]]
    created: Page[StoryView]
    following: Page[StoryView]
    activity: list[Event]
    names: Names


def dashboard(session: Session, *, actor: Actor) -> Dashboard:
    user_id = actor.user_id
    assert user_id is not None
    tasks = task_service.list_tasks(
        session,
        actor=actor,
        filters=TaskFilter(assignee_id=user_id, status=tuple(sorted(OPEN_TASK_STATUSES))),
        page=PageRequest(
            limit=DASHBOARD_TASKS, sort_field="updated_at", sort_dir="desc", count=False
        ),
    )
    by_status: dict[str, list[Task]] = {"review": [], "inprogress": [], "todo": []}
    for task in tasks.items:
        by_status[task.status].append(task)
    recent = PageRequest(limit=DASHBOARD_STORIES, sort_field="updated_at", sort_dir="desc")
    created = story_service.list_stories(
        session, actor=actor, filters=StoryFilter(creator_id=user_id), page=recent
    )
    following = story_service.list_stories(
        session, actor=actor, filters=StoryFilter(subscriber_id=user_id), page=recent
    )
    followed = subscriptions.followed("story", user_id)
    activity = session.scalars(
        event_service.event_query(actor, EventFilter())
        .where(Event.story_id.in_(followed))
        .order_by(Event.id.desc())
        .limit(DASHBOARD_EVENTS)
    ).all()
    activity = as_read(session, actor, activity)
    names = _task_names(session, actor, tasks.items, extra_users=_event_user_ids(activity))
    names.stories.update(
        visible_stories_by_id(session, actor=actor, story_ids=_event_story_ids(activity))
    )
    return Dashboard(by_status, created, following, list(activity), names)


# The history of a worklist or a board


@dataclass(frozen=True)
class HistoryLine:
    event: Event
    author: str
    text: str


def history(session: Session, *, actor: Actor, filters: EventFilter) -> list[HistoryLine]:
    """The latest events of a worklist or board, told, newest first."""
    events = event_service.list_events(
        session,
        actor=actor,
        filters=filters,
        page=PageRequest(limit=HISTORY_EVENTS, sort_field="id", sort_dir="desc", count=False),
    ).items
    events = as_read(session, actor, events)
    names = load_names(
        session,
        actor=actor,
        user_ids=_event_user_ids(events),
        story_ids=_event_story_ids(events),
    )
    return [
        HistoryLine(e, names.user(e.author_id) or "Someone", describe_event(e, names))
        for e in events
    ]


def recent_stories(session: Session, *, actor: Actor, limit: int) -> Page[StoryView]:
    """The front page for someone not signed in."""
    return story_service.list_stories(
        session,
        actor=actor,
        filters=StoryFilter(),
        page=PageRequest(limit=limit, sort_field="updated_at", sort_dir="desc", count=False),
    )
