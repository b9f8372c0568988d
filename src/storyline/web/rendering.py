"""Templates, page responses and error pages."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates

from storyline.api.errors import error_response, status_for
from storyline.errors import InvalidInput, StorylineError
from storyline.web.security import PageContext, page_context

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"


def make_templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES))
    templates.env.globals["quote"] = quote
    return templates


def render(ctx: PageContext, name: str, *, status: int = 200, **values: Any) -> HTMLResponse:
    templates: Jinja2Templates = ctx.request.app.state.templates
    response = templates.TemplateResponse(
        ctx.request,
        name,
        {"ctx": ctx, "user": ctx.signed_in, "csrf_token": ctx.csrf_token, **values},
        status_code=status,
    )
    ctx.apply_cookies(response)
    return response


def redirect(ctx: PageContext, url: str) -> RedirectResponse:
    # 303: the browser follows a form post with a GET.
    response = RedirectResponse(url, status_code=303)
    ctx.apply_cookies(response)
    return response


def safe_next(value: str | None, default: str = "/account") -> str:
    """A local path to go to after signing in; anything else would make us an
    open redirector."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return default
    if any(c in value for c in "\r\n\t"):
        return default
    return value


def wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def error_page(request: Request, error: StorylineError) -> Response:
    status = status_for(error)
    if wants_json(request):
        return error_response(status, error.code, error.message, error.details)
    try:
        ctx = page_context(request)
    except StorylineError:
        # The database itself may be what failed; show the page without a user.
        templates: Jinja2Templates = request.app.state.templates
        return templates.TemplateResponse(
            request,
            "error.html",
            {"ctx": None, "user": None, "csrf_token": "", "error": error, "error_status": status},
            status_code=status,
        )
    return render(ctx, "error.html", status=status, error=error, error_status=status)


class PageRoute(APIRoute):
    """Pages answer errors with an HTML page (or JSON to clients that ask
    for it), not with the API's JSON body."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except StorylineError as error:
                return error_page(request, error)
            except RequestValidationError as error:
                fields = ", ".join(str(item.get("loc", ("?",))[-1]) for item in error.errors())
                return error_page(
                    request,
                    InvalidInput(f"The form is missing or has invalid fields: {fields}."),
                )

        return page_handler
