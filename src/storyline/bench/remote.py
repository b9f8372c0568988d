"""`storyline bench --target URL --token T`: any StoryBoard-API server, through
its API only.

The same client for every server: it seeds the server (`seed`, or reuses
what is there), finds the ids it needs through the API, then measures each
request type with one client (median, p99) and with `clients` clients at
once (median, p99, requests per second). The stories its POSTs create are
deleted again at the end (and at the start, after an interrupted run), so
that a second run measures the same data set.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from storyline.bench.cases import Case, Request
from storyline.bench.client import REQUEST_TIMEOUT, Runner, describe, percentile
from storyline.bench.results import BenchOptions, CaseResult
from storyline.bench.seed import (
    COMMON_WORD,
    PAGE,
    RARE_WORD,
    Seeder,
    SeedError,
    SeedReport,
    expect,
    project_name,
    story_marker,
    total,
)
from storyline.bench.wire import Connection, WireError

# In the title of every story the benchmark's POSTs create, to find and
# delete them afterwards.
POST_MARKER = "[bench-post]"
# Stories whose ids the reads cycle through, picked across the data set.
SAMPLE_PAGES = 5
CLEANUP_THREADS = 4


@dataclass(frozen=True, kw_only=True)
class RemoteOptions:
    target: str
    token: str
    seed_stories: int = 5000
    projects: int = 20
    clients: int = 8
    requests: int = 100
    duration: float = 10.0
    seed: int = 1
    seed_threads: int = 4
    seed_seconds: float = 3600.0
    # Upper bound on the time spent measuring one request type at one client.
    case_seconds: float = 120.0

    @property
    def api_root(self) -> str:
        return self.target.rstrip("/") + "/"


@dataclass
class Concurrent:
    clients: int
    count: int = 0
    errors: int = 0
    median_ms: float | None = None
    p99_ms: float | None = None
    per_second: float | None = None


@dataclass
class RemoteCase:
    name: str
    label: str
    single: CaseResult
    concurrent: Concurrent


@dataclass
class RemoteResult:
    target: str
    server: str
    seed: SeedReport
    clients: int
    cases: list[RemoteCase] = field(default_factory=list)
    deleted: int = 0
    notes: list[str] = field(default_factory=list)

    def case(self, name: str) -> RemoteCase | None:
        return next((c for c in self.cases if c.name == name), None)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Targets:
    """The ids the requests use, found through the API."""

    project: int
    story_ids: list[int]


def connector(options: RemoteOptions) -> Callable[[], Connection]:
    def connect() -> Connection:
        return Connection(
            options.api_root,
            timeout=REQUEST_TIMEOUT,
            headers={"Authorization": f"Bearer {options.token}"},
        )

    return connect


def run_remote(
    options: RemoteOptions,
    console: Console,
    *,
    after_seeding: Callable[[], str | None] | None = None,
) -> RemoteResult:
    """Seed the target through its API (or reuse what it holds), then measure
    it. `after_seeding` runs in between; what it answers goes to the notes."""
    connect = connector(options)
    load_before = os.getloadavg()[0]
    with connect() as client:
        response = client.get("systeminfo")
        server = describe_server(expect(response, "GET /v1/systeminfo").json())
    seeder = Seeder(
        connect,
        seed=options.seed,
        stories=options.seed_stories,
        projects=options.projects,
        threads=options.seed_threads,
        seconds=options.seed_seconds,
    )
    report = seeder.run(console)
    result = RemoteResult(
        target=options.target, server=server, seed=report, clients=options.clients
    )
    if not report.complete:
        result.notes.append(
            f"Seeding stopped at {report.stories:,} of {options.seed_stories:,} stories "
            f"(the {options.seed_seconds:.0f} s limit); a second run adds the rest."
        )
    if after_seeding is not None:
        note = after_seeding()
        if note:
            result.notes.append(note)
    with connect() as client:
        result.deleted += delete_benchmark_stories(connect, client)
        targets = find_targets(client, options.seed, report)
    runner = Runner(
        options.api_root,
        BenchOptions(
            requests=options.requests,
            duration=options.duration,
            concurrency=options.clients,
            case_seconds=options.case_seconds,
        ),
        token=options.token,
    )
    progress = Progress(
        TextColumn("{task.description:<40}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )
    try:
        with progress:
            for case in remote_cases(targets):
                outcome = RemoteCase(
                    case.name, case.label, CaseResult(case.name, case.label), Concurrent(0)
                )
                step = progress.add_task(case.label[:40], total=options.requests + 1)
                runner.measure(case, outcome.single, lambda step=step: progress.advance(step))  # type: ignore[misc]
                progress.update(step, completed=options.requests)
                outcome.concurrent = concurrent(runner, case, options.clients)
                progress.update(step, completed=options.requests + 1)
                result.cases.append(outcome)
    finally:
        with connect() as client:
            result.deleted += delete_benchmark_stories(connect, client)
    load_after = os.getloadavg()[0]
    cores = os.cpu_count() or 1
    if max(load_before, load_after) > cores:
        result.notes.append(
            f"The machine was busy: load average {load_before:.1f} before and "
            f"{load_after:.1f} after the run, on {cores} cores."
        )
    return result


def describe_server(info: dict[str, Any]) -> str:
    version = info.get("version")
    return f"version {version}" if version else "unknown version"


def concurrent(runner: Runner, case: Case, clients: int) -> Concurrent:
    latencies: list[float] = []
    rate, errors = runner.throughput(case, clients, latencies)
    outcome = Concurrent(clients, count=len(latencies), errors=errors, per_second=rate)
    if latencies:
        outcome.median_ms = percentile(latencies, 0.5)
        outcome.p99_ms = percentile(latencies, 0.99)
    return outcome


def find_targets(client: Connection, seed: int, report: SeedReport) -> Targets:
    """The first (busiest) seeded project, and story ids spread over the data set."""
    marker = story_marker(seed)
    count = total(
        expect(client.get("stories", params={"title": marker, "limit": 1}), "counting stories")
    )
    if count == 0:
        raise SeedError("the server holds no seeded story")
    ids: list[int] = []
    offsets = sorted({count * k // SAMPLE_PAGES for k in range(SAMPLE_PAGES)})
    for offset in offsets:
        response = client.get(
            "stories",
            params={
                "title": marker,
                "limit": 100,
                "offset": offset,
                "sort_field": "id",
                "sort_dir": "asc",
            },
        )
        ids.extend(story["id"] for story in expect(response, "listing stories").json())
    return Targets(
        project=report.projects[project_name(seed, 0)],
        story_ids=list(dict.fromkeys(ids)),
    )


def remote_cases(targets: Targets) -> list[Case]:
    """The request types, in the order they are measured; the POST last, so
    that the stories it adds are not in the reads' data."""
    ids = targets.story_ids

    def story(i: int) -> int:
        return ids[i % len(ids)]

    return [
        Case(
            "list",
            "GET /v1/stories?limit=100",
            lambda i: Request("GET", "stories", {"limit": 100}),
        ),
        Case(
            "list_project",
            "GET /v1/stories?limit=100&project_id=P",
            lambda i: Request("GET", "stories", {"limit": 100, "project_id": targets.project}),
        ),
        Case("get", "GET /v1/stories/{id}", lambda i: Request("GET", f"stories/{story(i)}")),
        Case(
            "tasks",
            "GET /v1/stories/{id}/tasks",
            lambda i: Request("GET", f"stories/{story(i)}/tasks"),
        ),
        Case(
            "search_rare",
            f"GET /v1/stories/search?q={RARE_WORD}",
            lambda i: Request("GET", "stories/search", {"q": RARE_WORD, "limit": 100}),
        ),
        Case(
            "search_common",
            f"GET /v1/stories/search?q={COMMON_WORD}",
            lambda i: Request("GET", "stories/search", {"q": COMMON_WORD, "limit": 100}),
        ),
        Case(
            "create_story",
            "POST /v1/stories",
            lambda i: Request(
                "POST",
                "stories",
                json={
                    "title": f"Benchmark new story {i} {POST_MARKER}",
                    "description": "Written by the benchmark, deleted after the run.",
                },
                auth=True,
            ),
        ),
    ]


