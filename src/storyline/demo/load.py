"""`load`: the demo data of a tier into a migrated database, in one transaction."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from sqlalchemy import Engine

from storyline.demo import database
from storyline.demo.small_tables import write_small_tables
from storyline.demo.stories import write_stories
from storyline.demo.text import Text
from storyline.demo.tiers import PUBLIC_TIERS, TIERS
from storyline.demo.writer import BulkWriter
from storyline.errors import Conflict, InvalidInput


@dataclass
class LoadReport:
    tier: str
    seed: int
    dialect: str
    seconds: float = 0.0
    rows: dict[str, int] = field(default_factory=dict)


def load(
    engine: Engine,
    *,
    tier: str,
    seed: int = 1,
    force: bool = False,
    console: Console | None = None,
) -> LoadReport:
    """Fill a migrated database with the demo data of `tier`.

    Refuses a database that already holds users, projects or stories unless
    `force`, in which case every table is emptied first."""
    if tier not in TIERS:
        raise InvalidInput.field("tier", f"must be one of {', '.join(PUBLIC_TIERS)}")
    spec = TIERS[tier]
    if not force and not database.is_empty(engine):
        raise Conflict(
            "The database already holds data; loading demo data would mix with it. "
            "Use --force to empty it first."
        )
    report = LoadReport(tier=tier, seed=seed, dialect=engine.dialect.name)
    started = time.perf_counter()
    tables = database.loaded_tables(engine)
    progress = Progress(
        TextColumn("{task.description:<22}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console or Console(stderr=True),
        disable=console is None,
    )
    with progress, database.raw_transaction(engine) as (connection, cursor):
        indexes = database.SecondaryIndexes(cursor, engine.dialect.name)
        indexes.set_aside(tables)
        if force:
            database.empty(cursor, engine.dialect.name, tables)
        writer = BulkWriter(connection, engine.dialect)
        text = Text(seed)
        step = progress.add_task("users, projects, tags", total=1)
        world = write_small_tables(writer, text, spec, seed)
        progress.update(step, completed=1)
        step = progress.add_task("stories and the rest", total=spec.stories)
        write_stories(writer, text, spec, seed, world, lambda done: progress.advance(step, done))
        step = progress.add_task("indexes", total=1)
        indexes.restore()
        if engine.dialect.name == "postgresql":
            database.reset_sequences(cursor, tables)
        progress.update(step, completed=1)
        report.rows = dict(writer.rows)
    database.analyze(engine)
    report.seconds = time.perf_counter() - started
    return report
