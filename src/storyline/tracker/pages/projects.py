"""Projects and project groups: browse and search them; each one's stories
and tasks with filters, sorting and paging (a group aggregates its projects)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from sqlalchemy.orm import Session

from storyline.domain.statuses import STORY_STATUSES, TASK_STATUSES
from storyline.errors import InvalidInput
from storyline.kernel.validation import is_number, parse_id
from storyline.tracker import page_data as pages
from storyline.tracker import projects as project_service
from storyline.tracker.models import Project, ProjectGroup
from storyline.tracker.page_data import Placement
from storyline.tracker.projects import ProjectFilter, ProjectGroupFilter
from storyline.tracker.stories import StoryFilter
from storyline.tracker.tasks import TaskFilter
from storyline.web.listing import (
    Pager,
    page_number,
    page_request,
    page_size,
    parse_user_ref,
    url_with,
)
from storyline.web.rendering import PageRoute, render
from storyline.web.security import PageContext, PageDep

router = APIRouter(route_class=PageRoute, include_in_schema=False)

StatusParam = Annotated[list[str] | None, Query()]
STORY_SORTS = {"id": "Number", "title": "Title", "updated_at": "Updated", "status": "Status"}
TASK_SORTS = {
    "id": "Number",
    "title": "Title",
    "updated_at": "Updated",
    "status": "Status",
    "priority": "Priority",
}


@router.get("/projects")
def project_list(ctx: PageDep, q: str = "", page: int | None = None) -> Response:
    number = page_number(page)
    with ctx.container.db.read() as session:
        size = page_size(ctx, session)
        result = project_service.list_projects(
            session,
            filters=ProjectFilter(name=q.strip() or None),
            page=page_request(
                number, size, sort_field="name", sort_dir="asc",
                sortable=project_service.PROJECT_SORT, default_field="name",
            ),
        )  # fmt: skip
        pager = Pager(number, size, result.total, len(result.items), ctx.request)
        return render(ctx, "tracker/projects.html", projects=result.items, q=q, pager=pager)


@router.get("/project_groups")
def group_list(ctx: PageDep, q: str = "", page: int | None = None) -> Response:
    number = page_number(page)
    with ctx.container.db.read() as session:
        size = page_size(ctx, session)
        result = project_service.list_project_groups(
            session,
            filters=ProjectGroupFilter(name=q.strip() or None),
            page=page_request(
                number, size, sort_field="name", sort_dir="asc",
                sortable=project_service.GROUP_SORT, default_field="name",
            ),
        )  # fmt: skip
        pager = Pager(number, size, result.total, len(result.items), ctx.request)
        return render(ctx, "tracker/project_groups.html", groups=result.items, q=q, pager=pager)


@dataclass(frozen=True)
class WorkFilters:
    """The filters of a project's or group's stories and tasks, as typed."""

    tab: str
    status: list[str]
    assignee: str
    tags: str
    branch: int | None
    milestone: int | None
    sort: str
    dir: str


def _work(
    ctx: PageContext,
    session: Session,
    *,
    project_id: int | None,
    group_id: int | None,
    form: WorkFilters,
    number: int,
) -> dict[str, Any]:
    size = page_size(ctx, session)
    assignee_id = parse_user_ref(form.assignee, ctx, "assignee")
    values: dict[str, Any] = {"form": form}
    if form.tab == "tasks":
        for status in form.status:
            if status not in TASK_STATUSES:
                raise InvalidInput.field("status", f"{status!r} is not a task status")
        tasks = pages.task_list(
            session,
            actor=ctx.actor,
            filters=TaskFilter(
                project_id=project_id,
                project_group_id=group_id,
                status=tuple(form.status),
                assignee_id=assignee_id,
                branch_id=form.branch,
                milestone_id=form.milestone,
            ),
            page=page_request(
                number, size, sort_field=form.sort, sort_dir=form.dir,
                sortable=TASK_SORTS, default_field="id",
            ),
        )  # fmt: skip
        values["tasks"] = tasks
        values["pager"] = Pager(number, size, tasks.page.total, len(tasks.page.items), ctx.request)
        values["statuses"] = TASK_STATUSES
        values["sorts"] = TASK_SORTS
    else:
        for status in form.status:
            if status not in STORY_STATUSES:
                raise InvalidInput.field("status", f"{status!r} is not a story status")
        tags = tuple(t.strip() for t in form.tags.split(",") if t.strip())
        stories = pages.story_list(
            session,
            actor=ctx.actor,
            filters=StoryFilter(
                project_id=project_id,
                project_group_id=group_id,
                status=tuple(form.status),
                assignee_id=assignee_id,
                tags=tags,
            ),
            page=page_request(
                number, size, sort_field=form.sort, sort_dir=form.dir,
                sortable=STORY_SORTS, default_field="id",
            ),
        )  # fmt: skip
        values["stories"] = stories
        values["pager"] = Pager(
            number,
            size,
            stories.page.total,
            len(stories.page.items),
            ctx.request,
            exact=stories.page.total_exact,
        )
        values["statuses"] = {s: s.title() for s in STORY_STATUSES}
        values["sorts"] = STORY_SORTS
    values["sort_url"] = lambda field, direction: url_with(
        ctx.request, sort=field, dir=direction, page=None
    )
    values["tab_url"] = lambda tab: url_with(
        ctx.request, tab=None if tab == "stories" else tab, page=None, sort=None, dir=None,
        status=None, branch=None, milestone=None, tags=None,
    )  # fmt: skip
    return values


def _filters(
    tab: str,
    status: list[str] | None,
    assignee: str,
    tags: str,
    branch: str,
    milestone: str,
    sort: str,
    dir: str,
) -> WorkFilters:
    def number(name: str, value: str) -> int | None:
        if not value.strip():
            return None
        if not is_number(value.strip()):
            raise InvalidInput.field(name, "must be chosen from the list")
        return parse_id(value, name)

    return WorkFilters(
        tab="tasks" if tab == "tasks" else "stories",
        status=[s for s in status or [] if s],
        assignee=assignee,
        tags=tags,
        branch=number("branch", branch),
        milestone=number("milestone", milestone),
        sort=sort or "id",
        dir=dir if dir in ("asc", "desc") else "desc",
    )


@router.get("/project_groups/{name:path}")
def group_page(
    ctx: PageDep,
    name: str,
    tab: str = "stories",
    status: StatusParam = None,
    assignee: str = "",
    tags: str = "",
    sort: str = "",
    dir: str = "",
    page: int | None = None,
) -> Response:
    form = _filters(tab, status, assignee, tags, "", "", sort, dir)
    with ctx.container.db.read() as session:
        group: ProjectGroup = project_service.get_project_group(session, ref=name)
        members = project_service.group_projects(session, group_id=group.id)
        values = _work(
            ctx, session, project_id=None, group_id=group.id, form=form, number=page_number(page)
        )
        return render(
            ctx, "tracker/work.html", group=group, project=None, members=members,
            placement=Placement({}, {}), **values,
        )  # fmt: skip


@router.get("/projects/{name:path}")
def project_page(
    ctx: PageDep,
    name: str,
    tab: str = "stories",
    status: StatusParam = None,
    assignee: str = "",
    tags: str = "",
    branch: str = "",
    milestone: str = "",
    sort: str = "",
    dir: str = "",
    page: int | None = None,
) -> Response:
    form = _filters(tab, status, assignee, tags, branch, milestone, sort, dir)
    with ctx.container.db.read() as session:
        project: Project = project_service.get_project(session, ref=name)
        values = _work(
            ctx, session, project_id=project.id, group_id=None, form=form,
            number=page_number(page),
        )  # fmt: skip
        return render(
            ctx, "tracker/work.html", project=project, group=None, members=(),
            placement=pages.placement(session, project_ids=[project.id]), **values,
        )  # fmt: skip
