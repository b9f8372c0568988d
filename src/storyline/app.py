"""The one HTTP edge: the JSON API under /v1 and the pages, composed from the
subsystems, with errors translated to HTTP in one place.

Each subsystem offers its API routes (`<name>.api.ROUTERS`), its pages
(`<name>.pages.ROUTERS`), the panels it shows on other subsystems' pages
(`<name>.pages.PANELS`), and its `templates/` and `static/` folders; this
module mounts them in the order of `storyline.subsystems.SUBSYSTEMS`. The
API and the pages never import each other; only this module sees both.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from types import ModuleType
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.types import ASGIApp

from storyline import __version__, subsystems, web
from storyline.api import system
from storyline.api.deps import check_api_request
from storyline.api.preconditions import ETags
from storyline.bootstrap import Container
from storyline.config import Settings
from storyline.http import errors
from storyline.http.headers import SecurityHeaders
from storyline.http.limits import BodyLimit
from storyline.http.proxies import TrustedProxies
from storyline.http.routing import RouteIndex
from storyline.web.panels import Panel


def _offered(modules: list[ModuleType], name: str) -> Iterator[Any]:
    for module in modules:
        yield from getattr(module, name, ())


def api_routers() -> tuple[APIRouter, ...]:
    """Every /v1 router in the order FastAPI tries them: the system's, then
    each subsystem's (busiest first, see `SUBSYSTEMS`), then the routers whose
    paths swallow the rest (`CATCH_ALL_ROUTERS`: a project by a name with
    slashes), so that no subsystem's route below them is shadowed."""
    parts = subsystems.parts("api")
    return (
        system.router,
        *_offered(parts, "ROUTERS"),
        *_offered(parts, "CATCH_ALL_ROUTERS"),
    )


class _Edge(FastAPI):
    """The app with the edge's own middlewares around everything, FastAPI's
    handling of unexpected errors included, so that a 500 answer carries the
    security headers too (`add_middleware` would put them inside it)."""

    def build_middleware_stack(self) -> ASGIApp:
        settings: Settings = self.state.container.settings
        app: ASGIApp = SecurityHeaders(super().build_middleware_stack(), settings=settings)
        # Outermost: the client and scheme are settled before anything, the
        # security headers' HSTS included, looks at them.
        return TrustedProxies(
            app, networks=settings.trusted_proxies, header=settings.forwarded_header
        )


def create_app(container: Container) -> FastAPI:
    app = _Edge(
        title="Storyline API",
        version=__version__,
        summary="StoryBoard API v1 compatible tracker API.",
        openapi_url="/v1/openapi.json",
        # Served by `_api_docs`, with the policy Swagger UI needs.
        docs_url=None,
        redoc_url=None,
    )
    app.state.container = container
    # The sign-in pages' relying party, built once by the composition root.
    app.state.oidc = container.oidc
    errors.install(app)
    app.add_middleware(ETags)
    app.add_middleware(BodyLimit, max_bytes=container.settings.max_body_bytes)
    # Each resource router is included directly under /v1 rather than through
    # one /v1 router: FastAPI matches nested routers once per level, so a
    # nesting level costs a full second pass over every route.
    for router in api_routers():
        app.include_router(
            router,
            prefix="/v1",
            dependencies=[Depends(check_api_request)],
            responses=errors.ERROR_RESPONSES,
        )
    pages = subsystems.parts("pages")
    panels: list[Panel] = list(_offered(pages, "PANELS"))
    web.install(
        app,
        routers=_offered(pages, "ROUTERS"),
        panels=panels,
        templates=subsystems.folders("templates"),
        static=[f"storyline.{name}" for name in subsystems.with_folder("static")],
    )

    _api_docs(app)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        with container.db.read() as session:
            session.connection().exec_driver_sql("SELECT 1")
        return {"status": "ok"}

    app.router.middleware_stack = RouteIndex(app.router)
    return app


_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def _api_docs(app: FastAPI) -> None:
    """/v1/docs: Swagger UI, which comes from its CDN and starts with an inline
    script. That page alone may load from the CDN, and runs that one script
    by its hash; every other response keeps the strict policy."""

    @app.get("/v1/docs", include_in_schema=False)
    def api_docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        page = get_swagger_ui_html(
            openapi_url=root + (app.openapi_url or ""), title=f"{app.title} - Swagger UI"
        )
        body = bytes(page.body).decode()
        hashes = " ".join(
            "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
            for script in _INLINE_SCRIPT.findall(body)
        )
        cdn = "https://cdn.jsdelivr.net"
        page.headers["Content-Security-Policy"] = (
            f"default-src 'self'; script-src 'self' {cdn} {hashes}; style-src 'self' {cdn}; "
            "img-src 'self' data: https://fastapi.tiangolo.com; object-src 'none'; "
            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
        )
        return page
