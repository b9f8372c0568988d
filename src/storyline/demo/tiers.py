"""The scale tiers and the constants that shape the generated data.

Every value here is part of the determinism contract: changing one changes
the rows a tier and seed produce, and must come with a new
`GENERATOR_VERSION`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from storyline.domain.statuses import TASK_STATUSES

# Bump when the generated data changes, so cached benchmark databases built by
# an older generator are not reused.
GENERATOR_VERSION = 1


@dataclass(frozen=True)
class Tier:
    name: str
    stories: int
    tasks: int
    comments: int
    projects: int
    users: int

    @property
    def project_groups(self) -> int:
        return max(2, self.projects // 15)

    @property
    def teams(self) -> int:
        return max(3, self.users // 150)

    @property
    def tags(self) -> int:
        return min(5000, max(12, self.stories // 30))


TIERS: dict[str, Tier] = {
    # XS is for tests and smoke runs; it is not offered in the command's help.
    "XS": Tier("XS", stories=300, tasks=1_100, comments=3_000, projects=24, users=80),
    "S": Tier("S", stories=15_000, tasks=55_000, comments=150_000, projects=600, users=5_000),
    "M": Tier(
        "M", stories=100_000, tasks=400_000, comments=1_000_000, projects=2_000, users=20_000
    ),
    "L": Tier(
        "L", stories=1_000_000, tasks=4_000_000, comments=6_000_000, projects=5_000, users=21_000
    ),
}
PUBLIC_TIERS = ("S", "M", "L")

# Stories are generated and written in chunks of this many, which bounds memory
# at tier L. It is part of the determinism contract: changing it changes data.
CHUNK = 10_000
PRIVATE_SHARE = 0.02
STORIES_WITHOUT_TASKS = 0.03

START = int(np.datetime64("2014-03-01T00:00:00", "s").astype(np.int64))
END = int(np.datetime64("2026-10-01T00:00:00", "s").astype(np.int64))
DAY = 86_400

STATUS_KEYS = tuple(TASK_STATUSES)  # todo, inprogress, review, merged, invalid
SERIES = (
    "icehouse",
    "juno",
    "kilo",
    "liberty",
    "mitaka",
    "newton",
    "ocata",
    "pike",
    "queens",
    "rocky",
    "stein",
    "train",
    "ussuri",
    "victoria",
    "wallaby",
    "xena",
    "yoga",
    "zed",
)
