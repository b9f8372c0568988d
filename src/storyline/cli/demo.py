"""`storyline demo`: deterministic demo data at the scale tiers."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from storyline.bootstrap import build
from storyline.config import Settings
from storyline.errors import InvalidInput

app = typer.Typer(help="Load demo data (the scale tiers S, M and L).", no_args_is_help=True)
console = Console()


@app.command("load")
def load(
    tier: Annotated[
        str,
        typer.Option(
            help="S: 15k stories (all of StoryBoard); M: 100k; L: 1M.", case_sensitive=False
        ),
    ] = "S",
    seed: Annotated[int, typer.Option(help="Same seed, same data.")] = 1,
    force: Annotated[
        bool, typer.Option("--force", help="Empty a database that already holds data first.")
    ] = False,
) -> None:
    """Fill the database (STORYLINE_DATABASE_URL) with generated stories, tasks,
    comments, projects, users and the rest."""
    from storyline import demo
    from storyline.kernel import migrate

    tier = tier.upper()
    if tier not in demo.TIERS:
        raise InvalidInput.field("tier", f"must be one of {', '.join(demo.PUBLIC_TIERS)}")
    container = build(Settings.from_env())
    try:
        migrate.upgrade(container.db.engine)
        report = demo.load(
            container.db.engine, tier=tier, seed=seed, force=force, console=Console(stderr=True)
        )
    finally:
        container.db.dispose()
    table = Table(title=f"Tier {tier}, seed {seed}, {report.dialect}")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, rows in sorted(report.rows.items()):
        table.add_row(name, f"{rows:,}")
    console.print(table)
    console.print(f"Loaded in {report.seconds:.1f} s.")
