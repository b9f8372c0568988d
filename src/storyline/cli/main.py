"""`storyline`: run the server, manage the database, administer, load demo data."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console

from storyline.accounts import cli as accounts
from storyline.bootstrap import build
from storyline.cli import remote
from storyline.cli.bench import bench as bench_command
from storyline.cli.db import app as db_app
from storyline.cli.db import prepare as prepare_schema
from storyline.cli.demo import app as demo_app
from storyline.cli.elections import app as elections_app
from storyline.config import Settings
from storyline.errors import StorylineError
from storyline.notifications.cli import app as outbox_app
from storyline.notifications.cli import worker as worker_command

app = typer.Typer(
    name="storyline",
    help="Storyline: a tracker for work that spans many projects.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
admin_app = typer.Typer(help="Administer users and tokens.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(admin_app, name="admin")
app.add_typer(elections_app, name="elections")
app.add_typer(demo_app, name="demo")
app.add_typer(outbox_app, name="outbox")
app.command("worker")(worker_command)
app.command("bench")(bench_command)
app.command("login")(remote.login)
app.command("logout")(remote.logout)
app.command("whoami")(remote.whoami)
app.command("api")(remote.api)
admin_app.command("set-password")(accounts.set_password)
admin_app.command("invite")(accounts.invite)
admin_app.command("audit")(accounts.audit_log)

console = Console()
err_console = Console(stderr=True)


def settings() -> Settings:
    return Settings.from_env()


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes (PostgreSQL scales out).")] = 1,
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
    if config.is_sqlite and config.worker_in_process and workers == 1:
        # One process is the whole installation: deliver the outbox here too.
        from storyline.notifications.worker import start_in_thread

        start_in_thread(build(config))
    console.print(
        f"Storyline {_version()} on http://{host}:{port}/ (database: {_db_label(config)})"
    )
    uvicorn.run(
        "storyline.asgi:app",
        host=host,
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
    )


@admin_app.command("create-user")
def create_user(
    name: Annotated[str, typer.Option("--name", help="Full name.")],
    email: Annotated[str, typer.Option("--email", help="Email address (unique).")],
    superuser: Annotated[bool, typer.Option("--superuser", help="Make an administrator.")] = False,
    token: Annotated[bool, typer.Option("--token", help="Also mint an API token.")] = False,
    password: Annotated[
        bool, typer.Option("--password", help="Prompt for a local password (signs in on /login).")
    ] = False,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read a local password from stdin.")
    ] = False,
) -> None:
    """Create a user; with --token, print a new bearer token for it."""
    from storyline.accounts import local_accounts, users
    from storyline.kernel import migrate

    new_password = None
    if password or password_stdin:
        new_password = accounts.read_password(stdin=password_stdin)
        local_accounts.check_password_strength(new_password)
    container = build(settings())
    migrate.upgrade(container.db.engine)
    with container.db.write() as session:
        user, secret = users.admin_create_user(
            session, full_name=name, email=email, superuser=superuser, with_token=token
        )
        user_id = user.id
        if new_password is not None:
            local_accounts.set_password(session, user_id=user_id, password=new_password)
    container.db.dispose()
    console.print(f"Created user {user_id} <{email}>{' (superuser)' if superuser else ''}.")
    if secret:
        # The secret alone on the last line, so scripts can capture it.
        console.print("Token (shown once):")
        print(secret)


@admin_app.command("create-token")
def create_token(
    email: Annotated[str, typer.Option("--email", help="Email address of the token's owner.")],
    name: Annotated[
        str | None, typer.Option("--name", help="A label to tell the token apart.")
    ] = None,
    read_only: Annotated[
        bool, typer.Option("--read-only", help="The token may read but not write.")
    ] = False,
    expires_in_days: Annotated[
        int | None,
        typer.Option(
            "--expires-in-days", min=1, help="Expire after this many days (default: never)."
        ),
    ] = None,
) -> None:
    """Mint a bearer token for an existing user and print it (shown once)."""
    from storyline.accounts import tokens
    from storyline.kernel import migrate

    container = build(settings())
    migrate.upgrade(container.db.engine)
    with container.db.write() as session:
        token, secret, user = tokens.admin_create_token(
            session,
            email=email,
            name=name,
            read_only=read_only,
            expires_in_days=expires_in_days,
        )
        token_id, owner, scope, expires_at = token.id, user.email, token.scope, token.expires_at
    expiry = f"expires {expires_at:%Y-%m-%d %H:%M} UTC" if expires_at else "never expires"
    console.print(f"Created {scope} token {token_id} for <{owner}>; it {expiry}.")
    console.print("Token (shown once):")
    # The secret alone on the last line, so scripts can capture it.
    print(secret)


@admin_app.command("revoke-token")
def revoke_token(
    token_id: Annotated[int, typer.Option("--id", help="The token's id.")],
) -> None:
    """Revoke (delete) a token; requests that send it are refused from now on."""
    from storyline.accounts import tokens
    from storyline.kernel import migrate

    container = build(settings())
    migrate.upgrade(container.db.engine)
    with container.db.write() as session:
        token = tokens.admin_revoke_token(session, token_id=token_id)
        owner_id = token.user_id
    console.print(f"Revoked token {token_id} of user {owner_id}.")


@admin_app.command("list-users")
def list_users(
    name: Annotated[str | None, typer.Option("--name", help="Full name contains this.")] = None,
    email: Annotated[str | None, typer.Option("--email", help="Email contains this.")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many users.")] = 100,
    offset: Annotated[int, typer.Option("--offset", min=0, help="Skip this many users.")] = 0,
) -> None:
    """List users with their roles and how many tokens they hold."""
    from rich.table import Table

    from storyline.accounts import tokens, users
    from storyline.kernel import migrate
    from storyline.kernel.paging import PageRequest

    container = build(settings())
    migrate.upgrade(container.db.engine)
    page_request = PageRequest(limit=limit, offset=offset)
    with container.db.read() as session:
        page = users.list_users(
            session,
            actor=users.OPERATOR,
            filters=users.UserFilter(full_name=name, email=email),
            page=page_request,
        )
        counts = tokens.count_by_user(session, user_ids=[user.id for user in page.items])
    table = Table(title=f"Users ({len(page.items)} of {page.total})")
    for column in ("id", "name", "email", "admin", "active", "tokens", "last login"):
        table.add_column(column, justify="right" if column in {"id", "tokens"} else "left")
    for user in page.items:
        table.add_row(
            str(user.id),
            user.full_name or "",
            user.email or "",
            "yes" if user.is_superuser else "",
            "yes" if user.is_active else "no",
            str(counts.get(user.id, 0)),
            f"{user.last_login:%Y-%m-%d %H:%M}" if user.last_login else "",
        )
    console.print(table)


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
