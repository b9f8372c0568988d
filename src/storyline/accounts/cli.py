"""Administrator commands for sign-in: passwords, invitations, the audit log."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from storyline.bootstrap import build
from storyline.config import Settings
from storyline.errors import InvalidInput

console = Console()
admin = typer.Typer(help="Administer users and tokens.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the accounts commands (`storyline admin ...`) to the command line."""
    app.add_typer(admin, name="admin")


def read_password(*, stdin: bool) -> str:
    """A new password: one line from stdin, or typed twice at a prompt."""
    if stdin:
        password = sys.stdin.readline().rstrip("\n")
        if not password:
            raise InvalidInput.field("password", "nothing was read from stdin")
        return password
    typed: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return typed


@admin.command("set-password")
def set_password(
    email: Annotated[str, typer.Option("--email", help="The user's email address.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
) -> None:
    """Set or reset a user's local password (and sign them out everywhere)."""
    from storyline.accounts import audit, local_accounts, users, web_sessions
    from storyline.kernel import migrate

    password = read_password(stdin=password_stdin)
    local_accounts.check_password_strength(password)
    container = build(Settings.from_env())
    migrate.upgrade(container.db.engine)
    with container.db.write() as session:
        user = users.get_user_by_email(session, email=email)
        local_accounts.set_password(session, user_id=user.id, password=password)
        # A reset password usually means the old one leaked.
        web_sessions.close_all(session, user_id=user.id, client=audit.NO_CLIENT)
        user_id = user.id
    container.db.dispose()
    console.print(f"Password set for user {user_id} <{email}>; their sessions were ended.")


@admin.command("invite")
def invite(
    email: Annotated[
        str | None, typer.Option("--email", help="Only this address may use it.")
    ] = None,
    days: Annotated[int, typer.Option(help="Days until the invitation expires.")] = 14,
    url: Annotated[
        str | None, typer.Option(help="The server's public address, for the link.")
    ] = None,
) -> None:
    """Create an invitation to sign up (for STORYLINE_SIGNUP_INVITE_ONLY)."""
    from storyline.accounts import identities
    from storyline.kernel import migrate

    config = Settings.from_env()
    container = build(config)
    migrate.upgrade(container.db.engine)
    with container.db.write() as session:
        _invitation, secret = identities.create_invitation(
            session, created_by=None, email=email, valid_days=days
        )
    container.db.dispose()
    base = (url or config.public_url or "http://127.0.0.1:8000").rstrip("/")
    console.print(f"Invitation{' for ' + email if email else ''}, valid {days} days:")
    print(f"{base}/login?invite={secret}")


@admin.command("audit")
def audit_log(
    limit: Annotated[int, typer.Option(help="How many events, newest first.")] = 50,
    user_id: Annotated[int | None, typer.Option(help="Only events about this user.")] = None,
    event_type: Annotated[str | None, typer.Option(help="Only this kind of event.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
) -> None:
    """Show sign-ins, failures and token use."""
    from storyline.accounts import audit
    from storyline.kernel.access import Actor
    from storyline.kernel.paging import PageRequest

    container = build(Settings.from_env())
    # The operator at the command line has the database already; reading
    # the log needs no account.
    operator = Actor(user_id=0, is_superuser=True, can_write=True)
    with container.db.read() as session:
        page = audit.list_events(
            session,
            actor=operator,
            filters=audit.AuditFilter(user_id=user_id, event_type=event_type),
            page=PageRequest(limit=max(1, limit), sort_field="id", sort_dir="desc"),
        )
        rows = [(e, audit.details_of(e)) for e in page.items]
    container.db.dispose()
    if as_json:
        for event, details in rows:
            print(
                json.dumps(
                    {
                        "id": event.id,
                        "created_at": event.created_at.isoformat(timespec="seconds"),
                        "event_type": event.event_type,
                        "user_id": event.user_id,
                        "ip": event.ip,
                        "details": details,
                    },
                    sort_keys=True,
                )
            )
        return
    table = Table("when (UTC)", "event", "user", "address", "details")
    for event, details in rows:
        table.add_row(
            event.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            event.event_type,
            str(event.user_id or ""),
            event.ip or "",
            ", ".join(f"{k}={v}" for k, v in details.items()),
        )
    console.print(table)


@admin.command("create-user")
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
        new_password = read_password(stdin=password_stdin)
        local_accounts.check_password_strength(new_password)
    container = build(Settings.from_env())
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


@admin.command("create-token")
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

    container = build(Settings.from_env())
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


@admin.command("revoke-token")
def revoke_token(
    token_id: Annotated[int, typer.Option("--id", help="The token's id.")],
) -> None:
    """Revoke (delete) a token; requests that send it are refused from now on."""
    from storyline.accounts import tokens
    from storyline.kernel import migrate

    container = build(Settings.from_env())
    migrate.upgrade(container.db.engine)
    with container.db.write() as session:
        token = tokens.admin_revoke_token(session, token_id=token_id)
        owner_id = token.user_id
    console.print(f"Revoked token {token_id} of user {owner_id}.")


@admin.command("list-users")
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

    container = build(Settings.from_env())
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
