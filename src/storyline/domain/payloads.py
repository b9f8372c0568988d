"""The payload of each kind of timeline event: its `event_info` document, typed.

`event_info` is a JSON string in the API (as in StoryBoard), so its keys
are part of the contract: clients, webhooks and old rows read them. Each
class here lists the keys one kind of event carries and what they hold;
`check` holds a service to them when it records an event, and `read` gives
the describers a typed view of a stored document.

Writing is strict (an unknown or missing key is a bug in the service);
reading is lenient in one way only: a stored document that does not fit
(an old row, an import) reads as None, and the describers then use the
sentence that needs no payload.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self

# A value a details event reports as it was and as it is: titles, ids, flags.
Scalar = str | int | float | bool | None


class PayloadError(ValueError):
    """A document does not fit its event type."""


@dataclass(frozen=True, kw_only=True)
class Payload:
    """Base of the payload classes: a JSON document with fixed keys."""

    def to_info(self) -> dict[str, Any]:
        """The document as services store it. A key with a default is one
        only some events of a kind carry (a worklist event has one of added,
        updated and removed): left out when None. A key without one is
        always there, None included (`new_assignee_id` of an unassignment)."""
        info: dict[str, Any] = {}
        for spec in dataclasses.fields(self):
            value = getattr(self, spec.name)
            if value is None and spec.default is None:
                continue
            info[spec.name] = value
        return info

    def user_ids(self) -> list[int]:
        """The people its sentence names (the caller loads their names)."""
        return []

    def story_ids(self) -> list[int]:
        """The stories its sentence names, besides its own."""
        return []

    @classmethod
    def keys(cls) -> frozenset[str]:
        return frozenset(spec.name for spec in dataclasses.fields(cls))

    @classmethod
    def from_info(cls, info: Mapping[str, Any] | None, *, strict: bool = False) -> Self:
        """Build from a stored document. Raises PayloadError when a key is
        missing or holds the wrong kind of value, or (`strict`) when the
        document has a key this kind of event does not declare."""
        info = info or {}
        if strict:
            unknown = sorted(set(info) - cls.keys())
            if unknown:
                raise PayloadError(f"unexpected key {unknown[0]!r}")
        hints = _hints(cls)
        values: dict[str, Any] = {}
        for spec in dataclasses.fields(cls):
            if spec.name not in info:
                if spec.default is dataclasses.MISSING:
                    raise PayloadError(f"missing key {spec.name!r}")
                continue
            value = info[spec.name]
            if not _fits(value, hints[spec.name]):
                raise PayloadError(f"key {spec.name!r} holds {value!r}")
            values[spec.name] = value
        return cls(**values)


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _fits(value: Any, hint: Any) -> bool:
    """Whether a JSON value matches a field's annotation (the shapes used here)."""
    if hint is Any:
        return True
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_fits(value, arm) for arm in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if origin is list:
        (item,) = typing.get_args(hint)
        return isinstance(value, list) and all(_fits(v, item) for v in value)
    if origin is dict:
        return isinstance(value, dict)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, hint)


# Stories


@dataclass(frozen=True, kw_only=True)
class StoryCreated(Payload):
    story_id: int
    story_title: str


@dataclass(frozen=True, kw_only=True)
class StoryDetailsChanged(Payload):
    story_id: int
    story_title: str
    # Field name -> value, for the fields that changed only.
    old: dict[str, Any]
    new: dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class StoryPrivacyChanged(Payload):
    """Who may see a private story changed: one person or team added or
    removed (the ACL endpoints), or both lists replaced (a story update)."""

    story_id: int
    user_added: int | None = None
    user_removed: int | None = None
    team_added: int | None = None
    team_removed: int | None = None
    # {"users": [ids], "teams": [ids]} before and after.
    old: dict[str, Any] | None = None
    new: dict[str, Any] | None = None

    def user_ids(self) -> list[int]:
        return [uid for uid in (self.user_added, self.user_removed) if uid is not None]


@dataclass(frozen=True, kw_only=True)
class TagsChanged(Payload):
    story_title: str
    tags: list[str]


@dataclass(frozen=True, kw_only=True)
class StoryLinkChanged(Payload):
    """A link between two stories; recorded on both, `other_story_id` being
    the story at the far end from the timeline it is on."""

    link_id: int
    kind: str
    story_id: int
    target_story_id: int
    other_story_id: int

    def story_ids(self) -> list[int]:
        return [self.other_story_id]


