#!/usr/bin/env python
"""Time story search at a scale tier, on SQLite and/or PostgreSQL.

Loads the deterministic demo data of the tier into a scratch database (kept in
--dir, reused while the generator version and tier match), then times
GET /v1/stories/search in process (the whole request: routing, both SQL
statements, serialization) for queries that return a full page of 100, as
anonymous reader, as a signed-in user without ACL entries and as administrator,
next to the plain GET /v1/stories as a baseline.
Each row gives the fastest, the median and the 95th percentile of --runs
requests; on a busy machine the fastest is the best estimate of the cost.

Usage:
    .venv/bin/python scripts/bench_search.py [--tier S] [--database sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from storyline import demo
from storyline.accounts import auth
from storyline.accounts.models import User
from storyline.app import create_app
from storyline.bootstrap import build
from storyline.config import Settings
from storyline.kernel import migrate

QUERIES = [
    # (label, extra parameters); the first is the plain list, for comparison
    ("list, no q (baseline)", {}),
    ("one common word", {"q": "error"}),
    ("two-letter prefix", {"q": "fa"}),
    ("two words", {"q": "fail nova"}),
    ("phrase", {"q": '"unit test"'}),
    ("word -exclusion", {"q": "error -nova"}),
    ("word + status filter", {"q": "error", "status": "active"}),
    ("word, sorted by title", {"q": "error", "sort_field": "title"}),
    ("word, offset 500", {"q": "error", "offset": "500"}),
]


def _database(kind: str, tier: str, directory: Path) -> str:
    name = f"storyline_bench_search_{tier.lower()}_v{demo.GENERATOR_VERSION}"
    if kind == "sqlite":
        directory.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{directory / (name + '.db')}"
    base = make_url("postgresql+psycopg://postgres@127.0.0.1/postgres")
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def _prepare(url: str, tier: str) -> None:
    engine = create_engine(url)
    migrate.upgrade(engine)
    if demo.is_empty(engine):
        started = time.perf_counter()
        demo.load(engine, tier=tier)
        print(f"  loaded tier {tier} in {time.perf_counter() - started:.0f} s")
    engine.dispose()


def _tokens(container: Any) -> dict[str, dict[str, str]]:
    with container.db.write() as session:
        admin = session.scalars(select(User).where(User.is_superuser.is_(True)).limit(1)).one()
        user = session.scalars(
            select(User).where(User.is_superuser.is_(False)).order_by(User.id.desc()).limit(1)
        ).one()
        _, admin_secret = auth.mint_token(session, user_id=admin.id, name="bench")
        _, user_secret = auth.mint_token(session, user_id=user.id, name="bench")
    return {
        "anonymous": {},
        "user": {"Authorization": f"Bearer {user_secret}"},
        "admin": {"Authorization": f"Bearer {admin_secret}"},
    }


def _time(client: TestClient, params: dict[str, str], headers: dict[str, str], runs: int) -> Any:
    times = []
    response = None
    for _ in range(runs):
        started = time.perf_counter()
        path = "/v1/stories/search" if "q" in params else "/v1/stories"
        response = client.get(path, params=params, headers=headers)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
    times.sort()
    assert response is not None
    return times[0], statistics.median(times), times[int(len(times) * 0.95) - 1], response


def run(kind: str, tier: str, directory: Path, runs: int) -> None:
    url = _database(kind, tier, directory)
    print(f"== {kind}, tier {tier}")
    _prepare(url, tier)
    container = build(Settings(database_url=url, data_dir=directory))
    headers = _tokens(container)
    with TestClient(create_app(container)) as client:
        print(
            f"{'query':<24} {'who':<10} {'items':>5} {'X-Total':>7} "
            f"{'min':>8} {'median':>8} {'p95':>8}"
        )
        for label, extra in QUERIES:
            for who, header in headers.items():
                params = {"limit": "100", **extra}
                _time(client, params, header, 3)  # warm the caches
                fastest, median, p95, response = _time(client, params, header, runs)
                print(
                    f"{label:<24} {who:<10} {len(response.json()):>5} "
                    f"{response.headers['X-Total']:>7} "
                    f"{fastest:>6.1f}ms {median:>6.1f}ms {p95:>6.1f}ms"
                )
    container.db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tier", default="S")
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--dir", type=Path, default=Path("var/bench-search"))
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    for kind in kinds:
        run(kind, args.tier, args.dir, args.runs)


if __name__ == "__main__":
    main()
