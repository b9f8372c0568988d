"""Sign-in pages: local accounts, OpenID Connect providers, sign-out."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response

from storyline.accounts import audit, identities, local_accounts, web_sessions
from storyline.accounts.local_accounts import SignupIn
from storyline.accounts.oidc import OidcClient
from storyline.errors import NotAuthenticated, PermissionDenied, StorylineError, TooManyRequests
from storyline.http.errors import status_for
from storyline.web.rendering import PageRoute, redirect, render, safe_next
from storyline.web.security import FormDep, PageContext, PageDep

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def _oidc(request: Request) -> OidcClient:
    client: OidcClient = request.app.state.oidc
    return client


def _login_page(
    ctx: PageContext,
    *,
    status: int = 200,
    error: str | None = None,
    email: str = "",
    next_url: str | None = None,
    invite: str | None = None,
) -> Response:
    return render(
        ctx,
        "accounts/login.html",
        status=status,
        error=error,
        email=email,
        next_url=safe_next(next_url),
        invite=invite or "",
        providers=ctx.settings.oidc_providers,
    )


@router.get("/login")
def login_form(ctx: PageDep, next: str | None = None, invite: str | None = None) -> Response:
    if ctx.signed_in is not None and not invite:
        return redirect(ctx, safe_next(next))
    return _login_page(ctx, next_url=next, invite=invite)


@router.post("/login")
def login(
    ctx: FormDep,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str | None, Form()] = None,
) -> Response:
    db = ctx.container.db
    try:
        with db.write() as session:
            user = local_accounts.check_login(
                session, settings=ctx.settings, email=email, password=password, client=ctx.client
            )
            if user is not None:
                ctx.set_session = web_sessions.open_session(
                    session, settings=ctx.settings, user=user, method="local", client=ctx.client
                )
    except TooManyRequests as error:
        with db.write() as session:
            audit.record(
                session,
                event_type=audit.LOGIN_THROTTLED,
                user_id=None,
                client=ctx.client,
                method="local",
                email=email.strip()[:255],
            )
        return _login_page(ctx, status=429, error=error.message, email=email, next_url=next)
    except (PermissionDenied, NotAuthenticated) as error:
        status = 403 if isinstance(error, PermissionDenied) else 401
        return _login_page(ctx, status=status, error=error.message, email=email, next_url=next)
    if user is None:
        return _login_page(ctx, status=401, error=local_accounts.FAILED, email=email, next_url=next)
    return redirect(ctx, safe_next(next))


@router.get("/signup")
def signup_form(ctx: PageDep, invite: str | None = None) -> Response:
    local_accounts.require_enabled(ctx.settings)
    if not ctx.settings.local_signup:
        raise PermissionDenied(
            "Signing up is closed on this server; ask an administrator for an account.",
            code="signup_not_allowed",
        )
    return render(ctx, "accounts/signup.html", error=None, values={}, invite=invite or "")


@router.post("/signup")
def signup(
    ctx: FormDep,
    full_name: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    invite: Annotated[str, Form()] = "",
) -> Response:
    values = {"full_name": full_name, "email": email}
    try:
        data = SignupIn(
            full_name=full_name or " ", email=email, password=password, invitation=invite or None
        )
        with ctx.container.db.write() as session:
            user = local_accounts.signup(
                session, settings=ctx.settings, data=data, client=ctx.client
            )
            ctx.set_session = web_sessions.open_session(
                session, settings=ctx.settings, user=user, method="local", client=ctx.client
            )
    except StorylineError as error:
        return render(
            ctx,
            "accounts/signup.html",
            status=status_for(error),
            error=error.message,
            values=values,
            invite=invite,
        )
    except ValueError as error:
        return render(
            ctx, "accounts/signup.html", status=400, error=str(error), values=values, invite=invite
        )
    return redirect(ctx, "/account")


@router.post("/login/oidc/{provider}")
def login_oidc(
    ctx: FormDep,
    provider: str,
    next: Annotated[str | None, Form()] = None,
    invite: Annotated[str | None, Form()] = None,
) -> Response:
    return _begin(ctx, provider, next_url=safe_next(next), invite=invite or None)


def _begin(
    ctx: PageContext,
    provider: str,
    *,
    next_url: str,
    invite: str | None = None,
    link_user_id: int | None = None,
) -> Response:
    oidc = _oidc(ctx.request)
    redirect_uri = f"{ctx.base_url()}/auth/callback/{provider}"
    with ctx.container.db.write() as session:
        url = oidc.begin(
            session,
            provider_name=provider,
            redirect_uri=redirect_uri,
            browser_secret=ctx.csrf_cookie,
            link_user_id=link_user_id,
            invitation=invite,
            next_url=next_url,
        )
    return redirect(ctx, url)


@router.get("/auth/callback/{provider}")
def oidc_callback(
    ctx: PageDep,
    provider: str,
    state: str | None = None,
    code: str | None = None,
    error: str | None = None,
    error_description: str | None = None,
    iss: str | None = None,
) -> Response:
    oidc = _oidc(ctx.request)
    db = ctx.container.db
    try:
        # Its own unit of work: the pending sign-in is gone even if what
        # follows fails, so the same callback URL cannot be tried again.
        with db.write() as session:
            pending = oidc.claim_pending(
                session,
                provider_name=provider,
                state=state,
                browser_secret=None if ctx.new_csrf_cookie else ctx.csrf_cookie,
            )
        completed = oidc.complete(
            pending, code=code, error=error, error_description=error_description, iss=iss
        )
        with db.write() as session:
            if completed.link_user_id is not None:
                if ctx.signed_in is None or ctx.signed_in.user_id != completed.link_user_id:
                    raise NotAuthenticated(
                        "You were signed out while linking; sign in and link again.",
                        code="oidc_state_invalid",
                    )
                identities.link(
                    session,
                    user_id=completed.link_user_id,
                    claims=completed.claims,
                    client=ctx.client,
                )
                target = "/settings/identities"
            else:
                user = identities.sign_in(
                    session,
                    settings=ctx.settings,
                    claims=completed.claims,
                    invitation=completed.invitation,
                    client=ctx.client,
                )
                ctx.set_session = web_sessions.open_session(
                    session, settings=ctx.settings, user=user, method=provider, client=ctx.client
                )
                target = safe_next(completed.next_url)
    except StorylineError as failure:
        with db.write() as session:
            audit.record(
                session,
                event_type=audit.LOGIN_FAILED,
                user_id=ctx.signed_in.user_id if ctx.signed_in else None,
                client=ctx.client,
                method=provider,
                reason=failure.code,
                message=failure.message,
            )
        raise
    return redirect(ctx, target)


@router.post("/logout")
def logout(ctx: FormDep) -> Response:
    secret = ctx.session_cookie
    if secret:
        with ctx.container.db.write() as session:
            web_sessions.close(session, secret=secret, client=ctx.client)
    ctx.clear_session = True
    return redirect(ctx, "/login")


@router.post("/logout/all")
def logout_everywhere(ctx: FormDep) -> Response:
    if ctx.signed_in is None:
        return redirect(ctx, "/login")
    with ctx.container.db.write() as session:
        web_sessions.close_all(session, user_id=ctx.signed_in.user_id, client=ctx.client)
    ctx.clear_session = True
    return redirect(ctx, "/login")
