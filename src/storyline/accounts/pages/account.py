"""A signed-in person's own pages: the account summary, linked identities,
personal access tokens (and authorizing the CLI), and the audit log for
administrators."""

from __future__ import annotations

import datetime as dt
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Response

from storyline.accounts import audit, identities, local_accounts, tokens, web_sessions
from storyline.accounts.audit import AuditFilter
from storyline.accounts.pages.auth import _begin
from storyline.accounts.tokens import TokenIn
from storyline.errors import InvalidInput
from storyline.http.headers import allow_form_action, origin_of
from storyline.kernel.access import require_superuser
from storyline.kernel.paging import PageRequest
from storyline.kernel.schema import utcnow
from storyline.kernel.validation import Id
from storyline.web.rendering import PageRoute, redirect, render, sign_in_first
from storyline.web.security import FormDep, PageContext, PageDep

router = APIRouter(route_class=PageRoute, include_in_schema=False)

# The CLI listens on a loopback port for the token; nothing else may receive one.
CLI_CALLBACK = "http://127.0.0.1:{port}/callback"


@router.get("/account")
def account(ctx: PageDep) -> Response:
    if ctx.signed_in is None:
        return sign_in_first(ctx)
    with ctx.container.db.read() as session:
        sessions = web_sessions.count_sessions(session, user_id=ctx.signed_in.user_id)
    return render(ctx, "accounts/account.html", sessions=sessions)


@router.get("/settings/identities")
def identities_page(ctx: PageDep) -> Response:
    if ctx.signed_in is None:
        return sign_in_first(ctx)
    with ctx.container.db.read() as session:
        linked = identities.list_identities(session, actor=ctx.actor)
        has_password = local_accounts.has_password(session, user_id=ctx.signed_in.user_id)
    names = {p.name: p.display_name for p in ctx.settings.oidc_providers}
    return render(
        ctx,
        "accounts/identities.html",
        identities=linked,
        provider_names=names,
        providers=ctx.settings.oidc_providers,
        has_password=has_password,
    )


@router.post("/settings/identities/link/{provider}")
def link_identity(ctx: FormDep, provider: str) -> Response:
    if ctx.signed_in is None:
        return sign_in_first(ctx)
    return _begin(
        ctx, provider, next_url="/settings/identities", link_user_id=ctx.signed_in.user_id
    )


@router.post("/settings/identities/{identity_id}/unlink")
def unlink_identity(ctx: FormDep, identity_id: Id) -> Response:
    if ctx.signed_in is None:
        return sign_in_first(ctx)
    with ctx.container.db.write() as session:
        identities.unlink(session, actor=ctx.actor, identity_id=identity_id, client=ctx.client)
    return redirect(ctx, "/settings/identities")


def _tokens_page(
    ctx: PageContext, *, created: str | None = None, status: int = 200, error: str | None = None
) -> Response:
    assert ctx.signed_in is not None
    user_id = ctx.signed_in.user_id
    with ctx.container.db.read() as session:
        page = tokens.list_tokens(
            session,
            actor=ctx.actor,
            user_id=user_id,
            page=PageRequest(limit=500, sort_field="id", sort_dir="desc"),
        )
    return render(
        ctx,
        "accounts/tokens.html",
        status=status,
        tokens=page.items,
        created=created,
        error=error,
        now=utcnow(),
    )


@router.get("/settings/tokens")
def tokens_page(ctx: PageDep) -> Response:
    if ctx.signed_in is None:
        return sign_in_first(ctx)
    return _tokens_page(ctx)


def _expiry(days: str) -> int | None:
    days = days.strip()
    if not days:
        return None
    try:
        number = int(days)
    except ValueError:
        raise InvalidInput.field("expires_in_days", "must be a whole number of days") from None
    if number < 1:
        raise InvalidInput.field("expires_in_days", "must be at least 1")
    return int(dt.timedelta(days=number).total_seconds())


