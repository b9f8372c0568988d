"""The story page and its forms, and the new-story form.

Every change is a plain form POST carrying the CSRF token that redirects back
to the story (post/redirect/get), so the page works without JavaScript. With
htmx, the task rows post themselves on change and the server answers just
the row (`HX-Request`). A form with a mistake comes back with the message
next to the field and with what the person typed still in it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from storyline.accounts import preferences
from storyline.accounts import teams as team_service
from storyline.domain import events as event_types
from storyline.domain.statuses import TASK_STATUSES
from storyline.errors import (
    Conflict,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
    StorylineError,
)
from storyline.http.preconditions import form_version
from storyline.kernel import markdown
from storyline.kernel import subscriptions as subscription_service
from storyline.kernel.access import get_story
from storyline.kernel.subscriptions import SubscriptionIn
from storyline.kernel.timeline import EventFilter
from storyline.kernel.validation import Id, is_number, parse_id, validate
from storyline.tracker import comments as comment_service
from storyline.tracker import page_data as pages
from storyline.tracker import projects as project_service
from storyline.tracker import stories as story_service
from storyline.tracker import story_acl, story_links
from storyline.tracker import tags as tag_service
from storyline.tracker import tasks as task_service
from storyline.tracker.comments import CommentIn
from storyline.tracker.models import Story, Task
from storyline.tracker.page_data import TIMELINE_TYPES, describe_event
from storyline.tracker.stories import STORY_TYPE_BUG, STORY_TYPE_FEATURE, StoryIn
from storyline.tracker.story_links import LINK_KINDS, StoryLinkIn
from storyline.tracker.tasks import TaskIn
from storyline.web.conflicts import check_version
from storyline.web.listing import errors_by_field, parse_user_ref
from storyline.web.panels import STORY, render_slot
from storyline.web.rendering import PageRoute, redirect, render, sign_in_first
from storyline.web.security import FormDep, PageContext, PageDep

router = APIRouter(route_class=PageRoute, include_in_schema=False)

TextField = Annotated[str, Form()]
NEW_STORY_TASK_ROWS = 2
MAX_NEW_STORY_TASK_ROWS = 20
# A timeline type can be hidden by default with a `display_events_<type>`
# preference set to false (StoryBoard's per-type timeline filter).
EVENT_PREFERENCE = "display_events_"


def _is_htmx(ctx: PageContext) -> bool:
    return ctx.request.headers.get("hx-request") == "true"


def _project_id(session: Session, name: str, field_name: str = "project") -> int:
    text = name.strip()
    if not text:
        raise InvalidInput.field(field_name, "choose a project")
    try:
        return project_service.get_project(session, ref=text).id
    except NotFound:
        raise InvalidInput.field(field_name, f"no project named {text!r}") from None


# The story page


@dataclass
class FormState:
    """A form that came back with errors: which, its messages and its values."""

    name: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)
    # The task row the form belongs to, for the inline editor.
    task_id: int | None = None
    preview: Markup | None = None


# What the edit forms show, as their versions are made of (web/conflicts.py).
STORY_FIELDS = {"title": "title", "description": "description", "kind": "type"}
TASK_FIELDS = {
    "title": "title",
    "status": "status",
    "project_id": "project",
    "branch_id": "branch",
    "milestone_id": "milestone",
    "assignee_id": "assignee",
}
TASK_EVENTS = (
    event_types.TASK_DETAILS_CHANGED,
    event_types.TASK_STATUS_CHANGED,
    event_types.TASK_ASSIGNEE_CHANGED,
    event_types.TASK_PRIORITY_CHANGED,
)


def _story_fields(story: Story) -> dict[str, Any]:
    return {
        "title": story.title,
        "description": story.description or "",
        "kind": "bug" if story.is_bug else "feature",
    }


def _task_fields(task: Task) -> dict[str, Any]:
    return {name: getattr(task, name) for name in TASK_FIELDS}


def _task_version(task: Task) -> str:
    return form_version(_task_fields(task))


def _timeline_types(ctx: PageContext, session: Session, chosen: list[str]) -> list[str]:
    if chosen:
        return [t for t in chosen if t in TIMELINE_TYPES]
    if ctx.signed_in is None:
        return list(TIMELINE_TYPES)
    prefs = preferences.get_preferences(session, actor=ctx.actor, user_id=ctx.signed_in.user_id)
    return [t for t in TIMELINE_TYPES if prefs.get(EVENT_PREFERENCE + t) is not False]


def _story_page(
    ctx: PageContext,
    story_id: int,
    *,
    state: FormState | None = None,
    status: int = 200,
    events: list[str] | None = None,
    events_page: int = 1,
    comments_page: int = 1,
) -> Response:
    with ctx.container.db.read() as session:
        shown_types = _timeline_types(ctx, session, events or [])
        data = pages.story_page(
            session,
            actor=ctx.actor,
            story_id=story_id,
            event_filter=shown_types,
            events_offset=(events_page - 1) * pages.EVENTS_PER_PAGE,
            comments_offset=(comments_page - 1) * pages.COMMENTS_PER_PAGE,
        )
        timeline = [(e, describe_event(e, data.names)) for e in data.events.items]
        return render(
            ctx,
            "tracker/story.html",
            status=status,
            page=data,
            story=data.view.story,
            description=Markup(markdown.render(data.view.story.description)),
            comment_html={c.id: Markup(markdown.render(c.content)) for c in data.comments.items},
            timeline=timeline,
            timeline_types=TIMELINE_TYPES,
            type_labels={name: kind.label for name, kind in event_types.REGISTRY.items()},
            shown_types=shown_types,
            events_page=events_page,
            comments_page=comments_page,
            statuses=TASK_STATUSES,
            link_kinds=LINK_KINDS,
            state=state or FormState(),
            story_version=form_version(_story_fields(data.view.story)),
            task_version=_task_version,
            editable_comments=ctx.settings.enable_editable_comments,
            panels=render_slot(session, ctx, STORY, story_id=story_id),
        )


@router.get("/stories/new")
def new_story_form(ctx: PageDep, tasks: int = NEW_STORY_TASK_ROWS) -> Response:
    if ctx.signed_in is None:
        return sign_in_first(ctx)
    rows = max(1, min(MAX_NEW_STORY_TASK_ROWS, tasks))
    return render(ctx, "tracker/new_story.html", values={}, task_rows=[{}] * rows, errors={})


@router.get("/stories/{story_id:int}")
def story_page(
    ctx: PageDep,
    story_id: Id,
    events: Annotated[list[str] | None, Query()] = None,
    events_page: int = 1,
    comments_page: int = 1,
) -> Response:
    for name in events or []:
        if name not in TIMELINE_TYPES:
            raise InvalidInput.field("events", f"{name!r} is not a timeline event type")
    return _story_page(
        ctx,
        story_id,
        events=events,
        events_page=max(1, events_page),
        comments_page=max(1, comments_page),
    )


def _apply(
    ctx: PageContext,
    story_id: int,
    change: Callable[[Session], None],
    *,
    form: str,
    values: dict[str, str],
    anchor: str = "",
    task_id: int | None = None,
    row: bool = False,
) -> Response:
    """Run one change in a write transaction and redirect back to the story;
    on bad input, show the story again with the form as it was typed."""
    if ctx.signed_in is None:
        if _is_htmx(ctx):
            raise NotAuthenticated("Your session ended; sign in again.")
        return sign_in_first(ctx)
    try:
        with ctx.container.db.write() as session:
            change(session)
    except (InvalidInput, Conflict, PreconditionFailed) as error:
        # The form comes back with what was typed in it; after a conflict,
        # with the version it now has, so that saving again is deliberate.
        state = FormState(form, errors_by_field(error), values, task_id)
        if row and _is_htmx(ctx):
            # 200, or htmx would not swap the row in.
            return _task_row(ctx, story_id, task_id, state)
        status = 409 if isinstance(error, PreconditionFailed) else 400
        return _story_page(ctx, story_id, state=state, status=status)
    if row and _is_htmx(ctx):
        return _task_row(ctx, story_id, task_id, FormState())
    return redirect(ctx, f"/stories/{story_id}{anchor}")


def _task_row(ctx: PageContext, story_id: int, task_id: int | None, state: FormState) -> Response:
    """Just the task's row, for htmx to swap in place of the old one."""
    assert task_id is not None
    with ctx.container.db.read() as session:
        row = pages.task_row(session, actor=ctx.actor, story_id=story_id, task_id=task_id)
        return render(
            ctx,
            "tracker/_task_row.html",
            task=row.task,
            names=row.names,
            placement=row.placement,
            story_id=story_id,
            statuses=TASK_STATUSES,
            state=state,
            saved=not state.errors,
            task_version=_task_version,
        )


