"""Mounts the pages, their static files and their per-process state into the app."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from storyline.accounts.oidc import OidcClient
from storyline.accounts.pages import account, admin, auth, settings
from storyline.accounts.web_sessions import server_secret
from storyline.bootstrap import Container
from storyline.lists.pages import worklists
from storyline.tracker.pages import dashboard, projects, search, stories
from storyline.web import vendor
from storyline.web.rendering import STATIC, html_error, make_templates

# Page routers, in order.
ROUTERS = (
    auth.router,
    account.router,
    settings.router,
    admin.router,
    dashboard.router,
    projects.router,
    stories.router,
    search.router,
    worklists.router,
)


def mount(app: FastAPI, container: Container) -> None:
    templates = make_templates()
    scripts = vendor.available()
    templates.env.globals["vendor"] = {name: file.url for name, file in scripts.items()}
    app.state.templates = templates
    app.state.web_secret = server_secret(container.settings)
    app.state.oidc = OidcClient(container.settings)
    # storyline.http.errors renders errors of page requests with it.
    app.state.error_page = html_error
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    app.include_router(vendor.router_for(scripts))
    for router in ROUTERS:
        app.include_router(router)
