"""`storyline bench load`: many simulated users at once, then a read-back.

Each simulated user is an asyncio task with its own keep-alive connection
that, until the run's end, picks an action at random (seeded per user) from a
fixed mix: story lists, story API reads, story pages, searches, new stories,
comments, task status changes and card moves on a shared board. A user waits
for each answer before the next request, so the load is closed-loop: the
server's speed sets the rate.

Every write the server acknowledges is remembered, and read back through the
API once the users stop: a story with its title, a comment with its text, a
task with the last status its user set, a card in the last lane its user
moved it to. Each user owns its tasks and cards, so "the last acknowledged
write wins" is exact; an object whose write went unanswered (a timeout or a
dropped connection) is left out of that check, since the write may or may
not have happened. Any 5xx answer, transport error or lost write fails the
run.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from storyline import demo
from storyline.bench.cases import SEARCH_WORD
from storyline.bench.client import REQUEST_TIMEOUT, percentile
from storyline.bench.database import prepare_database
from storyline.bench.fixture import Fixture, make_fixture
from storyline.bench.results import BenchOptions
from storyline.bench.server import measured_server
from storyline.config import default_processes
from storyline.errors import InvalidInput

# What a simulated user does, and how often (relative weights).
MIX: dict[str, int] = {
    "list": 20,
    "story_get": 10,
    "story_page": 15,
    "search": 10,
    "create_story": 10,
    "comment": 15,
    "task_status": 10,
    "card_move": 10,
}
LABELS = {
    "list": "GET /v1/stories?limit=20",
    "story_get": "GET /v1/stories/{id}",
    "story_page": "page GET /stories/{id}",
    "search": f"GET /v1/stories/search?q={SEARCH_WORD}",
    "create_story": "POST /v1/stories",
    "comment": "POST /v1/stories/{id}/comments",
    "task_status": "PUT /v1/tasks/{id} (status)",
    "card_move": "PUT /v1/worklists/{lane}/items/{id} (card move)",
}
STATUSES = ("todo", "inprogress", "review", "merged", "invalid")
TASKS_PER_USER = 2
CARDS_PER_USER = 2
LANES = 4
# Tasks are spread over few stories, so that status changes of different
# users contend for the same story rows (their counts and status).
TASK_STORIES = 5
READBACK_CONCURRENCY = 8


@dataclass(frozen=True, kw_only=True)
class LoadOptions:
    users: int = 50
    duration: float = 180.0
    tier: str = "S"
    database: str = "sqlite"
    url: str | None = None
    workers: int | None = None
    seed: int = 1
    # Mean pause between a user's requests; 0 sends the next at once.
    think: float = 0.0
    data_dir: Path = Path("var/bench")


@dataclass
class KindResult:
    name: str
    label: str
    count: int = 0
    errors: int = 0
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None


@dataclass
class LoadResult:
    tier: str
    database: str
    workers: int
    users: int
    stories: int
    seconds: float = 0.0
    requests: int = 0
    kinds: list[KindResult] = field(default_factory=list)
    server_errors: int = 0
    transport_errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    acknowledged: dict[str, int] = field(default_factory=dict)
    # Writes whose outcome is unknown (no answer), left out of the read-back.
    uncertain: int = 0
    lost: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def ok(self) -> bool:
        return self.server_errors == 0 and self.transport_errors == 0 and not self.lost

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["throughput"] = self.throughput
        data["ok"] = self.ok
        return data


@dataclass
class World:
    """What the users act on, made before the clock starts."""

    fixture: Fixture
    # Per user: the tasks and the cards (worklist item ids) it owns.
    tasks: list[list[int]]
    cards: list[list[int]]
    lanes: list[int]


@dataclass
class Ledger:
    """Latencies, errors and every acknowledged write."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)
    samples: Counter[str] = field(default_factory=Counter)
    server_errors: int = 0
    transport_errors: int = 0
    stories: dict[int, str] = field(default_factory=dict)
    comments: dict[int, tuple[int, str]] = field(default_factory=dict)
    task_status: dict[int, str] = field(default_factory=dict)
    card_lane: dict[int, int] = field(default_factory=dict)
    uncertain_tasks: set[int] = field(default_factory=set)
    uncertain_cards: set[int] = field(default_factory=set)

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.latencies.values()) + sum(self.errors.values())


