"""`storyline bench` end to end on the smallest tier: a real server process,
every request type, the concurrent writers, and nothing left running."""

from __future__ import annotations

import os
from pathlib import Path

import httpx
import pytest
from rich.console import Console
from sqlalchemy import create_engine, text

from storyline import bench
from storyline.cli.bench import render

PG_ENV = "STORYLINE_TEST_DATABASE_URL"


@pytest.mark.slow
def test_bench_smoke(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    database = "postgresql" if os.environ.get(PG_ENV) else "sqlite"
    options = bench.BenchOptions(
        tier="XS",
        database=database,
        url=os.environ.get(PG_ENV),
        requests=4,
        duration=0.3,
        concurrency=3,
        writes_per_writer=3,
        workers=1,
        data_dir=tmp_path,
        case_seconds=30,
    )
    ports: list[int] = []
    real_free_port = bench.server.free_port

    def recording_free_port() -> int:
        ports.append(real_free_port())
        return ports[-1]

    # The server module is where `running_server` looks the function up.
    monkeypatch.setattr(bench.server, "free_port", recording_free_port)
    result = bench.run(options, Console(quiet=True))

    by_name = {case.name: case for case in result.cases}
    assert set(by_name) == {
        "list",
        "list_project",
        "get",
        "search",
        "create_story",
        "create_task",
        "update_task",
        *bench.PAGES,
    }
    for case in result.cases:
        assert case.count == options.requests, (case.name, case.error_samples)
        assert case.errors == 0, case.error_samples
        assert case.median_ms is not None
        assert case.sql_ms is not None, (case.name, case.sql_method)
    assert set(result.throughput) == set(bench.READS)
    assert all(rate > 0 for rates in result.throughput.values() for rate in rates.values())
    assert result.writers["errors"] == 0, result.writers["error_samples"]
    assert result.writers["writes"] == 3 * 3
    assert result.writers["consistent"] is True
    # The server is gone once the run is over.
    assert len(ports) == 1
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{ports[0]}/healthz", timeout=2)
    # A second run reuses the cached database instead of loading again.
    again = bench.run(options, Console(quiet=True))
    assert again.load_seconds is None
    console = Console(record=True, width=160)
    render(again, console)
    assert "StoryBoard" in console.export_text()
    if database == "postgresql":
        _drop_cached_templates(os.environ[PG_ENV])


def _drop_cached_templates(base: str) -> None:
    engine = create_engine(bench.pg_url(base, "postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            names = connection.scalars(
                text("SELECT datname FROM pg_database WHERE datname LIKE 'storyline_bench_xs_s1_%'")
            ).all()
            for name in names:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()
