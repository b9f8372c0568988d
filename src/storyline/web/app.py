"""Mounts the pages, their static files and their per-process state into the app."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from storyline.bootstrap import Container
from storyline.services.oidc import OidcClient
from storyline.services.web_sessions import server_secret
from storyline.web import account, auth
from storyline.web.rendering import STATIC, make_templates

# Page routers, in order.
ROUTERS = (auth.router, account.router)


def mount(app: FastAPI, container: Container) -> None:
    app.state.templates = make_templates()
    app.state.web_secret = server_secret(container.settings)
    app.state.oidc = OidcClient(container.settings)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    for router in ROUTERS:
        app.include_router(router)