def run_load(options: LoadOptions, console: Console) -> LoadResult:
    if options.tier not in demo.TIERS:
        raise InvalidInput.field("tier", f"must be one of {', '.join(demo.PUBLIC_TIERS)}")
    if not 1 <= options.users <= 1000:
        raise InvalidInput.field("users", "must be between 1 and 1000")
    if not 1 <= options.duration <= 3600:
        raise InvalidInput.field("duration", "must be between 1 and 3600 seconds")
    workers = options.workers or default_processes()
    bench_options = BenchOptions(
        tier=options.tier,
        database=options.database,
        url=options.url,
        workers=workers,
        seed=options.seed,
        data_dir=options.data_dir,
    )
    prepared = prepare_database(bench_options, console)
    try:
        fixture = make_fixture(prepared.url, options.seed)
        result = LoadResult(
            tier=options.tier,
            database=options.database,
            workers=workers,
            users=options.users,
            stories=fixture.stories,
        )
        log = options.data_dir / f"server-load-{os.getpid()}.log"
        # The drive runs in a thread of its own: the caller's thread may
        # already run an event loop (Playwright's sync API keeps one running
        # in a test process that holds a browser), and asyncio.run refuses to
        # nest.
        with (
            measured_server(
                prepared.url, workers=workers, log_path=log, notes=result.notes
            ) as base,
            ThreadPoolExecutor(1, thread_name_prefix="bench-load") as pool,
        ):
            pool.submit(asyncio.run, _drive(base, fixture, options, result, console)).result()
        return result
    finally:
        prepared.cleanup()


def _client(base: str, fixture: Fixture) -> httpx.AsyncClient:
    client = httpx.AsyncClient(
        base_url=base,
        timeout=REQUEST_TIMEOUT,
        headers={"Authorization": f"Bearer {fixture.token}"},
    )
    # The pages are requested as a signed-in browser would.
    client.cookies.set("storyline_session", fixture.session_cookie)
    return client


async def _drive(
    base: str, fixture: Fixture, options: LoadOptions, result: LoadResult, console: Console
) -> None:
    async with _client(base, fixture) as client:
        world = await _setup(client, fixture, options.users)
    ledger = Ledger()
    progress = Progress(
        TextColumn("{task.description:<34}"),
        BarColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        console=console,
    )
    with progress:
        step = progress.add_task(
            f"{options.users} users, {options.duration:.0f} s", total=options.duration, rate=""
        )
        started = time.monotonic()
        stop_at = started + options.duration
        users = [
            asyncio.create_task(_user(n, base, world, options, ledger, stop_at))
            for n in range(options.users)
        ]

        async def tick() -> None:
            while not all(user.done() for user in users):
                elapsed = time.monotonic() - started
                progress.update(
                    step,
                    completed=min(elapsed, options.duration),
                    rate=f"{ledger.requests:,} requests",
                )
                await asyncio.sleep(0.5)

        await asyncio.gather(tick(), *users)
        result.seconds = time.monotonic() - started
        progress.update(step, completed=options.duration)
        checks = len(ledger.stories) + len(ledger.comments)
        checks += len(ledger.task_status) + len(ledger.card_lane)
        verify = progress.add_task("read-back of acknowledged writes", total=checks, rate="")
        async with _client(base, fixture) as client:
            result.lost = await _read_back(client, ledger, world, lambda: progress.advance(verify))
    result.requests = ledger.requests
    result.server_errors = ledger.server_errors
    result.transport_errors = ledger.transport_errors
    result.error_samples = [f"{n} x {text}" for text, n in ledger.samples.most_common(8)]
    result.acknowledged = {
        "stories": len(ledger.stories),
        "comments": len(ledger.comments),
        "tasks": len(ledger.task_status),
        "cards": len(ledger.card_lane),
    }
    result.uncertain = len(ledger.uncertain_tasks) + len(ledger.uncertain_cards)
    for name in MIX:
        values = ledger.latencies.get(name, [])
        kind = KindResult(name, LABELS[name], count=len(values), errors=ledger.errors[name])
        if values:
            kind.p50_ms = percentile(values, 0.50)
            kind.p95_ms = percentile(values, 0.95)
            kind.p99_ms = percentile(values, 0.99)
        result.kinds.append(kind)


