"""The big tables: stories, tasks, comments and what hangs off a story
(subscriptions, tags, ACLs, the timeline), generated chunk by chunk.

Each story's status and per-status task counts are computed from the tasks
generated for it, with `storyline.domain.statuses.story_status`, as the task
services do.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from storyline.demo import sampling
from storyline.demo.sampling import IntArray
from storyline.demo.small_tables import World
from storyline.demo.text import EXTRA_TASK_TITLES, Text
from storyline.demo.tiers import (
    CHUNK,
    DAY,
    END,
    PRIVATE_SHARE,
    START,
    STATUS_KEYS,
    STORIES_WITHOUT_TASKS,
    Tier,
)
from storyline.demo.timeline import CommentFacts, StoryFacts, TaskFacts, write_events
from storyline.demo.writer import BulkWriter, optional, timestamps
from storyline.domain.statuses import story_status


def plan(tier: Tier, seed: int) -> tuple[IntArray, IntArray, IntArray]:
    """Story creation times and exact per-story task and comment counts."""
    rng = sampling.rng(seed, 10)
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


def write_stories(
    writer: BulkWriter,
    text: Text,
    tier: Tier,
    seed: int,
    world: World,
    on_chunk: Callable[[int], None],
) -> None:
    """Writes the stories in chunks of CHUNK, each from its own random stream,
    and calls `on_chunk` with the number of stories of each chunk written."""
    created, task_counts, comment_counts = plan(tier, seed)
    next_task = 1
    next_comment = 1
    next_event = 1
    next_subscription = 1
    for chunk, start in enumerate(range(0, tier.stories, CHUNK)):
        stop = min(start + CHUNK, tier.stories)
        rng = sampling.rng(seed, 1000 + chunk)
        n_tasks, n_comments, n_events = _chunk(
            writer,
            text,
            tier,
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
    writer: BulkWriter,
    text: Text,
    tier: Tier,
    world: World,
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
    """Writes the stories `start` to `stop` (0-based) and all that hangs off
    them; returns how many tasks, comments and events it wrote. The draws
    from `rng` happen in a fixed order, part of the determinism contract."""
    n = stop - start
    story_ids = np.arange(start + 1, stop + 1, dtype=np.int64)
    creators = world.user_order[rng.choice(tier.users, size=n, p=world.user_weights)]
    titles = text.titles(rng, n)
    descriptions = rng.integers(0, len(text.paragraphs), size=n).tolist()
    private = rng.random(n) < PRIVATE_SHARE
    security = private & (rng.random(n) < 0.6)
    is_bug = rng.random(n) < 0.7
    stories = StoryFacts(ids=story_ids, created=created, creators=creators.tolist(), titles=titles)
    tasks, task_updated = _tasks(writer, tier, world, rng, stories, task_counts, first_task)
    _stories(
        writer,
        text,
        stories,
        tasks,
        task_updated,
        descriptions=descriptions,
        is_bug=is_bug,
        private=private,
        security=security,
        first_subscription=first_subscription,
    )
    _tags(writer, world, rng, story_ids)
    _acls(writer, tier, world, rng, stories, private=private, security=security)
    comments = _comments(writer, text, tier, world, rng, stories, comment_counts, first_comment)
    n_events = write_events(writer, stories, tasks, comments, first_event=first_event)
    return len(tasks.ids), len(comments.story), n_events


def _tasks(
    writer: BulkWriter,
    tier: Tier,
    world: World,
    rng: np.random.Generator,
    stories: StoryFacts,
    task_counts: IntArray,
    first_task: int,
) -> tuple[TaskFacts, IntArray]:
    """The tasks, `task_counts` per story, ids from `first_task` on; returns
    them and their last update times."""
    n = len(stories.ids)
    story_ids, created, titles = stories.ids, stories.created, stories.titles
    creators_list = stories.creators
    # How far along a story is: old stories are mostly finished.
    age = (END - created) / (END - START)
    open_chance = 0.12 + 0.75 * np.clip(1.0 - age * 2.5, 0.0, 1.0)
    n_tasks = int(task_counts.sum())
    task_story = np.repeat(np.arange(n, dtype=np.int64), task_counts)
    task_ids = np.arange(first_task, first_task + n_tasks, dtype=np.int64)
    projects = world.project_order[rng.choice(tier.projects, size=n_tasks, p=world.project_weights)]
    is_open = rng.random(n_tasks) < open_chance[task_story]
    open_status = rng.choice(3, size=n_tasks, p=[0.7, 0.15, 0.15])
    closed_status = 3 + (rng.random(n_tasks) < 0.2).astype(np.int64)
    status = np.where(is_open, open_status, closed_status)
    assigned = rng.random(n_tasks) < np.where(status == 0, 0.35, 0.9)
    assignees = np.where(
        assigned,
        world.user_order[rng.choice(tier.users, size=n_tasks, p=world.user_weights)],
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
        for s, first, e in zip(task_story_list, first_of_story.tolist(), extra_titles, strict=True)
    ]
    status_list = status.tolist()
    task_created_text = timestamps(task_created)
    task_updated_text = timestamps(task_updated)
    writer.write(
        "tasks",
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
            optional(assignees),
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

    facts = TaskFacts(
        story=task_story,
        ids=task_ids,
        titles=task_titles,
        projects=projects,
        status=status,
        assignees=assignees,
        created=task_created,
        changed=task_changed,
    )
    return facts, task_updated


def _stories(
    writer: BulkWriter,
    text: Text,
    stories: StoryFacts,
    tasks: TaskFacts,
    task_updated: IntArray,
    *,
    descriptions: list[int],
    is_bug: npt.NDArray[np.bool_],
    private: npt.NDArray[np.bool_],
    security: npt.NDArray[np.bool_],
    first_subscription: int,
) -> None:
    """The stories, with status and counts derived from their tasks, and their
    creators' subscriptions."""
    n = len(stories.ids)
    story_ids, created, titles = stories.ids, stories.created, stories.titles
    creators_list = stories.creators
    task_story, status = tasks.story, tasks.status
    counts = np.bincount(task_story * 5 + status, minlength=n * 5).reshape(n, 5)
    count_rows = counts.tolist()
    statuses = [story_status(dict(zip(STATUS_KEYS, row, strict=True))) for row in count_rows]
    last_task_update = np.full(n, 0, dtype=np.int64)
    np.maximum.at(last_task_update, task_story, task_updated)
    story_updated = np.maximum(created, last_task_update)
    created_text = timestamps(created)
    updated_text = timestamps(story_updated)
    writer.write(
        "stories",
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
                text.paragraphs[descriptions[i]],
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
    writer.write(
        "subscriptions",
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


def _tags(writer: BulkWriter, world: World, rng: np.random.Generator, story_ids: IntArray) -> None:
    """Zero to four tags per story."""
    n = len(story_ids)
    tag_counts = rng.choice(5, size=n, p=[0.35, 0.35, 0.18, 0.08, 0.04])
    tag_story = np.repeat(story_ids, tag_counts)
    tag_ids = world.tag_order[
        rng.choice(len(world.tag_order), size=len(tag_story), p=world.tag_weights)
    ]
    pairs = np.unique(tag_story * (len(world.tag_order) + 1) + tag_ids)
    writer.write(
        "story_tags",
        ("story_id", "tag_id"),
        zip(
            (pairs // (len(world.tag_order) + 1)).tolist(),
            (pairs % (len(world.tag_order) + 1)).tolist(),
            strict=True,
        ),
    )


def _acls(
    writer: BulkWriter,
    tier: Tier,
    world: World,
    rng: np.random.Generator,
    stories: StoryFacts,
    *,
    private: npt.NDArray[np.bool_],
    security: npt.NDArray[np.bool_],
) -> None:
    """Private stories are shared with their creator, maybe a colleague or
    two, and often a security team."""
    story_ids, creators_list = stories.ids, stories.creators
    acl_users: set[tuple[int, int]] = set()
    acl_teams: set[tuple[int, int]] = set()
    for i in np.flatnonzero(private).tolist():
        story = int(story_ids[i])
        acl_users.add((story, creators_list[i]))
        for other in rng.integers(1, tier.users + 1, size=int(rng.integers(0, 3))):
            acl_users.add((story, int(other)))
        if security[i] or rng.random() < 0.3:
            acl_teams.add((story, world.security_teams[int(rng.integers(0, 2))]))
    writer.write("story_acl_users", ("story_id", "user_id"), sorted(acl_users))
    writer.write("story_acl_teams", ("story_id", "team_id"), sorted(acl_teams))


def _comments(
    writer: BulkWriter,
    text: Text,
    tier: Tier,
    world: World,
    rng: np.random.Generator,
    stories: StoryFacts,
    comment_counts: IntArray,
    first_comment: int,
) -> CommentFacts:
    """Comments, `comment_counts` per story: mostly after the story was filed,
    a few replies."""
    n = len(stories.ids)
    story_ids, created = stories.ids, stories.created
    paragraphs = text.paragraphs
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
    authors = world.user_order[rng.choice(tier.users, size=n_comments, p=world.user_weights)]
    same_story = np.zeros(n_comments, dtype=bool)
    same_story[1:] = comment_story[1:] == comment_story[:-1]
    replies = np.where(same_story & (rng.random(n_comments) < 0.08), comment_ids - 1, 0)
    contents = rng.integers(0, len(paragraphs), size=n_comments).tolist()
    comment_time_text = timestamps(comment_time)
    writer.write(
        "comments",
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
            optional(replies),
            comment_time_text,
            comment_time_text,
            strict=True,
        ),
    )
    return CommentFacts(
        first_id=first_comment, story=comment_story, time=comment_time, authors=authors
    )
