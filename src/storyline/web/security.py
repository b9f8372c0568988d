"""Cookies, the signed-in user of a page request, and CSRF protection.

Two cookies, both HttpOnly and SameSite=Lax (Lax, not Strict, so that the
provider's redirect back to /auth/callback carries them), Secure when the
request came over HTTPS or the operator says so:

- `storyline_session`: the secret of a server-side session (services/web_sessions).
- `storyline_csrf`: a random value every browser gets on its first page.

CSRF: every form carries a token that is an HMAC, under the server's secret,
of the CSRF cookie and the session cookie ("signed double submit"). Another
site can make a browser send the cookies but can neither read them nor
compute the token. State-changing requests whose Origin is another origin, or
that the browser marks as cross-site, are refused before the token is looked at.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request, Response

from storyline.accounts import web_sessions
from storyline.accounts.audit import Client
from storyline.accounts.web_sessions import SignedIn
from storyline.config import Settings
from storyline.errors import PermissionDenied
from storyline.http.headers import served_securely
from storyline.http.runtime import Runtime, runtime
from storyline.kernel.access import ANONYMOUS, Actor

SESSION_COOKIE = "storyline_session"
CSRF_COOKIE = "storyline_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass
class PageContext:
    """What every page handler needs about the request."""

    request: Request
    container: Runtime
    secret: str
    signed_in: SignedIn | None
    csrf_cookie: str
    new_csrf_cookie: bool
    # Cookies to set or clear on whatever response the handler returns.
    set_session: str | None = None
    clear_session: bool = False
    flashes: list[str] = field(default_factory=list)

    @property
    def settings(self) -> Settings:
        return self.container.settings

    @property
    def actor(self) -> Actor:
        return self.signed_in.actor if self.signed_in is not None else ANONYMOUS

    @property
    def client(self) -> Client:
        return client_of(self.request)

    @property
    def session_cookie(self) -> str | None:
        return self.request.cookies.get(SESSION_COOKIE)

    @property
    def csrf_token(self) -> str:
        # After sign-in the session cookie changes, and so does the token.
        session = self.set_session if self.set_session is not None else self.session_cookie
        return csrf_token_for(self.secret, self.csrf_cookie, session)

    def base_url(self) -> str:
        if self.settings.public_url:
            return self.settings.public_url
        return str(self.request.base_url).rstrip("/")

    def secure(self) -> bool:
        return served_securely(self.settings, self.request.url.scheme)

    def apply_cookies(self, response: Response) -> Response:
        secure = self.secure()
        if self.new_csrf_cookie:
            response.set_cookie(
                CSRF_COOKIE,
                self.csrf_cookie,
                httponly=True,
                samesite="lax",
                secure=secure,
                path="/",
            )
        if self.set_session is not None:
            response.set_cookie(
                SESSION_COOKIE,
                self.set_session,
                max_age=int(self.settings.session_lifetime.total_seconds()),
                httponly=True,
                samesite="lax",
                secure=secure,
                path="/",
            )
        elif self.clear_session:
            response.delete_cookie(
                SESSION_COOKIE, path="/", httponly=True, samesite="lax", secure=secure
            )
        return response


def client_of(request: Request) -> Client:
    # Behind a trusted proxy, the client it names (`http.proxies`).
    host = request.client.host if request.client is not None else None
    return Client(ip=host, user_agent=request.headers.get("user-agent"))


def csrf_token_for(secret: str, csrf_cookie: str, session_cookie: str | None) -> str:
    bound = hashlib.sha256((session_cookie or "").encode()).hexdigest()
    message = f"csrf\x00{csrf_cookie}\x00{bound}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def page_context(request: Request) -> PageContext:
    container = runtime(request)
    secret = container.web_secret
    cookie = request.cookies.get(CSRF_COOKIE)
    new_cookie = not cookie or len(cookie) > 100
    if new_cookie:
        cookie = secrets.token_urlsafe(32)
    assert cookie is not None
    signed_in = None
    session_secret = request.cookies.get(SESSION_COOKIE)
    if session_secret:
        signed_in = web_sessions.signed_in(container.db, secret=session_secret)
    ctx = PageContext(
        request=request,
        container=container,
        secret=secret,
        signed_in=signed_in,
        csrf_cookie=cookie,
        new_csrf_cookie=new_cookie,
    )
    # A session cookie that no longer names a session is dropped from the browser.
    ctx.clear_session = bool(session_secret) and signed_in is None
    return ctx


def _same_origin(ctx: PageContext, origin: str) -> bool:
    own = ctx.base_url()
    scheme, _, rest = own.partition("://")
    return origin.rstrip("/") == f"{scheme}://{rest.split('/', 1)[0]}"


async def csrf_protect(
    request: Request, ctx: Annotated[PageContext, Depends(page_context)]
) -> PageContext:
    """Refuse a state-changing request that did not come from our own pages."""
    if request.method not in UNSAFE_METHODS:
        return ctx
    refused = PermissionDenied(
        "This form was sent from another site, or the page was open too long; "
        "go back, reload the page and try again.",
        code="csrf_failed",
    )
    if request.headers.get("sec-fetch-site") == "cross-site":
        raise refused
    origin = request.headers.get("origin")
    if origin and origin != "null" and not _same_origin(ctx, origin):
        raise refused
    if origin == "null":
        raise refused
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    # A browser without the cookie cannot have received a token for it.
    if ctx.new_csrf_cookie or not sent or not hmac.compare_digest(sent, ctx.csrf_token):
        raise refused
    return ctx


PageDep = Annotated[PageContext, Depends(page_context)]
FormDep = Annotated[PageContext, Depends(csrf_protect)]
