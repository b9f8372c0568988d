"""Templates, page responses and error pages."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from storyline.errors import Conflict, InvalidInput, StorylineError
from storyline.http.errors import respond, status_for
from storyline.kernel.validation import url_allowed
from storyline.web import theme
from storyline.web.security import PageContext, page_context

# The kit's own templates (the layout, macros, error page) and files; each
# subsystem adds its `templates/` and `static/` folders (see `web.install`).
TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

log = logging.getLogger(__name__)


def make_templates(folders: Sequence[Path] = ()) -> Jinja2Templates:
    """Templates from the kit's folder, then each subsystem's, in order.
    Subsystems name their templates under their own prefix ("lists/board.html")."""
    loader = ChoiceLoader([FileSystemLoader(str(folder)) for folder in (TEMPLATES, *folders)])
    templates = Jinja2Templates(env=Environment(loader=loader, autoescape=select_autoescape()))
    templates.env.globals["quote"] = quote
    templates.env.filters["link"] = link
    return templates


def link(url: str | None, text: str | None = None) -> Markup:
    """A link to a stored URL, for every href built from stored data: a web
    URL becomes a link, anything else (a `javascript:` URL written before
    URLs were checked) stays plain text."""
    shown = text if text is not None else (url or "")
    if not url_allowed(url):
        return Markup("{}").format(shown)
    return Markup('<a href="{}" rel="nofollow noopener noreferrer">{}</a>').format(url, shown)


def _page_values(ctx: PageContext, chosen: str) -> dict[str, Any]:
    return {
        "ctx": ctx,
        "user": ctx.signed_in,
        "csrf_token": ctx.csrf_token,
        "theme": chosen,
        "path": ctx.request.url.path,
    }


def render(ctx: PageContext, name: str, *, status: int = 200, **values: Any) -> HTMLResponse:
    templates: Jinja2Templates = ctx.request.app.state.templates
    chosen, remember = theme.current(ctx)
    response = templates.TemplateResponse(
        ctx.request, name, {**_page_values(ctx, chosen), **values}, status_code=status
    )
    ctx.apply_cookies(response)
    if remember:
        theme.set_cookie(ctx, response, chosen)
    return response


def fragment(ctx: PageContext, name: str, **values: Any) -> Markup:
    """A template rendered into part of a page (a panel), with the same
    values every page has."""
    templates: Jinja2Templates = ctx.request.app.state.templates
    chosen, _ = theme.current(ctx)
    html = templates.get_template(name).render({**_page_values(ctx, chosen), **values})
    return Markup(html)


def field_errors(error: StorylineError) -> dict[str, str]:
    """Messages by form field, for showing next to each field.

    InvalidInput carries a list of {field, message}; Conflict names its
    field in a dict. Anything not tied to a field is under "" (the form)."""
    errors: dict[str, str] = {}
    details = error.details
    if isinstance(details, list):
        for item in details:
            if isinstance(item, dict) and "field" in item:
                name = str(item["field"]).split(".")[-1]
                errors.setdefault(name, str(item.get("message", "")))
    elif isinstance(details, dict) and isinstance(details.get("field"), str):
        errors[details["field"]] = error.message
    if not errors or isinstance(error, Conflict):
        errors.setdefault("", error.message)
    return errors


def redirect(ctx: PageContext, url: str) -> RedirectResponse:
    # 303: the browser follows a form post with a GET.
    response = RedirectResponse(url, status_code=303)
    ctx.apply_cookies(response)
    return response


def sign_in_first(ctx: PageContext) -> Response:
    """Send an anonymous visitor to sign in, and back here afterwards."""
    target = ctx.request.url.path
    if ctx.request.url.query:
        target += "?" + ctx.request.url.query
    return redirect(ctx, "/login?next=" + quote(target, safe=""))


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
    return respond(request, status_for(error), error.code, error.message, error.details)


def html_error(request: Request, status: int, code: str, message: str) -> Response | None:
    """The error page for a browser's page request; None (JSON) for clients.

    Registered as `app.state.error_page` and called by storyline.http.errors,
    the one place that turns errors into responses. Page routes answer HTML
    unless the client asks for JSON only; any other path (an unknown URL, a
    static file) answers HTML only when the client accepts it."""
    if wants_json(request):
        return None
    is_page = isinstance(request.scope.get("route"), PageRoute)
    if not is_page and "text/html" not in request.headers.get("accept", ""):
        return None
    values = {"error_status": status, "error_code": code, "error_message": message}
    headers = {"Retry-After": "5"} if status == 503 else None
    ctx = None
    if status != 503:
        try:
            ctx = page_context(request)
        except Exception:
            # The database itself may be what failed; show the page without a user.
            log.warning("error page without a user: the session could not be read")
    if ctx is None:
        templates: Jinja2Templates = request.app.state.templates
        response: Response = templates.TemplateResponse(
            request,
            "error.html",
            {
                "ctx": None,
                "user": None,
                "csrf_token": "",
                "theme": theme.from_cookie(request),
                "path": request.url.path,
                **values,
            },
            status_code=status,
            headers=headers,
        )
        return response
    response = render(ctx, "error.html", status=status, **values)
    if headers:
        response.headers.update(headers)
    return response


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
