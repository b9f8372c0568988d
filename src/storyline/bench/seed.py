"""The data set of `storyline bench --target`, written through the StoryBoard
v1 API only, so that every server that speaks it (StoryBoard 1.1.0,
Storyline) gets the same data from the same client.

The data is a function of the seed alone: story `i` is drawn from its own
`random.Random`, so the order in which the writer threads happen to create the
stories changes their ids, never their text, tasks or comments. Seeded
projects are named `bench-s<seed>-pNN` and every seeded story's title ends with
`[bench-s<seed> #i]`; a server that already holds them is reused, and one that
holds some (an interrupted seeding) gets only the missing stories.

StoryBoard deadlocks under concurrent task creation and answers 500; a write
answered with a 5xx is retried a few times (such a write was rolled back), and
every failure is counted, never fatal.
"""

from __future__ import annotations

import queue
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from storyline.bench.client import describe
from storyline.bench.wire import Connection, Reply, WireError
from storyline.demo.text import WORDS

# Found by prefix search in a handful of stories (every 1,000th, from the 8th),
# and in about 40% of them. Neither is a word of the rest of the text, nor the
# prefix of one.
RARE_WORD = "zirconium"
COMMON_WORD = "network"
RARE_EVERY = 1000
RARE_OFFSET = 7
COMMON_SHARE = 0.4
VOCABULARY = tuple(w for w in WORDS if not w.startswith((COMMON_WORD, RARE_WORD)) and len(w) > 2)
# A Zipf-like skew: the first words of the list are the frequent ones.
WORD_WEIGHTS = tuple(1.0 / (rank + 1) for rank in range(len(VOCABULARY)))
TASK_STATUSES = ("todo", "inprogress", "review", "merged", "invalid")
TASK_STATUS_WEIGHTS = (3, 2, 1, 3, 1)
# Writes answered with a 5xx are tried this many more times, after a pause
# growing by RETRY_PAUSE seconds each time (a deadlock's other party finishes).
RETRIES = 4
RETRY_PAUSE = 0.05
PAGE = 500


def project_name(seed: int, index: int) -> str:
    return f"bench-s{seed}-p{index + 1:02d}"


def story_marker(seed: int) -> str:
    """What every seeded story's title contains (the `title` filter finds them)."""
    return f"[bench-s{seed} #"


_INDEX = re.compile(r"#(\d+)\]")


@dataclass(frozen=True)
class TaskDraft:
    title: str
    project: int
    status: str


@dataclass(frozen=True)
class StoryDraft:
    index: int
    title: str
    description: str
    tasks: tuple[TaskDraft, ...]
    comments: tuple[str, ...]


def _words(rng: random.Random, low: int, high: int) -> list[str]:
    return rng.choices(VOCABULARY, weights=WORD_WEIGHTS, k=rng.randint(low, high))


def draft(seed: int, index: int, projects: int) -> StoryDraft:
    """Story `index` of the data set: 2 or 3 tasks, mostly in one project
    (the first projects carry most stories), and 0 to 2 comments, 1 on
    average."""
    rng = random.Random(seed * 1_000_003 + index)
    title = _words(rng, 3, 7)
    description = _words(rng, 12, 40)
    if rng.random() < COMMON_SHARE:
        title.insert(rng.randrange(len(title) + 1), COMMON_WORD)
    if index % RARE_EVERY == RARE_OFFSET:
        description.insert(rng.randrange(len(description) + 1), RARE_WORD)
    weights = [1.0 / (k + 1) for k in range(projects)]
    home = rng.choices(range(projects), weights=weights)[0]
    tasks = []
    for n in range(rng.choice((2, 3))):
        project = home if rng.random() < 0.75 else rng.randrange(projects)
        status = rng.choices(TASK_STATUSES, weights=TASK_STATUS_WEIGHTS)[0]
        words = " ".join(_words(rng, 2, 5))
        tasks.append(TaskDraft(f"Task {n + 1}: {words}", project, status))
    comments = tuple(
        " ".join(_words(rng, 8, 30)).capitalize() + "."
        for _ in range(rng.choices((0, 1, 2), weights=(1, 2, 1))[0])
    )
    return StoryDraft(
        index=index,
        title=f"{' '.join(title).capitalize()} {story_marker(seed)}{index}]",
        description=" ".join(description).capitalize() + ".",
        tasks=tuple(tasks),
        comments=comments,
    )


@dataclass
class SeedReport:
    """What seeding found and did. `rate` is the successful writes per second
    of the story writers (None when the data was already there)."""

    stories: int
    projects: dict[str, int]
    reused: bool
    complete: bool
    created: dict[str, int] = field(default_factory=dict)
    writes: int = 0
    failures: int = 0
    abandoned: int = 0
    seconds: float = 0.0
    rate: float | None = None
    threads: int = 0
    error_samples: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


class SeedError(RuntimeError):
    """The server refused what seeding needs (a superuser token, the API)."""


def total(response: Reply) -> int:
    value = response.headers.get("X-Total")
    if value is None:
        raise SeedError(f"{response.target} answered without X-Total")
    return int(value)


def expect(response: Reply, what: str) -> Reply:
    if response.status_code != 200:
        raise SeedError(f"{what}: {describe(response, None)}")
    return response


def seeded_story_count(client: Connection, seed: int) -> int:
    response = client.get("stories", params={"title": story_marker(seed), "limit": 1})
    return total(expect(response, "counting the seeded stories"))


