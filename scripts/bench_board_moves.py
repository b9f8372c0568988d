#!/usr/bin/env python
"""Time card moves on a board whose lanes hold 50 and 5,000 cards.

Builds, in a scratch database (a SQLite file, and/or a PostgreSQL database
dropped afterwards), a board with two lanes, the stories and the cards
(bulk inserts), then moves cards through `items.move_item` -- the service
the API and the pages call -- one write unit of work per move, as a request
does: within the lane to a random rank, and to a random rank of the other
lane. Prints the median, the 95th percentile and the statements per move at
each size, and the ratio of the medians (5,000 / 50): about 1 means a move
costs the same at any lane size.

Usage:
    .venv/bin/python scripts/bench_board_moves.py [--database sqlite|postgresql|both]
        [--moves 200] [--postgres-url postgresql://postgres@127.0.0.1/postgres]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, insert, select, text
from sqlalchemy.engine import make_url

from storyline.accounts import users
from storyline.bootstrap import build
from storyline.config import Settings
from storyline.kernel import migrate
from storyline.kernel.access import Actor
from storyline.lists import boards
from storyline.lists import items as lane_items
from storyline.lists.models import WorklistItem
from storyline.tracker.models import Story

SIZES = (50, 5_000)


@contextmanager
def scratch_database(kind: str, pg_url: str) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as directory:
            yield f"sqlite:///{Path(directory) / 'moves.db'}"
        return
    name = "storyline_bench_moves"
    admin_url = make_url(pg_url).set(drivername="postgresql+psycopg", database="postgres")
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def build_board(container: Any, actor: Actor, cards: int) -> tuple[list[int], list[int]]:
    """A board with two lanes of `cards` cards each; answers the lanes and the card ids."""
    with container.db.write() as session:
        view = boards.create_board(
            session,
            actor=actor,
            data=boards.BoardIn(
                title=f"Bench {cards}",
                lanes=[boards.LaneIn(worklist=boards.LaneWorklistIn(title=t)) for t in ("A", "B")],
            ),
        )
        lanes = [lane.lane.list_id for lane in view.lanes]
        first = session.scalar(select(Story.id).order_by(Story.id.desc()).limit(1)) or 0
        session.execute(
            insert(Story),
            [{"title": f"Story {n}", "creator_id": actor.user_id} for n in range(2 * cards)],
        )
        story_ids = session.scalars(select(Story.id).where(Story.id > first).order_by(Story.id))
        ids = list(story_ids)
        rows = []
        for index, lane in enumerate(lanes):
            for rank, story_id in enumerate(ids[index * cards : (index + 1) * cards]):
                rows.append(
                    {"list_id": lane, "story_id": story_id, "sort_key": (rank + 1) * lane_items.GAP}
                )
        session.execute(insert(WorklistItem), rows)
        items = list(
            session.scalars(select(WorklistItem.id).where(WorklistItem.list_id.in_(lanes)))
        )
    return lanes, items


def time_moves(
    container: Any, actor: Actor, lanes: list[int], items: list[int], moves: int, cards: int
) -> tuple[list[float], list[int]]:
    rng = random.Random(cards)
    timings: list[float] = []
    statements: list[int] = []
    counter = {"n": 0}

    def count(*_: Any) -> None:
        counter["n"] += 1

    event.listen(container.db.engine, "before_cursor_execute", count)
    try:
        for n in range(moves):
            item = rng.choice(items)
            target = rng.choice(lanes) if n % 2 else None
            rank = rng.randrange(cards)

            def move(
                session: Any, item: int = item, target: int | None = target, rank: int = rank
            ) -> None:
                current = session.scalar(
                    select(WorklistItem.list_id).where(WorklistItem.id == item)
                )
                lane_items.move_item(
                    session, actor=actor, worklist_id=target or current, item_id=item,
                    list_position=rank, list_id=target,
                )  # fmt: skip

            counter["n"] = 0
            started = time.perf_counter()
            container.db.run_write(move)
            timings.append((time.perf_counter() - started) * 1000)
            statements.append(counter["n"])
    finally:
        event.remove(container.db.engine, "before_cursor_execute", count)
    return timings, statements


def run(kind: str, moves: int, pg_url: str) -> None:
    with scratch_database(kind, pg_url) as url:
        engine = create_engine(url)
        migrate.upgrade(engine)
        engine.dispose()
        container = build(Settings(database_url=url, data_dir=Path(tempfile.gettempdir())))
        try:
            with container.db.write() as session:
                user, _ = users.admin_create_user(
                    session, full_name="Bench", email="bench@example.org", superuser=False
                )
                user_id = user.id
            actor = Actor(user_id=user_id, can_write=True)
            medians: dict[int, float] = {}
            for cards in SIZES:
                lanes, items = build_board(container, actor, cards)
                # A few moves first, so that caches and the statement cache are warm.
                time_moves(container, actor, lanes, items, 10, cards)
                timings, statements = time_moves(container, actor, lanes, items, moves, cards)
                medians[cards] = statistics.median(timings)
                p95 = statistics.quantiles(timings, n=20)[-1]
                print(
                    f"{kind:10} {cards:>6} cards/lane: median {medians[cards]:6.2f} ms, "
                    f"p95 {p95:6.2f} ms, statements per move {statistics.median(statements):.0f}"
                )
            ratio = medians[SIZES[-1]] / medians[SIZES[0]]
            print(f"{kind:10} ratio of medians {SIZES[-1]}/{SIZES[0]}: {ratio:.2f}")
        finally:
            container.db.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--moves", type=int, default=200)
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1/postgres")
    args = parser.parse_args(argv)
    kinds = ("sqlite", "postgresql") if args.database == "both" else (args.database,)
    for kind in kinds:
        run(kind, args.moves, args.postgres_url)


if __name__ == "__main__":
    main()
