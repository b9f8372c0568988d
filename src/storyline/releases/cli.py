"""The release manager's routine at the command line: `storyline cycles ...`
and `storyline exceptions ...`, `storyline velocity ...`.

The commands work on the configured database directly, like `storyline
admin`. Reading needs no account; a change is made as a named user
(`--as EMAIL`, or STORYLINE_AS), whose rights the services check as they do
for the API: superusers open cycles, a cycle's release managers change it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from storyline.accounts import users
from storyline.bootstrap import command_container, command_session
from storyline.kernel.access import Actor
from storyline.kernel.paging import PageRequest

console = Console()
cycles_app = typer.Typer(help="Release cycles and their schedules.", no_args_is_help=True)
velocity = typer.Typer(
    help="Count commits and compare a cycle's milestones with an earlier cycle's.",
    no_args_is_help=True,
)

AsUser = Annotated[
    str,
    typer.Option(
        "--as",
        envvar="STORYLINE_AS",
        help="Email of the user making the change.",
        show_default=False,
    ),
]


def register(app: typer.Typer) -> None:
    """Add the release commands (`storyline cycles ...`, `storyline
    exceptions ...`, `storyline velocity ...`) to the command line."""
    app.add_typer(cycles_app, name="cycles")
    app.add_typer(exceptions_app, name="exceptions")
    app.add_typer(velocity, name="velocity")


def _change(email: str, change: Callable[[Session, Actor], str]) -> None:
    with command_session(write=True) as session:
        message = change(session, users.actor_by_email(session, email=email))
    console.print(message)


@cycles_app.command("list")
def list_cycles() -> None:
    """The cycles, oldest first."""
    from storyline.releases import cycles

    table = Table("name", "title", "starts", "releases", "entries", "projects")
    with command_session(write=False) as session:
        for cycle in cycles.list_cycles(session):
            table.add_row(
                cycle.name,
                cycle.title or "",
                cycle.starts_on.isoformat(),
                cycle.releases_on.isoformat(),
                str(len(cycles.schedule(session, cycle.id))),
                str(len(cycles.list_series(session, cycle.id))),
            )
    console.print(table)


@cycles_app.command("open")
def open_cycle(
    name: Annotated[str, typer.Argument(help="Short name: icehouse, 2026.1.")],
    starts: Annotated[dt.datetime, typer.Option("--starts", formats=["%Y-%m-%d"])],
    releases: Annotated[dt.datetime, typer.Option("--releases", formats=["%Y-%m-%d"])],
    as_user: AsUser,
    title: Annotated[str | None, typer.Option(help="A longer title.")] = None,
) -> None:
    """Open a cycle after the others (superusers); you become its release manager."""
    from storyline.kernel.validation import validate
    from storyline.releases import cycles

    def change(session: Session, actor: Actor) -> str:
        data = validate(
            cycles.CycleIn,
            {
                "name": name,
                "title": title,
                "starts_on": starts.date(),
                "releases_on": releases.date(),
            },
        )
        cycle = cycles.create_cycle(session, actor=actor, data=data)
        return f"Opened cycle {cycle.name} ({cycle.id}): {cycle.starts_on} to {cycle.releases_on}."

    _change(as_user, change)


@cycles_app.command("add")
def add_entry(
    cycle: Annotated[str, typer.Argument(help="The cycle's name or id.")],
    kind: Annotated[
        str,
        typer.Argument(
            help="milestone, feature_freeze, string_freeze, "
            "dependency_freeze, rc, final_release or event."
        ),
    ],
    on: Annotated[dt.datetime, typer.Option("--on", formats=["%Y-%m-%d"])],
    as_user: AsUser,
    number: Annotated[int | None, typer.Option(help="Milestone or RC number.")] = None,
    until: Annotated[
        dt.datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Last day, for spans.")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Shown name (default from the kind).")] = None,
) -> None:
    """Add an entry to a cycle's schedule (release managers)."""
    from storyline.kernel.validation import validate
    from storyline.releases import cycles

    def change(session: Session, actor: Actor) -> str:
        found = cycles.get_cycle(session, cycle)
        data = validate(
            cycles.EntryIn,
            {"kind": kind, "number": number, "name": name, "starts_on": on.date(),
             "ends_on": until.date() if until else None},
        )  # fmt: skip
        entry = cycles.add_entry(session, actor=actor, cycle=found, data=data)
        return f"Added {entry.name} ({entry.id}) on {entry.starts_on} to {found.name}."

    _change(as_user, change)


@cycles_app.command("join")
def join(
    cycle: Annotated[str, typer.Argument(help="The cycle's name or id.")],
    project: Annotated[str, typer.Argument(help="The project's name or id.")],
    as_user: AsUser,
    branch: Annotated[str, typer.Option(help="The branch the cycle develops on.")] = "master",
) -> None:
    """Add a project to a cycle (release managers): its milestones appear on the branch."""
    from storyline.releases import cycles

    def change(session: Session, actor: Actor) -> str:
        found = cycles.get_cycle(session, cycle)
        series = cycles.join_project(
            session, actor=actor, cycle=found, project=project, branch=branch
        )
        return f"Project {project} takes part in {found.name} on {branch} (series {series.id})."

    _change(as_user, change)