class Seeder:
    """Writes the data set through the API with `threads` keep-alive clients."""

    def __init__(
        self,
        connect: Callable[[], Connection],
        *,
        seed: int,
        stories: int,
        projects: int,
        threads: int = 4,
        seconds: float = 3600.0,
    ) -> None:
        self.connect = connect
        self.seed = seed
        self.stories = stories
        self.projects = projects
        self.threads = threads
        self.seconds = seconds

    def run(self, console: Console) -> SeedReport:
        with self.connect() as client:
            projects, new_projects = self._projects(client)
            present = seeded_story_count(client, self.seed)
            if present >= self.stories and not new_projects:
                return SeedReport(stories=present, projects=projects, reused=True, complete=True)
            missing = self._missing(client, present)
        report = SeedReport(
            stories=present,
            projects=projects,
            reused=False,
            complete=False,
            created={"projects": new_projects, "stories": 0, "tasks": 0, "comments": 0},
            threads=self.threads,
        )
        self._write(missing, report, console)
        with self.connect() as client:
            report.stories = seeded_story_count(client, self.seed)
        report.complete = report.stories >= self.stories
        return report

    def _projects(self, client: Connection) -> tuple[dict[str, int], int]:
        """The seeded projects by name, created where missing (superuser only)."""
        prefix = f"bench-s{self.seed}-p"
        response = client.get("projects", params={"name": prefix, "limit": PAGE})
        found = {p["name"]: p["id"] for p in expect(response, "listing projects").json()}
        projects: dict[str, int] = {}
        created = 0
        for index in range(self.projects):
            name = project_name(self.seed, index)
            if name not in found:
                response = client.post(
                    "projects",
                    json={"name": name, "description": f"Benchmark project {index + 1}."},
                )
                if response.status_code in (401, 403):
                    raise SeedError(
                        "creating a project was refused: the token must be a superuser's "
                        f"({describe(response, None)})"
                    )
                found[name] = expect(response, f"creating project {name}").json()["id"]
                created += 1
            projects[name] = found[name]
        return projects, created

    def _missing(self, client: Connection, present: int) -> list[int]:
        """The indices of the stories not yet on the server."""
        if present == 0:
            return list(range(self.stories))
        have: set[int] = set()
        offset = 0
        while offset < present:
            response = client.get(
                "stories",
                params={
                    "title": story_marker(self.seed),
                    "limit": PAGE,
                    "offset": offset,
                    "sort_field": "id",
                    "sort_dir": "asc",
                },
            )
            page = expect(response, "listing the seeded stories").json()
            if not page:
                break
            for story in page:
                match = _INDEX.search(story["title"])
                if match:
                    have.add(int(match.group(1)))
            offset += len(page)
        return [i for i in range(self.stories) if i not in have]

    def _write(self, indices: list[int], report: SeedReport, console: Console) -> None:
        todo: queue.SimpleQueue[int] = queue.SimpleQueue()
        for index in indices:
            todo.put(index)
        project_ids = list(report.projects.values())
        lock = threading.Lock()
        created: Counter[str] = Counter()
        errors: Counter[str] = Counter()
        tally = {"writes": 0, "failures": 0, "abandoned": 0}
        deadline = time.monotonic() + self.seconds
        progress = Progress(
            TextColumn("seeding stories"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[failures]} failed writes"),
            console=console,
        )

        def write(client: Connection, path: str, body: dict[str, Any]) -> Any:
            """The answer's JSON, or None when the write failed for good."""
            for attempt in range(1 + RETRIES):
                if attempt:
                    time.sleep(RETRY_PAUSE * attempt)
                response: Reply | None = None
                failure: Exception | None = None
                try:
                    response = client.post(path, json=body)
                except WireError as exc:
                    failure = exc
                if response is not None and response.status_code == 200:
                    with lock:
                        tally["writes"] += 1
                    return response.json()
                with lock:
                    tally["failures"] += 1
                    errors[f"POST {path.split('/')[0]}: {describe(response, failure)}"] += 1
                # Only a 5xx is retried: a write whose answer was lost (a
                # timeout) may have happened, and a 4xx will not change.
                if response is None or response.status_code < 500:
                    break
            with lock:
                tally["abandoned"] += 1
            return None

        def work() -> None:
            with self.connect() as client:
                while time.monotonic() < deadline:
                    try:
                        index = todo.get_nowait()
                    except queue.Empty:
                        return
                    story = draft(self.seed, index, self.projects)
                    made = write(
                        client, "stories", {"title": story.title, "description": story.description}
                    )
                    if made is not None:
                        with lock:
                            created["stories"] += 1
                        for task in story.tasks:
                            body = {
                                "title": task.title,
                                "story_id": made["id"],
                                "project_id": project_ids[task.project],
                                "status": task.status,
                            }
                            if write(client, "tasks", body) is not None:
                                with lock:
                                    created["tasks"] += 1
                        for content in story.comments:
                            path = f"stories/{made['id']}/comments"
                            if write(client, path, {"content": content}) is not None:
                                with lock:
                                    created["comments"] += 1
                    progress.update(step, advance=1, failures=tally["failures"])

        started = time.perf_counter()
        with progress:
            step = progress.add_task("seed", total=len(indices), failures=0)
            pool = [threading.Thread(target=work, daemon=True) for _ in range(self.threads)]
            for thread in pool:
                thread.start()
            for thread in pool:
                # Each thread stops taking stories at the deadline; a request
                # in flight ends within the client's timeout.
                thread.join(max(0.0, deadline - time.monotonic()) + 120)
        report.seconds = time.perf_counter() - started
        report.created.update(created)
        report.writes = tally["writes"]
        report.failures = tally["failures"]
        report.abandoned = tally["abandoned"]
        report.rate = report.writes / report.seconds if report.seconds else None
        report.error_samples = [f"{n} x {text}" for text, n in errors.most_common(5)]
