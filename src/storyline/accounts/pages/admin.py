"""Administration for superusers: the index of every subsystem's sections,
teams and their members, users. Every page calls the same services as the
API, which check the permission again; the pages only decide what to show."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Response
from sqlalchemy.orm import Session

from storyline.accounts import teams, users
from storyline.accounts.teams import TeamFilter, TeamIn
from storyline.accounts.users import UserFilter, UserIn
from storyline.errors import InvalidInput
from storyline.kernel.paging import PageRequest
from storyline.kernel.validation import Id, is_number, parse_id, validate
from storyline.web import admin
from storyline.web.panels import ADMIN, TEAM, render_slot
from storyline.web.rendering import PageRoute, redirect, render
from storyline.web.security import FormDep, PageContext, PageDep

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/admin")
def admin_home(ctx: PageDep) -> Response:
    if (denied := admin.guard(ctx)) is not None:
        return denied
    one = PageRequest(limit=1)
    with ctx.container.db.read() as session:
        counts = {
            "teams": teams.list_teams(session, filters=TeamFilter(), page=one).total,
            "users": users.list_users(
                session, actor=ctx.actor, filters=UserFilter(), page=one
            ).total,
        }
        sections = render_slot(session, ctx, ADMIN)
    return render(ctx, "accounts/admin_index.html", counts=counts, sections=sections)


# Teams and their members


TEAMS = admin.Listing(
    "accounts/admin_teams.html",
    lambda session, ctx, q, page: teams.list_teams(
        session, filters=TeamFilter(name=q or None), page=page
    ),
)


@router.get("/admin/teams")
def admin_teams(ctx: PageDep, q: str = "", offset: int | None = None) -> Response:
    if (denied := admin.guard(ctx)) is not None:
        return denied
    return TEAMS.render(ctx, q=q, offset=offset)


def _team_values(name: str, description: str, security: str | None) -> dict[str, Any]:
    return {"name": name, "description": description, "security": admin.checked(security)}


def _team_data(values: dict[str, Any]) -> dict[str, Any]:
    return {**values, "description": values["description"].strip() or None}


@router.post("/admin/teams")
def admin_create_team(
    ctx: FormDep,
    name: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    security: admin.Checkbox = None,
) -> Response:
    if (denied := admin.guard(ctx)) is not None:
        return denied
    values = _team_values(name, description, security)

    def create(session: Session) -> str:
        data = validate(TeamIn, _team_data(values))
        team = teams.create_team(session, actor=ctx.actor, data=data)
        return f"/admin/teams/{team.id}?saved=true"

    def again(errors: dict[str, str]) -> Response:
        return TEAMS.render(ctx, values=values, errors=errors, status=400)

    return admin.save(ctx, create, again=again)


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
        panels = render_slot(session, ctx, TEAM, team_id=team_id)
        if values is None:
            values = {key: getattr(team, key) for key in TeamIn.model_fields}
    return render(
        ctx,
        "accounts/admin_team.html",
        status=status,
        team=team,
        members=members,
        panels=panels,
        values=values,
        errors=errors or {},
        add_values={"member": add_value},
        add_errors=add_errors or {},
        saved=saved,
    )


@router.get("/admin/teams/{team_id}")
def admin_team(ctx: PageDep, team_id: Id, saved: bool = False) -> Response:
    if (denied := admin.guard(ctx)) is not None:
        return denied
    return _team_page(ctx, team_id, saved=saved)


@router.post("/admin/teams/{team_id}")
def admin_update_team(
    ctx: FormDep,
    team_id: Id,
    name: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    security: admin.Checkbox = None,
) -> Response:
    if (denied := admin.guard(ctx)) is not None:
        return denied
    values = _team_values(name, description, security)

    def update(session: Session) -> str:
        teams.update_team(session, actor=ctx.actor, team_id=team_id, changes=_team_data(values))
        return f"/admin/teams/{team_id}?saved=true"

    def again(errors: dict[str, str]) -> Response:
        return _team_page(ctx, team_id, values=values, errors=errors, status=400)

    return admin.save(ctx, update, again=again)


@router.post("/admin/teams/{team_id}/members")
def admin_team_add_member(
    ctx: FormDep, team_id: Id, member: Annotated[str, Form()] = ""
) -> Response:
    if (denied := admin.guard(ctx)) is not None:
        return denied
    ref = member.strip()

    def add(session: Session) -> str:
        if not ref:
            raise InvalidInput.field("member", "give a user's email address or id")
        user = (
            users.get_user(session, user_id=parse_id(ref, "member"))
            if is_number(ref)
            else users.get_user_by_email(session, email=ref)
        )
        teams.add_user(session, actor=ctx.actor, team_id=team_id, user_id=user.id)
        return f"/admin/teams/{team_id}"

    def again(errors: dict[str, str]) -> Response:
        return _team_page(ctx, team_id, add_value=member, add_errors=errors, status=400)

    return admin.save(ctx, add, again=again, missing="member")


@router.post("/admin/teams/{team_id}/members/{user_id}/remove")
def admin_team_remove_member(ctx: FormDep, team_id: Id, user_id: Id) -> Response:
    if (denied := admin.guard(ctx)) is not None:
        return denied
    with ctx.container.db.write() as session:
        teams.remove_user(session, actor=ctx.actor, team_id=team_id, user_id=user_id)
    return redirect(ctx, f"/admin/teams/{team_id}")


@router.post("/admin/teams/{team_id}/delete")
def admin_delete_team(ctx: FormDep, team_id: Id) -> Response:
    if (denied := admin.guard(ctx)) is not None:
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


USERS = admin.Listing(
    "accounts/admin_users.html",
    lambda session, ctx, q, page: users.list_users(
        session, actor=ctx.actor, filters=_users_filter(q), page=page
    ),
    sort_field="full_name",
)


@router.get("/admin/users")
def admin_users(ctx: PageDep, q: str = "", offset: int | None = None) -> Response:
    if (denied := admin.guard(ctx)) is not None:
        return denied
    return USERS.render(ctx, q=q, offset=offset)


@router.post("/admin/users")
def admin_create_user(
    ctx: FormDep,
    full_name: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    is_superuser: admin.Checkbox = None,
) -> Response:
    if (denied := admin.guard(ctx)) is not None:
        return denied
    values = {"full_name": full_name, "email": email, "is_superuser": admin.checked(is_superuser)}

    def create(session: Session) -> str:
        data = validate(UserIn, {**values, "email": email.strip() or None})
        if data.email is None:
            raise InvalidInput.field("email", "an email address is needed to sign in")
        user = users.create_user(session, actor=ctx.actor, data=data)
        return f"/admin/users/{user.id}?saved=true"

    def again(errors: dict[str, str]) -> Response:
        return USERS.render(ctx, values=values, errors=errors, status=400)

    return admin.save(ctx, create, again=again)


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
        "accounts/admin_user.html",
        status=status,
        account=account,
        values=values,
        errors=errors or {},
        saved=saved,
    )


@router.get("/admin/users/{user_id}")
def admin_user(ctx: PageDep, user_id: Id, saved: bool = False) -> Response:
    if (denied := admin.guard(ctx)) is not None:
        return denied
    return _user_page(ctx, user_id, saved=saved)


@router.post("/admin/users/{user_id}")
def admin_update_user(
    ctx: FormDep,
    user_id: Id,
    full_name: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    is_active: admin.Checkbox = None,
    is_superuser: admin.Checkbox = None,
) -> Response:
    if (denied := admin.guard(ctx)) is not None:
        return denied
    values = {
        "full_name": full_name,
        "email": email,
        "is_active": admin.checked(is_active),
        "is_superuser": admin.checked(is_superuser),
    }

    def update(session: Session) -> str:
        changes = {**values, "email": email.strip() or None}
        users.update_user(session, actor=ctx.actor, user_id=user_id, changes=changes)
        return f"/admin/users/{user_id}?saved=true"

    def again(errors: dict[str, str]) -> Response:
        return _user_page(ctx, user_id, values=values, errors=errors, status=400)

    return admin.save(ctx, update, again=again)
