"""Mounts the pages into the app: their routes, templates, static files,
front-end libraries, panels and the error page renderer.

The HTTP edge (`storyline.app`) calls `install` with what the subsystems
offer; the kit itself knows no subsystem.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from storyline.http.input import check_input
from storyline.web import vendor
from storyline.web.panels import Panel, by_slot
from storyline.web.rendering import html_error, make_templates


def install(
    app: FastAPI,
    *,
    routers: Iterable[APIRouter],
    panels: Iterable[Panel] = (),
    templates: Sequence[Path] = (),
    static: Sequence[str] = (),
) -> None:
    environment = make_templates(templates)
    scripts = vendor.available()
    environment.env.globals["vendor"] = {name: file.url for name, file in scripts.items()}
    app.state.templates = environment
    app.state.panels = by_slot(panels)
    # storyline.http.errors renders errors of page requests with it.
    app.state.error_page = html_error
    # The kit's files, then each subsystem package's `static/` folder: the
    # first that holds a name serves it.
    packages: list[str | tuple[str, str]] = [("storyline.web", "static")]
    packages += [(package, "static") for package in static]
    app.mount("/static", StaticFiles(packages=packages), name="static")
    app.include_router(vendor.router_for(scripts))
    for router in routers:
        # The same refusal of unstorable input as the API's (see app.py).
        app.include_router(router, dependencies=[Depends(check_input)])
