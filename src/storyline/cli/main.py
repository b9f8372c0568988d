"""`storyline`: run the server, manage the database, administer, load demo data."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console

from storyline.bootstrap import build
from storyline.cli import remote
from storyline.cli.bench import app as bench_app
from storyline.cli.db import app as db_app
from storyline.cli.db import prepare as prepare_schema
from storyline.cli.demo import app as demo_app
from storyline.cli.elections import app as elections_app
from storyline.config import Settings, default_processes
from storyline.errors import StorylineError
from storyline.subsystems import parts

app = typer.Typer(
    name="storyline",
    help="Storyline: a tracker for work that spans many projects.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(db_app, name="db")
app.add_typer(elections_app, name="elections")
app.add_typer(demo_app, name="demo")
app.add_typer(bench_app, name="bench")
app.command("login")(remote.login)
app.command("logout")(remote.logout)
app.command("whoami")(remote.whoami)
app.command("api")(remote.api)
# Each subsystem adds its own commands (`<subsystem>/cli.py`).
for _commands in parts("cli"):
    _commands.register(app)

console = Console()
err_console = Console(stderr=True)


def settings() -> Settings:
    return Settings.from_env()


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[
        int | None,
        typer.Option(
            help="Worker processes (default: one per core, at most 8).",
            show_default=False,
            min=1,
            max=64,
        ),
    ] = None,
    upgrade: Annotated[
        bool | None,
        typer.Option(
            "--upgrade/--no-upgrade",
            help="Upgrade an older schema first (default: on SQLite only), or never touch "
            "the schema.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run the HTTP server. An empty database gets the schema; an older SQLite
    database is copied aside and upgraded; an older PostgreSQL database stops
    the server until `storyline db upgrade` has run."""
    import uvicorn

    config = settings()
    container = build(config)
    try:
        prepare_schema(container.db.engine, config, upgrade_schema=upgrade)
    finally:
        container.db.dispose()
    processes = workers or default_processes()
    if config.is_sqlite and config.worker_in_process:
        # The installation is this command: deliver the outbox here too. With
        # several processes this one only supervises uvicorn's, which start
        # afresh (spawn), so the worker thread lives here once, not per
        # process.
        from storyline.notifications.worker import start_in_thread

        start_in_thread(build(config))
    console.print(
        f"Storyline {_version()} on http://{host}:{port}/ "
        f"(database: {_db_label(config)}, {processes} process{'es' if processes > 1 else ''})"
    )
    uvicorn.run(
        "storyline.asgi:app",
        host=host,
        port=port,
        workers=processes,
        log_level="warning",
        access_log=False,
        # uvicorn would believe X-Forwarded-For from 127.0.0.1 by default;
        # the app decides whom to believe (STORYLINE_TRUSTED_PROXIES).
        proxy_headers=False,
    )


def _version() -> str:
    from storyline import __version__

    return __version__


def _db_label(config: Settings) -> str:
    url = config.database_url
    if config.is_sqlite:
        return url
    return url.split("@")[-1]


def main() -> None:
    try:
        app()
    except StorylineError as error:
        err_console.print(f"[red]error[/red] ({error.code}): {error.message}")
        sys.exit(2)
