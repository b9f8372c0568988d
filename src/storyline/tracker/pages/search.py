"""Search: the filters of the story and task lists (the same filter objects
as the API) plus a free-text box; paged, with the number of results."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from sqlalchemy.orm import Session

from storyline.domain.statuses import STORY_STATUSES, TASK_STATUSES
from storyline.errors import InvalidInput, NotFound
from storyline.kernel.validation import is_number, parse_id
from storyline.tracker import page_data as pages
from storyline.tracker import projects as project_service
from storyline.tracker.pages.projects import STORY_SORTS, TASK_SORTS
from storyline.tracker.stories import StoryFilter
from storyline.tracker.tasks import TaskFilter
from storyline.web.listing import (
    Pager,
    errors_by_field,
    page_number,
    page_request,
    page_size,
    parse_user_ref,
)
from storyline.web.rendering import PageRoute, render
from storyline.web.security import PageContext, PageDep

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _project(session: Session, name: str) -> int | None:
    if not name.strip():
        return None
    try:
        return project_service.get_project(session, ref=name.strip()).id
    except NotFound:
        raise InvalidInput.field("project", f"no project named {name.strip()!r}") from None


def _group(session: Session, name: str) -> int | None:
    if not name.strip():
        return None
    try:
        return project_service.get_project_group(session, ref=name.strip()).id
    except NotFound:
        raise InvalidInput.field("group", f"no project group named {name.strip()!r}") from None


@router.get("/search")
def search(
    ctx: PageDep,
    q: str = "",
    type: str = "stories",
    status: Annotated[list[str] | None, Query()] = None,
    project: str = "",
    group: str = "",
    assignee: str = "",
    creator: str = "",
    subscriber: str = "",
    tags: str = "",
    tags_filter_type: str = "all",
    story: str = "",
    sort: str = "",
    dir: str = "",
    page: int | None = None,
) -> Response:
    kind = "tasks" if type == "tasks" else "stories"
    form: dict[str, Any] = {
        "q": q, "type": kind, "status": [s for s in status or [] if s], "project": project,
        "group": group, "assignee": assignee, "creator": creator, "subscriber": subscriber,
        "tags": tags, "tags_filter_type": "any" if tags_filter_type == "any" else "all",
        "story": story, "sort": sort or "id", "dir": dir if dir in ("asc", "desc") else "desc",
    }  # fmt: skip
    number = page_number(page)
    errors: dict[str, str] = {}
    results: Any = None
    pager = None
    with ctx.container.db.read() as session:
        size = page_size(ctx, session)
        try:
            results = _run(ctx, session, form, number, size)
        except InvalidInput as error:
            errors = errors_by_field(error)
        if results is not None:
            shown = len(results.page.items)
            pager = Pager(
                number, size, results.page.total, shown, ctx.request, results.page.total_exact
            )
        return render(
            ctx,
            "tracker/search.html",
            status=400 if errors else 200,
            form=form,
            errors=errors,
            results=results,
            pager=pager,
            statuses=TASK_STATUSES if kind == "tasks" else {s: s.title() for s in STORY_STATUSES},
            sorts=TASK_SORTS if kind == "tasks" else STORY_SORTS,
        )


def _run(ctx: PageContext, session: Session, form: dict[str, Any], number: int, size: int) -> Any:
    text = form["q"].strip()
    project_id = _project(session, form["project"])
    group_id = _group(session, form["group"])
    assignee_id = parse_user_ref(form["assignee"], ctx, "assignee")
    if form["type"] == "tasks":
        story_text = form["story"].strip().lstrip("#")
        if story_text and not is_number(story_text):
            raise InvalidInput.field("story", "enter a story number")
        task_filter = TaskFilter(
            project_id=project_id,
            project_group_id=group_id,
            assignee_id=assignee_id,
            status=tuple(form["status"]),
            story_id=parse_id(story_text, "story") if story_text else None,
        )
        request = page_request(
            number, size, sort_field=form["sort"], sort_dir=form["dir"],
            sortable=TASK_SORTS, default_field="id",
        )  # fmt: skip
        if text:
            return pages.search_task_list(
                session, actor=ctx.actor, q=text, filters=task_filter, page=request
            )
        return pages.task_list(session, actor=ctx.actor, filters=task_filter, page=request)
    story_filter = StoryFilter(
        project_id=project_id,
        project_group_id=group_id,
        assignee_id=assignee_id,
        creator_id=parse_user_ref(form["creator"], ctx, "creator"),
        subscriber_id=parse_user_ref(form["subscriber"], ctx, "subscriber"),
        status=tuple(form["status"]),
        tags=tuple(t.strip() for t in form["tags"].split(",") if t.strip()),
        tags_filter_type=form["tags_filter_type"],
    )
    request = page_request(
        number, size, sort_field=form["sort"], sort_dir=form["dir"],
        sortable=STORY_SORTS, default_field="id",
    )  # fmt: skip
    if text:
        return pages.search_story_list(
            session, actor=ctx.actor, q=text, filters=story_filter, page=request
        )
    return pages.story_list(session, actor=ctx.actor, filters=story_filter, page=request)