@router.post("/stories/{story_id:int}/edit")
def edit_story(
    ctx: FormDep,
    story_id: Id,
    title: TextField = "",
    description: TextField = "",
    kind: TextField = "bug",
    version: TextField = "",
) -> Response:
    def change(session: Session) -> None:
        story = get_story(session, actor=ctx.actor, story_id=story_id, for_update=True)
        check_version(
            session,
            actor=ctx.actor,
            version=version,
            current=_story_fields(story),
            what="story",
            labels=STORY_FIELDS,
            events=EventFilter(story_id=story_id, event_type=(event_types.STORY_DETAILS_CHANGED,)),
        )
        story_service.update_story(
            session,
            actor=ctx.actor,
            story_id=story_id,
            changes={
                "title": title,
                "description": description or None,
                "story_type_id": STORY_TYPE_FEATURE if kind == "feature" else STORY_TYPE_BUG,
            },
        )

    values = {"title": title, "description": description, "kind": kind}
    return _apply(ctx, story_id, change, form="edit", values=values, anchor="#story")


@router.post("/stories/{story_id:int}/tasks")
def add_task(
    ctx: FormDep,
    story_id: Id,
    title: TextField = "",
    project: TextField = "",
    status: TextField = "todo",
    assignee: TextField = "",
) -> Response:
    def change(session: Session) -> None:
        data = validate(
            TaskIn,
            {
                "title": title,
                "project_id": _project_id(session, project),
                "status": status,
                "assignee_id": parse_user_ref(assignee, ctx, "assignee_id"),
            },
        )
        task_service.create_story_task(session, actor=ctx.actor, story_id=story_id, data=data)

    values = {"title": title, "project": project, "status": status, "assignee": assignee}
    return _apply(ctx, story_id, change, form="add-task", values=values, anchor="#tasks")