async def _expect(response: Awaitable[httpx.Response], what: str) -> dict[str, Any]:
    answer = await response
    if answer.status_code != 200:
        raise RuntimeError(f"setup: {what} answered {answer.status_code}: {answer.text[:200]}")
    body: dict[str, Any] = answer.json()
    return body


async def _setup(client: httpx.AsyncClient, fixture: Fixture, users: int) -> World:
    """The users' own tasks and cards, on a board of LANES lanes."""
    board = await _expect(
        client.post(
            "/v1/boards",
            json={
                "title": f"Load test board {os.getpid()}",
                "lanes": [
                    {"worklist": {"title": f"Lane {n}"}, "position": n} for n in range(LANES)
                ],
            },
        ),
        "creating the board",
    )
    lanes = [lane["list_id"] for lane in board["lanes"]]
    stories = fixture.story_ids
    tasks: list[list[int]] = []
    cards: list[list[int]] = []
    for user in range(users):
        own_tasks = []
        for n in range(TASKS_PER_USER):
            task = await _expect(
                client.post(
                    "/v1/tasks",
                    json={
                        "title": f"Load test task {user}.{n}",
                        "story_id": stories[(user * TASKS_PER_USER + n) % TASK_STORIES],
                        "project_id": fixture.big_project,
                    },
                ),
                "creating a task",
            )
            own_tasks.append(task["id"])
        own_cards = []
        for n in range(CARDS_PER_USER):
            story = stories[(user * CARDS_PER_USER + n) % len(stories)]
            card = await _expect(
                client.post(
                    f"/v1/worklists/{lanes[0]}/items",
                    params={"item_id": story, "item_type": "story"},
                ),
                "adding a card",
            )
            own_cards.append(card["id"])
        tasks.append(own_tasks)
        cards.append(own_cards)
    return World(fixture=fixture, tasks=tasks, cards=cards, lanes=lanes)


Action = Callable[[httpx.AsyncClient, random.Random], Awaitable[tuple[httpx.Response, Any]]]


async def _user(
    index: int, base: str, world: World, options: LoadOptions, ledger: Ledger, stop_at: float
) -> None:
    rng = random.Random(options.seed * 100_003 + index)
    fixture = world.fixture
    stories = fixture.story_ids
    mine: list[int] = []
    names = list(MIX)
    weights = [MIX[name] for name in names]
    serial = 0

    def a_story(rng: random.Random) -> int:
        # Comments go to the user's own new stories half of the time.
        if mine and rng.random() < 0.5:
            return rng.choice(mine)
        return rng.choice(stories)

    async with _client(base, fixture) as client:
        while time.monotonic() < stop_at:
            name = rng.choices(names, weights)[0]
            serial += 1
            tag = f"u{index}-{serial}"
            request: Awaitable[httpx.Response]
            target: Any = None
            if name == "list":
                request = client.get(
                    "/v1/stories", params={"limit": 20, "offset": rng.randint(0, 200)}
                )
            elif name == "story_get":
                request = client.get(f"/v1/stories/{rng.choice(stories)}")
            elif name == "story_page":
                request = client.get(f"/stories/{rng.choice(stories)}")
            elif name == "search":
                request = client.get("/v1/stories/search", params={"q": SEARCH_WORD, "limit": 20})
            elif name == "create_story":
                target = f"Load test story {tag}"
                request = client.post(
                    "/v1/stories", json={"title": target, "description": "Written under load."}
                )
            elif name == "comment":
                story = a_story(rng)
                target = (story, f"Load test comment {tag}")
                request = client.post(f"/v1/stories/{story}/comments", json={"content": target[1]})
            elif name == "task_status":
                task = rng.choice(world.tasks[index])
                target = (task, rng.choice(STATUSES))
                request = client.put(f"/v1/tasks/{task}", json={"status": target[1]})
            else:
                card = rng.choice(world.cards[index])
                lane = rng.choice(world.lanes)
                target = (card, lane)
                request = client.put(
                    f"/v1/worklists/{lane}/items/{card}",
                    params={"list_id": lane, "list_position": rng.randint(0, 5)},
                )
            started = time.perf_counter()
            try:
                response = await request
            except httpx.HTTPError as error:
                ledger.transport_errors += 1
                ledger.errors[name] += 1
                ledger.samples[f"{name}: {type(error).__name__}: {error}"[:200]] += 1
                _unsure(ledger, name, target)
                continue
            elapsed = (time.perf_counter() - started) * 1000
            if response.status_code != 200:
                ledger.errors[name] += 1
                if response.status_code >= 500:
                    ledger.server_errors += 1
                    _unsure(ledger, name, target)
                ledger.samples[f"{name}: HTTP {response.status_code}: {response.text[:160]}"] += 1
                continue
            ledger.latencies.setdefault(name, []).append(elapsed)
            _acknowledged(ledger, name, target, response, mine)
            if options.think:
                await asyncio.sleep(rng.uniform(0, 2 * options.think))


