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
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from sqlalchemy import Engine, Table, inspect, select, text
from sqlalchemy.engine.interfaces import Dialect

from storyline.accounts.models import project_teams
from storyline.domain import events
from storyline.domain.statuses import TASK_STATUSES, story_status
from storyline.errors import Conflict, InvalidInput
from storyline.kernel.schema import Base
from storyline.tracker.models import project_group_mapping

IntArray = npt.NDArray[np.int64]

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


# Common words first: titles draw from this list with a Zipf-like skew, so the
# early words are frequent and the synthetic tail is rare, as in real trackers.
def _words(text: str) -> tuple[str, ...]:
    # Written as text for readability; duplicates would repeat tag names.
    return tuple(dict.fromkeys(text.split()))


WORDS = _words(
    "fix error when volume network instance server image fails create delete update "
    "support add remove api port config timeout missing invalid test tests docs "
    "documentation unit gate job release upgrade migration database quota scheduler "
    "compute storage backup snapshot flavor keystone token auth policy role project "
    "user group domain endpoint service driver plugin agent router subnet floating "
    "security rule bridge vlan tunnel dhcp metadata console log logging debug trace "
    "exception crash leak memory cpu performance slow race condition deadlock retry "
    "lock queue message notification event hook webhook task story board worklist "
    "python py3 dependency requirement constraint package wheel build ci zuul tox "
    "container kubernetes helm chart pod deployment manifest ansible playbook role "
    "inventory host cluster node rabbitmq mysql postgresql redis cache ttl expire "
    "cleanup refactor deprecate rename move split merge backport stable branch "
    "tempest scenario functional integration coverage lint pep8 typo wrong default "
    "option flag parameter argument header response request status code pagination "
    "limit marker sort filter search query index schema column table field value "
    "encoding unicode utf8 ipv6 ipv4 dns tls certificate ssl proxy balancer listener "
    "pool member health monitor alarm metric gnocchi telemetry placement resource "
    "provider allocation inventory trait aggregate zone region cell conductor api-ref "
    "microversion client cli shell command output format json yaml template heat "
    "stack orchestration workflow mistral trove manila share cinder nova neutron "
    "glance swift ironic baremetal octavia designate barbican secret key encryption"
)

FIRST_NAMES = _words(
    "Ada Alan Alice Amir Ana Anders Andrea Anna Arjun Ben Bianca Carlos Chen Chiara "
    "Chris Dana Daniel David Deepa Diego Dmitri Elena Emma Erik Fatima Felix Giulia "
    "Hana Hiro Ines Ivan Jae James Jana Jia Joao Jonas Julia Kai Kamal Karen Kenji "
    "Lars Laura Lea Lin Lucas Luis Maria Mark Maya Mei Miguel Mina Nadia Nikos Nora "
    "Olga Omar Pablo Paul Pedro Priya Rafael Ravi Rosa Sam Sara Sofia Tariq Thomas "
    "Tomas Uma Victor Wei Yara Yuki Zoe"
)
LAST_NAMES = _words(
    "Abe Adams Ahmed Andersen Bauer Becker Brown Chen Costa Dubois Eriksson Fischer "
    "Garcia Gomez Gupta Hansen Hoffmann Ito Ivanov Jensen Kim Kowalski Kumar Lee "
    "Lopez Martin Meyer Moreau Muller Nakamura Nguyen Novak Oliveira Park Patel "
    "Petrov Popescu Rossi Santos Schmidt Silva Singh Smith Suzuki Tanaka Taylor "
    "Wagner Wang Weber Wilson Wong Yamamoto Zhang"
)
ORGS = ("openstack", "openstack", "openstack", "starlingx", "airship", "zuul", "opendev", "kata")
EXTRA_TASK_TITLES = (
    "Backport to stable",
    "Update the documentation",
    "Add a functional test",
    "Fix the client",
    "Update the API reference",
    "Add a release note",
    "Adjust the deployment tooling",
    "Follow-up cleanup",
)
SYLLABLES = _words("ka lo mi ne ro su ta vi ze bo da fe gu hi jo ku la mo nu pi ri so tu")


@dataclass
class LoadReport:
    tier: str
    seed: int
    dialect: str
    seconds: float = 0.0
    rows: dict[str, int] = field(default_factory=dict)


# ---------------------------------------------------------------------------
# Bulk writing