@router.post("/settings/tokens")
def create_token(
    ctx: FormDep,
    name: Annotated[str, Form()] = "",
    scope: Annotated[str, Form()] = "read",
    expires_in_days: Annotated[str, Form()] = "",
) -> Response:
    if ctx.signed_in is None:
        return sign_in_first(ctx)
    if scope not in {"read", "write"}:
        raise InvalidInput.field("scope", "must be read or write")
    data = TokenIn(
        name=name.strip() or None,
        scope="write" if scope == "write" else "read",
        expires_in=_expiry(expires_in_days),
    )
    with ctx.container.db.write() as session:
        _token, secret = tokens.create_token(
            session,
            actor=ctx.actor,
            user_id=ctx.signed_in.user_id,
            data=data,
            client=ctx.client,
            via="web",
        )
    return _tokens_page(ctx, created=secret)


@router.post("/settings/tokens/{token_id}/revoke")
def revoke_token(ctx: FormDep, token_id: Id) -> Response:
    if ctx.signed_in is None:
        return sign_in_first(ctx)
    with ctx.container.db.write() as session:
        tokens.delete_token(
            session,
            actor=ctx.actor,
            user_id=ctx.signed_in.user_id,
            token_id=token_id,
            client=ctx.client,
            via="web",
        )
    return redirect(ctx, "/settings/tokens")


def _cli_port(port: int) -> int:
    if not 1024 <= port <= 65535:
        raise InvalidInput.field("port", "must be a port number from 1024 to 65535")
    return port


@router.get("/settings/tokens/cli")
def authorize_cli_form(ctx: PageDep, port: int, state: str) -> Response:
    """`storyline login URL` sends the person here to approve a token for the CLI."""
    if ctx.signed_in is None:
        return sign_in_first(ctx)
    # The form's answer redirects to the CLI's port, which the page's
    # form-action must name (browsers check it on redirects).
    allow_form_action(ctx.request, origin_of(CLI_CALLBACK.format(port=_cli_port(port))))
    return render(ctx, "accounts/authorize_cli.html", port=port, state=state[:128])


@router.post("/settings/tokens/cli")
def authorize_cli(
    ctx: FormDep,
    port: Annotated[int, Form()],
    state: Annotated[str, Form()],
    scope: Annotated[str, Form()] = "write",
) -> Response:
    if ctx.signed_in is None:
        return sign_in_first(ctx)
    data = TokenIn(name="storyline CLI", scope="read" if scope == "read" else "write")
    with ctx.container.db.write() as session:
        _token, secret = tokens.create_token(
            session,
            actor=ctx.actor,
            user_id=ctx.signed_in.user_id,
            data=data,
            client=ctx.client,
            via="cli-login",
        )
    query = urlencode({"token": secret, "state": state[:128], "user_id": ctx.signed_in.user_id})
    return redirect(ctx, CLI_CALLBACK.format(port=_cli_port(port)) + "?" + query)


@router.get("/admin/audit")
def audit_log(
    ctx: PageDep,
    user_id: Id | None = None,
    event_type: str | None = None,
    marker: int | None = None,
) -> Response:
    if ctx.signed_in is None:
        return sign_in_first(ctx)
    require_superuser(ctx.actor)
    page_size = 100
    with ctx.container.db.read() as session:
        page = audit.list_events(
            session,
            actor=ctx.actor,
            filters=AuditFilter(user_id=user_id, event_type=event_type or None),
            page=PageRequest(limit=page_size, marker=marker, sort_field="id", sort_dir="desc"),
        )
    items = [(event, audit.details_of(event)) for event in page.items]
    more = len(page.items) == page_size
    return render(
        ctx,
        "accounts/audit.html",
        events=items,
        total=page.total,
        user_id=user_id,
        event_type=event_type or "",
        event_types=sorted(audit.ALL),
        next_marker=page.items[-1].id if more else None,
    )