def _task_changes(
    ctx: PageContext,
    session: Session,
    task: Task,
    *,
    title: str,
    status: str,
    assignee: str,
    project: str,
    branch: str,
    milestone: str,
) -> dict[str, Any]:
    """Only what differs from the task as stored: a row posts all its fields."""
    changes: dict[str, Any] = {}
    if title.strip() != task.title:
        changes["title"] = title
    if status != task.status:
        changes["status"] = status
    assignee_id = parse_user_ref(assignee, ctx, "assignee_id")
    if assignee_id != task.assignee_id:
        changes["assignee_id"] = assignee_id
    project_id = _project_id(session, project, "project_id")
    if project_id != task.project_id:
        # A move: the service puts the task on the new project's master branch.
        changes["project_id"] = project_id
        return changes
    branch_id = parse_id(branch, "branch") if is_number(branch.strip()) else task.branch_id
    milestone_id = parse_id(milestone, "milestone") if is_number(milestone.strip()) else None
    if branch_id != task.branch_id:
        changes["branch_id"] = branch_id
        if milestone_id == task.milestone_id:
            # The old milestone belongs to the old branch.
            milestone_id = None
    if milestone_id != task.milestone_id:
        changes["milestone_id"] = milestone_id
    return changes


@router.post("/stories/{story_id:int}/tasks/{task_id:int}")
def edit_task(
    ctx: FormDep,
    story_id: Id,
    task_id: Id,
    title: TextField = "",
    status: TextField = "todo",
    assignee: TextField = "",
    project: TextField = "",
    branch: TextField = "",
    milestone: TextField = "",
    version: TextField = "",
) -> Response:
    def change(session: Session) -> None:
        # Task writes lock the story row; the check takes that lock first.
        get_story(session, actor=ctx.actor, story_id=story_id, for_update=True)
        task = task_service.get_task(session, actor=ctx.actor, task_id=task_id, story_id=story_id)
        check_version(
            session,
            actor=ctx.actor,
            version=version,
            current=_task_fields(task),
            what="task",
            labels=TASK_FIELDS,
            events=EventFilter(story_id=story_id, event_type=TASK_EVENTS),
        )
        changes = _task_changes(
            ctx, session, task, title=title, status=status, assignee=assignee,
            project=project, branch=branch, milestone=milestone,
        )  # fmt: skip
        if changes:
            task_service.update_task(
                session, actor=ctx.actor, task_id=task_id, story_id=story_id, changes=changes
            )

    values = {
        "title": title, "status": status, "assignee": assignee, "project": project,
        "branch": branch, "milestone": milestone,
    }  # fmt: skip
    return _apply(
        ctx, story_id, change, form="task", values=values, anchor=f"#task-{task_id}",
        task_id=task_id, row=True,
    )  # fmt: skip


