"""The benchmark's cached tiers: built once, and upgraded rather than loaded
again when revisions were appended since."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import create_engine, func, select

from storyline import bench
from storyline.bench.database import prepare_database
from storyline.kernel import migrate
from storyline.tracker.models import Story


def test_fingerprints_are_those_of_each_prefix_of_the_history() -> None:
    prints = migrate.fingerprints()
    assert len(prints) == len(migrate.history())
    assert prints[-1] == migrate.fingerprint()
    assert len(set(prints)) == len(prints)


def test_a_cache_of_an_older_history_is_upgraded_not_loaded_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = bench.BenchOptions(tier="XS", database="sqlite", data_dir=tmp_path)
    quiet = Console(quiet=True)
    # The history as it was: the cache is loaded under its fingerprint.
    monkeypatch.setattr(migrate, "fingerprints", lambda: ["first", "older"])
    prepared = prepare_database(options, quiet)
    prepared.cleanup()
    assert prepared.load_seconds is not None
    assert [p.name for p in tmp_path.glob("xs_*.db")] == ["xs_s1_g1_molder.db"]

    # A revision appended: a copy of that cache is upgraded to the head.
    monkeypatch.setattr(migrate, "fingerprints", lambda: ["first", "older", "newer"])
    prepared = prepare_database(options, quiet)
    try:
        assert prepared.load_seconds is None
        assert [p.name for p in tmp_path.glob("xs_*.db")] == ["xs_s1_g1_mnewer.db"]
        engine = create_engine(prepared.url)
        try:
            assert migrate.current(engine) == migrate.head()
            with engine.connect() as connection:
                assert connection.scalar(select(func.count()).select_from(Story)) == 300
        finally:
            engine.dispose()
    finally:
        prepared.cleanup()

    # A history that does not extend the cached one is loaded afresh.
    monkeypatch.setattr(migrate, "fingerprints", lambda: ["first", "edited"])
    prepared = prepare_database(options, quiet)
    prepared.cleanup()
    assert prepared.load_seconds is not None
    assert [p.name for p in tmp_path.glob("xs_*.db")] == ["xs_s1_g1_medited.db"]
