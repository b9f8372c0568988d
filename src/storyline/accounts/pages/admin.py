"""Administration for superusers: projects, project groups, teams and their
members, users. Every page calls the same services as the API, which check
the permission again; the pages only decide what to show."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Response
from pydantic import ValidationError

from storyline.accounts import teams, users
from storyline.accounts.pages.account import _sign_in_first
from storyline.accounts.teams import TeamFilter, TeamIn
from storyline.accounts.users import UserFilter, UserIn
from storyline.errors import Conflict, InvalidInput
from storyline.errors import NotFound as NotFoundError
from storyline.kernel.access import require_superuser
from storyline.kernel.paging import PageRequest
from storyline.kernel.validation import invalid_input, validate
from storyline.tracker import projects
from storyline.tracker.projects import ProjectFilter, ProjectGroupFilter, ProjectGroupIn, ProjectIn
from storyline.web.rendering import PageRoute, field_errors, redirect, render
from storyline.web.security import FormDep, PageContext, PageDep

router = APIRouter(route_class=PageRoute, include_in_schema=False)

PAGE = 50
Checkbox = Annotated[str | None, Form()]


def _admin(ctx: PageContext) -> Response | None:
    """A redirect to sign in for anonymous visitors; 403 for members."""
    if ctx.signed_in is None:
        return _sign_in_first(ctx)
    require_superuser(ctx.actor)
    return None


# The errors a form shows next to its fields; anything else (403, 404, 503)
# is an error page.
FORM_ERRORS = (InvalidInput, Conflict, ValidationError)


def _form_errors(error: Exception) -> dict[str, str]:
    if isinstance(error, ValidationError):
        return field_errors(invalid_input(error))
    assert isinstance(error, InvalidInput | Conflict)
    return field_errors(error)


def _checked(value: str | None) -> bool:
    return value == "on"


def _page(offset: int | None, sort_field: str = "name") -> PageRequest:
    if offset is not None and offset < 0:
        raise InvalidInput.field("offset", "must not be negative")
    return PageRequest(limit=PAGE, offset=offset or 0, sort_field=sort_field)


def _paging(offset: int | None, total: int | None) -> dict[str, int | None]:
    start = offset or 0
    return {
        "offset": start,
        "previous": max(0, start - PAGE) if start > 0 else None,
        "next": start + PAGE if total is not None and start + PAGE < total else None,
        "total": total,
    }


@router.get("/admin")
def admin_home(ctx: PageDep) -> Response:
    if (denied := _admin(ctx)) is not None:
        return denied
    one = PageRequest(limit=1)
    with ctx.container.db.read() as session:
        counts = {
            "projects": projects.list_projects(session, filters=ProjectFilter(), page=one).total,
            "groups": projects.list_project_groups(
                session, filters=ProjectGroupFilter(), page=one
            ).total,
            "teams": teams.list_teams(session, filters=TeamFilter(), page=one).total,
            "users": users.list_users(
                session, actor=ctx.actor, filters=UserFilter(), page=one
            ).total,
        }
    return render(ctx, "admin_index.html", counts=counts)


# Projects


def _projects_page(
    ctx: PageContext,
    *,
    q: str = "",
    offset: int | None = None,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    with ctx.container.db.read() as session:
        page = projects.list_projects(
            session, filters=ProjectFilter(name=q or None), page=_page(offset)
        )
    return render(
        ctx,
        "admin_projects.html",
        status=status,
        items=page.items,
        q=q,
        paging=_paging(offset, page.total),
        values=values or {"is_active": True},
        errors=errors or {},
    )


@router.get("/admin/projects")
def admin_projects(ctx: PageDep, q: str = "", offset: int | None = None) -> Response:
    if (denied := _admin(ctx)) is not None:
        return denied
    return _projects_page(ctx, q=q, offset=offset)


def _project_values(
    name: str, description: str, repo_url: str, is_active: str | None, autocreate: str | None
) -> dict[str, Any]:
    return {
        "name": name,
        "description": description,
        "repo_url": repo_url,
        "is_active": _checked(is_active),
        "autocreate_branches": _checked(autocreate),
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
    is_active: Checkbox = None,
    autocreate_branches: Checkbox = None,
) -> Response:
    if (denied := _admin(ctx)) is not None:
        return denied
    values = _project_values(name, description, repo_url, is_active, autocreate_branches)
    try:
        data = validate(ProjectIn, _project_data(values))
        with ctx.container.db.write() as session:
            project = projects.create_project(session, actor=ctx.actor, data=data)
            project_id = project.id
    except FORM_ERRORS as error:
        return _projects_page(ctx, values=values, errors=_form_errors(error), status=400)
    return redirect(ctx, f"/admin/projects/{project_id}?saved=true")


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
        "admin_project.html",
        status=status,
        project=project,
        values=values,
        errors=errors or {},
        saved=saved,
    )


@router.get("/admin/projects/{project_id}")
def admin_project(ctx: PageDep, project_id: int, saved: bool = False) -> Response:
    if (denied := _admin(ctx)) is not None:
        return denied
    return _project_page(ctx, project_id, saved=saved)


@router.post("/admin/projects/{project_id}")
def admin_update_project(
    ctx: FormDep,
    project_id: int,
    name: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    repo_url: Annotated[str, Form()] = "",
    is_active: Checkbox = None,
    autocreate_branches: Checkbox = None,
) -> Response:
    if (denied := _admin(ctx)) is not None:
        return denied
    values = _project_values(name, description, repo_url, is_active, autocreate_branches)
    try:
        with ctx.container.db.write() as session:
            projects.update_project(
                session, actor=ctx.actor, project_id=project_id, changes=_project_data(values)
            )
    except FORM_ERRORS as error:
        return _project_page(ctx, project_id, values=values, errors=_form_errors(error), status=400)
    return redirect(ctx, f"/admin/projects/{project_id}?saved=true")


# Project groups


def _groups_page(
    ctx: PageContext,
    *,
    q: str = "",
    offset: int | None = None,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    with ctx.container.db.read() as session:
        page = projects.list_project_groups(
            session, filters=ProjectGroupFilter(name=q or None), page=_page(offset)
        )
    return render(
        ctx,
        "admin_groups.html",
        status=status,
        items=page.items,
        q=q,
        paging=_paging(offset, page.total),
        values=values or {},
        errors=errors or {},
    )


@router.get("/admin/project-groups")
def admin_groups(ctx: PageDep, q: str = "", offset: int | None = None) -> Response:
    if (denied := _admin(ctx)) is not None:
        return denied
    return _groups_page(ctx, q=q, offset=offset)


@router.post("/admin/project-groups")
def admin_create_group(
    ctx: FormDep, name: Annotated[str, Form()] = "", title: Annotated[str, Form()] = ""
) -> Response:
    if (denied := _admin(ctx)) is not None:
        return denied
    values = {"name": name, "title": title}
    try:
        data = validate(ProjectGroupIn, {"name": name, "title": title.strip() or None})
        with ctx.container.db.write() as session:
            group_id = projects.create_project_group(session, actor=ctx.actor, data=data).id
    except FORM_ERRORS as error:
        return _groups_page(ctx, values=values, errors=_form_errors(error), status=400)
    return redirect(ctx, f"/admin/project-groups/{group_id}?saved=true")


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
        "admin_group.html",
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
def admin_group(ctx: PageDep, group_id: int, saved: bool = False) -> Response:
    if (denied := _admin(ctx)) is not None:
        return denied
    return _group_page(ctx, group_id, saved=saved)


@router.post("/admin/project-groups/{group_id}")
def admin_update_group(
    ctx: FormDep,
    group_id: int,
    name: Annotated[str, Form()] = "",
    title: Annotated[str, Form()] = "",
) -> Response:
    if (denied := _admin(ctx)) is not None:
        return denied
    values = {"name": name, "title": title}
    try:
        with ctx.container.db.write() as session:
            projects.update_project_group(
                session,
                actor=ctx.actor,
                group_id=group_id,
                changes={"name": name, "title": title.strip() or None},
            )
    except FORM_ERRORS as error:
        return _group_page(ctx, group_id, values=values, errors=_form_errors(error), status=400)
    return redirect(ctx, f"/admin/project-groups/{group_id}?saved=true")


@router.post("/admin/project-groups/{group_id}/projects")
def admin_group_add_project(
    ctx: FormDep, group_id: int, project: Annotated[str, Form()] = ""
) -> Response:
    if (denied := _admin(ctx)) is not None:
        return denied
    ref = project.strip()
    try:
        if not ref:
            raise InvalidInput.field("project", "give a project's name or id")
        with ctx.container.db.write() as session:
            found = projects.get_project(session, ref=ref) if not ref.isdigit() else None
            projects.add_project_to_group(
                session,
                actor=ctx.actor,
                group_id=group_id,
                project_id=found.id if found is not None else int(ref),
            )
    except FORM_ERRORS as error:
        return _group_page(
            ctx, group_id, add_value=project, add_errors=_form_errors(error), status=400
        )
    except NotFoundError as error:
        # The group exists (the page renders); the project named does not.
        return _group_page(
            ctx, group_id, add_value=project, add_errors={"project": error.message}, status=400
        )
    return redirect(ctx, f"/admin/project-groups/{group_id}")


@router.post("/admin/project-groups/{group_id}/projects/{project_id}/remove")
def admin_group_remove_project(ctx: FormDep, group_id: int, project_id: int) -> Response:
    if (denied := _admin(ctx)) is not None:
        return denied
    with ctx.container.db.write() as session:
        projects.remove_project_from_group(
            session, actor=ctx.actor, group_id=group_id, project_id=project_id
        )
    return redirect(ctx, f"/admin/project-groups/{group_id}")


@router.post("/admin/project-groups/{group_id}/delete")
def admin_delete_group(ctx: FormDep, group_id: int) -> Response:
    if (denied := _admin(ctx)) is not None:
        return denied
    with ctx.container.db.write() as session:
        projects.delete_project_group(session, actor=ctx.actor, group_id=group_id)
    return redirect(ctx, "/admin/project-groups")


# Teams and their members


def _teams_page(
    ctx: PageContext,
    *,
    q: str = "",
    offset: int | None = None,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    with ctx.container.db.read() as session:
        page = teams.list_teams(session, filters=TeamFilter(name=q or None), page=_page(offset))
    return render(
        ctx,
        "admin_teams.html",
        status=status,
        items=page.items,
        q=q,
        paging=_paging(offset, page.total),
        values=values or {},
        errors=errors or {},
    )


@router.get("/admin/teams")
def admin_teams(ctx: PageDep, q: str = "", offset: int | None = None) -> Response:
    if (denied := _admin(ctx)) is not None:
        return denied
    return _teams_page(ctx, q=q, offset=offset)


def _team_values(name: str, description: str, security: str | None) -> dict[str, Any]:
    return {"name": name, "description": description, "security": _checked(security)}


def _team_data(values: dict[str, Any]) -> dict[str, Any]:
    return {**values, "description": values["description"].strip() or None}


@router.post("/admin/teams")
def admin_create_team(
    ctx: FormDep,
    name: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    security: Checkbox = None,
) -> Response:
    if (denied := _admin(ctx)) is not None:
        return denied
    values = _team_values(name, description, security)
    try:
        data = validate(TeamIn, _team_data(values))
        with ctx.container.db.write() as session:
            team_id = teams.create_team(session, actor=ctx.actor, data=data).id
    except FORM_ERRORS as error:
        return _teams_page(ctx, values=values, errors=_form_errors(error), status=400)
    return redirect(ctx, f"/admin/teams/{team_id}?saved=true")


def _team_page(
    ctx: PageContext,
    team_id: int,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    add_value: str = "",
    add_errors: dict[str, str] | None = None,
    saved: bool = False,
    status: int = 200,
) -> Response:
    with ctx.container.db.read() as session:
        team = teams.get_team(session, ref=team_id)
        members = teams.team_users(session, team_id=team_id)
        linked = teams.team_projects(session, team_id=team_id)
        if values is None:
            values = {key: getattr(team, key) for key in TeamIn.model_fields}
    return render(
        ctx,
        "admin_team.html",
        status=status,
        team=team,
        members=members,
        linked_projects=linked,
        values=values,
        errors=errors or {},
        add_values={"member": add_value},
        add_errors=add_errors or {},
        saved=saved,
    )


@router.get("/admin/teams/{team_id}")
def admin_team(ctx: PageDep, team_id: int, saved: bool = False) -> Response:
    if (denied := _admin(ctx)) is not None:
        return denied
    return _team_page(ctx, team_id, saved=saved)


@router.post("/admin/teams/{team_id}")
def admin_update_team(
    ctx: FormDep,
    team_id: int,
    name: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    security: Checkbox = None,
) -> Response:
    if (denied := _admin(ctx)) is not None:
        return denied
    values = _team_values(name, description, security)
    try:
        with ctx.container.db.write() as session:
            teams.update_team(session, actor=ctx.actor, team_id=team_id, changes=_team_data(values))
    except FORM_ERRORS as error:
        return _team_page(ctx, team_id, values=values, errors=_form_errors(error), status=400)
    return redirect(ctx, f"/admin/teams/{team_id}?saved=true")


@router.post("/admin/teams/{team_id}/members")
def admin_team_add_member(
    ctx: FormDep, team_id: int, member: Annotated[str, Form()] = ""
) -> Response:
    if (denied := _admin(ctx)) is not None:
        return denied
    ref = member.strip()
    try:
        if not ref:
            raise InvalidInput.field("member", "give a user's email address or id")
        with ctx.container.db.write() as session:
            user = (
                users.get_user(session, user_id=int(ref))
                if ref.isdigit()
                else users.get_user_by_email(session, email=ref)
            )
            teams.add_user(session, actor=ctx.actor, team_id=team_id, user_id=user.id)
    except FORM_ERRORS as error:
        return _team_page(
            ctx, team_id, add_value=member, add_errors=_form_errors(error), status=400
        )
    except NotFoundError as error:
        return _team_page(
            ctx, team_id, add_value=member, add_errors={"member": error.message}, status=400
        )
    return redirect(ctx, f"/admin/teams/{team_id}")


@router.post("/admin/teams/{team_id}/members/{user_id}/remove")
def admin_team_remove_member(ctx: FormDep, team_id: int, user_id: int) -> Response:
    if (denied := _admin(ctx)) is not None:
        return denied
    with ctx.container.db.write() as session:
        teams.remove_user(session, actor=ctx.actor, team_id=team_id, user_id=user_id)
    return redirect(ctx, f"/admin/teams/{team_id}")


@router.post("/admin/teams/{team_id}/delete")
def admin_delete_team(ctx: FormDep, team_id: int) -> Response:
    if (denied := _admin(ctx)) is not None:
        return denied
    with ctx.container.db.write() as session:
        teams.delete_team(session, actor=ctx.actor, team_id=team_id)
    return redirect(ctx, "/admin/teams")


# Users


def _users_filter(q: str) -> UserFilter:
    q = q.strip()
    if not q:
        return UserFilter()
    return UserFilter(email=q) if "@" in q else UserFilter(full_name=q)


def _users_page(
    ctx: PageContext,
    *,
    q: str = "",
    offset: int | None = None,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    with ctx.container.db.read() as session:
        page = users.list_users(
            session,
            actor=ctx.actor,
            filters=_users_filter(q),
            page=_page(offset, sort_field="full_name"),
        )
    return render(
        ctx,
        "admin_users.html",
        status=status,
        items=page.items,
        q=q,
        paging=_paging(offset, page.total),
        values=values or {},
        errors=errors or {},
    )


@router.get("/admin/users")
def admin_users(ctx: PageDep, q: str = "", offset: int | None = None) -> Response:
    if (denied := _admin(ctx)) is not None:
        return denied
    return _users_page(ctx, q=q, offset=offset)


@router.post("/admin/users")
def admin_create_user(
    ctx: FormDep,
    full_name: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    is_superuser: Checkbox = None,
) -> Response:
    if (denied := _admin(ctx)) is not None:
        return denied
    values = {"full_name": full_name, "email": email, "is_superuser": _checked(is_superuser)}
    try:
        data = validate(UserIn, {**values, "email": email.strip() or None})
        if data.email is None:
            raise InvalidInput.field("email", "an email address is needed to sign in")
        with ctx.container.db.write() as session:
            user_id = users.create_user(session, actor=ctx.actor, data=data).id
    except FORM_ERRORS as error:
        return _users_page(ctx, values=values, errors=_form_errors(error), status=400)
    return redirect(ctx, f"/admin/users/{user_id}?saved=true")


def _user_page(
    ctx: PageContext,
    user_id: int,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    saved: bool = False,
    status: int = 200,
) -> Response:
    with ctx.container.db.read() as session:
        account = users.get_user(session, user_id=user_id)
        if values is None:
            values = {
                "full_name": account.full_name,
                "email": account.email,
                "is_active": account.is_active,
                "is_superuser": account.is_superuser,
            }
    return render(
        ctx,
        "admin_user.html",
        status=status,
        account=account,
        values=values,
        errors=errors or {},
        saved=saved,
    )


@router.get("/admin/users/{user_id}")
def admin_user(ctx: PageDep, user_id: int, saved: bool = False) -> Response:
    if (denied := _admin(ctx)) is not None:
        return denied
    return _user_page(ctx, user_id, saved=saved)


@router.post("/admin/users/{user_id}")
def admin_update_user(
    ctx: FormDep,
    user_id: int,
    full_name: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    is_active: Checkbox = None,
    is_superuser: Checkbox = None,
) -> Response:
    if (denied := _admin(ctx)) is not None:
        return denied
    values = {
        "full_name": full_name,
        "email": email,
        "is_active": _checked(is_active),
        "is_superuser": _checked(is_superuser),
    }
    try:
        with ctx.container.db.write() as session:
            users.update_user(
                session,
                actor=ctx.actor,
                user_id=user_id,
                changes={**values, "email": email.strip() or None},
            )
    except FORM_ERRORS as error:
        return _user_page(ctx, user_id, values=values, errors=_form_errors(error), status=400)
    return redirect(ctx, f"/admin/users/{user_id}?saved=true")
