"""Administration of projects and project groups, for superusers. Every page
calls the same services as the API, which check the permission again; the
pages only decide what to show."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Form, Response
from markupsafe import Markup
from sqlalchemy.orm import Session

from storyline.errors import InvalidInput
from storyline.kernel.paging import PageRequest
from storyline.kernel.validation import Id, is_number, parse_id, validate
from storyline.tracker import projects
from storyline.tracker import team_projects as team_projects_service
from storyline.tracker.projects import ProjectFilter, ProjectGroupFilter, ProjectGroupIn, ProjectIn
from storyline.web import admin
from storyline.web.panels import ADMIN, TEAM, Panel
from storyline.web.rendering import PageRoute, fragment, redirect, render
from storyline.web.security import FormDep, PageContext, PageDep

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def admin_cards(session: Session, ctx: PageContext, values: Mapping[str, Any]) -> Markup:
    """The projects' and groups' entries of the administration index."""
    one = PageRequest(limit=1)
    counts = {
        "projects": projects.list_projects(session, filters=ProjectFilter(), page=one).total,
        "groups": projects.list_project_groups(
            session, filters=ProjectGroupFilter(), page=one
        ).total,
    }
    return fragment(ctx, "tracker/_admin_cards.html", counts=counts)


def team_projects(session: Session, ctx: PageContext, values: Mapping[str, Any]) -> Markup:
    """The projects a team works on, on the team's administration page."""
    linked = team_projects_service.team_projects(session, team_id=int(values["team_id"]))
    return fragment(ctx, "tracker/_team_projects.html", linked_projects=linked)


PANELS = (Panel(ADMIN, admin_cards), Panel(TEAM, team_projects))


# Projects


PROJECTS = admin.Listing(
    "tracker/admin_projects.html",
    lambda session, ctx, q, page: projects.list_projects(
        session, filters=ProjectFilter(name=q or None), page=page
    ),
    blank={"is_active": True},
)


@router.get("/admin/projects")
def admin_projects(ctx: PageDep, q: str = "", offset: int | None = None) -> Response:
    if (denied := admin.guard(ctx)) is not None:
        return denied
    return PROJECTS.render(ctx, q=q, offset=offset)


def _project_values(
    name: str, description: str, repo_url: str, is_active: str | None, autocreate: str | None
) -> dict[str, Any]:
    return {
        "name": name,
        "description": description,
        "repo_url": repo_url,
        "is_active": admin.checked(is_active),
        "autocreate_branches": admin.checked(autocreate),
    }


def _project_data(values: dict[str, Any]) -> dict[str, Any]:
    return {
        **values,
        "description": values["description"].strip() or None,
        "repo_url": values["repo_url"].strip() or None,
    }


@router.post("/admin/projects")
def admin_create_project(
    ctx: FormDep,
    name: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    repo_url: Annotated[str, Form()] = "",
    is_active: admin.Checkbox = None,
    autocreate_branches: admin.Checkbox = None,
) -> Response:
    if (denied := admin.guard(ctx)) is not None:
        return denied
    values = _project_values(name, description, repo_url, is_active, autocreate_branches)

    def create(session: Session) -> str:
        data = validate(ProjectIn, _project_data(values))
        project = projects.create_project(session, actor=ctx.actor, data=data)
        return f"/admin/projects/{project.id}?saved=true"

    def again(errors: dict[str, str]) -> Response:
        return PROJECTS.render(ctx, values=values, errors=errors, status=400)

    return admin.save(ctx, create, again=again)


def _project_page(
    ctx: PageContext,
    project_id: int,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    saved: bool = False,
    status: int = 200,
) -> Response:
    with ctx.container.db.read() as session:
        project = projects.get_project(session, ref=project_id)
        if values is None:
            values = {key: getattr(project, key) for key in ProjectIn.model_fields}
    return render(
        ctx,
        "tracker/admin_project.html",
        status=status,
        project=project,
        values=values,
        errors=errors or {},
        saved=saved,
    )


@router.get("/admin/projects/{project_id}")
def admin_project(ctx: PageDep, project_id: Id, saved: bool = False) -> Response:
    if (denied := admin.guard(ctx)) is not None:
        return denied
    return _project_page(ctx, project_id, saved=saved)


@router.post("/admin/projects/{project_id}")
def admin_update_project(
    ctx: FormDep,
    project_id: Id,
    name: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    repo_url: Annotated[str, Form()] = "",
    is_active: admin.Checkbox = None,
    autocreate_branches: admin.Checkbox = None,
) -> Response:
    if (denied := admin.guard(ctx)) is not None:
        return denied
    values = _project_values(name, description, repo_url, is_active, autocreate_branches)

    def update(session: Session) -> str:
        projects.update_project(
            session, actor=ctx.actor, project_id=project_id, changes=_project_data(values)
        )
        return f"/admin/projects/{project_id}?saved=true"

    def again(errors: dict[str, str]) -> Response:
        return _project_page(ctx, project_id, values=values, errors=errors, status=400)

    return admin.save(ctx, update, again=again)


