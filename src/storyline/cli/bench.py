"""`storyline bench`: latency, throughput and concurrency of the API at a tier;
`storyline bench load`: many simulated users at once, and no write lost."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from storyline.errors import InvalidInput


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}x"


app = typer.Typer(
    help="Benchmark the API through a real server (`bench load`: many users at once).",
    invoke_without_command=True,
)


CLIENT_SWITCH_INTERVAL = 0.001


@app.callback()
def bench(
    ctx: typer.Context,
    tier: Annotated[
        str, typer.Option(help="S (15k stories), M (100k) or L (1M; the first load takes minutes).")
    ] = "S",
    database: Annotated[str, typer.Option(help="sqlite or postgresql.")] = "sqlite",
    url: Annotated[
        str | None,
        typer.Option(
            help="PostgreSQL server to use (default: $STORYLINE_BENCH_POSTGRES_URL, "
            "else postgresql://postgres@127.0.0.1/test); a bench database is created on it."
        ),
    ] = None,
    requests: Annotated[int, typer.Option(help="Measured requests per request type.")] = 200,
    workers: Annotated[
        int | None,
        typer.Option(help="Server worker processes (default: as `storyline serve`, one per core)."),
    ] = None,
    duration: Annotated[float, typer.Option(help="Seconds per throughput measurement.")] = 5.0,
    seed: Annotated[int, typer.Option(help="Seed of the demo data.")] = 1,
    data_dir: Annotated[
        Path, typer.Option(help="Where cached SQLite databases and server logs go.")
    ] = Path("var/bench"),
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
    target: Annotated[
        str | None,
        typer.Option(
            help="Measure this StoryBoard-API server instead (its API root, e.g. "
            "http://127.0.0.1:18080/v1): seeded through the API, or reused."
        ),
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            envvar="STORYLINE_BENCH_TOKEN",
            help="A superuser's API token on --target (projects need one).",
        ),
    ] = None,
    seed_stories: Annotated[int, typer.Option(help="Stories seeded on --target.")] = 5000,
    projects: Annotated[int, typer.Option(help="Projects seeded on --target.")] = 20,
    clients: Annotated[
        int, typer.Option(help="Concurrent clients of the --target measurement.")
    ] = 8,
) -> None:
    """Start a real server on 127.0.0.1 against a database loaded with TIER and
    measure the StoryBoard-compatible API (compared with StoryBoard 1.1.0); or,
    with --target and --token, seed and measure any StoryBoard-API server."""
    # The clients are threads of this process: with the default 5 ms GIL
    # slices, a client waited for the others' slices and its latencies said
    # more about this process than about the server. Every server measured
    # in a run gets the same client.
    sys.setswitchinterval(CLIENT_SWITCH_INTERVAL)
    if ctx.invoked_subcommand is not None:
        return
    from storyline import bench as runner

    if target is not None:
        _check_measurement(requests, duration, clients)
        if not token:
            raise InvalidInput.field("token", "is needed with --target")
        _check_seed(seed_stories, projects)
        from storyline.bench.remote import RemoteOptions, run_remote

        remote = run_remote(
            RemoteOptions(
                target=target,
                token=token,
                seed_stories=seed_stories,
                projects=projects,
                clients=clients,
                requests=requests,
                duration=duration,
                seed=seed,
            ),
            Console(stderr=True),
        )
        if as_json:
            print(json.dumps(remote.as_json(), indent=2, sort_keys=True))
        else:
            render_remote(remote, _output_console())
        return
    tier = tier.upper()
    database = database.lower()
    if database not in {"sqlite", "postgresql"}:
        raise InvalidInput.field("database", "must be sqlite or postgresql")
    _check_measurement(requests, duration, clients)
    options = runner.BenchOptions(
        tier=tier,
        database=database,
        url=url,
        requests=requests,
        workers=workers,
        seed=seed,
        duration=duration,
        data_dir=data_dir,
    )
    progress_console = Console(stderr=True)
    result = runner.run(options, progress_console)
    if as_json:
        print(json.dumps(result.as_json(), indent=2, sort_keys=True))
        return
    render(result, _output_console())


def _output_console() -> Console:
    console = Console()
    if not console.is_terminal:
        # Piped output (CI logs, reports) keeps the tables readable.
        console = Console(width=150)
    return console


def _check_measurement(requests: int, duration: float, clients: int) -> None:
    if requests < 1 or requests > 100_000:
        raise InvalidInput.field("requests", "must be between 1 and 100000")
    if not 0.1 <= duration <= 600:
        raise InvalidInput.field("duration", "must be between 0.1 and 600 seconds")
    if not 1 <= clients <= 256:
        raise InvalidInput.field("clients", "must be between 1 and 256")


def _check_seed(stories: int, projects: int) -> None:
    if not 1 <= stories <= 1_000_000:
        raise InvalidInput.field("seed_stories", "must be between 1 and 1000000")
    if not 1 <= projects <= 99:
        raise InvalidInput.field("projects", "must be between 1 and 99")


def render(result: object, console: Console) -> None:
    from storyline.bench import BenchResult

    assert isinstance(result, BenchResult)
    load = f", loaded in {result.load_seconds:.1f} s" if result.load_seconds else ""
    table = Table(
        title=(
            f"Tier {result.tier}: {result.stories:,} stories on {result.database}, "
            f"{result.workers} worker(s){load}"
        )
    )
    for name, justify in (
        ("request", "left"),
        ("n", "right"),
        ("median ms", "right"),
        ("p95 ms", "right"),
        ("SQL ms", "right"),
        ("API/SQL", "right"),
        ("StoryBoard ms", "right"),
        ("speed-up", "right"),
        ("errors", "right"),
    ):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for case in result.cases:
        table.add_row(
            case.label,
            str(case.count),
            _ms(case.median_ms),
            _ms(case.p95_ms),
            _ms(case.sql_ms),
            _ratio(case.ratio),
            _ms(case.storyboard_ms),
            _ratio(case.speedup),
            str(case.errors) if case.errors else "0",
        )
    console.print(table)
    console.print(
        "SQL ms: the statements each request issues, run directly through SQLAlchemy "
        "(reads replayed; writes timed in process, commit included). "
        "StoryBoard: 1.1.0, 2 cores, 5,000 stories."
    )
    throughput = Table(title="Reads: requests per second")
    throughput.add_column("request")
    concurrency = sorted({n for rates in result.throughput.values() for n in rates})
    for n in concurrency:
        throughput.add_column(f"{n} client{'s' if n > 1 else ''}", justify="right")
    for name, rates in result.throughput.items():
        label = next(c.label for c in result.cases if c.name == name)
        throughput.add_row(label, *(f"{rates.get(n, 0):,.0f}" for n in concurrency))
    console.print(throughput)
    if result.throughput_errors:
        console.print(f"[red]{result.throughput_errors} errors during the throughput runs[/red]")
    writers = result.writers
    if "skipped" in writers:
        console.print(f"Concurrent writers: skipped ({writers['skipped']}).")
    else:
        colour = "green" if writers["errors"] == 0 else "red"
        console.print(
            f"[{colour}]{writers['writers']} concurrent writers: {writers['writes']} task "
            f"status updates on shared stories, {writers['errors']} errors, "
            f"{writers['writes_per_second']:,.0f}/s; story counts consistent: "
            f"{writers.get('consistent')}[/{colour}]"
        )
        for sample in writers["error_samples"]:
            console.print(f"  {sample}")
    for note in result.notes:
        console.print(f"[yellow]{note}[/yellow]")
    for case in result.cases:
        for sample in case.error_samples:
            console.print(f"[red]{case.label}[/red]: {sample}")
        if case.sql_method and case.sql_method.startswith(("failed", "request failed")):
            console.print(f"[yellow]{case.label}[/yellow]: SQL timing {case.sql_method}")


@app.command("load")
def load(
    users: Annotated[int, typer.Option(help="Simulated users, each with its own connection.")] = 50,
    duration: Annotated[float, typer.Option(help="Seconds of load.")] = 180.0,
    tier: Annotated[
        str, typer.Option(help="S (15k stories), M (100k) or L (1M; the first load takes minutes).")
    ] = "S",
    database: Annotated[str, typer.Option(help="sqlite or postgresql.")] = "sqlite",
    url: Annotated[
        str | None,
        typer.Option(help="PostgreSQL server to use (as for `storyline bench`)."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(help="Server worker processes (default: as `storyline serve`, one per core)."),
    ] = None,
    think: Annotated[
        float, typer.Option(help="Mean pause in seconds between a user's requests.")
    ] = 0.0,
    seed: Annotated[int, typer.Option(help="Seed of the demo data and of the users.")] = 1,
    data_dir: Annotated[
        Path, typer.Option(help="Where cached SQLite databases and server logs go.")
    ] = Path("var/bench"),
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
) -> None:
    """USERS simulated users mixing reads, writes and card moves against a real
    server for DURATION seconds; fails on any 5xx answer or lost write."""
    from storyline.bench.load import LoadOptions, run_load

    database = database.lower()
    if database not in {"sqlite", "postgresql"}:
        raise InvalidInput.field("database", "must be sqlite or postgresql")
    if not 0 <= think <= 60:
        raise InvalidInput.field("think", "must be between 0 and 60 seconds")
    options = LoadOptions(
        users=users,
        duration=duration,
        tier=tier.upper(),
        database=database,
        url=url,
        workers=workers,
        think=think,
        seed=seed,
        data_dir=data_dir,
    )
    result = run_load(options, Console(stderr=True))
    if as_json:
        print(json.dumps(result.as_json(), indent=2, sort_keys=True))
    else:
        console = Console()
        if not console.is_terminal:
            console = Console(width=150)
        render_load(result, console)
    if not result.ok:
        raise typer.Exit(1)


def render_load(result: object, console: Console) -> None:
    from storyline.bench.load import LoadResult

    assert isinstance(result, LoadResult)
    table = Table(
        title=(
            f"Tier {result.tier}: {result.stories:,} stories on {result.database}, "
            f"{result.workers} worker(s), {result.users} users for {result.seconds:.0f} s"
        )
    )
    for name in ("request", "n", "p50 ms", "p95 ms", "p99 ms", "errors"):
        table.add_column(name, justify="left" if name == "request" else "right")
    for kind in result.kinds:
        table.add_row(
            kind.label,
            f"{kind.count:,}",
            _ms(kind.p50_ms),
            _ms(kind.p95_ms),
            _ms(kind.p99_ms),
            str(kind.errors),
        )
    console.print(table)
    acknowledged = ", ".join(f"{n:,} {what}" for what, n in result.acknowledged.items())
    console.print(
        f"{result.requests:,} requests, {result.throughput:,.1f} per second; "
        f"acknowledged writes read back: {acknowledged} "
        f"({result.uncertain} without an answer, not checked)."
    )
    colour = "green" if result.ok else "red"
    console.print(
        f"[{colour}]5xx answers: {result.server_errors}; transport errors: "
        f"{result.transport_errors}; lost writes: {len(result.lost)}[/{colour}]"
    )
    for sample in result.error_samples:
        console.print(f"  {sample}")
    for lost in result.lost[:20]:
        console.print(f"[red]lost[/red]: {lost}")
    for note in result.notes:
        console.print(f"[yellow]{note}[/yellow]")


def render_remote(result: object, console: Console) -> None:
    from storyline.bench.remote import RemoteResult

    assert isinstance(result, RemoteResult)
    seed = result.seed
    how = "reused" if seed.reused else f"seeded {seed.created.get('stories', 0):,} now"
    table = Table(
        title=(
            f"{result.target} ({result.server}): {seed.stories:,} seeded stories ({how}) "
            f"in {len(seed.projects)} projects"
        )
    )
    many = result.clients
    for name in (
        "request",
        "n",
        "median ms",
        "p99 ms",
        f"n ({many})",
        f"median ms ({many})",
        f"p99 ms ({many})",
        f"req/s ({many})",
        "errors",
    ):
        table.add_column(name, justify="left" if name == "request" else "right")
    for case in result.cases:
        single, concurrent = case.single, case.concurrent
        table.add_row(
            case.label,
            str(single.count),
            _ms(single.median_ms),
            _ms(single.p99_ms),
            str(concurrent.count),
            _ms(concurrent.median_ms),
            _ms(concurrent.p99_ms),
            _ms(concurrent.per_second),
            str(single.errors + concurrent.errors),
        )
    console.print(table)
    console.print(f"Columns with ({many}): {many} clients at once; the others: one client.")
    if not seed.reused:
        colour = "green" if seed.failures == 0 else "yellow"
        console.print(
            f"[{colour}]Seeding: {seed.writes:,} writes with {seed.threads} threads in "
            f"{seed.seconds:,.1f} s, {seed.rate or 0:,.1f} per second; "
            f"{seed.failures:,} failed ({seed.abandoned:,} given up after retries)[/{colour}]"
        )
        for sample in seed.error_samples:
            console.print(f"  {sample}")
    if result.deleted:
        console.print(f"Deleted the {result.deleted:,} stories the POSTs created.")
    for note in result.notes:
        console.print(f"[yellow]{note}[/yellow]")
    for case in result.cases:
        for sample in case.single.error_samples:
            console.print(f"[red]{case.label}[/red]: {sample}")


@app.command("compare")
def compare(
    storyboard_url: Annotated[
        str | None,
        typer.Option(help="API root of a running StoryBoard (e.g. http://127.0.0.1:18080/v1)."),
    ] = None,
    storyboard_token: Annotated[
        str | None,
        typer.Option(envvar="STORYBOARD_TOKEN", help="A superuser's token on --storyboard-url."),
    ] = None,
    database: Annotated[
        list[str] | None,
        typer.Option(help="Storyline's databases: sqlite, postgresql (default: both)."),
    ] = None,
    url: Annotated[
        str | None,
        typer.Option(help="PostgreSQL server to use (as for `storyline bench`)."),
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option(help="Storyline's worker processes (default: `storyline serve`'s)."),
    ] = None,
    seed_stories: Annotated[int, typer.Option(help="Stories in the data set.")] = 5000,
    projects: Annotated[int, typer.Option(help="Projects in the data set.")] = 20,
    clients: Annotated[int, typer.Option(help="Concurrent clients.")] = 8,
    requests: Annotated[int, typer.Option(help="Measured requests at one client.")] = 200,
    duration: Annotated[float, typer.Option(help="Seconds of each concurrent run.")] = 10.0,
    seed: Annotated[int, typer.Option(help="Seed of the data set.")] = 1,
    data_dir: Annotated[
        Path, typer.Option(help="Where the SQLite database and server logs go.")
    ] = Path("var/bench"),
    out: Annotated[
        Path | None, typer.Option(help="Also write the markdown tables to this file.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
) -> None:
    """StoryBoard (when given) and Storyline on SQLite and PostgreSQL, one at a
    time, seeded and measured by the same client; prints the side-by-side
    tables in markdown."""
    from storyline.bench.compare import CompareOptions, markdown, run_compare

    _check_measurement(requests, duration, clients)
    _check_seed(seed_stories, projects)
    if bool(storyboard_url) != bool(storyboard_token):
        raise InvalidInput.field(
            "storyboard_token", "--storyboard-url and --storyboard-token go together"
        )
    databases = tuple(d.lower() for d in (database or ["sqlite", "postgresql"]))
    for name in databases:
        if name not in {"sqlite", "postgresql"}:
            raise InvalidInput.field("database", "must be sqlite or postgresql")
    options = CompareOptions(
        storyboard_url=storyboard_url,
        storyboard_token=storyboard_token,
        databases=databases,
        postgres_url=url,
        workers=workers,
        data_dir=data_dir,
        seed_stories=seed_stories,
        projects=projects,
        clients=clients,
        requests=requests,
        duration=duration,
        seed=seed,
    )
    comparison = run_compare(options, Console(stderr=True))
    text = markdown(comparison)
    if out is not None:
        out.write_text(text)
    if as_json:
        print(json.dumps(comparison.as_json(), indent=2, sort_keys=True))
    else:
        print(text, end="")


@app.command("voting")
def voting(
    database: Annotated[str, typer.Option(help="sqlite or postgresql.")] = "sqlite",
    url: Annotated[
        str | None,
        typer.Option(help="PostgreSQL server to use (as for `storyline bench`)."),
    ] = None,
    requests: Annotated[int, typer.Option(help="Ballots cast, and stories created.")] = 200,
    ballots: Annotated[int, typer.Option(help="Ballots of the counted election.")] = 5000,
    candidates: Annotated[int, typer.Option(help="Candidates of the counted election.")] = 30,
    repeats: Annotated[int, typer.Option(help="Runs of each results measurement.")] = 7,
    workers: Annotated[int, typer.Option(help="Server worker processes.")] = 1,
    data_dir: Annotated[
        Path, typer.Option(help="Where the SQLite database and the server log go.")
    ] = Path("var/bench"),
    as_json: Annotated[bool, typer.Option("--json", help="Print the results as JSON.")] = False,
) -> None:
    """Casting a ballot against creating a story, and the results of BALLOTS
    ballots on CANDIDATES candidates, on a fresh database (medians in ms)."""
    from storyline.bench.voting import VotingOptions, run_voting

    database = database.lower()
    if database not in {"sqlite", "postgresql"}:
        raise InvalidInput.field("database", "must be sqlite or postgresql")
    if not 1 <= requests <= 10_000:
        raise InvalidInput.field("requests", "must be between 1 and 10,000")
    if not 2 <= candidates <= 100 or not 1 <= ballots <= 1_000_000:
        raise InvalidInput.field("ballots", "2 to 100 candidates, 1 to 1,000,000 ballots")
    options = VotingOptions(
        database=database,
        url=url,
        requests=requests,
        ballots=ballots,
        candidates=candidates,
        repeats=max(1, repeats),
        workers=workers,
        data_dir=data_dir,
    )
    result = run_voting(options)
    if as_json:
        print(
            json.dumps(
                {**result.median_ms, "ballot_story_ratio": result.ballot_story_ratio}, indent=2
            )
        )
        return
    table = Table(
        title=f"Elections on {result.database}: {result.requests} ballots cast; "
        f"{result.ballots} ballots x {result.candidates} candidates counted"
    )
    table.add_column("measurement")
    table.add_column("median ms", justify="right")
    for name, value in result.median_ms.items():
        table.add_row(name, _ms(value))
    table.add_row("ballot / story", _ratio(result.ballot_story_ratio))
    Console().print(table)
