"""The HTTP side: requests sent over keep-alive connections, their latency,
the throughput of concurrent clients and the concurrent writers."""

from __future__ import annotations

import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from storyline.bench.cases import Case, Request
from storyline.bench.fixture import Fixture
from storyline.bench.results import BenchOptions, CaseResult
from storyline.bench.wire import Connection, Reply, WireError

REQUEST_TIMEOUT = 30.0


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def send(client: Connection, request: Request, token: str) -> Reply:
    headers = {"Authorization": f"Bearer {token}"} if request.auth else None
    return client.request(
        request.method, request.path, params=request.params, json=request.json, headers=headers
    )


def describe(response: Reply | None, error: Exception | None) -> str:
    if error is not None:
        return f"{type(error).__name__}: {error}"[:200]
    assert response is not None
    return f"HTTP {response.status_code}: {response.text[:160]}"


class Runner:
    """Sends the cases to the server at `base` as the holder of `token`: any
    StoryBoard-API server, or a Storyline one with a web session for the
    pages. `shared_tasks` are the tasks the concurrent writers update."""

    def __init__(
        self,
        base: str,
        options: BenchOptions,
        *,
        token: str,
        session_cookie: str | None = None,
        shared_tasks: Sequence[int] = (),
    ) -> None:
        self.base = base
        self.options = options
        self.token = token
        self.session_cookie = session_cookie
        self.shared_tasks = list(shared_tasks)

    @classmethod
    def for_fixture(cls, base: str, fixture: Fixture, options: BenchOptions) -> Runner:
        return cls(
            base,
            options,
            token=fixture.token,
            session_cookie=fixture.session_cookie,
            shared_tasks=fixture.shared_tasks,
        )

    def client(self) -> Connection:
        # One client per thread: a keep-alive connection, as a script would use.
        # It carries the web session's cookie for the pages (the API ignores
        # cookies) and keeps the cookies pages set, as a browser does.
        client = Connection(self.base, timeout=REQUEST_TIMEOUT)
        if self.session_cookie is not None:
            client.cookies["storyline_session"] = self.session_cookie
        return client

    def measure(self, case: Case, result: CaseResult, advance: Callable[[], None]) -> None:
        options = self.options
        warmup = max(3, min(20, options.requests // 10))
        latencies: list[float] = []
        deadline = time.monotonic() + options.case_seconds
        errors: Counter[str] = Counter()
        with self.client() as client:
            for i in range(warmup + options.requests):
                if time.monotonic() > deadline:
                    break
                request = case.build(i)
                started = time.perf_counter()
                response: Reply | None = None
                failure: Exception | None = None
                try:
                    response = send(client, request, self.token)
                except WireError as exc:
                    failure = exc
                elapsed = (time.perf_counter() - started) * 1000
                ok = response is not None and response.status_code == request.expect
                if i < warmup:
                    if not ok and i == warmup - 1 and len(errors) + 1 >= warmup:
                        errors[describe(response, failure)] += 1
                        break
                    if not ok:
                        errors[describe(response, failure)] += 1
                    continue
                advance()
                if ok:
                    latencies.append(elapsed)
                else:
                    errors[describe(response, failure)] += 1
        result.count = len(latencies)
        result.errors = sum(errors.values())
        result.error_samples = [f"{n} x {text}" for text, n in errors.most_common(3)]
        if latencies:
            result.median_ms = statistics.median(latencies)
            result.p95_ms = percentile(latencies, 0.95)
            result.p99_ms = percentile(latencies, 0.99)

    def throughput(
        self, case: Case, threads: int, latencies: list[float] | None = None
    ) -> tuple[float, int]:
        """Requests per second with `threads` clients for `duration` seconds;
        the latency in ms of each successful request goes to `latencies`."""
        counts = [0] * threads
        errors = [0] * threads
        cap = max(50, self.options.requests * 20)
        window: dict[str, float] = {}

        def start_clock() -> None:
            window["started"] = time.perf_counter()
            window["stop_at"] = time.monotonic() + self.options.duration

        # The window opens once every client is connected, and each client
        # sends at least one request: on a loaded machine, building the
        # clients could otherwise use up a short window and measure nothing.
        ready = threading.Barrier(threads, action=start_clock, timeout=REQUEST_TIMEOUT + 5)

        def work(index: int) -> None:
            with self.client() as client:
                ready.wait()
                i = index * 7919
                while counts[index] + errors[index] == 0 or (
                    time.monotonic() < window["stop_at"] and counts[index] + errors[index] < cap
                ):
                    request = case.build(i)
                    i += 1
                    started = time.perf_counter()
                    try:
                        response = send(client, request, self.token)
                        ok = response.status_code == request.expect
                    except WireError:
                        ok = False
                    if ok:
                        counts[index] += 1
                        if latencies is not None:
                            # list.append is atomic: the threads share the list.
                            latencies.append((time.perf_counter() - started) * 1000)
                    else:
                        errors[index] += 1

        pool = [threading.Thread(target=work, args=(n,), daemon=True) for n in range(threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join(self.options.duration + 2 * REQUEST_TIMEOUT + 10)
        elapsed = time.perf_counter() - window.get("started", time.perf_counter())
        return sum(counts) / max(elapsed, 1e-9), sum(errors)

    def concurrent_writers(self) -> dict[str, Any]:
        """Writers updating the statuses of tasks that share stories."""
        tasks = self.shared_tasks
        if not tasks:
            return {"skipped": "no story with three tasks"}
        writers = self.options.concurrency
        per_writer = self.options.writes_per_writer
        statuses = ("inprogress", "review", "merged", "todo", "invalid")
        done = [0] * writers
        failures: list[Counter[str]] = [Counter() for _ in range(writers)]
        deadline = time.monotonic() + self.options.case_seconds

        def work(index: int) -> None:
            with self.client() as client:
                for n in range(per_writer):
                    if time.monotonic() > deadline:
                        return
                    task = tasks[(index + n) % len(tasks)]
                    request = Request(
                        "PUT",
                        f"/v1/tasks/{task}",
                        json={"status": statuses[(index * 3 + n) % len(statuses)]},
                        auth=True,
                    )
                    response = None
                    failure = None
                    try:
                        response = send(client, request, self.token)
                    except WireError as exc:
                        failure = exc
                    if response is not None and response.status_code == 200:
                        done[index] += 1
                    else:
                        failures[index][describe(response, failure)] += 1

        started = time.perf_counter()
        pool = [threading.Thread(target=work, args=(n,), daemon=True) for n in range(writers)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join(self.options.case_seconds + REQUEST_TIMEOUT + 5)
        elapsed = time.perf_counter() - started
        errors: Counter[str] = Counter()
        for failure_counts in failures:
            errors.update(failure_counts)
        return {
            "writers": writers,
            "writes": sum(done),
            "errors": sum(errors.values()),
            "error_samples": [f"{n} x {text}" for text, n in errors.most_common(5)],
            "writes_per_second": sum(done) / elapsed if elapsed else 0.0,
        }