def _unsure(ledger: Ledger, name: str, target: Any) -> None:
    # A write that got no answer may still have been committed.
    if name == "task_status":
        ledger.uncertain_tasks.add(target[0])
    elif name == "card_move":
        ledger.uncertain_cards.add(target[0])


def _acknowledged(
    ledger: Ledger, name: str, target: Any, response: httpx.Response, mine: list[int]
) -> None:
    if name == "create_story":
        story_id = int(response.json()["id"])
        ledger.stories[story_id] = target
        mine.append(story_id)
    elif name == "comment":
        body = response.json()
        comment = body.get("comment") or {}
        ledger.comments[int(comment["id"])] = target
    elif name == "task_status":
        ledger.task_status[target[0]] = target[1]
    elif name == "card_move":
        ledger.card_lane[target[0]] = target[1]


async def _read_back(
    client: httpx.AsyncClient, ledger: Ledger, world: World, advance: Callable[[], None]
) -> list[str]:
    """Every acknowledged write, read back through the API; what is missing."""
    lost: list[str] = []
    gate = asyncio.Semaphore(READBACK_CONCURRENCY)

    async def check(path: str, test: Callable[[dict[str, Any]], bool], what: str) -> None:
        async with gate:
            try:
                response = await client.get(path)
            except httpx.HTTPError as error:
                lost.append(f"{what}: could not read it back ({type(error).__name__})")
                return
            finally:
                advance()
        if response.status_code != 200:
            lost.append(f"{what}: HTTP {response.status_code}")
        elif not test(response.json()):
            lost.append(f"{what}: {response.text[:160]}")

    checks = [
        check(f"/v1/stories/{sid}", _has("title", title), f"story {sid}")
        for sid, title in ledger.stories.items()
    ]
    checks += [
        check(f"/v1/stories/{sid}/comments/{cid}", _has("content", text), f"comment {cid}")
        for cid, (sid, text) in ledger.comments.items()
    ]
    checks += [
        check(f"/v1/tasks/{tid}", _has("status", status), f"task {tid} ({status})")
        for tid, status in ledger.task_status.items()
        if tid not in ledger.uncertain_tasks
    ]
    checks += [
        check(f"/v1/worklists/{lane}/items/{card}", _has("list_id", lane), f"card {card}")
        for card, lane in ledger.card_lane.items()
        if card not in ledger.uncertain_cards
    ]
    await asyncio.gather(*checks)
    return lost


def _has(key: str, value: object) -> Callable[[dict[str, Any]], bool]:
    return lambda body: bool(body.get(key) == value)
