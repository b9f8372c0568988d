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


def read_password(*, stdin: bool) -> str:
    """A new password: one line from stdin, or typed twice at a prompt."""
    if stdin:
        password = sys.stdin.readline().rstrip("\n")
        if not password:
            raise InvalidInput.field("password", "nothing was read from stdin")
        return password
    typed: str = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    return typed


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
