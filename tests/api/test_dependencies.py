"""Which of the app's dependencies may run in the thread pool."""

from __future__ import annotations

import inspect
from collections.abc import Iterator

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, _IncludedRouter
from starlette.routing import BaseRoute

from storyline.app import create_app
from storyline.bootstrap import Container
from storyline.web.security import page_context

# Dependencies that query the database: these block, so FastAPI must run
# them in its thread pool.
BLOCKING = {page_context}


def _routes(routes: list[BaseRoute]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, _IncludedRouter):
            yield from _routes(route.original_router.routes)
        elif isinstance(route, APIRoute):
            yield route


def _dependencies(dependant: Dependant) -> Iterator[Dependant]:
    for sub in dependant.dependencies:
        yield sub
        yield from _dependencies(sub)


def test_only_dependencies_that_block_run_in_a_thread(container: Container) -> None:
    # A plain `def` dependency costs a thread hop on every request that uses
    # it; one that only reads the request should be `async def`.
    routes = list(_routes(create_app(container).routes))
    assert len(routes) > 100
    in_threads = {
        dependency.call
        for route in routes
        for dependency in _dependencies(route.dependant)
        if dependency.call is not None and not inspect.iscoroutinefunction(dependency.call)
    }
    assert in_threads == BLOCKING
