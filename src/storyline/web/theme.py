"""The colour theme: "system" (follow the browser), "light" or "dark".

The page is rendered with the theme already on <html data-theme>, so there
is no flash of the wrong colours and no script is needed. The choice lives in
a cookie, so that reading it costs nothing; a signed-in person's choice is
also a preference, and a browser without the cookie (a new device) picks it
up from the preference once and keeps it in the cookie from then on.
"""

from __future__ import annotations

from fastapi import Request, Response

from storyline.accounts import preferences
from storyline.web.security import PageContext

THEMES = ("system", "light", "dark")
COOKIE = "storyline_theme"
PREFERENCE = "theme"
# A year: the choice is not a secret and should outlive sessions.
COOKIE_SECONDS = 365 * 24 * 3600


def from_cookie(request: Request) -> str:
    value = request.cookies.get(COOKIE, "")
    return value if value in THEMES else "system"


def current(ctx: PageContext) -> tuple[str, bool]:
    """The theme to render, and whether the cookie should be (re)written."""
    value = ctx.request.cookies.get(COOKIE)
    if value in THEMES:
        return value, False
    if ctx.signed_in is None:
        return "system", False
    with ctx.container.db.read() as session:
        prefs = preferences.get_preferences(session, actor=ctx.actor, user_id=ctx.signed_in.user_id)
    stored = prefs.get(PREFERENCE)
    return (stored if isinstance(stored, str) and stored in THEMES else "system"), True


def set_cookie(ctx: PageContext, response: Response, value: str) -> None:
    response.set_cookie(
        COOKIE,
        value,
        max_age=COOKIE_SECONDS,
        httponly=True,
        samesite="lax",
        secure=ctx.secure(),
        path="/",
    )