@router.post("/stories/{story_id:int}/tasks/{task_id:int}/delete")
def delete_task(ctx: FormDep, story_id: Id, task_id: Id) -> Response:
    def change(session: Session) -> None:
        task_service.delete_task(session, actor=ctx.actor, task_id=task_id, story_id=story_id)

    return _apply(ctx, story_id, change, form="task", values={}, anchor="#tasks")


@router.post("/stories/{story_id:int}/tags")
def add_tags(ctx: FormDep, story_id: Id, tags: TextField = "") -> Response:
    def change(session: Session) -> None:
        names = [t.strip() for t in tags.split(",") if t.strip()]
        if not names:
            raise InvalidInput.field("tags", "type one or more tags, separated by commas")
        tag_service.add_story_tags(session, actor=ctx.actor, story_id=story_id, names=names)

    return _apply(ctx, story_id, change, form="tags", values={"tags": tags}, anchor="#tags")


@router.post("/stories/{story_id:int}/tags/remove")
def remove_tag(ctx: FormDep, story_id: Id, tag: TextField = "") -> Response:
    def change(session: Session) -> None:
        tag_service.remove_story_tags(session, actor=ctx.actor, story_id=story_id, names=[tag])

    return _apply(ctx, story_id, change, form="tags", values={}, anchor="#tags")


@router.post("/stories/{story_id:int}/comments")
def add_comment(
    ctx: FormDep,
    story_id: Id,
    content: TextField = "",
    in_reply_to: TextField = "",
    preview: TextField = "",
) -> Response:
    form_name = f"reply-{in_reply_to}" if in_reply_to else "comment"
    values = {"content": content, "in_reply_to": in_reply_to}
    if preview:
        # "Preview" is a second submit button of the same form: without
        # JavaScript the page comes back with the preview and the text kept.
        html = Markup(markdown.render(content))
        if _is_htmx(ctx):
            return render(ctx, "tracker/_preview.html", preview=html)
        return _story_page(ctx, story_id, state=FormState(form_name, {}, values, preview=html))

    def change(session: Session) -> None:
        data = validate(
            CommentIn,
            {
                "content": content,
                "in_reply_to": parse_id(in_reply_to, "in_reply_to")
                if is_number(in_reply_to)
                else None,
            },
        )
        comment_service.create_comment(session, actor=ctx.actor, story_id=story_id, data=data)

    return _apply(ctx, story_id, change, form=form_name, values=values, anchor="#comments")


