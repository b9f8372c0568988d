"""Deterministic demo data at the scale tiers of DESIGN.md.

The generator writes straight into the tables with bulk statements (SQLite:
one `executemany` per batch; PostgreSQL: `COPY ... FROM STDIN`), because
going through the services would take hours at tier M. It is therefore the
one writer besides the services that must keep the derived data right: each
story's status and per-status task counts are computed from the tasks it
generates (with `storyline.domain.statuses.story_status`), every story gets a
`story_created` event and its task and comment events, and the full-text
indexes are rebuilt after the load.

Everything random comes from NumPy generators seeded from `seed`, and the
stories are produced in fixed-size chunks, so the same tier and seed give the
same rows, row for row, on both databases.

The parts: `tiers` (the tier table and the constants of the data), `sampling`
and `text` (random streams, word lists, synthetic text), `writer` (bulk
rows), `small_tables`, `stories` and `timeline` (the generator, in the order
it writes), `database` (the transaction, indexes, sequences, statistics) and
`load`, which runs them.
"""

from storyline.demo.database import analyze, is_empty
from storyline.demo.load import LoadReport, load
from storyline.demo.tiers import GENERATOR_VERSION, PUBLIC_TIERS, TIERS, Tier

# Re-exported so that checks of the generated stories use the very rule the
# generator applied.
from storyline.domain.statuses import story_status

__all__ = [
    "GENERATOR_VERSION",
    "PUBLIC_TIERS",
    "TIERS",
    "LoadReport",
    "Tier",
    "analyze",
    "is_empty",
    "load",
    "story_status",
]