# Tasks


@dataclass(frozen=True, kw_only=True)
class TaskPayload(Payload):
    task_id: int
    task_title: str


@dataclass(frozen=True, kw_only=True)
class TaskCreated(TaskPayload):
    project_id: int


@dataclass(frozen=True, kw_only=True)
class TaskDeleted(TaskPayload):
    pass


@dataclass(frozen=True, kw_only=True)
class TaskDetailsChanged(TaskPayload):
    old: dict[str, Any]
    new: dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class TaskStatusChanged(TaskPayload):
    old_status: str
    new_status: str


@dataclass(frozen=True, kw_only=True)
class TaskPriorityChanged(TaskPayload):
    old_priority: str
    new_priority: str


@dataclass(frozen=True, kw_only=True)
class TaskAssigneeChanged(TaskPayload):
    old_assignee_id: int | None
    new_assignee_id: int | None

    def user_ids(self) -> list[int]:
        return [u for u in (self.old_assignee_id, self.new_assignee_id) if u is not None]


# Comments


@dataclass(frozen=True, kw_only=True)
class CommentCreated(Payload):
    """Nothing: the event's own `comment_id` names the comment (StoryBoard
    stored no event_info for comments)."""


@dataclass(frozen=True, kw_only=True)
class CommentEdited(Payload):
    comment_id: int
    history_id: int


# Worklists


@dataclass(frozen=True, kw_only=True)
class WorklistCreated(Payload):
    worklist_id: int
    worklist_title: str


@dataclass(frozen=True, kw_only=True)
class WorklistDetailsChanged(Payload):
    worklist_id: int
    worklist_title: str
    field: str
    old_value: Scalar
    new_value: Scalar


@dataclass(frozen=True, kw_only=True)
class WorklistPermissionCreated(Payload):
    """StoryBoard's: a permission (codename and users) added to a worklist."""

    worklist_id: int
    codename: str | None = None
    users: list[int] | None = None

    def user_ids(self) -> list[int]:
        return list(self.users or [])


@dataclass(frozen=True, kw_only=True)
class WorklistPermissionsChanged(Payload):
    worklist_id: int
    codename: str
    added: list[int]
    removed: list[int]

    def user_ids(self) -> list[int]:
        return [*self.added, *self.removed]


@dataclass(frozen=True, kw_only=True)
class WorklistFiltersChanged(Payload):
    """One of added / updated ({"old", "new"}) / removed: a serialized filter."""

    worklist_id: int
    added: dict[str, Any] | None = None
    updated: dict[str, Any] | None = None
    removed: dict[str, Any] | None = None


@dataclass(frozen=True, kw_only=True)
class WorklistContentsChanged(Payload):
    """One of added (item_id, item_type, item_title, position) / updated (a
    move: item_id, item_type, old and new list and position) / removed
    (item_id, item_type)."""

    worklist_id: int
    added: dict[str, Any] | None = None
    updated: dict[str, Any] | None = None
    removed: dict[str, Any] | None = None


# Boards


@dataclass(frozen=True, kw_only=True)
class BoardCreated(Payload):
    board_id: int
    board_title: str


@dataclass(frozen=True, kw_only=True)
class BoardDetailsChanged(Payload):
    board_id: int
    board_title: str
    field: str
    old_value: Scalar
    new_value: Scalar


@dataclass(frozen=True, kw_only=True)
class BoardPermissionCreated(Payload):
    """StoryBoard's: a permission (codename and users) added to a board."""

    board_id: int
    codename: str | None = None
    users: list[int] | None = None

    def user_ids(self) -> list[int]:
        return list(self.users or [])


@dataclass(frozen=True, kw_only=True)
class BoardPermissionsChanged(Payload):
    board_id: int
    codename: str
    added: list[int]
    removed: list[int]

    def user_ids(self) -> list[int]:
        return [*self.added, *self.removed]


@dataclass(frozen=True, kw_only=True)
class BoardLanesChanged(Payload):
    board_id: int
    # [{"list_id": id, "position": n}] before and after.
    old: list[dict[str, Any]]
    new: list[dict[str, Any]]
