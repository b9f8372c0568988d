"""`storyline bench --target`: seeding and measuring a server through the
StoryBoard v1 API only, here a Storyline server started for the test on an
empty SQLite database."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from rich.console import Console

from storyline.bench import running_server
from storyline.bench.compare import (
    STORYBOARD,
    CompareOptions,
    Comparison,
    Measured,
    autovacuum_stand_in,
    markdown,
)
from storyline.bench.database import fresh_database
from storyline.bench.fixture import superuser_token
from storyline.bench.remote import POST_MARKER, RemoteOptions, run_remote
from storyline.bench.seed import COMMON_WORD, RARE_WORD, draft, project_name, story_marker
from storyline.bootstrap import Container
from storyline.cli.bench import render_remote

STORIES = 30
PROJECTS = 2


def _total(api: httpx.Client, path: str, **params: object) -> int:
    response = api.get(path, params={**params, "limit": 1})
    assert response.status_code == 200, response.text
    return int(response.headers["X-Total"])


def test_draft_is_a_function_of_the_seed() -> None:
    assert draft(1, 7, 20) == draft(1, 7, 20)
    assert draft(1, 7, 20) != draft(2, 7, 20)
    stories = [draft(1, i, 20) for i in range(2000)]
    assert all(2 <= len(s.tasks) <= 3 for s in stories)
    rare = [s.index for s in stories if RARE_WORD in s.description]
    assert rare == [7, 1007]
    common = sum(COMMON_WORD in s.title for s in stories)
    assert 0.3 * len(stories) < common < 0.5 * len(stories)
    comments = sum(len(s.comments) for s in stories)
    assert 0.8 * len(stories) < comments < 1.2 * len(stories)


@pytest.mark.slow
def test_seed_measure_and_reuse(tmp_path: Path) -> None:
    prepared = fresh_database("sqlite", data_dir=tmp_path)
    try:
        token = superuser_token(prepared.url)
        with running_server(prepared.url, workers=1, log_path=tmp_path / "server.log") as base:
            options = RemoteOptions(
                target=f"{base}/v1",
                token=token,
                seed_stories=STORIES,
                projects=PROJECTS,
                clients=2,
                requests=5,
                duration=0.5,
                case_seconds=20,
            )
            first = run_remote(options, Console(quiet=True))

            assert not first.seed.reused
            assert first.seed.complete
            assert first.seed.failures == 0, first.seed.error_samples
            assert first.seed.rate is not None
            assert first.seed.rate > 0
            expected = [draft(options.seed, i, PROJECTS) for i in range(STORIES)]
            with httpx.Client(base_url=f"{base}/v1/", timeout=30) as api:
                assert _total(api, "stories", title=story_marker(options.seed)) == STORIES
                names = {p["name"] for p in api.get("projects", params={"limit": 100}).json()}
                assert names == {project_name(options.seed, k) for k in range(PROJECTS)}
                assert _total(api, "tasks") == sum(len(s.tasks) for s in expected)
                rare = api.get("stories/search", params={"q": RARE_WORD}).json()
                assert [s["title"] for s in rare] == [expected[7].title]
                comments = 0
                for found in api.get("stories", params={"limit": 100}).json():
                    comments += len(api.get(f"stories/{found['id']}/comments").json())
                assert comments == sum(len(s.comments) for s in expected)
                # The stories the POSTs created are gone again.
                assert _total(api, "stories", title=POST_MARKER) == 0
                assert _total(api, "stories") == STORIES

            assert [case.name for case in first.cases] == [
                "list",
                "list_project",
                "get",
                "tasks",
                "search_rare",
                "search_common",
                "create_story",
            ]
            for case in first.cases:
                assert case.single.count == options.requests, case.single.error_samples
                assert case.single.errors == 0, case.single.error_samples
                assert case.single.median_ms is not None
                assert case.single.p99_ms is not None
                assert case.concurrent.clients == 2
                assert case.concurrent.count > 0, case.name
                assert case.concurrent.errors == 0, case.name
                assert case.concurrent.per_second is not None
                assert case.concurrent.per_second > 0
            assert first.deleted > options.requests

            second = run_remote(options, Console(quiet=True))
            assert second.seed.reused
            assert second.seed.rate is None
            assert second.seed.stories == STORIES
            assert second.seed.projects == first.seed.projects
            assert all(case.single.errors == 0 for case in second.cases)
            with httpx.Client(base_url=f"{base}/v1/", timeout=30) as api:
                assert _total(api, "stories") == STORIES
    finally:
        prepared.cleanup()

    console = Console(record=True, width=200)
    render_remote(second, console)
    assert "reused" in console.export_text()
    report = markdown(
        Comparison(
            options=CompareOptions(seed_stories=STORIES, projects=PROJECTS, clients=2),
            commit=None,
            runs=[Measured(STORYBOARD, result=first), Measured("Storyline SQLite", result=second)],
        )
    )
    assert "| `GET /v1/stories/{id}/tasks` |" in report
    spread = report.split("**p99 over the median at 2 clients**")[1].split("\n\n")[1]
    assert spread.splitlines()[0] == "| request | StoryBoard 1.1.0 | Storyline SQLite |"
    tasks = next(line for line in spread.splitlines() if "/tasks` |" in line)
    case = second.case("tasks")
    assert case is not None
    p99, median = case.concurrent.p99_ms, case.concurrent.median_ms
    assert p99 is not None
    assert median is not None
    ratio = p99 / median
    assert tasks.endswith(f" | {ratio:,.1f}x |")
    assert "| seeding (mixed writes, 4 threads) |" in report
    # The second run reused the data, so it has no seeding rate of its own.
    assert "| reused | - |" in report


def test_the_autovacuum_stand_in_runs_only_where_autovacuum_does_not(
    container: Container,
) -> None:
    url = container.settings.database_url
    engine = container.db.engine
    if engine.dialect.name == "sqlite":
        assert autovacuum_stand_in(url) is None
        return
    with engine.connect() as connection:
        autovacuum = connection.exec_driver_sql("SHOW autovacuum").scalar()
    note = autovacuum_stand_in(url)
    if autovacuum == "on":
        assert note is None
        return
    assert note is not None
    assert "VACUUM ANALYZE" in note
    with engine.connect() as connection:
        analyzed = connection.exec_driver_sql(
            "SELECT last_analyze IS NOT NULL AND last_vacuum IS NOT NULL "
            "FROM pg_stat_user_tables WHERE relname = 'stories'"
        ).scalar()
    assert analyzed is True
