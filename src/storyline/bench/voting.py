"""`storyline bench voting`: what a ballot and an election's results cost.

The issue's two targets, measured through a real server (`storyline serve`)
on a fresh database:

1. casting a ballot costs what creating a story costs: `POST
   /v1/elections/{id}/ballots` and `POST /v1/stories`, one after the other
   in the same loop (so load on the machine hits both alike), each voter
   casting once;
2. the results of 5,000 ballots on 30 candidates, with every analysis: the
   close (which counts them all), `GET /results` and the two charts, and,
   in process, `voting.results.count` and `results.charts` on the same
   ballots.

The 5,000 ballots are written straight into the ballot box (they are
seeded data, not what is measured) and are deterministic: ranks drawn
around a fixed order of popularity, some voters ranking only their
favourites. Every loop is bounded by a count.
"""

from __future__ import annotations

import os
import random
import secrets
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, text

from storyline.accounts import users
from storyline.bench.database import pg_url
from storyline.bench.server import running_server
from storyline.bootstrap import build
from storyline.config import Settings
from storyline.kernel import migrate
from storyline.voting import results
from storyline.voting.ballots import receipt_hash
from storyline.voting.models import StoredBallot

TIMEOUT = 60.0


@dataclass(frozen=True)
class VotingOptions:
    database: str = "sqlite"
    url: str | None = None
    # Ballots cast (and stories created) in the first measurement.
    requests: int = 200
    ballots: int = 5000
    candidates: int = 30
    # Repeats of each results measurement.
    repeats: int = 7
    workers: int = 1
    seed: int = 1
    data_dir: Path = Path("var/bench")


@dataclass
class VotingResult:
    database: str
    requests: int
    ballots: int
    candidates: int
    # Median milliseconds by measurement name.
    median_ms: dict[str, float] = field(default_factory=dict)

    @property
    def ballot_story_ratio(self) -> float:
        return self.median_ms["cast_ballot"] / self.median_ms["create_story"]


def _median_ms(times: list[float]) -> float:
    return statistics.median(times) * 1000


