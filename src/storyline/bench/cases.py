"""The request types measured, each a function of the iteration number."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from storyline.bench.fixture import Fixture

# The API reads: measured for latency and for throughput.
READS = ("list", "list_project", "get", "search")
# The web pages, requested as a signed-in browser (the session cookie); read
# only, and measured for latency (their throughput follows the API's).
PAGES = ("page_dashboard", "page_project", "page_story", "page_search")
SEARCH_WORD = "network"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    params: dict[str, Any] | None = None
    json: Any = None
    auth: bool = False
    expect: int = 200


@dataclass
class Case:
    name: str
    label: str
    build: Callable[[int], Request]


def cases(fixture: Fixture, state: dict[str, int]) -> list[Case]:
    """The request types, each a function of the iteration number."""
    story_ids = fixture.story_ids
    statuses = ("inprogress", "review", "todo")

    def task_target() -> int:
        return state.get("task_id", fixture.shared_tasks[0] if fixture.shared_tasks else 1)

    return [
        Case(
            "list",
            "GET /v1/stories?limit=100",
            lambda i: Request("GET", "/v1/stories", {"limit": 100}),
        ),
        Case(
            "list_project",
            f"GET /v1/stories?limit=100&project_id={fixture.big_project}",
            lambda i: Request(
                "GET", "/v1/stories", {"limit": 100, "project_id": fixture.big_project}
            ),
        ),
        Case(
            "get",
            "GET /v1/stories/{id}",
            lambda i: Request("GET", f"/v1/stories/{story_ids[i % len(story_ids)]}"),
        ),
        Case(
            "search",
            f"GET /v1/stories/search?q={SEARCH_WORD}&limit=100",
            lambda i: Request("GET", "/v1/stories/search", {"q": SEARCH_WORD, "limit": 100}),
        ),
        Case(
            "page_dashboard",
            "page GET / (dashboard, signed in)",
            lambda i: Request("GET", "/"),
        ),
        Case(
            "page_project",
            f"page GET /projects/{fixture.big_project_name}",
            lambda i: Request("GET", f"/projects/{fixture.big_project_name}"),
        ),
        Case(
            "page_story",
            "page GET /stories/{id}",
            lambda i: Request("GET", f"/stories/{story_ids[i % len(story_ids)]}"),
        ),
        Case(
            "page_search",
            f"page GET /search?q={SEARCH_WORD}",
            lambda i: Request("GET", "/search", {"q": SEARCH_WORD}),
        ),
        Case(
            "create_story",
            "POST /v1/stories",
            lambda i: Request(
                "POST",
                "/v1/stories",
                json={
                    "title": f"Benchmark story {i}",
                    "description": "Written by the benchmark.",
                },
                auth=True,
            ),
        ),
        Case(
            "create_task",
            "POST /v1/tasks",
            lambda i: Request(
                "POST",
                "/v1/tasks",
                json={
                    "title": f"Benchmark task {i}",
                    "story_id": fixture.write_story,
                    "project_id": fixture.big_project,
                },
                auth=True,
            ),
        ),
        Case(
            "update_task",
            "PUT /v1/tasks/{id} (status)",
            lambda i: Request(
                "PUT",
                f"/v1/tasks/{task_target()}",
                json={"status": statuses[i % len(statuses)]},
                auth=True,
            ),
        ),
    ]
