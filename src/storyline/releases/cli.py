"""Release management commands: `storyline exceptions list|expire`."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from storyline.bootstrap import build
from storyline.config import Settings
from storyline.kernel.access import Actor
from storyline.kernel.paging import PageRequest

console = Console()


def register(app: typer.Typer) -> None:
    """Add the release management commands to the command line."""
    register_exceptions(app)


# Freeze exceptions

exceptions_app = typer.Typer(help="Freeze exceptions of release cycles.", no_args_is_help=True)
# The command line reads as the release team: everything, private stories included.
_RELEASE_TEAM = Actor(user_id=0, is_superuser=True, can_write=True)


def register_exceptions(app: typer.Typer) -> None:
    app.add_typer(exceptions_app, name="exceptions")


@exceptions_app.command("list")
def list_exceptions(
    cycle: Annotated[str, typer.Argument(help="The cycle, by name or id.")],
    state: Annotated[str | None, typer.Option(help="Only requests in this state.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many to show.")] = 200,
) -> None:
    """List a cycle's freeze exception requests with their state."""
    from storyline.releases import cycles, exceptions

    container = build(Settings.from_env())
    try:
        with container.db.read() as session:
            found = cycles.get_cycle(session, cycle)
            page = exceptions.list_exceptions(
                session,
                actor=_RELEASE_TEAM,
                filters=exceptions.ExceptionFilter(cycle_id=found.id, state=state),
                page=PageRequest(limit=limit),
            )
            views = exceptions.views(session, actor=_RELEASE_TEAM, found=page.items)
    finally:
        container.db.dispose()
    table = Table("id", "story", "project", "freeze", "risk", "state", "deadline")
    for view in views:
        e = view.exception
        table.add_row(
            str(e.id),
            f"{e.story_id} {view.story_title[:50]}",
            view.project_name,
            e.freeze,
            e.risk,
            e.state if view.deferred_to is None else f"{e.state} (to {view.deferred_to})",
            "" if e.deadline is None else e.deadline.isoformat(),
        )
    console.print(table)
    console.print(f"{page.total} request{'s' if page.total != 1 else ''}.")


@exceptions_app.command("expire")
def expire(
    today: Annotated[
        dt.datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="Settle as of this day (default: today, UTC)."),
    ] = None,
) -> None:
    """Defer granted exceptions past their deadline to the next cycle (what
    the worker does on every pass)."""
    from storyline.releases import exceptions

    day = None if today is None else today.date()
    container = build(Settings.from_env())
    try:
        with container.db.write() as session:
            result = exceptions.expire(session, today=day)
    finally:
        container.db.dispose()
    console.print(
        f"Deferred {len(result.deferred)} exception{'s' if len(result.deferred) != 1 else ''}"
        f"; {len(result.merged)} found merged."
    )
