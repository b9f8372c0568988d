"""A person's own settings: profile, preferences and the theme switch.

Identities, tokens and sessions (accounts/pages/account.py) share the same section
menu, so the profile area is one place with one navigation."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from storyline.accounts import identities, preferences, users
from storyline.errors import InvalidInput
from storyline.web import prefs, theme
from storyline.web.rendering import (
    PageRoute,
    field_errors,
    redirect,
    render,
    safe_next,
    sign_in_first,
    wants_json,
)
from storyline.web.security import FormDep, PageContext, PageDep

router = APIRouter(route_class=PageRoute, include_in_schema=False)


@router.get("/settings")
def settings_home(ctx: PageDep) -> Response:
    return redirect(ctx, "/settings/profile")


@router.get("/shortcuts")
def shortcuts(ctx: PageDep) -> Response:
    return render(ctx, "shortcuts.html")


# Profile


def _profile_page(
    ctx: PageContext,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    saved: bool = False,
    status: int = 200,
) -> Response:
    assert ctx.signed_in is not None
    with ctx.container.db.read() as session:
        user = users.get_user(session, user_id=ctx.signed_in.user_id)
        linked = identities.list_identities(session, actor=ctx.actor)
    if values is None:
        values = {"full_name": user.full_name, "affiliation": user.affiliation or ""}
    return render(
        ctx,
        "accounts/settings_profile.html",
        status=status,
        account=user,
        identity_count=len(linked),
        values=values,
        errors=errors or {},
        saved=saved,
    )


@router.get("/settings/profile")
def profile(ctx: PageDep, saved: bool = False) -> Response:
    if ctx.signed_in is None:
        return sign_in_first(ctx)
    return _profile_page(ctx, saved=saved)


@router.post("/settings/profile")
def save_profile(
    ctx: FormDep,
    full_name: Annotated[str, Form()] = "",
    affiliation: Annotated[str, Form()] = "",
) -> Response:
    if ctx.signed_in is None:
        return sign_in_first(ctx)
    submitted = {"full_name": full_name, "affiliation": affiliation}
    try:
        with ctx.container.db.write() as session:
            users.update_user(
                session,
                actor=ctx.actor,
                user_id=ctx.signed_in.user_id,
                changes=submitted,
            )
    except InvalidInput as error:
        return _profile_page(ctx, values=submitted, errors=field_errors(error), status=400)
    return redirect(ctx, "/settings/profile?saved=true")


# Preferences


def _preferences_page(
    ctx: PageContext,
    *,
    current: prefs.WebPreferences,
    page_size: str | None = None,
    errors: dict[str, str] | None = None,
    saved: bool = False,
    status: int = 200,
) -> Response:
    return render(
        ctx,
        "accounts/settings_preferences.html",
        status=status,
        prefs=current,
        page_size=page_size if page_size is not None else str(current.page_size),
        timeline_events=prefs.TIMELINE_EVENTS,
        event_prefix=prefs.EVENT_PREFIX,
        page_size_min=prefs.PAGE_SIZE_MIN,
        page_size_max=prefs.PAGE_SIZE_MAX,
        errors=errors or {},
        saved=saved,
    )


@router.get("/settings/preferences")
def preferences_page(ctx: PageDep, saved: bool = False) -> Response:
    if ctx.signed_in is None:
        return sign_in_first(ctx)
    with ctx.container.db.read() as session:
        current = prefs.load(session, ctx)
    return _preferences_page(ctx, current=current, saved=saved)


def _save_preferences(ctx: PageContext, form: dict[str, str]) -> Response:
    assert ctx.signed_in is not None
    try:
        changes = prefs.changes_from_form(form)
    except InvalidInput as error:
        # Show what was submitted, not what is stored, so nothing typed is lost.
        submitted: dict[str, str | bool] = {
            prefs.EVENT_PREFIX + kind: form.get(prefs.EVENT_PREFIX + kind) == "on"
            for kind, _ in prefs.TIMELINE_EVENTS
        }
        submitted[prefs.EMAIL_ENABLE] = form.get(prefs.EMAIL_ENABLE) == "on"
        submitted[prefs.EMAIL_DIGEST] = form.get(prefs.EMAIL_DIGEST) == "on"
        submitted[theme.PREFERENCE] = form.get(theme.PREFERENCE, "system")
        return _preferences_page(
            ctx,
            current=prefs.parse(submitted),
            page_size=form.get(prefs.PAGE_SIZE, ""),
            errors=field_errors(error),
            status=400,
        )
    with ctx.container.db.write() as session:
        preferences.set_preferences(
            session, actor=ctx.actor, user_id=ctx.signed_in.user_id, changes=changes
        )
    response = redirect(ctx, "/settings/preferences?saved=true")
    theme.set_cookie(ctx, response, changes[theme.PREFERENCE])
    return response


@router.post("/settings/preferences")
async def save_preferences(ctx: FormDep) -> Response:
    if ctx.signed_in is None:
        return sign_in_first(ctx)
    form = await ctx.request.form()
    values = {key: value for key, value in form.items() if isinstance(value, str)}
    return await run_in_threadpool(_save_preferences, ctx, values)


# The theme switch in every page's footer: works signed out (cookie only).


@router.post("/settings/theme")
def switch_theme(
    ctx: FormDep,
    theme_choice: Annotated[str, Form(alias="theme")] = "system",
    next: Annotated[str | None, Form()] = None,
) -> Response:
    if theme_choice not in theme.THEMES:
        raise InvalidInput.field("theme", "must be system, light or dark")
    if ctx.signed_in is not None:
        with ctx.container.db.write() as session:
            preferences.set_preferences(
                session,
                actor=ctx.actor,
                user_id=ctx.signed_in.user_id,
                changes={theme.PREFERENCE: theme_choice},
            )
    response: Response
    if wants_json(ctx.request):
        response = JSONResponse({"theme": theme_choice})
        ctx.apply_cookies(response)
    else:
        response = redirect(ctx, safe_next(next, default="/"))
    theme.set_cookie(ctx, response, theme_choice)
    return response