class _BulkWriter:
    """Writes rows as tuples, in the column order given, as fast as the driver allows."""

    def __init__(self, dbapi_connection: Any, dialect: Dialect) -> None:
        self.connection = dbapi_connection
        self.dialect = dialect
        self.is_pg = dialect.name == "postgresql"
        self.rows: dict[str, int] = {}

    def write(self, table: Table, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> int:
        columns, rows = self._with_defaults(table, columns, rows)
        count = 0
        quote = self.dialect.identifier_preparer.quote
        if self.is_pg:
            names = ", ".join(quote(c) for c in columns)
            with (
                self.connection.cursor() as cursor,
                cursor.copy(f"COPY {quote(table.name)} ({names}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
                    count += 1
        else:
            # Built by hand because a compiled insert() orders the columns as
            # the table does, not as the tuples do.
            names = ", ".join(quote(c) for c in columns)
            marks = ", ".join("?" for _ in columns)
            statement = f"INSERT INTO {quote(table.name)} ({names}) VALUES ({marks})"
            cursor = self.connection.cursor()
            for batch in _batches(rows, 20_000):
                cursor.executemany(statement, batch)
                count += len(batch)
            cursor.close()
        self.rows[table.name] = self.rows.get(table.name, 0) + count
        return count

    @staticmethod
    def _with_defaults(
        table: Table, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]
    ) -> tuple[list[str], Iterable[tuple[Any, ...]]]:
        # Columns added to the models later (with a scalar default) get that
        # default, so that the generator keeps working as the schema grows.
        extra = [
            (column.name, column.default.arg)  # type: ignore[attr-defined]
            for column in table.columns
            if column.name not in columns
            and column.default is not None
            and column.default.is_scalar
        ]
        if not extra:
            return list(columns), rows
        values = tuple(value for _name, value in extra)
        return [*columns, *(name for name, _value in extra)], (row + values for row in rows)


def _batches(rows: Iterable[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


# ---------------------------------------------------------------------------
# Random helpers


def _rng(seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, stream])


def _zipf_weights(n: int, exponent: float) -> npt.NDArray[np.float64]:
    weights = 1.0 / np.arange(1, n + 1, dtype=np.float64) ** exponent
    return weights / weights.sum()  # type: ignore[no-any-return]


def _timestamps(seconds: IntArray) -> list[str]:
    """Naive-UTC text timestamps, the format SQLAlchemy stores on SQLite and
    PostgreSQL parses, so one representation serves both databases."""
    text_values = np.datetime_as_string(seconds.astype("datetime64[s]"), unit="s")
    return [value.replace("T", " ") + ".000000" for value in text_values.tolist()]


def _optional(ids: IntArray) -> list[int | None]:
    return [value or None for value in ids.tolist()]


def _synthetic_words(rng: np.random.Generator, count: int) -> list[str]:
    words: list[str] = []
    seen = set(WORDS)
    while len(words) < count:
        parts = rng.integers(0, len(SYLLABLES), size=int(rng.integers(2, 4)))
        word = "".join(SYLLABLES[p] for p in parts)
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


class _Text:
    """Titles and paragraphs built from a skewed vocabulary."""

    def __init__(self, seed: int) -> None:
        rng = _rng(seed, 1)
        self.vocabulary = list(WORDS) + _synthetic_words(rng, 1500)
        self.weights = _zipf_weights(len(self.vocabulary), 0.9)
        sentences = [self._sentence(rng) for _ in range(3000)]
        self.paragraphs = [
            " ".join(sentences[i] for i in rng.integers(0, len(sentences), size=k))
            for k in rng.integers(1, 6, size=4000)
        ]

    def _sentence(self, rng: np.random.Generator) -> str:
        words = [self.vocabulary[i] for i in self.words(rng, int(rng.integers(6, 16)))]
        return " ".join(words).capitalize() + "."

    def words(self, rng: np.random.Generator, n: int) -> IntArray:
        return rng.choice(len(self.vocabulary), size=n, p=self.weights)

    def titles(self, rng: np.random.Generator, n: int) -> list[str]:
        lengths = rng.integers(3, 10, size=n)
        indexes = self.words(rng, int(lengths.sum())).tolist()
        vocabulary = self.vocabulary
        titles: list[str] = []
        position = 0
        for length in lengths.tolist():
            words = [vocabulary[i] for i in indexes[position : position + length]]
            position += length
            titles.append(" ".join(words).capitalize())
        return titles


# ---------------------------------------------------------------------------
# The generator


@dataclass
class _World:
    """The small tables, kept in memory because the big ones refer to them."""

    user_weights: npt.NDArray[np.float64]
    user_order: IntArray
    project_weights: npt.NDArray[np.float64]
    project_order: IntArray
    series_branches: dict[int, list[int]]
    milestones: dict[int, list[int]]
    security_teams: list[int]
    tag_weights: npt.NDArray[np.float64]
    tag_order: IntArray


class _Generator:
    def __init__(self, tier: Tier, seed: int, writer: _BulkWriter) -> None:
        self.tier = tier
        self.seed = seed
        self.writer = writer
        self.text = _Text(seed)
        self.tables = Base.metadata.tables

    def table(self, name: str) -> Table:
        return self.tables[name]

    # -- small tables -------------------------------------------------------

    def small_tables(self) -> _World:
        tier, seed = self.tier, self.seed
        rng = _rng(seed, 2)
        now = _timestamps(np.array([END], dtype=np.int64))[0]

        # Users: user 1 is the demo administrator.
        n_users = tier.users
        created = np.sort(rng.integers(START - 200 * DAY, END - DAY, size=n_users))
        created_text = _timestamps(created)
        firsts = rng.integers(0, len(FIRST_NAMES), size=n_users).tolist()
        lasts = rng.integers(0, len(LAST_NAMES), size=n_users).tolist()
        users = []
        for i in range(n_users):
            uid = i + 1
            if uid == 1:
                name, email = "Demo Admin", "admin@example.org"
            else:
                first, last = FIRST_NAMES[firsts[i]], LAST_NAMES[lasts[i]]
                name = f"{first} {last}"
                email = f"{first}.{last}{uid}@example.org".lower()
            users.append(
                (
                    uid,
                    name,
                    email,
                    f"https://login.example.org/+id/demo{uid}",
                    uid == 1,
                    uid % 97 != 0,
                    uid == 1,
                    True,
                    created_text[i],
                    created_text[i],
                )
            )
        self.writer.write(
            self.table("users"),
            (
                "id",
                "full_name",
                "email",
                "openid",
                "is_staff",
                "is_active",
                "is_superuser",
                "enable_login",
                "created_at",
                "updated_at",
            ),
            users,
        )
        # A few people do most of the work: users are ranked by a random order.
        user_order = rng.permutation(n_users).astype(np.int64) + 1
        user_weights = _zipf_weights(n_users, 1.05)

        # Teams, two of them security teams that private stories are shared with.
        n_teams = tier.teams
        team_names = [f"{word}-core" for word in self.text.vocabulary[: n_teams - 2]]
        team_names = ["vulnerability-management", "security-reviewers", *team_names]
        self.writer.write(
            self.table("teams"),
            ("id", "name", "description", "security", "created_at", "updated_at"),
            (
                (i + 1, name, f"The {name} team.", i < 2, now, now)
                for i, name in enumerate(team_names)
            ),
        )
        memberships: set[tuple[int, int]] = set()
        for team in range(1, n_teams + 1):
            size = int(rng.integers(3, 25))
            for user in rng.choice(user_order[: max(50, n_users // 5)], size=size):
                memberships.add((team, int(user)))
        memberships.add((1, 1))
        self.writer.write(
            self.table("team_membership"), ("team_id", "user_id"), sorted(memberships)
        )

        # Projects, grouped by organisation, with a Zipf-like share of the work.
        n_projects = tier.projects
        project_words = _synthetic_words(_rng(seed, 3), n_projects)
        orgs = rng.integers(0, len(ORGS), size=n_projects).tolist()
        project_created = _timestamps(np.sort(rng.integers(START - 100 * DAY, END, n_projects)))
        projects = []
        for i in range(n_projects):
            name = f"{ORGS[orgs[i]]}/{project_words[i]}"
            description = self.text.paragraphs[i % len(self.text.paragraphs)]
            projects.append(
                (
                    i + 1,
                    name,
                    description,
                    f"https://opendev.example.org/{name}",
                    i % 31 != 30,
                    False,
                    project_created[i],
                    project_created[i],
                )
            )
        self.writer.write(
            self.table("projects"),
            (
                "id",
                "name",
                "description",
                "repo_url",
                "is_active",
                "autocreate_branches",
                "created_at",
                "updated_at",
            ),
            projects,
        )
        project_order = rng.permutation(n_projects).astype(np.int64) + 1
        project_weights = _zipf_weights(n_projects, 1.0)

        # Project groups: one per organisation slice, some projects in two.
        n_groups = tier.project_groups
        group_words = _synthetic_words(_rng(seed, 4), n_groups)
        self.writer.write(
            self.table("project_groups"),
            ("id", "name", "title", "created_at", "updated_at"),
            (
                (i + 1, f"{word}-group", f"{word.capitalize()} projects", now, now)
                for i, word in enumerate(group_words)
            ),
        )
        mapping: set[tuple[int, int]] = set()
        for project in range(1, n_projects + 1):
            mapping.add((int(project % n_groups) + 1, project))
            if rng.random() < 0.1:
                mapping.add((int(rng.integers(1, n_groups + 1)), project))
        self.writer.write(
            project_group_mapping, ("project_group_id", "project_id"), sorted(mapping)
        )
        links = {
            (int(project), team)
            for team in range(1, n_teams + 1)
            for project in rng.choice(n_projects, size=int(rng.integers(1, 4))) + 1
        }
        self.writer.write(project_teams, ("project_id", "team_id"), sorted(links))

        # Branches: master for every project (branch id == project id), and
        # stable series for about a third of them, the older ones expired.
        branches: list[tuple[Any, ...]] = [
            (p, "master", p, False, None, True, False, now, now) for p in range(1, n_projects + 1)
        ]
        series_branches: dict[int, list[int]] = {}
        next_branch = n_projects + 1
        for project in range(1, n_projects + 1):
            if rng.random() >= 0.35:
                continue
            count = int(rng.integers(1, 5))
            for k, series in enumerate(SERIES[-count:]):
                expired = k < count - 2
                branches.append(
                    (
                        next_branch,
                        f"stable/{series}",
                        project,
                        expired,
                        now if expired else None,
                        False,
                        False,
                        now,
                        now,
                    )
                )
                series_branches.setdefault(project, []).append(next_branch)
                next_branch += 1
        self.writer.write(
            self.table("branches"),
            (
                "id",
                "name",
                "project_id",
                "expired",
                "expiration_date",
                "autocreated",
                "restricted",
                "created_at",
                "updated_at",
            ),
            branches,
        )

        # Milestones on master for half of the projects.
        milestone_rows = []
        milestones: dict[int, list[int]] = {}
        next_milestone = 1
        for project in range(1, n_projects + 1):
            if rng.random() >= 0.5:
                continue
            for series in SERIES[-2:]:
                for suffix in ("1", "2", "3", "rc1"):
                    expired = series != SERIES[-1]
                    milestone_rows.append(
                        (
                            next_milestone,
                            f"{series}-{suffix}",
                            project,
                            expired,
                            now if expired else None,
                            now,
                            now,
                        )
                    )
                    milestones.setdefault(project, []).append(next_milestone)
                    next_milestone += 1
        self.writer.write(
            self.table("milestones"),
            (
                "id",
                "name",
                "branch_id",
                "expired",
                "expiration_date",
                "created_at",
                "updated_at",
            ),
            milestone_rows,
        )

        # Tags, a few very common ones and a long tail.
        n_tags = tier.tags
        common = ["low-hanging-fruit", "security", "docs", "bug", "tech-debt", "py3", "ux"]
        tag_names = list(dict.fromkeys([*common, *self.text.vocabulary]))
        if len(tag_names) < n_tags:
            more = _synthetic_words(_rng(seed, 5), n_tags)
            tag_names = list(dict.fromkeys([*tag_names, *more]))
        self.writer.write(
            self.table("tags"),
            ("id", "name", "created_at", "updated_at"),
            ((i + 1, name, now, now) for i, name in enumerate(tag_names[:n_tags])),
        )
        return _World(
            user_weights=user_weights,
            user_order=user_order,
            project_weights=project_weights,
            project_order=project_order,
            series_branches=series_branches,
            milestones=milestones,
            security_teams=[1, 2],
            tag_weights=_zipf_weights(n_tags, 1.1),
            tag_order=np.arange(1, n_tags + 1, dtype=np.int64),
        )

    # -- stories and everything that hangs off them ---------------------------

    def plan(self) -> tuple[IntArray, IntArray, IntArray]:
        """Story creation times and exact per-story task and comment counts."""
        tier = self.tier
        rng = _rng(self.seed, 10)
        n = tier.stories
        # More stories in recent years: a growing project.
        created = START + ((END - START - 30 * DAY) * rng.random(n) ** 0.8).astype(np.int64)
        created.sort()
        # Tasks: a few stories without tasks, most with one to three, a long
        # tail of cross-project stories with many.
        with_tasks = rng.random(n) >= STORIES_WITHOUT_TASKS
        n_with = int(with_tasks.sum())
        extra = max(0, tier.tasks - n_with)
        spread = rng.pareto(1.6, size=n_with) + 0.05
        tasks = np.zeros(n, dtype=np.int64)
        tasks[with_tasks] = 1 + rng.multinomial(extra, spread / spread.sum())
        if n_with > tier.tasks:  # only for absurd tiers; keep the total exact
            tasks[:] = 0
            tasks[: tier.tasks] = 1
        # Comments: most stories have a few, hot ones have hundreds.
        heat = rng.pareto(1.3, size=n) + 0.02
        comments = rng.multinomial(tier.comments, heat / heat.sum()).astype(np.int64)
        return created, tasks, comments

    def stories(self, world: _World, on_chunk: Callable[[int], None]) -> None:
        created, task_counts, comment_counts = self.plan()
        next_task = 1
        next_comment = 1
        next_event = 1
        next_subscription = 1
        for chunk, start in enumerate(range(0, self.tier.stories, CHUNK)):
            stop = min(start + CHUNK, self.tier.stories)
            rng = _rng(self.seed, 1000 + chunk)
            n_tasks, n_comments, n_events = self._chunk(
                world,
                rng,
                start,
                stop,
                created[start:stop],
                task_counts[start:stop],
                comment_counts[start:stop],
                first_task=next_task,
                first_comment=next_comment,
                first_event=next_event,
                first_subscription=next_subscription,
            )
            next_task += n_tasks
            next_comment += n_comments
            next_event += n_events
            next_subscription += stop - start
            on_chunk(stop - start)

    def _chunk(
        self,
        world: _World,
        rng: np.random.Generator,
        start: int,
        stop: int,
        created: IntArray,
        task_counts: IntArray,
        comment_counts: IntArray,
        *,
        first_task: int,
        first_comment: int,
        first_event: int,
        first_subscription: int,
    ) -> tuple[int, int, int]:
        n = stop - start
        story_ids = np.arange(start + 1, stop + 1, dtype=np.int64)
        creators = world.user_order[rng.choice(self.tier.users, size=n, p=world.user_weights)]
        titles = self.text.titles(rng, n)
        descriptions = rng.integers(0, len(self.text.paragraphs), size=n).tolist()
        private = rng.random(n) < PRIVATE_SHARE
        security = private & (rng.random(n) < 0.6)
        is_bug = rng.random(n) < 0.7
        # How far along a story is: old stories are mostly finished.
        age = (END - created) / (END - START)
        open_chance = 0.12 + 0.75 * np.clip(1.0 - age * 2.5, 0.0, 1.0)

        # Tasks.
        n_tasks = int(task_counts.sum())
        task_story = np.repeat(np.arange(n, dtype=np.int64), task_counts)
        task_ids = np.arange(first_task, first_task + n_tasks, dtype=np.int64)
        projects = world.project_order[
            rng.choice(self.tier.projects, size=n_tasks, p=world.project_weights)
        ]
        is_open = rng.random(n_tasks) < open_chance[task_story]
        open_status = rng.choice(3, size=n_tasks, p=[0.7, 0.15, 0.15])
        closed_status = 3 + (rng.random(n_tasks) < 0.2).astype(np.int64)
        status = np.where(is_open, open_status, closed_status)
        assigned = rng.random(n_tasks) < np.where(status == 0, 0.35, 0.9)
        assignees = np.where(
            assigned,
            world.user_order[rng.choice(self.tier.users, size=n_tasks, p=world.user_weights)],
            0,
        )
        priorities = rng.choice(3, size=n_tasks, p=[0.3, 0.5, 0.2]).tolist()
        task_created = created[task_story] + rng.integers(0, 3 * DAY, size=n_tasks)
        task_changed = np.minimum(
            task_created + (rng.exponential(40, size=n_tasks) * DAY).astype(np.int64), END
        )
        task_updated = np.where(status == 0, task_created, task_changed)
        branch_pick = rng.random(n_tasks)
        milestone_pick = rng.random(n_tasks)
        picks = rng.integers(0, 1 << 30, size=n_tasks).tolist()
        branches: list[int] = []
        milestones: list[int | None] = []
        for project, b_pick, m_pick, pick in zip(
            projects.tolist(), branch_pick.tolist(), milestone_pick.tolist(), picks, strict=True
        ):
            series = world.series_branches.get(project)
            if series and b_pick < 0.1:
                branches.append(series[pick % len(series)])
            else:
                branches.append(project)  # master
            options = world.milestones.get(project)
            milestones.append(options[pick % len(options)] if options and m_pick < 0.25 else None)
        first_of_story = np.ones(n_tasks, dtype=bool)
        first_of_story[1:] = task_story[1:] != task_story[:-1]
        extra_titles = rng.integers(0, len(EXTRA_TASK_TITLES), size=n_tasks).tolist()
        task_story_list = task_story.tolist()
        task_titles = [
            titles[s] if first else EXTRA_TASK_TITLES[e]
            for s, first, e in zip(
                task_story_list, first_of_story.tolist(), extra_titles, strict=True
            )
        ]
        status_list = status.tolist()
        task_created_text = _timestamps(task_created)
        task_updated_text = _timestamps(task_updated)
        creators_list = creators.tolist()
        self.writer.write(
            self.table("tasks"),
            (
                "id",
                "title",
                "status",
                "priority",
                "story_id",
                "project_id",
                "assignee_id",
                "creator_id",
                "branch_id",
                "milestone_id",
                "link",
                "created_at",
                "updated_at",
            ),
            zip(
                task_ids.tolist(),
                task_titles,
                [STATUS_KEYS[s] for s in status_list],
                [("low", "medium", "high")[p] for p in priorities],
                (story_ids[task_story]).tolist(),
                projects.tolist(),
                _optional(assignees),
                [creators_list[s] for s in task_story_list],
                branches,
                milestones,
                [
                    f"https://review.example.org/c/{t}" if s in (2, 3) else None
                    for t, s in zip(task_ids.tolist(), status_list, strict=True)
                ],
                task_created_text,
                task_updated_text,
                strict=True,
            ),
        )

        # Stories, with status and counts derived from the tasks just written.
        counts = np.bincount(task_story * 5 + status, minlength=n * 5).reshape(n, 5)
        count_rows = counts.tolist()
        statuses = [story_status(dict(zip(STATUS_KEYS, row, strict=True))) for row in count_rows]
        last_task_update = np.full(n, 0, dtype=np.int64)
        np.maximum.at(last_task_update, task_story, task_updated)
        story_updated = np.maximum(created, last_task_update)
        created_text = _timestamps(created)
        updated_text = _timestamps(story_updated)
        paragraphs = self.text.paragraphs
        self.writer.write(
            self.table("stories"),
            (
                "id",
                "title",
                "description",
                "is_bug",
                "creator_id",
                "story_type_id",
                "private",
                "security",
                "status",
                "todo_count",
                "inprogress_count",
                "review_count",
                "merged_count",
                "invalid_count",
                "created_at",
                "updated_at",
            ),
            (
                (
                    story_ids[i].item(),
                    titles[i],
                    paragraphs[descriptions[i]],
                    bool(is_bug[i]),
                    creators_list[i],
                    1 if is_bug[i] else 2,
                    bool(private[i]),
                    bool(security[i]),
                    statuses[i],
                    *count_rows[i],
                    created_text[i],
                    updated_text[i],
                )
                for i in range(n)
            ),
        )

        # The creator follows the story, as the API does on creation.
        self.writer.write(
            self.table("subscriptions"),
            ("id", "user_id", "target_type", "target_id", "created_at", "updated_at"),
            zip(
                range(first_subscription, first_subscription + n),
                creators_list,
                ["story"] * n,
                story_ids.tolist(),
                created_text,
                created_text,
                strict=True,
            ),
        )

        # Tags: zero to four per story.
        tag_counts = rng.choice(5, size=n, p=[0.35, 0.35, 0.18, 0.08, 0.04])
        tag_story = np.repeat(story_ids, tag_counts)
        tag_ids = world.tag_order[
            rng.choice(len(world.tag_order), size=len(tag_story), p=world.tag_weights)
        ]
        pairs = np.unique(tag_story * (len(world.tag_order) + 1) + tag_ids)
        self.writer.write(
            self.table("story_tags"),
            ("story_id", "tag_id"),
            zip(
                (pairs // (len(world.tag_order) + 1)).tolist(),
                (pairs % (len(world.tag_order) + 1)).tolist(),
                strict=True,
            ),
        )

        # Private stories are shared with their creator, maybe a colleague or
        # two, and often a security team.
        acl_users: set[tuple[int, int]] = set()
        acl_teams: set[tuple[int, int]] = set()
        for i in np.flatnonzero(private).tolist():
            story = int(story_ids[i])
            acl_users.add((story, creators_list[i]))
            for other in rng.integers(1, self.tier.users + 1, size=int(rng.integers(0, 3))):
                acl_users.add((story, int(other)))
            if security[i] or rng.random() < 0.3:
                acl_teams.add((story, world.security_teams[int(rng.integers(0, 2))]))
        self.writer.write(self.table("story_acl_users"), ("story_id", "user_id"), sorted(acl_users))
        self.writer.write(self.table("story_acl_teams"), ("story_id", "team_id"), sorted(acl_teams))

        # Comments: mostly after the story was filed, a few replies.
        n_comments = int(comment_counts.sum())
        comment_story = np.repeat(np.arange(n, dtype=np.int64), comment_counts)
        comment_ids = np.arange(first_comment, first_comment + n_comments, dtype=np.int64)
        comment_time = np.minimum(
            created[comment_story]
            + (rng.exponential(25, size=n_comments) * DAY).astype(np.int64)
            + rng.integers(60, 3600, size=n_comments),
            END,
        )
        # Within a story, comment ids follow time.
        order = np.lexsort((comment_time, comment_story))
        comment_time = comment_time[order]
        authors = world.user_order[
            rng.choice(self.tier.users, size=n_comments, p=world.user_weights)
        ]
        same_story = np.zeros(n_comments, dtype=bool)
        same_story[1:] = comment_story[1:] == comment_story[:-1]
        replies = np.where(same_story & (rng.random(n_comments) < 0.08), comment_ids - 1, 0)
        contents = rng.integers(0, len(paragraphs), size=n_comments).tolist()
        comment_time_text = _timestamps(comment_time)
        self.writer.write(
            self.table("comments"),
            (
                "id",
                "content",
                "is_active",
                "story_id",
                "author_id",
                "in_reply_to",
                "created_at",
                "updated_at",
            ),
            zip(
                comment_ids.tolist(),
                [paragraphs[c] for c in contents],
                [True] * n_comments,
                story_ids[comment_story].tolist(),
                authors.tolist(),
                _optional(replies),
                comment_time_text,
                comment_time_text,
                strict=True,
            ),
        )

        # The timeline: story_created, task_created, task_status_changed and
        # user_comment, ordered by time within each story.
        changed = np.flatnonzero(status != 0)
        kind = np.concatenate(
            [
                np.zeros(n, dtype=np.int64),
                np.ones(n_tasks, dtype=np.int64),
                np.full(len(changed), 2, dtype=np.int64),
                np.full(n_comments, 3, dtype=np.int64),
            ]
        )
        ev_story = np.concatenate([np.arange(n), task_story, task_story[changed], comment_story])
        ev_time = np.concatenate([created, task_created, task_changed[changed], comment_time])
        ev_ref = np.concatenate([np.arange(n), np.arange(n_tasks), changed, np.arange(n_comments)])
        order = np.lexsort((kind, ev_time, ev_story))
        n_events = len(order)
        authors_list = authors.tolist()
        assignees_list = assignees.tolist()
        projects_list = projects.tolist()
        task_ids_list = task_ids.tolist()
        story_ids_list = story_ids.tolist()

        def event_rows() -> Iterator[tuple[Any, ...]]:
            times = _timestamps(ev_time[order])
            for position, (k, s, ref) in enumerate(
                zip(
                    kind[order].tolist(),
                    ev_story[order].tolist(),
                    ev_ref[order].tolist(),
                    strict=True,
                )
            ):
                story_id = story_ids_list[s]
                comment_id = None
                if k == 0:
                    event_type = events.STORY_CREATED
                    author = creators_list[s]
                    info = {"story_id": story_id, "story_title": titles[s]}
                elif k == 1:
                    event_type = events.TASK_CREATED
                    author = creators_list[s]
                    info = {
                        "task_id": task_ids_list[ref],
                        "task_title": task_titles[ref],
                        "project_id": projects_list[ref],
                    }
                elif k == 2:
                    event_type = events.TASK_STATUS_CHANGED
                    author = assignees_list[ref] or creators_list[s]
                    info = {
                        "task_id": task_ids_list[ref],
                        "task_title": task_titles[ref],
                        "old_status": "todo",
                        "new_status": STATUS_KEYS[status_list[ref]],
                    }
                else:
                    event_type = events.USER_COMMENT
                    author = authors_list[ref]
                    comment_id = first_comment + ref
                    info = None
                yield (
                    first_event + position,
                    story_id,
                    author,
                    comment_id,
                    event_type,
                    json.dumps(info, sort_keys=True) if info is not None else None,
                    times[position],
                    times[position],
                )

        self.writer.write(
            self.table("events"),
            (
                "id",
                "story_id",
                "author_id",
                "comment_id",
                "event_type",
                "event_info",
                "created_at",
                "updated_at",
            ),
            event_rows(),
        )
        return n_tasks, n_comments, n_events


# ---------------------------------------------------------------------------
# Loading: checks, index handling, the transaction


def is_empty(engine: Engine) -> bool:
    with engine.connect() as connection:
        for table in ("users", "projects", "stories"):
            if connection.execute(
                select(text("1")).select_from(Base.metadata.tables[table]).limit(1)
            ).first():
                return False
    return True


def _loaded_tables(engine: Engine) -> list[str]:
    """The model tables present in the database, parents first (a model whose
    migration has not been applied yet is left alone)."""
    present = set(inspect(engine).get_table_names())
    return [table.name for table in Base.metadata.sorted_tables if table.name in present]


class _Schema:
    """Secondary indexes and triggers set aside during the load.

    Inserting into tables without their secondary indexes and building each
    index once at the end is several times faster than maintaining them row
    by row, and full-text triggers are replaced by one rebuild."""

    def __init__(self, cursor: Any, dialect: str) -> None:
        self.cursor = cursor
        self.dialect = dialect
        self.saved: list[str] = []
        self.fts_tables: list[str] = []

    def set_aside(self, tables: Sequence[str]) -> None:
        cursor = self.cursor
        if self.dialect == "sqlite":
            marks = ", ".join("?" for _ in tables)
            cursor.execute(
                "SELECT type, name, sql FROM sqlite_master "
                f"WHERE type IN ('index', 'trigger') AND tbl_name IN ({marks}) AND sql IS NOT NULL",
                tuple(tables),
            )
            for kind, name, sql in cursor.fetchall():
                self.saved.append(sql)
                cursor.execute(f'DROP {kind.upper()} "{name}"')
            cursor.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND sql LIKE 'CREATE VIRTUAL TABLE%USING fts5%'"
            )
            self.fts_tables = [name for (name,) in cursor.fetchall()]
        else:
            cursor.execute(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i "
                "WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s) "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
                (list(tables),),
            )
            for name, definition in cursor.fetchall():
                self.saved.append(definition)
                cursor.execute(f'DROP INDEX "{name}"')

    def restore(self) -> None:
        for sql in self.saved:
            self.cursor.execute(sql)
        for name in self.fts_tables:
            # External-content FTS5 tables rebuild themselves from their content table.
            self.cursor.execute(f'INSERT INTO "{name}"("{name}") VALUES (\'rebuild\')')


@contextmanager
def _raw_transaction(engine: Engine) -> Iterator[tuple[Any, Any]]:
    raw = engine.raw_connection()
    try:
        connection = raw.driver_connection
        assert connection is not None
        if engine.dialect.name == "sqlite":
            cursor = connection.cursor()
            # Foreign keys are guaranteed by construction; checking them row by
            # row would double the load time. The rollback journal (instead of
            # WAL) writes each page once for a transaction this size.
            cursor.execute("PRAGMA foreign_keys=OFF")
            cursor.execute("PRAGMA journal_mode=DELETE")
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.execute("PRAGMA cache_size=-1000000")
            cursor.execute("BEGIN IMMEDIATE")
            try:
                yield connection, cursor
                cursor.execute("COMMIT")
            except BaseException:
                cursor.execute("ROLLBACK")
                raise
            finally:
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA foreign_keys=ON")
                cursor.close()
        else:
            cursor = connection.cursor()
            try:
                # Skips the per-row foreign key triggers when we may (superuser).
                cursor.execute("SAVEPOINT replica")
                try:
                    cursor.execute("SET LOCAL session_replication_role = replica")
                    cursor.execute("RELEASE SAVEPOINT replica")
                except Exception:
                    cursor.execute("ROLLBACK TO SAVEPOINT replica")
                # Index builds (GIN above all) are much faster with room to sort.
                cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
                yield connection, cursor
                connection.commit()
            except BaseException:
                connection.rollback()
                raise
            finally:
                cursor.close()
    finally:
        raw.close()


def load(
    engine: Engine,
    *,
    tier: str,
    seed: int = 1,
    force: bool = False,
    console: Console | None = None,
) -> LoadReport:
    """Fill a migrated database with the demo data of `tier`.

    Refuses a database that already holds users, projects or stories unless
    `force`, in which case every table is emptied first."""
    if tier not in TIERS:
        raise InvalidInput.field("tier", f"must be one of {', '.join(PUBLIC_TIERS)}")
    spec = TIERS[tier]
    if not force and not is_empty(engine):
        raise Conflict(
            "The database already holds data; loading demo data would mix with it. "
            "Use --force to empty it first."
        )
    report = LoadReport(tier=tier, seed=seed, dialect=engine.dialect.name)
    started = time.perf_counter()
    tables = _loaded_tables(engine)
    progress = Progress(
        TextColumn("{task.description:<22}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console or Console(stderr=True),
        disable=console is None,
    )
    with progress, _raw_transaction(engine) as (connection, cursor):
        schema = _Schema(cursor, engine.dialect.name)
        schema.set_aside(tables)
        if force:
            _empty(cursor, engine.dialect.name, tables)
        writer = _BulkWriter(connection, engine.dialect)
        generator = _Generator(spec, seed, writer)
        step = progress.add_task("users, projects, tags", total=1)
        world = generator.small_tables()
        progress.update(step, completed=1)
        step = progress.add_task("stories and the rest", total=spec.stories)
        generator.stories(world, lambda done: progress.advance(step, done))
        step = progress.add_task("indexes", total=1)
        schema.restore()
        if engine.dialect.name == "postgresql":
            _reset_sequences(cursor, tables)
        progress.update(step, completed=1)
        report.rows = dict(writer.rows)
    _analyze(engine)
    report.seconds = time.perf_counter() - started
    return report


def _empty(cursor: Any, dialect: str, tables: Sequence[str]) -> None:
    if dialect == "postgresql":
        names = ", ".join(f'"{name}"' for name in tables)
        cursor.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    else:
        for name in reversed(tables):
            cursor.execute(f'DELETE FROM "{name}"')


def _reset_sequences(cursor: Any, tables: Sequence[str]) -> None:
    for name in tables:
        if "id" not in Base.metadata.tables[name].columns:
            continue
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence(%s, 'id'), "
            f'COALESCE((SELECT max(id) FROM "{name}"), 0) + 1, false)',
            (name,),
        )


def _analyze(engine: Engine) -> None:
    # Fresh statistics, or the planners guess on tables that grew from nothing.
    # On PostgreSQL also VACUUM: only it sets the visibility map, without
    # which counts cannot use index-only scans (8 ms instead of 1.5 ms for
    # the stories of tier S) until autovacuum happens to come by.
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
        return
    with engine.connect() as connection:
        connection.exec_driver_sql("ANALYZE")
        connection.commit()