def _timed(call: Callable[[], Any]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


@contextmanager
def _fresh_database(options: VotingOptions) -> Iterator[str]:
    """A migrated, empty database, removed afterwards."""
    if options.database == "postgresql":
        base = options.url or "postgresql://postgres@127.0.0.1/test"
        name = f"storyline_bench_voting_{os.getpid()}"
        admin = create_engine(pg_url(base, "postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = pg_url(base, name)
    else:
        admin = None
        path = options.data_dir / f"voting-{os.getpid()}.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    try:
        engine = create_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        yield url
    finally:
        if admin is not None:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
        else:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)


def synthetic_ballots(candidates: int, ballots: int, seed: int) -> list[str]:
    """Stored ballots around an order of popularity: each voter ranks the
    candidates by popularity plus noise, and some rank only a few."""
    rng = random.Random(seed)
    popularity = [rng.gauss(0, 1) for _ in range(candidates)]
    out = []
    for _ in range(ballots):
        scores = [p + rng.gauss(0, 1.5) for p in popularity]
        order = sorted(range(candidates), key=lambda c: -scores[c])
        ranked = candidates if rng.random() < 0.5 else rng.randint(1, candidates)
        ranks = [candidates] * candidates
        for rank, c in enumerate(order[:ranked], start=1):
            ranks[c] = rank
        out.append(",".join(map(str, ranks)))
    return out


def run_voting(options: VotingOptions) -> VotingResult:
    result = VotingResult(
        database=options.database,
        requests=options.requests,
        ballots=options.ballots,
        candidates=options.candidates,
    )
    with _fresh_database(options) as url:
        container = build(Settings(database_url=url, data_dir=options.data_dir))
        try:
            with container.db.write() as session:
                admin, admin_token = users.admin_create_user(
                    session,
                    full_name="Bench",
                    email="bench@example.org",
                    superuser=True,
                    with_token=True,
                )
                admin_id = admin.id
                voters = [
                    users.admin_create_user(
                        session,
                        full_name=f"Voter {i}",
                        email=f"voter{i}@example.org",
                        with_token=True,
                    )
                    for i in range(options.requests)
                ]
                voter_tokens = [token for _, token in voters]
                voter_ids = [user.id for user, _ in voters]
            assert admin_token is not None
            with (
                running_server(
                    url,
                    workers=options.workers,
                    log_path=options.data_dir / f"voting-server-{os.getpid()}.log",
                    environment={"STORYLINE_DATA_DIR": str(options.data_dir)},
                ) as base,
                httpx.Client(base_url=base, timeout=TIMEOUT) as client,
            ):
                admin_headers = {"Authorization": f"Bearer {admin_token}"}
                small = _election(client, admin_headers, voter_ids, candidates=8)
                _measure_casting(client, small, voter_tokens, result)
                big = _election(client, admin_headers, [admin_id], candidates=options.candidates)
                stored = synthetic_ballots(options.candidates, options.ballots, options.seed)
                with container.db.write() as session:
                    session.add_all(
                        StoredBallot(
                            election_id=big["id"],
                            key=secrets.token_hex(16),
                            receipt_hash=receipt_hash(secrets.token_urlsafe(16)),
                            ranks=ranks,
                        )
                        for ranks in stored
                    )
                _measure_results(client, admin_headers, big, stored, options, result)
        finally:
            container.db.dispose()
    return result


def _election(
    client: httpx.Client, headers: dict[str, str], electorate: list[int], *, candidates: int
) -> dict[str, Any]:
    now = time.time()
    body = {
        "title": f"Benchmark election of {candidates} candidates",
        "seats": 3,
        "candidates": [{"name": f"Candidate {i + 1}"} for i in range(candidates)],
        "electorate": {"type": "users", "user_ids": electorate},
        "opens_at": _iso(now + 3600),
        "closes_at": _iso(now + 7 * 86400),
    }
    created = client.post("/v1/elections", json=body, headers=headers)
    created.raise_for_status()
    election: dict[str, Any] = created.json()
    client.post(f"/v1/elections/{election['id']}/open", headers=headers).raise_for_status()
    return election


def _iso(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def _measure_casting(
    client: httpx.Client,
    election: dict[str, Any],
    voter_tokens: list[str | None],
    result: VotingResult,
) -> None:
    ids = [c["id"] for c in election["candidates"]]
    path = f"/v1/elections/{election['id']}/ballots"
    ballots: list[float] = []
    stories: list[float] = []
    for i, token in enumerate(voter_tokens):
        ranking = [[ids[(i + k) % len(ids)]] for k in range(len(ids))]
        headers = {"Authorization": f"Bearer {token}"}
        body = {"title": f"Benchmark story {i}", "description": "Written by the benchmark."}
        # A token's first use writes its `last_used_at` and an audit row:
        # spend it untimed, so that both writes below are by a voter whose
        # token was already used, and differ only in what they write.
        _ok(client.get(f"{path.removesuffix('/ballots')}/electorate/me", headers=headers))
        start = time.perf_counter()
        _ok(client.post(path, json={"ranking": ranking}, headers=headers))
        ballots.append(time.perf_counter() - start)
        start = time.perf_counter()
        _ok(client.post("/v1/stories", json=body, headers=headers))
        stories.append(time.perf_counter() - start)
    result.median_ms["cast_ballot"] = _median_ms(ballots)
    result.median_ms["create_story"] = _median_ms(stories)


def _measure_results(
    client: httpx.Client,
    headers: dict[str, str],
    election: dict[str, Any],
    stored: list[str],
    options: VotingOptions,
    result: VotingResult,
) -> None:
    eid = election["id"]
    names = [c["name"] for c in sorted(election["candidates"], key=lambda c: c["position"])]
    result.median_ms["close_and_count"] = 1000 * _timed(
        lambda: _ok(client.post(f"/v1/elections/{eid}/close", headers=headers))
    )
    reads = {
        "get_results": f"/v1/elections/{eid}/results",
        "get_chart_spread": f"/v1/elections/{eid}/results/spread.svg",
        "get_chart_matrix": f"/v1/elections/{eid}/results/matrix.svg",
    }
    for name, path in reads.items():
        times = []
        for _ in range(options.repeats):
            start = time.perf_counter()
            _ok(client.get(path))
            times.append(time.perf_counter() - start)
        result.median_ms[name] = _median_ms(times)

    def count() -> dict[str, Any]:
        return results.count(
            candidates=names,
            ballots=stored,
            method="schulze",
            seats=3,
            proportional=None,
            seed=eid,
        )

    document = count()
    result.median_ms["count_in_process"] = _median_ms(
        [_timed(count) for _ in range(options.repeats)]
    )
    result.median_ms["charts_in_process"] = _median_ms(
        [
            _timed(lambda: [results.draw(document, name) for name in results.CHARTS])
            for _ in range(options.repeats)
        ]
    )


def _ok(response: httpx.Response) -> None:
    if response.status_code >= 300:
        raise RuntimeError(
            f"{response.request.url}: HTTP {response.status_code}: {response.text[:300]}"
        )
