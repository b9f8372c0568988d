"""Which of the app's dependencies may run in the thread pool."""

from __future__ import annotations

import inspect
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, _IncludedRouter
from fastapi.testclient import TestClient
from starlette.routing import BaseRoute

from storyline.api.deps import bounded_read
from storyline.app import create_app
from storyline.bootstrap import Container
from storyline.tracker.api import stories as stories_api
from storyline.web.security import page_context
from tests.factories import Factory

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


def test_bounded_reads_run_on_the_loop_only_where_the_database_is_in_process(
    container: Container, client: TestClient, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SQLite reads wait on no socket, so a thread would only add its
    # hand-off; PostgreSQL reads wait on the server, and the loop must not.
    threads: list[str] = []
    read_story = stories_api.current_story

    def recording(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.current_thread().name)
        return read_story(*args, **kwargs)

    monkeypatch.setattr(stories_api, "current_story", recording)
    user = factory.user()
    story = factory.story(user)
    answer = client.get(f"/v1/stories/{story['id']}", headers=user.headers)
    assert answer.status_code == 200
    assert answer.json()["id"] == story["id"]
    in_pool = [name.startswith("AnyIO worker thread") for name in threads]
    assert in_pool == [container.db.dialect == "postgresql"]
    # Errors come out as from any other route.
    missing = client.get("/v1/stories/999999", headers=user.headers)
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"


def test_a_bounded_read_needs_the_context_by_name() -> None:
    def handler(story_id: int) -> None:
        return None

    with pytest.raises(TypeError, match="ctx"):
        bounded_read(handler)
