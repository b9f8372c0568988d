"""`storyline bench`: the API against a loaded tier, through a real server.

The benchmark starts `storyline serve` (uvicorn) on 127.0.0.1 as a separate
process against a database loaded with a demo tier, and drives it with httpx
over keep-alive connections, the way a client would. Next to each request's
latency it reports the time of the SQL behind it, run directly through
SQLAlchemy against the same database, so that the overhead of the HTTP, ORM
and serialization layers is visible as a ratio.

Every loop is bounded by a request count and by a deadline, the server is
stopped by its PID whatever happens, and a request type that fails is
reported, not fatal.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import Engine, create_engine, event, func, select, text
from sqlalchemy.engine import make_url

from storyline import demo
from storyline.accounts.models import User
from storyline.config import Settings
from storyline.errors import ConfigurationError, InvalidInput
from storyline.kernel import migrate
from storyline.tracker.models import Project, Story, Task

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1/test"
# StoryBoard 1.1.0 on 2 cores with 5,000 stories, in milliseconds.
STORYBOARD_MS = {
    "list": 267.0,
    "list_project": 118.0,
    "get": 16.0,
    "search": 280.0,
    "create_story": 19.0,
}
READS = ("list", "list_project", "get", "search")
# The web pages, requested as a signed-in browser (the session cookie); read
# only, and measured for latency (their throughput follows the API's).
PAGES = ("page_dashboard", "page_project", "page_story", "page_search")
SEARCH_WORD = "network"
SERVER_START_SECONDS = 90.0
REQUEST_TIMEOUT = 30.0


@dataclass(frozen=True, kw_only=True)
class BenchOptions:
    tier: str = "S"
    database: str = "sqlite"
    url: str | None = None
    requests: int = 200
    workers: int | None = None
    seed: int = 1
    # Seconds per throughput measurement (each read type, each concurrency).
    duration: float = 5.0
    concurrency: int = 8
    writes_per_writer: int = 25
    data_dir: Path = Path("var/bench")
    # Upper bound on the time spent measuring one request type.
    case_seconds: float = 60.0


@dataclass
class CaseResult:
    name: str
    label: str
    count: int = 0
    errors: int = 0
    median_ms: float | None = None
    p95_ms: float | None = None
    sql_ms: float | None = None
    sql_method: str | None = None
    storyboard_ms: float | None = None
    error_samples: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float | None:
        if self.median_ms is None or not self.sql_ms:
            return None
        return self.median_ms / self.sql_ms

    @property
    def speedup(self) -> float | None:
        if self.median_ms is None or self.storyboard_ms is None:
            return None
        return self.storyboard_ms / self.median_ms


@dataclass
class BenchResult:
    tier: str
    database: str
    workers: int
    stories: int
    load_seconds: float | None
    cases: list[CaseResult] = field(default_factory=list)
    throughput: dict[str, dict[int, float]] = field(default_factory=dict)
    throughput_errors: int = 0
    writers: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        for case, source in zip(data["cases"], self.cases, strict=True):
            case["api_over_sql"] = source.ratio
            case["speedup_vs_storyboard"] = source.speedup
        return data


# ---------------------------------------------------------------------------
# The database


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


@dataclass
class PreparedDatabase:
    url: str
    load_seconds: float | None
    cleanup: Callable[[], None]


def prepare_database(options: BenchOptions, console: Console) -> PreparedDatabase:
    """A database holding the tier, fresh for this run.

    The loaded database is cached (a file in var/bench/ on SQLite, a template
    database on PostgreSQL) and copied for each run, because the run writes."""
    # Until the first release revision 0001 is regenerated in place, so the
    # head's name does not say whether the schema changed: the migrations'
    # contents do.
    key = (
        f"{options.tier.lower()}_s{options.seed}_g{demo.GENERATOR_VERSION}_m{migrate.fingerprint()}"
    )
    if options.database == "sqlite":
        return _prepare_sqlite(options, key, console)
    if options.database == "postgresql":
        return _prepare_postgresql(options, key, console)
    raise InvalidInput.field("database", "must be sqlite or postgresql")


def _load(url: str, options: BenchOptions, console: Console) -> float:
    engine = _engine(url)
    try:
        migrate.upgrade(engine)
        console.print(f"Loading tier {options.tier} (seed {options.seed}); this happens once.")
        report = demo.load(engine, tier=options.tier, seed=options.seed, console=console)
        return report.seconds
    finally:
        engine.dispose()


def _prepare_sqlite(options: BenchOptions, key: str, console: Console) -> PreparedDatabase:
    directory = options.data_dir
    directory.mkdir(parents=True, exist_ok=True)
    cached = directory / f"{key}.db"
    load_seconds = None
    if not cached.exists():
        # Loaded under a temporary name and renamed, so an interrupted load
        # never leaves a half-filled cache behind.
        partial = directory / f"{key}.partial.db"
        for leftover in _sqlite_files(partial):
            leftover.unlink(missing_ok=True)
        load_seconds = _load(f"sqlite:///{partial}", options, console)
        partial.rename(cached)
        for stale in directory.glob(f"{options.tier.lower()}_s*.db"):
            if stale != cached and not stale.name.startswith("run-"):
                stale.unlink(missing_ok=True)
    run = directory / f"run-{options.tier.lower()}-{os.getpid()}.db"
    shutil.copyfile(cached, run)

    def cleanup() -> None:
        for path in _sqlite_files(run):
            path.unlink(missing_ok=True)

    return PreparedDatabase(url=f"sqlite:///{run}", load_seconds=load_seconds, cleanup=cleanup)


def _sqlite_files(path: Path) -> list[Path]:
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]


def _pg_url(base: str, database: str) -> str:
    url = make_url(base)
    url = url.set(drivername="postgresql+psycopg", database=database)
    return url.render_as_string(hide_password=False)


def _prepare_postgresql(options: BenchOptions, key: str, console: Console) -> PreparedDatabase:
    base = options.url or os.environ.get("STORYLINE_BENCH_POSTGRES_URL") or DEFAULT_POSTGRES
    if not base.startswith("postgresql"):
        raise ConfigurationError("the PostgreSQL benchmark needs a postgresql:// URL")
    admin = create_engine(_pg_url(base, "postgres"), isolation_level="AUTOCOMMIT")
    template = f"storyline_bench_{key}"
    run = f"storyline_bench_run_{options.tier.lower()}_{os.getpid()}"
    load_seconds = None
    try:
        with admin.connect() as connection:
            existing = set(
                connection.scalars(
                    text("SELECT datname FROM pg_database WHERE datname LIKE 'storyline_bench_%'")
                )
            )
        if template not in existing:
            partial = f"{template}_partial"
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{partial}" WITH (FORCE)'))
                connection.execute(text(f'CREATE DATABASE "{partial}"'))
            load_seconds = _load(_pg_url(base, partial), options, console)
            with admin.connect() as connection:
                connection.execute(text(f'ALTER DATABASE "{partial}" RENAME TO "{template}"'))
                # Templates of the same tier built by an older schema or generator.
                prefix = f"storyline_bench_{options.tier.lower()}_s"
                for name in existing:
                    if name.startswith(prefix) and name != template:
                        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{run}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{run}" TEMPLATE "{template}"'))
    except Exception:
        admin.dispose()
        raise

    def cleanup() -> None:
        try:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{run}" WITH (FORCE)'))
        finally:
            admin.dispose()

    return PreparedDatabase(url=_pg_url(base, run), load_seconds=load_seconds, cleanup=cleanup)


def _engine(url: str) -> Engine:
    from storyline.kernel.db import make_engine

    return make_engine(Settings(database_url=url))


# ---------------------------------------------------------------------------
# The server process


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def running_server(
    database_url: str, *, workers: int, log_path: Path, ready_seconds: float = SERVER_START_SECONDS
) -> Iterator[str]:
    """`storyline serve` on a free loopback port; yields its base URL and
    stops it by PID (its worker processes with it) on the way out."""
    port = free_port()
    env = {**os.environ, "STORYLINE_DATABASE_URL": database_url}
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "storyline",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(workers),
                "--no-upgrade",
            ],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own process group, so that uvicorn's workers can be ended
            # along with it even if it dies without stopping them.
            start_new_session=True,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_ready(process, base, ready_seconds, log_path)
            yield base
        finally:
            stop_process(process)


def _wait_ready(process: subprocess.Popen[bytes], base: str, seconds: float, log: Path) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}:\n{_tail(log)}")
        try:
            if httpx.get(f"{base}/healthz", timeout=2.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server did not answer within {seconds:.0f} s:\n{_tail(log)}")


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def stop_process(process: subprocess.Popen[bytes], grace: float = 15.0) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
    # Workers left behind by a supervisor that died: they share its group,
    # whose id is the PID we started.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


# ---------------------------------------------------------------------------
# Requests


@dataclass
class Fixture:
    """What the requests need: ids picked from the loaded data."""

    token: str
    user_id: int
    big_project: int
    big_project_name: str
    # The secret of a web session of the benchmark's user (its cookie).
    session_cookie: str
    story_ids: list[int]
    write_story: int
    shared_tasks: list[int]
    stories: int


def make_fixture(url: str, seed: int) -> Fixture:
    """Picks ids through SQLAlchemy and creates the benchmark's user and token."""
    from storyline.accounts import audit, users, web_sessions
    from storyline.bootstrap import build

    container = build(Settings(database_url=url))
    try:
        with container.db.read() as session:
            stories = session.scalar(select(func.count()).select_from(Story)) or 0
            big_project = session.execute(
                select(Task.project_id, func.count())
                .group_by(Task.project_id)
                .order_by(func.count().desc(), Task.project_id)
                .limit(1)
            ).first()
            if big_project is None:
                big = session.scalar(select(Project.id).order_by(Project.id).limit(1))
                if big is None:
                    raise RuntimeError("the benchmark database holds no projects")
                project_id = big
            else:
                project_id = big_project[0]
            public = list(
                session.scalars(select(Story.id).where(Story.private.is_(False)).order_by(Story.id))
            )
            # Stories with several tasks, for the concurrent writers to share.
            shared_stories = list(
                session.scalars(
                    select(Task.story_id)
                    .join(Story, Story.id == Task.story_id)
                    .where(Story.private.is_(False))
                    .group_by(Task.story_id)
                    .having(func.count() >= 3)
                    .order_by(Task.story_id)
                    .limit(2)
                )
            )
            shared_tasks = list(
                session.scalars(
                    select(Task.id).where(Task.story_id.in_(shared_stories)).order_by(Task.id)
                )
            )
        step = max(1, len(public) // 500)
        sample = public[(seed % step) :: step][:500]
        with container.db.write() as session:
            n = session.scalar(select(func.count()).select_from(User)) or 0
            user, secret = users.admin_create_user(
                session,
                full_name="Benchmark Client",
                email=f"bench-{n + 1}-{os.getpid()}@example.org",
                with_token=True,
            )
            user_id = user.id
            cookie = web_sessions.open_session(
                session,
                settings=container.settings,
                user=user,
                method="local",
                client=audit.NO_CLIENT,
            )
        with container.db.read() as session:
            project_name = session.scalar(select(Project.name).where(Project.id == project_id))
        assert secret is not None
        return Fixture(
            token=secret,
            user_id=user_id,
            big_project=project_id,
            big_project_name=str(project_name),
            session_cookie=cookie,
            story_ids=sample or [1],
            write_story=sample[len(sample) // 2] if sample else 1,
            shared_tasks=shared_tasks,
            stories=stories,
        )
    finally:
        container.db.dispose()


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


def _send(client: httpx.Client, request: Request, token: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if request.auth else None
    return client.request(
        request.method, request.path, params=request.params, json=request.json, headers=headers
    )


def _describe(response: httpx.Response | None, error: Exception | None) -> str:
    if error is not None:
        return f"{type(error).__name__}: {error}"[:200]
    assert response is not None
    return f"HTTP {response.status_code}: {response.text[:160]}"


class Runner:
    def __init__(self, base: str, fixture: Fixture, options: BenchOptions) -> None:
        self.base = base
        self.fixture = fixture
        self.options = options

    def client(self) -> httpx.Client:
        # One client per thread: a keep-alive connection, as a script would use.
        # It carries the web session's cookie for the pages (the API ignores
        # cookies) and keeps the cookies pages set, as a browser does.
        client = httpx.Client(base_url=self.base, timeout=REQUEST_TIMEOUT)
        client.cookies.set("storyline_session", self.fixture.session_cookie)
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
                response: httpx.Response | None = None
                failure: Exception | None = None
                try:
                    response = _send(client, request, self.fixture.token)
                except httpx.HTTPError as exc:
                    failure = exc
                elapsed = (time.perf_counter() - started) * 1000
                ok = response is not None and response.status_code == request.expect
                if i < warmup:
                    if not ok and i == warmup - 1 and len(errors) + 1 >= warmup:
                        errors[_describe(response, failure)] += 1
                        break
                    if not ok:
                        errors[_describe(response, failure)] += 1
                    continue
                advance()
                if ok:
                    latencies.append(elapsed)
                else:
                    errors[_describe(response, failure)] += 1
        result.count = len(latencies)
        result.errors = sum(errors.values())
        result.error_samples = [f"{n} x {text}" for text, n in errors.most_common(3)]
        if latencies:
            result.median_ms = statistics.median(latencies)
            result.p95_ms = _percentile(latencies, 0.95)

    def throughput(self, case: Case, threads: int) -> tuple[float, int]:
        """Requests per second with `threads` clients for `duration` seconds."""
        stop_at = time.monotonic() + self.options.duration
        counts = [0] * threads
        errors = [0] * threads
        cap = max(50, self.options.requests * 20)

        def work(index: int) -> None:
            with self.client() as client:
                i = index * 7919
                while time.monotonic() < stop_at and counts[index] + errors[index] < cap:
                    request = case.build(i)
                    i += 1
                    try:
                        response = _send(client, request, self.fixture.token)
                        ok = response.status_code == request.expect
                    except httpx.HTTPError:
                        ok = False
                    if ok:
                        counts[index] += 1
                    else:
                        errors[index] += 1

        started = time.perf_counter()
        pool = [threading.Thread(target=work, args=(n,), daemon=True) for n in range(threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join(self.options.duration + REQUEST_TIMEOUT + 5)
        elapsed = time.perf_counter() - started
        return sum(counts) / elapsed, sum(errors)

    def concurrent_writers(self) -> dict[str, Any]:
        """Writers updating the statuses of tasks that share stories."""
        tasks = self.fixture.shared_tasks
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
                        response = _send(client, request, self.fixture.token)
                    except httpx.HTTPError as exc:
                        failure = exc
                    if response is not None and response.status_code == 200:
                        done[index] += 1
                    else:
                        failures[index][_describe(response, failure)] += 1

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


# ---------------------------------------------------------------------------
# The SQL behind each request


class SqlTimer:
    """Runs one request in process, captures the statements it issues, and
    times them directly through SQLAlchemy.

    Read statements are replayed (execute and fetch every row) on a plain
    connection. Writes cannot be replayed faithfully (ids generated by one
    statement feed the next), so their SQL time is the time spent executing
    the statements and the commit while in-process requests run."""

    def __init__(self, url: str, fixture: Fixture, repeats: int) -> None:
        from fastapi.testclient import TestClient

        from storyline.app import create_app
        from storyline.bootstrap import build

        self.container = build(Settings(database_url=url))
        self.client = TestClient(create_app(self.container))
        self.client.cookies.set("storyline_session", fixture.session_cookie)
        self.fixture = fixture
        self.repeats = repeats
        self.captured: list[tuple[str, Any, bool]] = []
        self.executing = 0.0
        self._started: float | None = None
        self._capture = False
        engine = self.container.db.engine
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(
        self, conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        if self._capture:
            # The engine opens transactions with explicit BEGIN statements on
            # SQLite; the replay's connection opens its own.
            if not statement.lstrip().upper().startswith("BEGIN"):
                self.captured.append((statement, params, many))
            self._started = time.perf_counter()

    def _after(self, *args: Any) -> None:
        if self._capture and self._started is not None:
            self.executing += time.perf_counter() - self._started
            self._started = None

    def _request(self, request: Request) -> int:
        headers = {"Authorization": f"Bearer {self.fixture.token}"} if request.auth else None
        response = self.client.request(
            request.method, request.path, params=request.params, json=request.json, headers=headers
        )
        return response.status_code

    def time_case(self, case: Case, *, write: bool) -> tuple[float | None, str]:
        # A first call outside the capture warms caches and the token's
        # last-used stamp, which would otherwise be a write in the capture.
        if self._request(case.build(0)) != case.build(0).expect:
            return None, "request failed"
        if write:
            return self._time_writes(case), "timed in process"
        self.captured = []
        self._capture = True
        try:
            status = self._request(case.build(1))
        finally:
            self._capture = False
        if status != case.build(1).expect:
            return None, "request failed"
        return self._replay(self.captured), "replayed"

    def _replay(self, statements: list[tuple[str, Any, bool]]) -> float:
        timings: list[float] = []
        with self.container.db.engine.connect() as connection:
            for _ in range(self.repeats):
                started = time.perf_counter()
                for statement, params, _many in statements:
                    result = connection.exec_driver_sql(statement, params)
                    if result.returns_rows:
                        result.fetchall()
                timings.append((time.perf_counter() - started) * 1000)
                connection.rollback()
        return statistics.median(timings)

    def _time_writes(self, case: Case) -> float | None:
        from sqlalchemy.orm import Session

        timings: list[float] = []
        engine = self.container.db.engine
        commit = [0.0]

        def before_commit(conn: Any) -> None:
            if self._capture:
                commit[0] -= time.perf_counter()

        def after_commit(session: Any) -> None:
            if self._capture:
                commit[0] += time.perf_counter()

        event.listen(engine, "commit", before_commit)
        event.listen(Session, "after_commit", after_commit)
        try:
            for i in range(2, 2 + self.repeats):
                self.executing = 0.0
                commit[0] = 0.0
                self._capture = True
                try:
                    status = self._request(case.build(i))
                finally:
                    self._capture = False
                self.captured = []
                if status == case.build(i).expect:
                    timings.append((self.executing + max(0.0, commit[0])) * 1000)
        finally:
            event.remove(engine, "commit", before_commit)
            event.remove(Session, "after_commit", after_commit)
        return statistics.median(timings) if timings else None

    def close(self) -> None:
        self.client.close()
        self.container.db.dispose()


# ---------------------------------------------------------------------------
# The run


def default_workers(database: str) -> int:
    # One process per core on both databases: measured at tier S on SQLite,
    # a second process raised list throughput at 8 clients from 100 to 227
    # requests per second and left single-client latency unchanged (WAL lets
    # readers of both processes run at once).
    del database
    return 2


def run(options: BenchOptions, console: Console) -> BenchResult:
    if options.tier not in demo.TIERS:
        raise InvalidInput.field("tier", "must be S or M (L takes hours to load)")
    workers = options.workers or default_workers(options.database)
    prepared = prepare_database(options, console)
    try:
        fixture = make_fixture(prepared.url, options.seed)
        result = BenchResult(
            tier=options.tier,
            database=options.database,
            workers=workers,
            stories=fixture.stories,
            load_seconds=prepared.load_seconds,
        )
        log = options.data_dir / f"server-{os.getpid()}.log"
        load_before = os.getloadavg()[0]
        with running_server(prepared.url, workers=workers, log_path=log) as base:
            _measure(base, fixture, options, result, console, prepared.url)
        load_after = os.getloadavg()[0]
        cores = os.cpu_count() or 1
        # Timings on a machine busy with other work say little; say so.
        if max(load_before, load_after) > cores:
            result.notes.append(
                f"The machine was busy: load average {load_before:.1f} before and "
                f"{load_after:.1f} after the run, on {cores} cores."
            )
        log.unlink(missing_ok=True)
        return result
    finally:
        prepared.cleanup()


def _measure(
    base: str,
    fixture: Fixture,
    options: BenchOptions,
    result: BenchResult,
    console: Console,
    url: str,
) -> None:
    state: dict[str, int] = {}
    all_cases = cases(fixture, state)
    runner = Runner(base, fixture, options)
    progress = Progress(
        TextColumn("{task.description:<34}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )
    with progress:
        for case in all_cases:
            if case.name == "update_task":
                state["task_id"] = _created_task(runner) or state.get("task_id", 0)
            outcome = CaseResult(case.name, case.label, storyboard_ms=STORYBOARD_MS.get(case.name))
            step = progress.add_task(case.label[:34], total=options.requests)
            runner.measure(case, outcome, lambda step=step: progress.advance(step))  # type: ignore[misc]
            progress.update(step, completed=options.requests)
            result.cases.append(outcome)
        reads = [c for c in all_cases if c.name in READS]
        step = progress.add_task("throughput (reads)", total=len(reads) * 2)
        for case in reads:
            rates: dict[int, float] = {}
            for threads in (1, options.concurrency):
                rate, errors = runner.throughput(case, threads)
                rates[threads] = rate
                result.throughput_errors += errors
                progress.advance(step)
            result.throughput[case.name] = rates
        step = progress.add_task(f"{options.concurrency} concurrent writers", total=1)
        result.writers = runner.concurrent_writers()
        result.writers["consistent"] = _counts_consistent(url, fixture)
        progress.advance(step)
        step = progress.add_task("raw SQL", total=len(all_cases))
        timer = SqlTimer(url, fixture, repeats=max(5, min(30, options.requests // 5)))
        try:
            for case, outcome in zip(all_cases, result.cases, strict=True):
                if case.name == "update_task":
                    state["task_id"] = state.get("task_id") or (fixture.shared_tasks or [1])[0]
                try:
                    outcome.sql_ms, outcome.sql_method = timer.time_case(
                        case, write=case.name not in READS + PAGES
                    )
                except Exception as exc:  # report, don't abort the run
                    outcome.sql_method = f"failed: {type(exc).__name__}: {exc}"[:200]
                progress.advance(step)
        finally:
            timer.close()


def _created_task(runner: Runner) -> int | None:
    """A task of the benchmark's own, so that status updates don't race the
    shared ones used by the concurrent writers."""
    request = Request(
        "POST",
        "/v1/tasks",
        json={
            "title": "Benchmark task for updates",
            "story_id": runner.fixture.write_story,
            "project_id": runner.fixture.big_project,
        },
        auth=True,
    )
    try:
        with runner.client() as client:
            response = _send(client, request, runner.fixture.token)
        if response.status_code == 200:
            task_id: int = response.json()["id"]
            return task_id
    except (httpx.HTTPError, ValueError, KeyError):
        pass
    return None


def _counts_consistent(url: str, fixture: Fixture) -> bool | None:
    """After the writers: do the shared stories' counts match their tasks?"""
    if not fixture.shared_tasks:
        return None
    engine = _engine(url)
    try:
        with engine.connect() as connection:
            story_ids = list(
                connection.scalars(
                    select(Task.story_id).where(Task.id.in_(fixture.shared_tasks)).distinct()
                )
            )
            for story_id in story_ids:
                story = connection.execute(select(Story).where(Story.id == story_id)).one()
                counts = dict(
                    connection.execute(
                        select(Task.status, func.count())
                        .where(Task.story_id == story_id)
                        .group_by(Task.status)
                    ).all()
                )
                for key in ("todo", "inprogress", "review", "merged", "invalid"):
                    if getattr(story, f"{key}_count") != counts.get(key, 0):
                        return False
            return True
    finally:
        engine.dispose()
