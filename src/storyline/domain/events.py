"""The timeline's event types, in one registry.

Each kind of event is declared once, here: its name (StoryBoard's, where
StoryBoard had the event), what it is about (a story, a worklist or a
board), the keys of its payload (`storyline.domain.payloads`), a short label
for filters and settings, and the sentence that tells it
(`storyline.domain.sentences`). The services record events by these names
(`storyline.kernel.timeline.record` refuses any other, and holds the payload
to its declaration); the story timeline, email, digests and webhooks all
describe them through `describe`, so a new kind of event is one entry here
and, for its payload and sentence, one class and one function beside it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Generic, TypeVar

from storyline.domain import payloads as p
from storyline.domain import sentences as s
from storyline.domain.sentences import Names

# StoryBoard's 22 names (clients filter on them), then Storyline's own.
STORY_CREATED: Final = "story_created"
STORY_DETAILS_CHANGED: Final = "story_details_changed"
TAGS_ADDED: Final = "tags_added"
TAGS_DELETED: Final = "tags_deleted"
TASK_CREATED: Final = "task_created"
TASK_DETAILS_CHANGED: Final = "task_details_changed"
TASK_STATUS_CHANGED: Final = "task_status_changed"
TASK_PRIORITY_CHANGED: Final = "task_priority_changed"
TASK_ASSIGNEE_CHANGED: Final = "task_assignee_changed"
TASK_DELETED: Final = "task_deleted"
USER_COMMENT: Final = "user_comment"
WORKLIST_CREATED: Final = "worklist_created"
WORKLIST_DETAILS_CHANGED: Final = "worklist_details_changed"
WORKLIST_PERMISSION_CREATED: Final = "worklist_permission_created"
WORKLIST_PERMISSIONS_CHANGED: Final = "worklist_permissions_changed"
WORKLIST_FILTERS_CHANGED: Final = "worklist_filters_changed"
WORKLIST_CONTENTS_CHANGED: Final = "worklist_contents_changed"
BOARD_CREATED: Final = "board_created"
BOARD_DETAILS_CHANGED: Final = "board_details_changed"
BOARD_PERMISSION_CREATED: Final = "board_permission_created"
BOARD_PERMISSIONS_CHANGED: Final = "board_permissions_changed"
BOARD_LANES_CHANGED: Final = "board_lanes_changed"
# Storyline's own: private stories' access lists, comment edits, and links
# between stories (blocks, depends on, duplicates, relates).
STORY_PRIVACY_CHANGED: Final = "story_privacy_changed"
COMMENT_EDITED: Final = "comment_edited"
STORY_LINK_ADDED: Final = "story_link_added"
STORY_LINK_REMOVED: Final = "story_link_removed"
# Release cycles: freeze exception requests and their decisions.
FREEZE_EXCEPTION_REQUESTED: Final = "freeze_exception_requested"
FREEZE_EXCEPTION_WITHDRAWN: Final = "freeze_exception_withdrawn"
FREEZE_EXCEPTION_COMMENTED: Final = "freeze_exception_commented"
FREEZE_EXCEPTION_DECIDED: Final = "freeze_exception_decided"
FREEZE_EXCEPTION_DEFERRED: Final = "freeze_exception_deferred"

# What an event is about: the object whose timeline it is on, whose
# subscribers hear of it, and which an email about it is threaded under.
STORY: Final = "story"
WORKLIST: Final = "worklist"
BOARD: Final = "board"
SUBJECTS: Final = (STORY, WORKLIST, BOARD)

P = TypeVar("P", bound=p.Payload)


@dataclass(frozen=True)
class EventType(Generic[P]):
    name: str
    subject: str
    payload: type[P]
    sentence: Callable[[P, Names], str]
    # Said when a stored payload does not fit (an old row, an import).
    fallback: str
    # Short, for the timeline filter and the settings page.
    label: str
    # False for Storyline's own kinds, which StoryBoard clients don't know.
    storyboard: bool = True

    def check(self, info: Mapping[str, Any] | None) -> None:
        """Raise PayloadError unless `info` is exactly this kind's payload."""
        self.payload.from_info(info, strict=True)

    def read(self, info: Mapping[str, Any] | None) -> P | None:
        try:
            return self.payload.from_info(info)
        except p.PayloadError:
            return None

    def describe(self, info: Mapping[str, Any] | None, names: Names) -> str:
        """The sentence, without its author: "changed the status of …"."""
        payload = self.read(info)
        return self.fallback if payload is None else self.sentence(payload, names)

    def user_ids(self, info: Mapping[str, Any] | None) -> list[int]:
        payload = self.read(info)
        return payload.user_ids() if payload is not None else []

    def story_ids(self, info: Mapping[str, Any] | None) -> list[int]:
        payload = self.read(info)
        return payload.story_ids() if payload is not None else []


