"""Officials at the command line: `storyline elections create|list|open|
close|results|electorate`, beside the ballot-file commands of
`storyline elections count|analyze`.

The commands work on the configured database directly, like `storyline
admin`. A change is made as a named user (`--as EMAIL`, or STORYLINE_AS),
whose rights the services check as they do for the API: administrators
create elections, officials open and close them and see their electorate.
Listing and reading results need no account: whoever runs the command holds
the database, so they read as an administrator would.
"""

from __future__ import annotations

import csv
import io
import json
import tomllib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from storyline.accounts import users
from storyline.accounts.users import OPERATOR
from storyline.bootstrap import command_session
from storyline.elections import document_to_text
from storyline.errors import InvalidInput, StorylineError
from storyline.kernel.access import Actor
from storyline.kernel.paging import PageRequest


def _console(*, stderr: bool = False) -> Console:
    # Made when printing, not at import, so the width is the terminal's (or
    # COLUMNS') of this run.
    return Console(stderr=stderr)


# A spec larger than this is not an election someone wrote by hand.
MAX_SPEC_BYTES = 2_000_000

AsUser = Annotated[
    str,
    typer.Option(
        "--as",
        envvar="STORYLINE_AS",
        help="Email of the user acting (an administrator, or the election's official).",
        show_default=False,
    ),
]
ElectionId = Annotated[int, typer.Argument(min=1, help="The election's id.")]


def register(root: typer.Typer) -> None:
    """Add the officials' commands to the `elections` group the command line
    already has for ballot files: one `storyline elections`, not two."""
    group = next((g.typer_instance for g in root.registered_groups if g.name == "elections"), None)
    if group is None:
        raise RuntimeError("the `elections` command group must be mounted before voting's")
    group.command("create")(create)
    group.command("list")(list_elections)
    group.command("open")(open_election)
    group.command("close")(close_election)
    group.command("results")(results)
    group.command("electorate")(electorate)


@contextmanager
def _reporting() -> Iterator[None]:
    # The services' errors are the user's to fix: say what and exit, with no
    # traceback, whichever way the command was started.
    try:
        yield
    except StorylineError as error:
        _console(stderr=True).print(f"error ({error.code}): {error.message}", markup=False)
        raise typer.Exit(2) from None


@contextmanager
def _database(*, write: bool) -> Iterator[Session]:
    with _reporting(), command_session(write=write) as session:
        yield session


def _change(email: str, change: Callable[[Session, Actor], str]) -> None:
    with _database(write=True) as session:
        message = change(session, users.actor_by_email(session, email=email))
    _console().print(message, markup=False)


def read_spec(path: Path) -> dict[str, Any]:
    """The election a TOML or JSON file describes (the body of POST /v1/elections)."""
    is_json = path.suffix.lower() == ".json"
    try:
        if path.stat().st_size > MAX_SPEC_BYTES:
            raise InvalidInput.field("spec", f"{path} is larger than {MAX_SPEC_BYTES:,} bytes")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput.field("spec", f"cannot read {path}: {exc}") from None
    try:
        data = json.loads(text) if is_json else tomllib.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise InvalidInput.field(
            "spec", f"{path} is not valid {'JSON' if is_json else 'TOML'}: {exc}"
        ) from None
    if not isinstance(data, dict):
        raise InvalidInput.field("spec", f"{path} must hold one election (an object)")
    return data


def create(
    spec: Annotated[
        Path, typer.Argument(metavar="SPEC", help="The election as TOML, or JSON (.json).")
    ],
    as_user: AsUser,
) -> None:
    """Create a draft election or poll (administrators) from the fields
    POST /v1/elections takes; you become its official."""
    from storyline.kernel.validation import validate
    from storyline.voting import elections

    with _reporting():
        body = read_spec(spec)

    def change(session: Session, actor: Actor) -> str:
        data = validate(elections.ElectionIn, body)
        election = elections.create_election(session, actor=actor, data=data)
        return f"Created {election.kind} {election.id}: {election.title} (draft)."

    _change(as_user, change)


