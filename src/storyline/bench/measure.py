"""`run`: prepare the database, start the server, measure every request type,
then check what the concurrent writers left behind."""

from __future__ import annotations

import os

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import func, select

from storyline import demo
from storyline.bench.cases import PAGES, READS, Request, cases
from storyline.bench.client import Runner, send
from storyline.bench.database import open_engine, prepare_database
from storyline.bench.fixture import Fixture, make_fixture
from storyline.bench.results import STORYBOARD_MS, BenchOptions, BenchResult, CaseResult
from storyline.bench.server import measured_server
from storyline.bench.sql import SqlTimer
from storyline.bench.wire import WireError
from storyline.config import default_processes
from storyline.errors import InvalidInput
from storyline.tracker.models import Story, Task


def run(options: BenchOptions, console: Console) -> BenchResult:
    if options.tier not in demo.TIERS:
        raise InvalidInput.field("tier", f"must be one of {', '.join(demo.PUBLIC_TIERS)}")
    workers = options.workers or default_processes()
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
        with measured_server(
            prepared.url, workers=workers, log_path=log, notes=result.notes
        ) as base:
            _measure(base, fixture, options, result, console, prepared.url)
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
    runner = Runner.for_fixture(base, fixture, options)
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
                state["task_id"] = _created_task(runner, fixture) or state.get("task_id", 0)
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


def _created_task(runner: Runner, fixture: Fixture) -> int | None:
    """A task of the benchmark's own, so that status updates don't race the
    shared ones used by the concurrent writers."""
    request = Request(
        "POST",
        "/v1/tasks",
        json={
            "title": "Benchmark task for updates",
            "story_id": fixture.write_story,
            "project_id": fixture.big_project,
        },
        auth=True,
    )
    try:
        with runner.client() as client:
            response = send(client, request, runner.token)
        if response.status_code == 200:
            task_id: int = response.json()["id"]
            return task_id
    except (*WireError, ValueError, KeyError):
        pass
    return None


def _counts_consistent(url: str, fixture: Fixture) -> bool | None:
    """After the writers: do the shared stories' counts match their tasks?"""
    if not fixture.shared_tasks:
        return None
    engine = open_engine(url)
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
