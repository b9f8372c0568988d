"""The small tables: users, teams, projects, groups, branches, milestones, tags.

They are written first and kept in memory (as a `World`), because the
stories, tasks and comments generated afterwards refer to them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from storyline.accounts.models import project_teams
from storyline.demo import sampling
from storyline.demo.sampling import IntArray
from storyline.demo.text import FIRST_NAMES, LAST_NAMES, ORGS, Text, synthetic_words
from storyline.demo.tiers import DAY, END, SERIES, START, Tier
from storyline.demo.writer import BulkWriter, timestamps
from storyline.tracker.models import project_group_mapping


@dataclass
class World:
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


def write_small_tables(writer: BulkWriter, text: Text, tier: Tier, seed: int) -> World:
    """Writes the small tables of `tier` and returns what the stories draw from."""
    # One stream for all of them, drawn from in this order.
    rng = sampling.rng(seed, 2)
    now = timestamps(np.array([END], dtype=np.int64))[0]
    user_order = _users(writer, rng, tier.users)
    _teams(writer, rng, text, tier.teams, user_order, now)
    project_order = _projects(writer, rng, text, seed, tier.projects)
    _project_groups(writer, rng, seed, tier, now)
    series_branches = _branches(writer, rng, tier.projects, now)
    milestones = _milestones(writer, rng, tier.projects, now)
    n_tags = tier.tags
    _tags(writer, text, seed, n_tags, now)
    return World(
        # A few people do most of the work, and a few projects get most of it.
        user_weights=sampling.zipf_weights(tier.users, 1.05),
        user_order=user_order,
        project_weights=sampling.zipf_weights(tier.projects, 1.0),
        project_order=project_order,
        series_branches=series_branches,
        milestones=milestones,
        security_teams=[1, 2],
        tag_weights=sampling.zipf_weights(n_tags, 1.1),
        tag_order=np.arange(1, n_tags + 1, dtype=np.int64),
    )


def _users(writer: BulkWriter, rng: np.random.Generator, n_users: int) -> IntArray:
    """The users, user 1 the demo administrator, and their ranking by activity."""
    created = np.sort(rng.integers(START - 200 * DAY, END - DAY, size=n_users))
    created_text = timestamps(created)
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
    writer.write(
        "users",
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
    return rng.permutation(n_users).astype(np.int64) + 1


def _teams(
    writer: BulkWriter,
    rng: np.random.Generator,
    text: Text,
    n_teams: int,
    user_order: IntArray,
    now: str,
) -> None:
    """Teams, the first two of them security teams that private stories are shared with."""
    team_names = [f"{word}-core" for word in text.vocabulary[: n_teams - 2]]
    team_names = ["vulnerability-management", "security-reviewers", *team_names]
    writer.write(
        "teams",
        ("id", "name", "description", "security", "created_at", "updated_at"),
        ((i + 1, name, f"The {name} team.", i < 2, now, now) for i, name in enumerate(team_names)),
    )
    memberships: set[tuple[int, int]] = set()
    for team in range(1, n_teams + 1):
        size = int(rng.integers(3, 25))
        for user in rng.choice(user_order[: max(50, len(user_order) // 5)], size=size):
            memberships.add((team, int(user)))
    memberships.add((1, 1))
    writer.write("team_membership", ("team_id", "user_id"), sorted(memberships))


def _projects(
    writer: BulkWriter, rng: np.random.Generator, text: Text, seed: int, n_projects: int
) -> IntArray:
    """Projects, named by organisation, and their ranking by share of the work."""
    project_words = synthetic_words(sampling.rng(seed, 3), n_projects)
    orgs = rng.integers(0, len(ORGS), size=n_projects).tolist()
    project_created = timestamps(np.sort(rng.integers(START - 100 * DAY, END, n_projects)))
    projects = []
    for i in range(n_projects):
        name = f"{ORGS[orgs[i]]}/{project_words[i]}"
        description = text.paragraphs[i % len(text.paragraphs)]
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
    writer.write(
        "projects",
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
    return rng.permutation(n_projects).astype(np.int64) + 1


def _project_groups(
    writer: BulkWriter, rng: np.random.Generator, seed: int, tier: Tier, now: str
) -> None:
    """Project groups, one per organisation slice with some projects in two, and
    the teams linked to projects."""
    n_projects, n_teams = tier.projects, tier.teams
    n_groups = tier.project_groups
    group_words = synthetic_words(sampling.rng(seed, 4), n_groups)
    writer.write(
        "project_groups",
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
    writer.write(project_group_mapping, ("project_group_id", "project_id"), sorted(mapping))
    links = {
        (int(project), team)
        for team in range(1, n_teams + 1)
        for project in rng.choice(n_projects, size=int(rng.integers(1, 4))) + 1
    }
    writer.write(project_teams, ("project_id", "team_id"), sorted(links))


def _branches(
    writer: BulkWriter, rng: np.random.Generator, n_projects: int, now: str
) -> dict[int, list[int]]:
    """Branches: master for every project (branch id == project id), and stable
    series for about a third of them, the older ones expired. Returns the stable
    branches by project."""
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
    writer.write(
        "branches",
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
    return series_branches


def _milestones(
    writer: BulkWriter, rng: np.random.Generator, n_projects: int, now: str
) -> dict[int, list[int]]:
    """Milestones on master for half of the projects, by project."""
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
    writer.write(
        "milestones",
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
    return milestones


def _tags(writer: BulkWriter, text: Text, seed: int, n_tags: int, now: str) -> None:
    """Tags: a few very common ones and a long tail."""
    common = ["low-hanging-fruit", "security", "docs", "bug", "tech-debt", "py3", "ux"]
    tag_names = list(dict.fromkeys([*common, *text.vocabulary]))
    if len(tag_names) < n_tags:
        more = synthetic_words(sampling.rng(seed, 5), n_tags)
        tag_names = list(dict.fromkeys([*tag_names, *more]))
    writer.write(
        "tags",
        ("id", "name", "created_at", "updated_at"),
        ((i + 1, name, now, now) for i, name in enumerate(tag_names[:n_tags])),
    )