def list_elections(
    state: Annotated[str | None, typer.Option(help="Only draft, open or closed ones.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many to show.")] = 200,
) -> None:
    """The elections and polls, newest first, with their window and turnout."""
    from storyline.voting import ballots, elections

    table = Table("id", "kind", "title", "state", "opens (UTC)", "closes (UTC)", "voted")
    with _database(write=False) as session:
        page = elections.list_elections(
            session,
            actor=OPERATOR,
            page=PageRequest(limit=limit, sort_field="id", sort_dir="desc"),
            state=state,
        )
        counted = ballots.turnouts(session, [e.id for e in page.items])
        for e in page.items:
            voted = "" if e.electorate_size is None else f"{counted[e.id]} of {e.electorate_size}"
            table.add_row(
                str(e.id),
                e.kind,
                e.title,
                e.state,
                f"{e.opens_at:%Y-%m-%d %H:%M}",
                f"{e.closes_at:%Y-%m-%d %H:%M}",
                voted,
            )
    out = _console()
    out.print(table)
    out.print(f"{page.total} election{'s' if page.total != 1 else ''}.")


def open_election(election_id: ElectionId, as_user: AsUser) -> None:
    """Freeze the electorate and open voting now (officials)."""
    from storyline.kernel.schema import utcnow
    from storyline.voting import elections

    def change(session: Session, actor: Actor) -> str:
        election = elections.get_election(
            session, actor=actor, election_id=election_id, for_update=True
        )
        elections.open_election(session, actor=actor, election=election, now=utcnow())
        return (
            f"Voting is open in {election.id} ({election.title}) for "
            f"{election.electorate_size} voters until {election.closes_at:%Y-%m-%d %H:%M} UTC."
        )

    _change(as_user, change)


def close_election(election_id: ElectionId, as_user: AsUser) -> None:
    """Close voting now and count (officials)."""
    from storyline.kernel.schema import utcnow
    from storyline.voting import ballots

    def change(session: Session, actor: Actor) -> str:
        election = ballots.close(session, actor=actor, election_id=election_id, now=utcnow())
        return (
            f"Closed {election.id} ({election.title}): "
            f"{ballots.turnout(session, election)} ballots counted."
        )

    _change(as_user, change)


def results(
    election_id: ElectionId,
    as_json: Annotated[
        bool,
        typer.Option("--json", help="Print the document GET /v1/elections/{id}/results answers."),
    ] = False,
) -> None:
    """The results: the ranking, the winners, any tie at the last seat and
    how it was broken, and the pairwise matrix."""
    from storyline.voting import ballots

    with _database(write=False) as session:
        document = ballots.read_results(session, actor=OPERATOR, election_id=election_id)
    if as_json:
        typer.echo(json.dumps(document, indent=2))
    else:
        typer.echo(document_to_text(document))


def electorate(
    election_id: ElectionId,
    as_user: AsUser,
    as_csv: Annotated[
        bool, typer.Option("--csv", help="Print user_id,full_name,email CSV.")
    ] = False,
) -> None:
    """The electorate (officials): frozen once voting opens; for a draft,
    who it would be now."""
    from storyline.voting import elections

    with _database(write=False) as session:
        actor = users.actor_by_email(session, email=as_user)
        election = elections.get_election(session, actor=actor, election_id=election_id)
        rows = elections.electorate_rows(session, actor=actor, election=election)
        frozen = election.state != "draft"
    if as_csv:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["user_id", "full_name", "email"])
        writer.writerows(rows)
        typer.echo(buffer.getvalue(), nl=False)
        return
    table = Table("id", "name", "email")
    for user_id, name, email in rows:
        table.add_row(str(user_id), name, email)
    out = _console()
    out.print(table)
    out.print(
        f"{len(rows)} voter{'s' if len(rows) != 1 else ''}"
        + ("." if frozen else " (a draft: who the electorate would be now).")
    )
