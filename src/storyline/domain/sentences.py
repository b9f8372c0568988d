"""One sentence per kind of event, as its author's deed: "changed the status
of task “Fix boot” from Todo to Review". The caller puts the author's name
in front and, where the reader does not already know it, the subject (the
story, worklist or board) around it.

Each function takes the event's typed payload and `Names`, through which the
caller answers the names a sentence shows (people, and stories the reader
may see). The registry (`storyline.domain.events`) pairs each kind with its
function.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from storyline.domain import payloads as p
from storyline.domain.statuses import TASK_STATUSES


class Names(Protocol):
    """What a sentence may name, answered by the caller from its own loads."""

    def user(self, user_id: int | None) -> str:
        """A person's display name ("user 7" when unknown)."""
        ...

    def story_title(self, story_id: int) -> str | None:
        """The title of a story the reader may see; None otherwise."""
        ...


def quoted(text: object) -> str:
    return f"\u201c{text}\u201d"


def _task(payload: p.TaskPayload) -> str:
    return f"task {quoted(payload.task_title)}" if payload.task_title else "a task"


def _status(key: str) -> str:
    return TASK_STATUSES.get(key, key)


def _readable(fields: Iterable[str]) -> str:
    return ", ".join(name.removesuffix("_id").replace("_", " ") for name in sorted(fields))


def _people(names: Names, user_ids: Iterable[int]) -> str:
    return ", ".join(names.user(uid) for uid in user_ids)


def _story(names: Names, story_id: int | None) -> str:
    """A story as a reader sees it: its title if they may see it."""
    title = names.story_title(story_id) if story_id is not None else None
    return f"story {story_id} {quoted(title)}" if title is not None else "another story"


# Stories


def story_created(payload: p.StoryCreated, names: Names) -> str:
    return "created the story"


def story_details_changed(payload: p.StoryDetailsChanged, names: Names) -> str:
    return f"changed the story ({_readable(payload.new) or 'details'})"


def story_privacy_changed(payload: p.StoryPrivacyChanged, names: Names) -> str:
    if payload.user_added is not None:
        return f"let {names.user(payload.user_added)} see the story"
    if payload.user_removed is not None:
        return f"stopped {names.user(payload.user_removed)} from seeing the story"
    if payload.team_added is not None:
        return f"let team {payload.team_added} see the story"
    if payload.team_removed is not None:
        return f"stopped team {payload.team_removed} from seeing the story"
    return "changed who can see the story"


def tags_added(payload: p.TagsChanged, names: Names) -> str:
    return f"added tags {', '.join(payload.tags)}"


def tags_deleted(payload: p.TagsChanged, names: Names) -> str:
    return f"removed tags {', '.join(payload.tags)}"


def story_link_added(payload: p.StoryLinkChanged, names: Names) -> str:
    other = _story(names, payload.other_story_id)
    if other == "another story":
        return "linked another story"
    return f"linked {other} ({payload.kind.replace('_', ' ')})"


def story_link_removed(payload: p.StoryLinkChanged, names: Names) -> str:
    other = _story(names, payload.other_story_id)
    if other == "another story":
        return "unlinked another story"
    return f"unlinked {other} ({payload.kind.replace('_', ' ')})"


# Tasks


def task_created(payload: p.TaskCreated, names: Names) -> str:
    return f"added {_task(payload)}"


def task_deleted(payload: p.TaskDeleted, names: Names) -> str:
    return f"deleted {_task(payload)}"


def task_details_changed(payload: p.TaskDetailsChanged, names: Names) -> str:
    return f"changed the {_readable(payload.new) or 'details'} of {_task(payload)}"


def task_status_changed(payload: p.TaskStatusChanged, names: Names) -> str:
    old, new = _status(payload.old_status), _status(payload.new_status)
    return f"changed the status of {_task(payload)} from {old} to {new}"


def task_priority_changed(payload: p.TaskPriorityChanged, names: Names) -> str:
    return (
        f"changed the priority of {_task(payload)} "
        f"from {payload.old_priority} to {payload.new_priority}"
    )


def task_assignee_changed(payload: p.TaskAssigneeChanged, names: Names) -> str:
    if payload.new_assignee_id is not None:
        return f"assigned {_task(payload)} to {names.user(payload.new_assignee_id)}"
    return f"unassigned {_task(payload)}"


# Comments


def user_comment(payload: p.CommentCreated, names: Names) -> str:
    return "commented"


def comment_edited(payload: p.CommentEdited, names: Names) -> str:
    return "edited a comment"


# Worklists and boards: the same sentences with the object's noun.


def _details(noun: str, field: str, old: p.Scalar, new: p.Scalar) -> str:
    if field == "title":
        return f"renamed the {noun} from {quoted(old)} to {quoted(new)}"
    if field == "archived":
        return f"archived the {noun}" if new else f"restored the {noun}"
    if field == "private":
        return f"made the {noun} private" if new else f"made the {noun} public"
    if field == "automatic":
        return f"made the {noun} automatic" if new else f"made the {noun} manual"
    if field == "project_id":
        return (
            f"moved the {noun} to project {new}" if new else f"took the {noun} out of its project"
        )
    return f"changed the {noun}'s {field.replace('_', ' ')}"


