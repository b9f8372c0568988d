"""`storyline bench compare`: StoryBoard and Storyline side by side, one
server at a time, with the same client (`remote`) and the same data set.

StoryBoard is measured when its URL and a superuser token are given (it is
started elsewhere, see docs/benchmarks.md). Storyline is started here, once
per database, on an empty database with a superuser token made through the
account services, seeded through its API and measured exactly like
StoryBoard; its database is dropped afterwards. An unreachable PostgreSQL
server is skipped with a note.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from sqlalchemy.exc import OperationalError

from storyline import demo
from storyline.bench.database import fresh_database, open_engine
from storyline.bench.fixture import superuser_token
from storyline.bench.remote import RemoteOptions, RemoteResult, run_remote
from storyline.bench.server import running_server
from storyline.errors import ConfigurationError

STORYBOARD = "StoryBoard 1.1.0"
LABELS = {"sqlite": "Storyline SQLite", "postgresql": "Storyline PostgreSQL"}


@dataclass(frozen=True, kw_only=True)
class CompareOptions:
    storyboard_url: str | None = None
    storyboard_token: str | None = None
    databases: tuple[str, ...] = ("sqlite", "postgresql")
    postgres_url: str | None = None
    # None: `storyline serve`'s own default.
    workers: int | None = None
    data_dir: Path = Path("var/bench")
    seed_stories: int = 5000
    projects: int = 20
    clients: int = 8
    requests: int = 200
    duration: float = 10.0
    seed: int = 1


@dataclass
class Measured:
    name: str
    result: RemoteResult | None = None
    skipped: str | None = None


@dataclass
class Comparison:
    options: CompareOptions
    commit: str | None
    runs: list[Measured] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "commit": self.commit,
            "clients": self.options.clients,
            "workers": self.options.workers,
            "runs": [
                {
                    "name": run.name,
                    "skipped": run.skipped,
                    "result": run.result.as_json() if run.result else None,
                }
                for run in self.runs
            ],
        }


def run_compare(options: CompareOptions, console: Console) -> Comparison:
    comparison = Comparison(options=options, commit=_commit())
    remote = RemoteOptions(
        target="",
        token="",
        seed_stories=options.seed_stories,
        projects=options.projects,
        clients=options.clients,
        requests=options.requests,
        duration=options.duration,
        seed=options.seed,
    )
    if options.storyboard_url and options.storyboard_token:
        console.rule(f"{STORYBOARD} at {options.storyboard_url}")
        target = dataclasses.replace(
            remote, target=options.storyboard_url, token=options.storyboard_token
        )
        comparison.runs.append(Measured(STORYBOARD, result=run_remote(target, console)))
    for database in options.databases:
        name = LABELS[database]
        console.rule(name)
        try:
            prepared = fresh_database(
                database, data_dir=options.data_dir, url=options.postgres_url, name="compare"
            )
        except (OperationalError, ConfigurationError) as exc:
            reason = f"not measured: no database ({type(exc).__name__}: {exc})"[:300]
            console.print(f"[yellow]{name}: {reason}[/yellow]")
            comparison.runs.append(Measured(name, skipped=reason))
            continue
        try:
            token = superuser_token(prepared.url)
            log = options.data_dir / f"compare-server-{os.getpid()}.log"
            with running_server(prepared.url, workers=options.workers, log_path=log) as base:
                target = dataclasses.replace(remote, target=f"{base}/v1", token=token)
                maintain = functools.partial(autovacuum_stand_in, prepared.url)
                result = run_remote(target, console, after_seeding=maintain)
                comparison.runs.append(Measured(name, result=result))
            log.unlink(missing_ok=True)
        finally:
            prepared.cleanup()
    return comparison


def autovacuum_stand_in(url: str) -> str | None:
    """What autovacuum would have done by the end of seeding, on a
    PostgreSQL server that runs without it (a test server, say): the
    operations guide keeps it on, and without statistics the planner guesses
    on tables that grew from nothing. None when there is nothing to do."""
    engine = open_engine(url)
    try:
        if engine.dialect.name != "postgresql":
            return None
        with engine.connect() as connection:
            if connection.exec_driver_sql("SHOW autovacuum").scalar() == "on":
                return None
        demo.analyze(engine)
    finally:
        engine.dispose()
    return (
        "Autovacuum is off on this PostgreSQL server; the run did what it would "
        "have done by then (VACUUM ANALYZE) after seeding."
    )


def _commit() -> str | None:
    try:
        answer = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
            cwd=Path(__file__).parent,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return answer.stdout.strip() or None


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"


def _times(numerator: float | None, denominator: float | None) -> str:
    if not numerator or not denominator:
        return "-"
    return f"{numerator / denominator:,.1f}x"


def markdown(comparison: Comparison) -> str:
    """The side-by-side tables. Every `x` column says how many times faster
    Storyline is than StoryBoard: StoryBoard's ms over Storyline's, and
    Storyline's requests per second over StoryBoard's."""
    runs = [run for run in comparison.runs if run.result is not None]
    storyboard = next((r.result for r in runs if r.name == STORYBOARD), None)
    storylines = [r for r in runs if r.name != STORYBOARD]
    reference = runs[0].result if runs else None
    options = comparison.options
    lines: list[str] = []
    commit = f" at commit `{comparison.commit}`" if comparison.commit else ""
    workers = (
        f"{options.workers} worker(s)"
        if options.workers is not None
        else "the default worker count of `storyline serve`"
    )
    lines.append(
        f"{options.seed_stories:,} stories in {options.projects} projects (seed {options.seed}), "
        f"{options.clients} clients for the concurrent figures; Storyline{commit} with {workers}."
    )
    lines.append("")

    def table(
        title: str, pick: Any, formatted: Any, faster_when_lower: bool, *, against: bool = True
    ) -> None:
        """One row per request, a column per server; with `against`, each
        Storyline column followed by how many times faster it is."""
        times = against and storyboard is not None
        header = ["request"]
        if storyboard is not None:
            header.append(STORYBOARD)
        for run in storylines:
            header.extend([run.name, "x"] if times else [run.name])
        lines.append(f"**{title}**")
        lines.append("")
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|")
        if reference is None:
            return
        for case in reference.cases:
            row = [f"`{case.label}`"]
            base = None
            if storyboard is not None:
                found = storyboard.case(case.name)
                base = pick(found) if found else None
                row.append(formatted(base))
            for run in storylines:
                assert run.result is not None
                found = run.result.case(case.name)
                value = pick(found) if found else None
                row.append(formatted(value))
                if times:
                    row.append(_times(base, value) if faster_when_lower else _times(value, base))
            lines.append("| " + " | ".join(row) + " |")

    table("Median at 1 client, ms", lambda c: c.single.median_ms, _ms, True)
    lines.append("")
    table(
        f"Requests per second at {options.clients} clients",
        lambda c: c.concurrent.per_second,
        _rate,
        False,
    )
    seeding = ["seeding (mixed writes, 4 threads)"]
    base_rate = storyboard.seed.rate if storyboard is not None else None
    if storyboard is not None:
        seeding.append(_rate(base_rate) if base_rate is not None else "reused")
    for run in storylines:
        assert run.result is not None
        rate = run.result.seed.rate
        seeding.append(_rate(rate) if rate is not None else "reused")
        if storyboard is not None:
            seeding.append(_times(rate, base_rate))
    lines.append("| " + " | ".join(seeding) + " |")
    lines.append("")
    table(f"p99 at {options.clients} clients, ms", lambda c: c.concurrent.p99_ms, _ms, True)
    lines.append("")
    # How evenly a server serves its clients: the slowest 1% against the median.
    table(
        f"p99 over the median at {options.clients} clients",
        lambda c: _times(c.concurrent.p99_ms, c.concurrent.median_ms),
        str,
        True,
        against=False,
    )
    lines.append("")
    lines.append(
        "x: how many times faster Storyline is (StoryBoard's ms over Storyline's; "
        "Storyline's requests per second over StoryBoard's)."
    )
    for run in comparison.runs:
        if run.result is None:
            lines.append(f"- {run.name}: {run.skipped}")
            continue
        seed = run.result.seed
        if seed.reused:
            how = f"reused the {seed.stories:,} seeded stories already there"
        else:
            how = (
                f"seeded {seed.created.get('stories', 0):,} stories, "
                f"{seed.created.get('tasks', 0):,} tasks and "
                f"{seed.created.get('comments', 0):,} comments in {seed.seconds:,.0f} s "
                f"({seed.failures:,} failed writes, {seed.abandoned:,} given up), "
                f"{seed.stories:,} seeded stories in all"
            )
        errors = sum(c.single.errors + c.concurrent.errors for c in run.result.cases)
        lines.append(
            f"- {run.name} ({run.result.server}): {how}; "
            f"{errors:,} failed requests while measuring."
        )
        lines.extend(f"  - {note}" for note in run.result.notes)
    return "\n".join(lines) + "\n"