def delete_benchmark_stories(connect: Callable[[], Connection], client: Connection) -> int:
    """Deletes the stories the benchmark's POSTs created (superuser only);
    returns how many went."""
    deleted = 0
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        response = client.get(
            "stories", params={"title": POST_MARKER, "limit": PAGE, "sort_field": "id"}
        )
        ids = [story["id"] for story in expect(response, "listing benchmark stories").json()]
        if not ids:
            break
        gone = _delete_stories(connect, ids)
        if gone == 0:
            raise SeedError(
                "the benchmark's own stories could not be deleted: "
                f"{describe(client.delete(f'stories/{ids[0]}'), None)}"
            )
        deleted += gone
    return deleted


def _delete_stories(connect: Callable[[], Connection], ids: list[int]) -> int:
    pending = list(ids)
    lock = threading.Lock()
    gone = 0

    def work() -> None:
        nonlocal gone
        with connect() as client:
            while True:
                with lock:
                    if not pending:
                        return
                    story_id = pending.pop()
                try:
                    answer = client.delete(f"stories/{story_id}")
                except WireError:
                    continue
                if answer.status_code in (200, 204):
                    with lock:
                        gone += 1

    pool = [threading.Thread(target=work, daemon=True) for _ in range(CLEANUP_THREADS)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(REQUEST_TIMEOUT * len(ids))
    return gone
