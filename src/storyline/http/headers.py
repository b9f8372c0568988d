"""Security headers on every response, pages and API alike.

The Content-Security-Policy lets a page load scripts, styles, images and
connections from this server only; no inline script or style runs (the
templates have none, and htmx is told not to add its indicator style), so a
bug that lets text through as markup still cannot run script. Forms may go to
this server and to the sign-in providers (whose sign-in pages the OpenID
Connect form redirects to; browsers check `form-action` on redirects too).
No other site may frame a page (`frame-ancestors` and, for older browsers,
X-Frame-Options), which stops clickjacking of the forms.

A response that needs another policy (the interactive API documentation,
which loads Swagger UI from its CDN) sets its own Content-Security-Policy,
and it is kept; a page whose form leads elsewhere (the command line's
sign-in, to its loopback port) adds the origin with `allow_form_action`.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from storyline.config import Settings

_FORM_ACTION = "storyline_form_action"

# Only what a response of ours could ever use: nothing of another origin.
_DIRECTIVES = (
    "default-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
)
FIXED = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # Other sites learn nothing of the pages people come from (story ids and
    # titles are in our URLs); our own pages still see where a form came from.
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def served_securely(settings: Settings, scheme: str) -> bool:
    """Whether a request reached us over HTTPS, as far as cookies and HSTS are
    concerned: the operator says so (STORYLINE_SECURE_COOKIES), or the scheme
    does (after `proxies.TrustedProxies` has believed a trusted proxy)."""
    if settings.secure_cookies is not None:
        return settings.secure_cookies
    return scheme in {"https", "wss"}


def content_security_policy(form_action: Iterable[str]) -> str:
    sources = " ".join(dict.fromkeys(("'self'", *form_action)))
    return "; ".join((*_DIRECTIVES, f"form-action {sources}"))


def allow_form_action(request: Request, origin: str) -> None:
    """Let this response's forms lead to `origin` as well."""
    # The scope's state is what the middleware sees once the response starts.
    allowed: list[str] = request.scope.setdefault("state", {}).setdefault(_FORM_ACTION, [])
    allowed.append(origin)


class SecurityHeaders:
    """ASGI middleware adding the security headers to every HTTP response."""

    def __init__(self, app: ASGIApp, *, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.form_action = (
            *(origin_of(p.issuer) for p in settings.oidc_providers),
            *settings.csp_form_action,
        )
        self.policy = content_security_policy(self.form_action)
        # Not includeSubDomains: other hosts of the operator's domain are
        # theirs to decide.
        self.hsts = f"max-age={settings.hsts_seconds}" if settings.hsts_seconds else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                self._add(scope, MutableHeaders(scope=message))
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _add(self, scope: Scope, headers: MutableHeaders) -> None:
        if "content-security-policy" not in headers:
            extra = scope.get("state", {}).get(_FORM_ACTION, ())
            policy = content_security_policy((*self.form_action, *extra)) if extra else self.policy
            headers["Content-Security-Policy"] = policy
        for name, value in FIXED.items():
            if name not in headers:
                headers[name] = value
        if self.hsts is not None and served_securely(self.settings, scope["scheme"]):
            headers["Strict-Transport-Security"] = self.hsts