# StoryBoard's permission codenames, as what the holders may do.
_CODENAMES = {
    "edit_worklist": "edit",
    "move_items": "move items in",
    "edit_board": "edit",
    "move_cards": "move cards on",
}


def _permissions(
    noun: str, names: Names, codename: str, added: list[int], removed: list[int]
) -> str:
    changes = []
    if added:
        changes.append(f"added {_people(names, added)}")
    if removed:
        changes.append(f"removed {_people(names, removed)}")
    what = _CODENAMES.get(codename, codename.replace("_", " "))
    summary = f": {'; '.join(changes)}" if changes else ""
    return f"changed who may {what} the {noun}{summary}"


def _permission_created(
    noun: str, names: Names, codename: str | None, users: list[int] | None
) -> str:
    what = _CODENAMES.get(codename or "", "use")
    if users:
        return f"let {_people(names, users)} {what} the {noun}"
    return f"added a permission to {what} the {noun}"


def worklist_created(payload: p.WorklistCreated, names: Names) -> str:
    return "created the worklist"


def worklist_details_changed(payload: p.WorklistDetailsChanged, names: Names) -> str:
    return _details("worklist", payload.field, payload.old_value, payload.new_value)


def worklist_permission_created(payload: p.WorklistPermissionCreated, names: Names) -> str:
    return _permission_created("worklist", names, payload.codename, payload.users)


def worklist_permissions_changed(payload: p.WorklistPermissionsChanged, names: Names) -> str:
    return _permissions("worklist", names, payload.codename, payload.added, payload.removed)


def worklist_filters_changed(payload: p.WorklistFiltersChanged, names: Names) -> str:
    if payload.added is not None:
        return "added a filter to the worklist"
    if payload.removed is not None:
        return "removed a filter from the worklist"
    return "changed a filter of the worklist"


def _item(item: dict[str, Any]) -> str:
    kind = "task" if item.get("item_type") == "task" else "story"
    title, item_id = item.get("item_title"), item.get("item_id")
    if title:
        return f"{kind} {quoted(title)}"
    # Hidden from this reader (a private story's): neither title nor id.
    return f"{kind} {item_id}" if item_id is not None else f"a {kind}"


def _worklist(list_id: Any) -> str:
    return f"worklist {list_id}" if list_id is not None else "another worklist"


def worklist_contents_changed(payload: p.WorklistContentsChanged, names: Names) -> str:
    if payload.added is not None:
        return f"added {_item(payload.added)} to the worklist"
    if payload.removed is not None:
        return f"removed {_item(payload.removed)} from the worklist"
    if payload.updated is not None:
        moved = payload.updated
        old, new = moved.get("old") or {}, moved.get("new") or {}
        if old.get("list_id") == new.get("list_id") == payload.worklist_id:
            return f"moved {_item(moved)} within the worklist"
        if old.get("list_id") == payload.worklist_id:
            return f"moved {_item(moved)} from the worklist to {_worklist(new.get('list_id'))}"
        return f"moved {_item(moved)} to the worklist from {_worklist(old.get('list_id'))}"
    return "changed the worklist's contents"


def board_created(payload: p.BoardCreated, names: Names) -> str:
    return "created the board"


def board_details_changed(payload: p.BoardDetailsChanged, names: Names) -> str:
    return _details("board", payload.field, payload.old_value, payload.new_value)


def board_permission_created(payload: p.BoardPermissionCreated, names: Names) -> str:
    return _permission_created("board", names, payload.codename, payload.users)


def board_permissions_changed(payload: p.BoardPermissionsChanged, names: Names) -> str:
    return _permissions("board", names, payload.codename, payload.added, payload.removed)


def board_lanes_changed(payload: p.BoardLanesChanged, names: Names) -> str:
    before, after = len(payload.old), len(payload.new)
    if after > before:
        return f"added {after - before} lane{'s' if after - before != 1 else ''} to the board"
    if after < before:
        return f"removed {before - after} lane{'s' if before - after != 1 else ''} from the board"
    return "rearranged the board's lanes"


# Freeze exceptions


def _exception(payload: p.FreezeException) -> str:
    return (
        f"the {payload.freeze} freeze exception for {payload.project_name} in {payload.cycle_name}"
    )


def freeze_exception_requested(payload: p.FreezeException, names: Names) -> str:
    return f"requested {_exception(payload)}"


def freeze_exception_withdrawn(payload: p.FreezeException, names: Names) -> str:
    return f"withdrew the request for {_exception(payload)}"


def freeze_exception_commented(payload: p.FreezeExceptionCommented, names: Names) -> str:
    if payload.advice is None:
        return f"commented on the request for {_exception(payload)}"
    return f"advised to {payload.advice} {_exception(payload)}"


def freeze_exception_decided(payload: p.FreezeExceptionDecided, names: Names) -> str:
    if payload.decision == "granted":
        return f"granted {_exception(payload)}, to merge by {payload.deadline}"
    later = f"; deferred to {payload.deferred_to}" if payload.deferred_to else ""
    return f"denied {_exception(payload)}{later}"


def freeze_exception_deferred(payload: p.FreezeExceptionDeferred, names: Names) -> str:
    to = f" to {payload.deferred_to}" if payload.deferred_to else " to a later cycle"
    return f"deferred the feature{to}: {_exception(payload)} passed its deadline unmerged"
