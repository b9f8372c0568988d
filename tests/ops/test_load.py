"""`storyline bench load`, CI-sized: ten users for fifteen seconds against a
real server on the smallest tier, with no 5xx answer and no lost write."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import create_engine, text

from storyline import bench
from storyline.bench.load import MIX, LoadOptions, run_load
from storyline.cli.bench import render_load

PG_ENV = "STORYLINE_TEST_DATABASE_URL"
# A seed of its own, so that its cached PostgreSQL template is not the one
# the other benchmark test creates and drops.
SEED = 7


@pytest.mark.slow
def test_ten_users_for_fifteen_seconds(tmp_path: Path) -> None:
    base = os.environ.get(PG_ENV)
    options = LoadOptions(
        users=10,
        duration=15,
        tier="XS",
        database="postgresql" if base else "sqlite",
        url=base,
        workers=2,
        seed=SEED,
        data_dir=tmp_path,
    )
    try:
        result = run_load(options, Console(quiet=True))
    finally:
        if base:
            _drop_cached_templates(base)

    assert result.server_errors == 0, result.error_samples
    assert result.transport_errors == 0, result.error_samples
    assert result.lost == []
    assert result.ok
    assert [kind.name for kind in result.kinds] == list(MIX)
    for kind in result.kinds:
        assert kind.count > 0, kind.name
        assert kind.errors == 0, result.error_samples
        assert kind.p50_ms is not None
        assert kind.p95_ms is not None
        assert kind.p99_ms is not None
        assert kind.p50_ms <= kind.p95_ms <= kind.p99_ms
    assert all(count > 0 for count in result.acknowledged.values()), result.acknowledged
    assert result.requests == sum(kind.count for kind in result.kinds)
    assert result.throughput > 0
    console = Console(record=True, width=160)
    render_load(result, console)
    report = console.export_text()
    assert "p99 ms" in report
    assert "lost writes: 0" in report


def _drop_cached_templates(base: str) -> None:
    engine = create_engine(bench.pg_url(base, "postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            names = connection.scalars(
                text(
                    "SELECT datname FROM pg_database "
                    f"WHERE datname LIKE 'storyline_bench_xs_s{SEED}_%'"
                )
            ).all()
            for name in names:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()
