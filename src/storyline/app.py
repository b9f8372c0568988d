"""The ASGI application factory."""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI

from storyline import __version__
from storyline.accounts.api import teams, user_preferences, user_tokens, users
from storyline.api import system
from storyline.api.deps import check_input, reject_unknown_params
from storyline.bootstrap import Container
from storyline.http import errors
from storyline.lists.api import boards, due_dates, worklists
from storyline.notifications.api import subscriptions, webhooks
from storyline.tracker.api import (
    branches,
    comments,
    events,
    milestones,
    project_groups,
    projects,
    search,
    stories,
    story_links,
    tags,
    tasks,
)
from storyline.web import mount as web

# Every /v1 resource router. Order matters where paths overlap, and for
# speed: FastAPI tries routes in order, so the busiest resources come first.
ROUTERS: tuple[APIRouter, ...] = (
    system.router,
    # Before the resource routers: their /{id} paths would take "search".
    search.router,
    stories.router,
    tasks.router,
    comments.router,
    story_links.router,
    events.router,
    tags.router,
    projects.router,
    project_groups.router,
    branches.router,
    milestones.router,
    users.router,
    user_preferences.router,
    user_tokens.router,
    teams.router,
    worklists.router,
    boards.router,
    due_dates.router,
    subscriptions.router,
    webhooks.router,
)


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
    errors.install(app)
    # Each resource router is included directly under /v1 rather than through
    # one /v1 router: FastAPI matches nested routers once per level, so a
    # nesting level costs a full second pass over every route.
    for router in ROUTERS:
        app.include_router(
            router,
            prefix="/v1",
            dependencies=[Depends(reject_unknown_params), Depends(check_input)],
            responses=errors.ERROR_RESPONSES,
        )
    # The server-rendered pages (sign-in, settings) share the process.
    web.mount(app, container)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        with container.db.read() as session:
            session.connection().exec_driver_sql("SELECT 1")
        return {"status": "ok"}

    return app
