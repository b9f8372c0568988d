"""`storyline bench`: the API against a loaded tier, through a real server.

The benchmark starts `storyline serve` (uvicorn) on 127.0.0.1 as a separate
process against a database loaded with a demo tier, and drives it over
keep-alive connections (`wire`, a lean HTTP/1.1 client), the way a client
would. Next to each request's latency it reports the time of the SQL behind
it, run directly through SQLAlchemy against the same database, so that the
overhead of the HTTP, ORM and serialization layers is visible as a ratio.

Every loop is bounded by a request count and by a deadline, the server is
stopped by its PID whatever happens, and a request type that fails is
reported, not fatal.

The parts: `results` (options and results), `database` (the cached tier and
the copy a run writes to), `server` (the server process), `fixture` and
`cases` (what is requested), `client` (latency, throughput, concurrent
writers over HTTP), `sql` (the SQL behind a request) and `measure`, which
runs them in order. The client tests start their server with
`running_server` too.

`storyline bench --target URL --token T` measures any server that speaks the
StoryBoard v1 API instead, through that API only: `seed` writes (or finds)
the same deterministic data set on it, `remote` measures it with the same
`Runner`, and `compare` (`storyline bench compare`) runs StoryBoard and
Storyline on SQLite and PostgreSQL one after the other for the side-by-side
tables.
"""

from storyline.bench.cases import PAGES, READS
from storyline.bench.database import pg_url, prepare_database
from storyline.bench.measure import run
from storyline.bench.results import STORYBOARD_MS, BenchOptions, BenchResult, CaseResult
from storyline.bench.server import free_port, running_server, stop_process

__all__ = [
    "PAGES",
    "READS",
    "STORYBOARD_MS",
    "BenchOptions",
    "BenchResult",
    "CaseResult",
    "free_port",
    "pg_url",
    "prepare_database",
    "run",
    "running_server",
    "stop_process",
]
