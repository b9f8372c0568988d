"""The timeline of the generated stories: one event per story created, task
created, task status changed and comment, as the services would have written
them, ordered by time within each story."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from storyline.demo.sampling import IntArray
from storyline.demo.tiers import STATUS_KEYS
from storyline.demo.writer import BulkWriter, timestamps
from storyline.domain import events


@dataclass(frozen=True)
class StoryFacts:
    """The stories of one chunk, by position in the chunk."""

    ids: IntArray
    created: IntArray
    creators: list[int]
    titles: list[str]


@dataclass(frozen=True)
class TaskFacts:
    """The tasks of one chunk; `story` is the position of each task's story."""

    story: IntArray
    ids: IntArray
    titles: list[str]
    projects: IntArray
    status: IntArray
    assignees: IntArray
    created: IntArray
    changed: IntArray


@dataclass(frozen=True)
class CommentFacts:
    """The comments of one chunk, ids from `first_id` on, in id order."""

    first_id: int
    story: IntArray
    time: IntArray
    authors: IntArray


def write_events(
    writer: BulkWriter,
    stories: StoryFacts,
    tasks: TaskFacts,
    comments: CommentFacts,
    *,
    first_event: int,
) -> int:
    """Writes the chunk's events with ids from `first_event` on; returns their number."""
    n = len(stories.ids)
    n_tasks = len(tasks.ids)
    n_comments = len(comments.story)
    created, creators_list, titles = stories.created, stories.creators, stories.titles
    task_story, status, task_titles = tasks.story, tasks.status, tasks.titles
    task_created, task_changed = tasks.created, tasks.changed
    comment_story, comment_time, first_comment = comments.story, comments.time, comments.first_id
    status_list = status.tolist()
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
    authors_list = comments.authors.tolist()
    assignees_list = tasks.assignees.tolist()
    projects_list = tasks.projects.tolist()
    task_ids_list = tasks.ids.tolist()
    story_ids_list = stories.ids.tolist()

    def event_rows() -> Iterator[tuple[Any, ...]]:
        times = timestamps(ev_time[order])
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

    writer.write(
        "events",
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
    return n_events