@router.post("/stories/{story_id:int}/privacy")
def set_privacy(ctx: FormDep, story_id: Id, private: TextField = "") -> Response:
    def change(session: Session) -> None:
        story_service.update_story(
            session, actor=ctx.actor, story_id=story_id, changes={"private": private == "on"}
        )

    return _apply(ctx, story_id, change, form="privacy", values={}, anchor="#privacy")


@router.post("/stories/{story_id:int}/acl/users")
def share_with_user(ctx: FormDep, story_id: Id, user: TextField = "") -> Response:
    def change(session: Session) -> None:
        user_id = parse_user_ref(user, ctx, "user")
        if user_id is None:
            raise InvalidInput.field("user", "enter a user id")
        try:
            story_acl.add_user(session, actor=ctx.actor, story_id=story_id, user_id=user_id)
        except NotFound as error:
            if (error.details or {}).get("resource") == "story":
                raise
            raise InvalidInput.field("user", f"no user with id {user_id}") from None

    return _apply(ctx, story_id, change, form="acl-user", values={"user": user}, anchor="#privacy")


@router.post("/stories/{story_id:int}/acl/users/{user_id:int}/remove")
def unshare_with_user(ctx: FormDep, story_id: Id, user_id: Id) -> Response:
    def change(session: Session) -> None:
        story_acl.remove_user(session, actor=ctx.actor, story_id=story_id, user_id=user_id)

    return _apply(ctx, story_id, change, form="acl-user", values={}, anchor="#privacy")


@router.post("/stories/{story_id:int}/acl/teams")
def share_with_team(ctx: FormDep, story_id: Id, team: TextField = "") -> Response:
    def change(session: Session) -> None:
        if not team.strip():
            raise InvalidInput.field("team", "enter a team name")
        try:
            found = team_service.get_team(session, ref=team.strip())
        except NotFound:
            raise InvalidInput.field("team", f"no team named {team.strip()!r}") from None
        story_acl.add_team(session, actor=ctx.actor, story_id=story_id, team_id=found.id)

    return _apply(ctx, story_id, change, form="acl-team", values={"team": team}, anchor="#privacy")


@router.post("/stories/{story_id:int}/acl/teams/{team_id:int}/remove")
def unshare_with_team(ctx: FormDep, story_id: Id, team_id: Id) -> Response:
    def change(session: Session) -> None:
        story_acl.remove_team(session, actor=ctx.actor, story_id=story_id, team_id=team_id)

    return _apply(ctx, story_id, change, form="acl-team", values={}, anchor="#privacy")


@router.post("/stories/{story_id:int}/subscription")
def toggle_subscription(ctx: FormDep, story_id: Id, subscribe: TextField = "") -> Response:
    def change(session: Session) -> None:
        current = subscription_service.subscription_to(
            session, actor=ctx.actor, kind="story", target_id=story_id
        )
        if subscribe == "yes" and current is None:
            subscription_service.create_subscription(
                session,
                actor=ctx.actor,
                data=SubscriptionIn(target_type="story", target_id=story_id),
            )
        elif subscribe != "yes" and current is not None:
            subscription_service.delete_subscription(
                session, actor=ctx.actor, subscription_id=current
            )

    return _apply(ctx, story_id, change, form="subscription", values={})


@router.post("/stories/{story_id:int}/links")
def add_link(ctx: FormDep, story_id: Id, kind: TextField = "", target: TextField = "") -> Response:
    def change(session: Session) -> None:
        text = target.strip().lstrip("#")
        if not is_number(text):
            raise InvalidInput.field("target_story_id", "enter the number of a story")
        story_links.add_link(
            session,
            actor=ctx.actor,
            story_id=story_id,
            data=StoryLinkIn(target_story_id=parse_id(text, "target_story_id"), kind=kind),
        )

    return _apply(
        ctx, story_id, change, form="link", values={"kind": kind, "target": target},
        anchor="#links",
    )  # fmt: skip


