"""Task statuses and the story status derived from them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

# Key -> display name, in StoryBoard's order (GET /v1/task_statuses).
TASK_STATUSES: Final[dict[str, str]] = {
    "todo": "Todo",
    "inprogress": "Progress",
    "review": "Review",
    "merged": "Merged",
    "invalid": "Invalid",
}
OPEN_TASK_STATUSES: Final = frozenset({"todo", "inprogress", "review"})
TASK_PRIORITIES: Final = ("low", "medium", "high")
STORY_STATUSES: Final = ("active", "merged", "invalid")


def story_status(counts: Mapping[str, int]) -> str:
    """StoryBoard's rule: any open task makes the story active; else merged if
    any task merged; else invalid (which includes a story with no tasks)."""
    if any(counts.get(key, 0) for key in OPEN_TASK_STATUSES):
        return "active"
    if counts.get("merged", 0):
        return "merged"
    return "invalid"


def story_lifecycle(counts: Mapping[str, int]) -> str:
    """What a person should be shown: like `story_status`, except that a story
    with no tasks yet is `new` rather than `invalid`."""
    if not any(counts.values()):
        return "new"
    return story_status(counts)
