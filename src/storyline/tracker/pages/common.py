"""How the tracker's pages read timeline events and statuses."""

from __future__ import annotations

from storyline.domain import events as ev
from storyline.domain.statuses import TASK_STATUSES
from storyline.kernel.models import Event
from storyline.tracker.page_data import Names, event_info


def status_label(status: str) -> str:
    return TASK_STATUSES.get(status, status)


def describe_event(event: Event, names: Names) -> str:
    """One sentence for a timeline event, without its author."""
    info = event_info(event)
    kind = event.event_type
    task = info.get("task_title")
    task_part = f"task “{task}”" if task else "a task"
    if kind == ev.STORY_CREATED:
        return "created the story"
    if kind == ev.STORY_DETAILS_CHANGED:
        changed = ", ".join(sorted((info.get("new") or {}).keys())) or "details"
        return f"changed the story ({changed})"
    if kind == ev.STORY_PRIVACY_CHANGED:
        return "changed who can see the story"
    if kind in (ev.TAGS_ADDED, ev.TAGS_REMOVED):
        tags = ", ".join(str(t) for t in info.get("tags") or [])
        verb = "added" if kind == ev.TAGS_ADDED else "removed"
        return f"{verb} tags {tags}"
    if kind == ev.TASK_CREATED:
        return f"added {task_part}"
    if kind == ev.TASK_DELETED:
        return f"deleted {task_part}"
    if kind == ev.TASK_STATUS_CHANGED:
        old = status_label(str(info.get("old_status", "")))
        new = status_label(str(info.get("new_status", "")))
        return f"changed the status of {task_part} from {old} to {new}"
    if kind == ev.TASK_ASSIGNEE_CHANGED:
        new_id = info.get("new_assignee_id")
        if isinstance(new_id, int):
            return f"assigned {task_part} to {names.user(new_id)}"
        return f"unassigned {task_part}"
    if kind == ev.TASK_PRIORITY_CHANGED:
        return f"changed the priority of {task_part} to {info.get('new_priority')}"
    if kind == ev.TASK_DETAILS_CHANGED:
        fields = sorted((info.get("new") or {}).keys())
        readable = ", ".join(f.removesuffix("_id") for f in fields) or "details"
        return f"changed the {readable} of {task_part}"
    if kind == ev.USER_COMMENT:
        return "commented"
    if kind == ev.COMMENT_EDITED:
        return "edited a comment"
    if kind in (ev.STORY_LINK_ADDED, ev.STORY_LINK_REMOVED):
        verb = "linked" if kind == ev.STORY_LINK_ADDED else "unlinked"
        other = info.get("other_story_id")
        story = names.stories.get(other) if isinstance(other, int) else None
        if story is None:
            return f"{verb} another story"
        how = str(info.get("kind", "")).replace("_", " ")
        return f"{verb} story {story.id} “{story.title}” ({how})"
    return kind.replace("_", " ")