@router.post("/stories/{story_id:int}/links/{link_id:int}/delete")
def remove_link(ctx: FormDep, story_id: Id, link_id: Id) -> Response:
    def change(session: Session) -> None:
        story_links.remove_link(session, actor=ctx.actor, story_id=story_id, link_id=link_id)

    return _apply(ctx, story_id, change, form="link", values={}, anchor="#links")


# A new story with its first tasks


@router.post("/stories/new")
async def create_story(ctx: FormDep) -> Response:
    if ctx.signed_in is None:
        return sign_in_first(ctx)
    form = await ctx.request.form()

    def text(name: str) -> str:
        value = form.get(name)
        return value if isinstance(value, str) else ""

    values = {name: text(name) for name in ("title", "description", "kind", "private", "tags")}
    rows = max(1, min(MAX_NEW_STORY_TASK_ROWS, len(form.getlist("task_title"))))
    titles = [str(v) for v in form.getlist("task_title")][:rows]
    projects = [str(v) for v in form.getlist("task_project")][:rows]
    task_rows = [
        {
            "title": titles[i] if i < len(titles) else "",
            "project": projects[i] if i < len(projects) else "",
        }
        for i in range(rows)
    ]
    if text("more"):
        task_rows.append({})
        return render(ctx, "tracker/new_story.html", values=values, task_rows=task_rows, errors={})
    errors: dict[str, str] = {}
    try:
        with ctx.container.db.write() as session:
            story_id = _create_story(ctx, session, values, task_rows, errors)
    except StorylineError as error:
        if isinstance(error, (NotAuthenticated, PermissionDenied, NotFound)):
            raise
        for key, message in errors_by_field(error).items():
            errors.setdefault(key, message)
        return render(
            ctx, "tracker/new_story.html", status=400, values=values, task_rows=task_rows,
            errors=errors,
        )  # fmt: skip
    return redirect(ctx, f"/stories/{story_id}")


def _create_story(
    ctx: PageContext,
    session: Session,
    values: dict[str, str],
    task_rows: list[dict[str, str]],
    errors: dict[str, str],
) -> int:
    """Create the story and its tasks; collect every field's problem before
    giving up, so that one round trip shows them all."""
    tags = [t.strip() for t in values["tags"].split(",") if t.strip()]
    try:
        data = validate(
            StoryIn,
            {
                "title": values["title"],
                "description": values["description"] or None,
                "story_type_id": STORY_TYPE_FEATURE
                if values["kind"] == "feature"
                else STORY_TYPE_BUG,
                "private": values["private"] == "on",
                "tags": tags,
            },
        )
    except InvalidInput as error:
        errors.update(errors_by_field(error))
        data = None
    task_data: list[dict[str, Any]] = []
    for index, row in enumerate(task_rows):
        title, project = row["title"].strip(), row["project"].strip()
        if not title and not project:
            continue
        if not title:
            errors[f"task_title_{index}"] = "give the task a title"
        if not project:
            errors[f"task_project_{index}"] = "choose a project"
            continue
        try:
            task_data.append(
                {"title": title, "project_id": _project_id(session, project), "index": index}
            )
        except InvalidInput:
            errors[f"task_project_{index}"] = f"no project named {project!r}"
    if errors or data is None:
        raise InvalidInput("Some fields need attention.", details=[])
    view = story_service.create_story(session, actor=ctx.actor, data=data)
    for item in task_data:
        index = item.pop("index")
        try:
            task = validate(TaskIn, item)
        except InvalidInput as error:
            errors.update({f"task_{k}_{index}": v for k, v in errors_by_field(error).items()})
            raise
        task_service.create_story_task(session, actor=ctx.actor, story_id=view.story.id, data=task)
    return view.story.id
