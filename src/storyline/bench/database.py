"""The benchmark's database: a tier loaded once, cached, and copied for each run."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from storyline import demo
from storyline.bench.results import BenchOptions
from storyline.config import Settings
from storyline.errors import ConfigurationError, InvalidInput
from storyline.kernel import migrate

DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1/test"


@dataclass
class PreparedDatabase:
    """The copy a run writes to; `load_seconds` is None when the tier was cached."""

    url: str
    load_seconds: float | None
    cleanup: Callable[[], None]


def prepare_database(options: BenchOptions, console: Console) -> PreparedDatabase:
    """A database holding the tier, fresh for this run.

    The loaded database is cached (a file in `data_dir` on SQLite, a template
    database on PostgreSQL) and copied for each run, because the run writes."""
    # An unreleased revision may be edited in place, so the head's name does
    # not say whether the schema changed: the migrations' contents do.
    prefix = f"{options.tier.lower()}_s{options.seed}_g{demo.GENERATOR_VERSION}_m"
    *older, current = migrate.fingerprints()
    key = prefix + current
    # A cache built before revisions were appended upgrades to this one
    # instead of being loaded again (an hour at tier L), newest first.
    ancestors = [prefix + fingerprint for fingerprint in reversed(older)]
    if options.database == "sqlite":
        return _prepare_sqlite(options, key, ancestors, console)
    if options.database == "postgresql":
        return _prepare_postgresql(options, key, ancestors, console)
    raise InvalidInput.field("database", "must be sqlite or postgresql")


def _load(url: str, options: BenchOptions, console: Console) -> float:
    engine = open_engine(url)
    try:
        migrate.upgrade(engine)
        console.print(f"Loading tier {options.tier} (seed {options.seed}); this happens once.")
        report = demo.load(engine, tier=options.tier, seed=options.seed, console=console)
        return report.seconds
    finally:
        engine.dispose()


def _upgrade(url: str, console: Console) -> None:
    """Bring a copy of a cache built by an older migration history to the
    current one, as `storyline db upgrade` would a production database; new
    indexes then get their statistics, as after a load."""
    engine = open_engine(url)
    try:
        started = time.perf_counter()
        migrate.upgrade(engine)
        demo.analyze(engine)
        console.print(f"Upgraded in {time.perf_counter() - started:.0f} s.")
    finally:
        engine.dispose()


def _prepare_sqlite(
    options: BenchOptions, key: str, ancestors: list[str], console: Console
) -> PreparedDatabase:
    directory = options.data_dir
    directory.mkdir(parents=True, exist_ok=True)
    cached = directory / f"{key}.db"
    load_seconds = None
    if not cached.exists():
        # Built under a temporary name and renamed, so an interrupted load
        # never leaves a half-filled cache behind.
        partial = directory / f"{key}.partial.db"
        for leftover in _sqlite_files(partial):
            leftover.unlink(missing_ok=True)
        ancestor = next(
            (path for name in ancestors if (path := directory / f"{name}.db").exists()), None
        )
        if ancestor is not None:
            console.print(f"Upgrading a copy of {ancestor.name} to the current migrations.")
            shutil.copyfile(ancestor, partial)
            _upgrade(f"sqlite:///{partial}", console)
        else:
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
    suffixes = ("-wal", "-shm", "-writers", "-writers-waiting", "-credentials")
    return [path, *(path.with_name(path.name + suffix) for suffix in suffixes)]


def pg_url(base: str, database: str) -> str:
    url = make_url(base)
    url = url.set(drivername="postgresql+psycopg", database=database)
    return url.render_as_string(hide_password=False)


def postgres_base(url: str | None) -> str:
    """The PostgreSQL server the benchmark creates its databases on."""
    base = url or os.environ.get("STORYLINE_BENCH_POSTGRES_URL") or DEFAULT_POSTGRES
    if not base.startswith("postgresql"):
        raise ConfigurationError("the PostgreSQL benchmark needs a postgresql:// URL")
    return base


def fresh_database(
    database: str, *, data_dir: Path, url: str | None = None, name: str = "remote"
) -> PreparedDatabase:
    """An empty database with the current schema, dropped by `cleanup`: for
    runs that fill it through the API (`storyline bench compare`)."""
    if database == "sqlite":
        data_dir.mkdir(parents=True, exist_ok=True)
        path = data_dir / f"{name}-{os.getpid()}.db"
        files = _sqlite_files(path)
        for leftover in files:
            leftover.unlink(missing_ok=True)
        _migrate_empty(f"sqlite:///{path}")

        def remove_files() -> None:
            for leftover in files:
                leftover.unlink(missing_ok=True)

        return PreparedDatabase(url=f"sqlite:///{path}", load_seconds=None, cleanup=remove_files)
    if database != "postgresql":
        raise InvalidInput.field("database", "must be sqlite or postgresql")
    base = postgres_base(url)
    admin = create_engine(pg_url(base, "postgres"), isolation_level="AUTOCOMMIT")
    run = f"storyline_bench_{name}_{os.getpid()}"

    def drop() -> None:
        try:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{run}" WITH (FORCE)'))
        finally:
            admin.dispose()

    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{run}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{run}"'))
        _migrate_empty(pg_url(base, run))
    except Exception:
        drop()
        raise
    return PreparedDatabase(url=pg_url(base, run), load_seconds=None, cleanup=drop)


def _migrate_empty(url: str) -> None:
    engine = open_engine(url)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()


def _prepare_postgresql(
    options: BenchOptions, key: str, ancestors: list[str], console: Console
) -> PreparedDatabase:
    base = postgres_base(options.url)
    admin = create_engine(pg_url(base, "postgres"), isolation_level="AUTOCOMMIT")
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
            ancestor = next(
                (
                    f"storyline_bench_{name}"
                    for name in ancestors
                    if f"storyline_bench_{name}" in existing
                ),
                None,
            )
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{partial}" WITH (FORCE)'))
                if ancestor is not None:
                    console.print(f"Upgrading a copy of {ancestor} to the current migrations.")
                    connection.execute(text(f'CREATE DATABASE "{partial}" TEMPLATE "{ancestor}"'))
                else:
                    connection.execute(text(f'CREATE DATABASE "{partial}"'))
            if ancestor is not None:
                _upgrade(pg_url(base, partial), console)
            else:
                load_seconds = _load(pg_url(base, partial), options, console)
            with admin.connect() as connection:
                connection.execute(text(f'ALTER DATABASE "{partial}" RENAME TO "{template}"'))
                # Templates of the same tier and seed built by an older schema or
                # generator (another seed's template is not stale: a run may be using it).
                prefix = f"storyline_bench_{options.tier.lower()}_s{options.seed}_"
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

    return PreparedDatabase(url=pg_url(base, run), load_seconds=load_seconds, cleanup=cleanup)


def open_engine(url: str) -> Engine:
    from storyline.kernel.db import make_engine

    return make_engine(Settings(database_url=url))