# Project groups


GROUPS = admin.Listing(
    "tracker/admin_groups.html",
    lambda session, ctx, q, page: projects.list_project_groups(
        session, filters=ProjectGroupFilter(name=q or None), page=page
    ),
)


@router.get("/admin/project-groups")
def admin_groups(ctx: PageDep, q: str = "", offset: int | None = None) -> Response:
    if (denied := admin.guard(ctx)) is not None:
        return denied
    return GROUPS.render(ctx, q=q, offset=offset)


@router.post("/admin/project-groups")
def admin_create_group(
    ctx: FormDep, name: Annotated[str, Form()] = "", title: Annotated[str, Form()] = ""
) -> Response:
    if (denied := admin.guard(ctx)) is not None:
        return denied
    values = {"name": name, "title": title}

    def create(session: Session) -> str:
        data = validate(ProjectGroupIn, {"name": name, "title": title.strip() or None})
        group = projects.create_project_group(session, actor=ctx.actor, data=data)
        return f"/admin/project-groups/{group.id}?saved=true"

    def again(errors: dict[str, str]) -> Response:
        return GROUPS.render(ctx, values=values, errors=errors, status=400)

    return admin.save(ctx, create, again=again)


def _group_page(
    ctx: PageContext,
    group_id: int,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    add_value: str = "",
    add_errors: dict[str, str] | None = None,
    saved: bool = False,
    status: int = 200,
) -> Response:
    with ctx.container.db.read() as session:
        group = projects.get_project_group(session, ref=group_id)
        members = projects.group_projects(session, group_id=group_id)
        if values is None:
            values = {"name": group.name, "title": group.title}
    return render(
        ctx,
        "tracker/admin_group.html",
        status=status,
        group=group,
        members=members,
        values=values,
        errors=errors or {},
        add_values={"project": add_value},
        add_errors=add_errors or {},
        saved=saved,
    )


@router.get("/admin/project-groups/{group_id}")
def admin_group(ctx: PageDep, group_id: Id, saved: bool = False) -> Response:
    if (denied := admin.guard(ctx)) is not None:
        return denied
    return _group_page(ctx, group_id, saved=saved)


@router.post("/admin/project-groups/{group_id}")
def admin_update_group(
    ctx: FormDep,
    group_id: Id,
    name: Annotated[str, Form()] = "",
    title: Annotated[str, Form()] = "",
) -> Response:
    if (denied := admin.guard(ctx)) is not None:
        return denied
    values = {"name": name, "title": title}

    def update(session: Session) -> str:
        changes: dict[str, object] = {"name": name, "title": title.strip() or None}
        projects.update_project_group(session, actor=ctx.actor, group_id=group_id, changes=changes)
        return f"/admin/project-groups/{group_id}?saved=true"

    def again(errors: dict[str, str]) -> Response:
        return _group_page(ctx, group_id, values=values, errors=errors, status=400)

    return admin.save(ctx, update, again=again)


@router.post("/admin/project-groups/{group_id}/projects")
def admin_group_add_project(
    ctx: FormDep, group_id: Id, project: Annotated[str, Form()] = ""
) -> Response:
    if (denied := admin.guard(ctx)) is not None:
        return denied
    ref = project.strip()

    def add(session: Session) -> str:
        if not ref:
            raise InvalidInput.field("project", "give a project's name or id")
        found = projects.get_project(session, ref=ref) if not is_number(ref) else None
        projects.add_project_to_group(
            session,
            actor=ctx.actor,
            group_id=group_id,
            project_id=found.id if found is not None else parse_id(ref, "project"),
        )
        return f"/admin/project-groups/{group_id}"

    def again(errors: dict[str, str]) -> Response:
        # The group exists (the page renders); the project named may not.
        return _group_page(ctx, group_id, add_value=project, add_errors=errors, status=400)

    return admin.save(ctx, add, again=again, missing="project")


@router.post("/admin/project-groups/{group_id}/projects/{project_id}/remove")
def admin_group_remove_project(ctx: FormDep, group_id: Id, project_id: Id) -> Response:
    if (denied := admin.guard(ctx)) is not None:
        return denied
    with ctx.container.db.write() as session:
        projects.remove_project_from_group(
            session, actor=ctx.actor, group_id=group_id, project_id=project_id
        )
    return redirect(ctx, f"/admin/project-groups/{group_id}")


@router.post("/admin/project-groups/{group_id}/delete")
def admin_delete_group(ctx: FormDep, group_id: Id) -> Response:
    if (denied := admin.guard(ctx)) is not None:
        return denied
    with ctx.container.db.write() as session:
        projects.delete_project_group(session, actor=ctx.actor, group_id=group_id)
    return redirect(ctx, "/admin/project-groups")