@cycles_app.command("schedule")
def schedule(
    cycle: Annotated[str, typer.Argument(help="The cycle's name or id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    today: Annotated[
        dt.datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="Mark this day's week (default: today, UTC)."),
    ] = None,
) -> None:
    """The cycle's week-by-week table, the current week marked."""
    from storyline.releases import cycles

    day = today.date() if today else dt.datetime.now(dt.UTC).date()
    with command_session(write=False) as session:
        found = cycles.get_cycle(session, cycle)
        weeks = cycles.weeks(found, cycles.schedule(session, found.id), day)
        rows: list[dict[str, Any]] = [
            {
                "week": week.number,
                "monday": week.monday.isoformat(),
                "current": week.current,
                "entries": [
                    {
                        "kind": e.kind,
                        "number": e.number,
                        "name": e.name,
                        "starts_on": e.starts_on.isoformat(),
                        "ends_on": e.ends_on.isoformat() if e.ends_on else None,
                    }
                    for e in week.entries
                ],
            }
            for week in weeks
        ]
        name = found.name
    if as_json:
        print(json.dumps({"cycle": name, "weeks": rows}, indent=2))
        return
    table = Table("", "week", "monday", "what happens", title=f"{name} schedule")
    for row in rows:
        table.add_row(
            "▶" if row["current"] else "",
            str(row["week"]),
            row["monday"],
            "; ".join(f"{e['name']} ({e['starts_on']})" for e in row["entries"]),
            style="bold" if row["current"] else None,
        )
    console.print(table)


# Freeze exceptions

exceptions_app = typer.Typer(help="Freeze exceptions of release cycles.", no_args_is_help=True)
# The command line reads as the release team: everything, private stories included.
_RELEASE_TEAM = Actor(user_id=0, is_superuser=True, can_write=True)


@exceptions_app.command("list")
def list_exceptions(
    cycle: Annotated[str, typer.Argument(help="The cycle, by name or id.")],
    state: Annotated[str | None, typer.Option(help="Only requests in this state.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many to show.")] = 200,
) -> None:
    """List a cycle's freeze exception requests with their state."""
    from storyline.releases import cycles, exceptions

    with command_session(write=False) as session:
        found = cycles.get_cycle(session, cycle)
        page = exceptions.list_exceptions(
            session,
            actor=_RELEASE_TEAM,
            filters=exceptions.ExceptionFilter(cycle_id=found.id, state=state),
            page=PageRequest(limit=limit),
        )
        views = exceptions.views(session, actor=_RELEASE_TEAM, found=page.items)
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
    with command_session(write=True) as session:
        result = exceptions.expire(session, today=day)
    console.print(
        f"Deferred {len(result.deferred)} exception{'s' if len(result.deferred) != 1 else ''}"
        f"; {len(result.merged)} found merged."
    )


@velocity.command("fetch")
def fetch() -> None:
    """Clone or fetch every project's remote repository now, without waiting
    for the worker's refresh interval."""
    from storyline.kernel.schema import utcnow
    from storyline.releases.velocity import mirrors

    with command_container() as container:
        outcomes = mirrors.sync(container.db, container.settings, utcnow(), force=True)
    for project_id, error in outcomes:
        console.print(f"project {project_id}: {error or 'fetched'}", markup=False)
    if any(error for _, error in outcomes):
        raise typer.Exit(1)


# Velocity: these work on local git repositories and report files, not on
# the database.


@velocity.command("commits")
def commits(
    repo: Annotated[Path, typer.Argument(help="A local git repository, bare or not.")],
    start: Annotated[str, typer.Argument(metavar="FROM", help="Tag, branch or commit.")],
    end: Annotated[str, typer.Argument(metavar="TO", help="Tag, branch or commit.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Print the number of commits without merges reachable from TO and not
    from FROM (git's FROM..TO): commits of branches merged in count, the
    merges themselves do not."""
    from storyline.releases.velocity import git

    count = git.count_commits(repo, start, end)
    if as_json:
        print(json.dumps({"repository": str(repo), "from": start, "to": end, "commits": count}))
    else:
        print(count)


@velocity.command("report")
def report(
    spec_file: Annotated[
        Path, typer.Argument(metavar="SPEC", help="The report's TOML or JSON file.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    out: Annotated[
        Path | None,
        typer.Option(
            file_okay=False, help="Write velocity.json and one SVG chart per project here."
        ),
    ] = None,
) -> None:
    """Compare each project's milestones in the current cycle with the same
    milestones of the baseline cycle: both counts, the expected value (the
    baseline scaled by milestone 1's growth) and the score."""
    from storyline.releases.velocity import spec as specs
    from storyline.releases.velocity.charts import render_velocity
    from storyline.releases.velocity.scores import rounded

    spec = specs.load_spec(spec_file)
    result = specs.run(spec)
    document = specs.as_json(result)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        written = [out / "velocity.json"]
        written[0].write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        for name, milestones in result.items():
            path = out / f"{specs.file_name(name)}.svg"
            path.write_bytes(
                render_velocity(
                    milestones,
                    baseline=spec.baseline,
                    current=spec.current,
                    title=f"{name}: {spec.current} against {spec.baseline}",
                )
            )
            written.append(path)
    if as_json:
        print(json.dumps(document, indent=2))
        return
    screen = Console()
    if not screen.is_terminal:
        # Piped output keeps the tables readable.
        screen = Console(width=120)
    for name, milestones in result.items():
        table = Table(title=f"{name}: {spec.current} against {spec.baseline}")
        for column in ("milestone", spec.baseline, spec.current, "expected", "score"):
            table.add_column(column, justify="right")
        for m in milestones:
            table.add_row(
                str(m.milestone),
                str(m.baseline),
                str(m.current),
                rounded(m.expected),
                rounded(m.score, "%"),
            )
        screen.print(table)
    if out is not None:
        for path in written:
            screen.print(str(path))