def _entry(
    name: str,
    subject: str,
    payload: type[P],
    sentence: Callable[[P, Names], str],
    fallback: str,
    label: str,
    *,
    storyboard: bool = True,
) -> tuple[str, EventType[Any]]:
    return name, EventType(name, subject, payload, sentence, fallback, label, storyboard)


# In the order the settings page lists them.
REGISTRY: Final[Mapping[str, EventType[Any]]] = dict(
    [
        _entry(USER_COMMENT, STORY, p.CommentCreated, s.user_comment, "commented", "Comments"),
        _entry(
            COMMENT_EDITED,
            STORY,
            p.CommentEdited,
            s.comment_edited,
            "edited a comment",
            "Comment edits",
            storyboard=False,
        ),
        _entry(
            STORY_CREATED,
            STORY,
            p.StoryCreated,
            s.story_created,
            "created the story",
            "Story created",
        ),
        _entry(
            STORY_DETAILS_CHANGED,
            STORY,
            p.StoryDetailsChanged,
            s.story_details_changed,
            "changed the story",
            "Story details changed",
        ),
        _entry(
            STORY_PRIVACY_CHANGED,
            STORY,
            p.StoryPrivacyChanged,
            s.story_privacy_changed,
            "changed who can see the story",
            "Privacy changed",
            storyboard=False,
        ),
        _entry(TAGS_ADDED, STORY, p.TagsChanged, s.tags_added, "added tags", "Tags added"),
        _entry(TAGS_DELETED, STORY, p.TagsChanged, s.tags_deleted, "removed tags", "Tags removed"),
        _entry(TASK_CREATED, STORY, p.TaskCreated, s.task_created, "added a task", "Task created"),
        _entry(
            TASK_DETAILS_CHANGED,
            STORY,
            p.TaskDetailsChanged,
            s.task_details_changed,
            "changed a task",
            "Task details changed",
        ),
        _entry(
            TASK_STATUS_CHANGED,
            STORY,
            p.TaskStatusChanged,
            s.task_status_changed,
            "changed the status of a task",
            "Task status changed",
        ),
        _entry(
            TASK_PRIORITY_CHANGED,
            STORY,
            p.TaskPriorityChanged,
            s.task_priority_changed,
            "changed the priority of a task",
            "Task priority changed",
        ),
        _entry(
            TASK_ASSIGNEE_CHANGED,
            STORY,
            p.TaskAssigneeChanged,
            s.task_assignee_changed,
            "changed who is assigned to a task",
            "Task assignee changed",
        ),
        _entry(
            TASK_DELETED, STORY, p.TaskDeleted, s.task_deleted, "deleted a task", "Task deleted"
        ),
        _entry(
            STORY_LINK_ADDED,
            STORY,
            p.StoryLinkChanged,
            s.story_link_added,
            "linked another story",
            "Story linked",
            storyboard=False,
        ),
        _entry(
            STORY_LINK_REMOVED,
            STORY,
            p.StoryLinkChanged,
            s.story_link_removed,
            "unlinked another story",
            "Story unlinked",
            storyboard=False,
        ),
        _entry(
            FREEZE_EXCEPTION_REQUESTED,
            STORY,
            p.FreezeException,
            s.freeze_exception_requested,
            "requested a freeze exception",
            "Freeze exception requested",
            storyboard=False,
        ),
        _entry(
            FREEZE_EXCEPTION_WITHDRAWN,
            STORY,
            p.FreezeException,
            s.freeze_exception_withdrawn,
            "withdrew a freeze exception request",
            "Freeze exception withdrawn",
            storyboard=False,
        ),
        _entry(
            FREEZE_EXCEPTION_COMMENTED,
            STORY,
            p.FreezeExceptionCommented,
            s.freeze_exception_commented,
            "commented on a freeze exception request",
            "Freeze exception advice",
            storyboard=False,
        ),
        _entry(
            FREEZE_EXCEPTION_DECIDED,
            STORY,
            p.FreezeExceptionDecided,
            s.freeze_exception_decided,
            "decided a freeze exception request",
            "Freeze exception decided",
            storyboard=False,
        ),
        _entry(
            FREEZE_EXCEPTION_DEFERRED,
            STORY,
            p.FreezeExceptionDeferred,
            s.freeze_exception_deferred,
            "deferred a feature to a later cycle",
            "Feature deferred",
            storyboard=False,
        ),
        _entry(
            WORKLIST_CREATED,
            WORKLIST,
            p.WorklistCreated,
            s.worklist_created,
            "created the worklist",
            "Worklist created",
        ),
        _entry(
            WORKLIST_DETAILS_CHANGED,
            WORKLIST,
            p.WorklistDetailsChanged,
            s.worklist_details_changed,
            "changed the worklist",
            "Worklist details changed",
        ),
        _entry(
            WORKLIST_PERMISSION_CREATED,
            WORKLIST,
            p.WorklistPermissionCreated,
            s.worklist_permission_created,
            "changed the worklist's permissions",
            "Worklist permission added",
        ),
        _entry(
            WORKLIST_PERMISSIONS_CHANGED,
            WORKLIST,
            p.WorklistPermissionsChanged,
            s.worklist_permissions_changed,
            "changed the worklist's permissions",
            "Worklist permissions changed",
        ),
        _entry(
            WORKLIST_FILTERS_CHANGED,
            WORKLIST,
            p.WorklistFiltersChanged,
            s.worklist_filters_changed,
            "changed the worklist's filters",
            "Worklist filters changed",
        ),
        _entry(
            WORKLIST_CONTENTS_CHANGED,
            WORKLIST,
            p.WorklistContentsChanged,
            s.worklist_contents_changed,
            "changed the worklist's contents",
            "Worklist contents changed",
        ),
        _entry(
            BOARD_CREATED,
            BOARD,
            p.BoardCreated,
            s.board_created,
            "created the board",
            "Board created",
        ),
        _entry(
            BOARD_DETAILS_CHANGED,
            BOARD,
            p.BoardDetailsChanged,
            s.board_details_changed,
            "changed the board",
            "Board details changed",
        ),
        _entry(
            BOARD_PERMISSION_CREATED,
            BOARD,
            p.BoardPermissionCreated,
            s.board_permission_created,
            "changed the board's permissions",
            "Board permission added",
        ),
        _entry(
            BOARD_PERMISSIONS_CHANGED,
            BOARD,
            p.BoardPermissionsChanged,
            s.board_permissions_changed,
            "changed the board's permissions",
            "Board permissions changed",
        ),
        _entry(
            BOARD_LANES_CHANGED,
            BOARD,
            p.BoardLanesChanged,
            s.board_lanes_changed,
            "changed the board's lanes",
            "Board lanes changed",
        ),
    ]
)

ALL: Final = frozenset(REGISTRY)

# The kinds a story's timeline lists: comments have their own section.
STORY_TIMELINE: Final = tuple(
    sorted(name for name, t in REGISTRY.items() if t.subject == STORY and name != USER_COMMENT)
)


def get(name: str) -> EventType[Any]:
    """The registered kind `name`; KeyError names it when it isn't one."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown event type {name!r}") from None


def check(name: str, info: Mapping[str, Any] | None) -> None:
    """What recording an event checks: a registered kind and its payload.
    Raises ValueError (PayloadError is one) saying what is wrong."""
    if name not in REGISTRY:
        raise ValueError(f"unknown event type {name!r}")
    try:
        REGISTRY[name].check(info)
    except p.PayloadError as error:
        raise p.PayloadError(f"{name}: {error}") from None


def describe(name: str, info: Mapping[str, Any] | None, names: Names) -> str | None:
    """The sentence for an event of kind `name`, or None for a kind this
    server does not know (a row written by a newer version)."""
    kind = REGISTRY.get(name)
    return kind.describe(info, names) if kind is not None else None
