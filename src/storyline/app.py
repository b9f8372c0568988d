"""The one HTTP edge: the JSON API under /v1 and the pages, composed from the
subsystems, with errors translated to HTTP in one place.

Each subsystem offers its API routes (`<name>.api.ROUTERS`), its pages
(`<name>.pages.ROUTERS`), the panels it shows on other subsystems' pages
(`<name>.pages.PANELS`), and its `templates/` and `static/` folders; this
module mounts them in the order of `storyline.subsystems.SUBSYSTEMS`. The
API and the pages never import each other; only this module sees both.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType
from typing import Any

from fastapi import APIRouter, Depends, FastAPI

from storyline import __version__, subsystems, web
from storyline.api import system
from storyline.api.deps import reject_unknown_params
from storyline.bootstrap import Container
from storyline.http import errors
from storyline.http.input import check_input
from storyline.http.limits import BodyLimit
from storyline.web.panels import Panel


def _offered(modules: list[ModuleType], name: str) -> Iterator[Any]:
    for module in modules:
        yield from getattr(module, name, ())


def api_routers() -> tuple[APIRouter, ...]:
    """Every /v1 router in the order FastAPI tries them: the system's, then
    each subsystem's (busiest first, see `SUBSYSTEMS`)."""
    return (system.router, *_offered(subsystems.parts("api"), "ROUTERS"))


def create_app(container: Container) -> FastAPI:
    app = FastAPI(
        title="Storyline API",
        version=__version__,
        summary="StoryBoard API v1 compatible tracker API.",
        openapi_url="/v1/openapi.json",
        docs_url="/v1/docs",
        redoc_url=None,
    )
    app.state.container = container
    # The sign-in pages' relying party, built once by the composition root.
    app.state.oidc = container.oidc
    errors.install(app)
    app.add_middleware(BodyLimit, max_bytes=container.settings.max_body_bytes)
    # Each resource router is included directly under /v1 rather than through
    # one /v1 router: FastAPI matches nested routers once per level, so a
    # nesting level costs a full second pass over every route.
    for router in api_routers():
        app.include_router(
            router,
            prefix="/v1",
            dependencies=[Depends(reject_unknown_params), Depends(check_input)],
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

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        with container.db.read() as session:
            session.connection().exec_driver_sql("SELECT 1")
        return {"status": "ok"}

    return app
