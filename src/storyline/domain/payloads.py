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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Self

# A value a details event reports as it was and as it is: titles, ids, flags.
Scalar = str | int | float | bool | None

# Something an event names besides the object whose timeline it is on:
# ("story" | "task" | "worklist", id). A reader who may see the event but not
# the thing it names reads the event with that reference blanked (`hide`).
Ref = tuple[str, int]
Visible = Callable[[Ref], bool]


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
    def refs(cls, info: Mapping[str, Any]) -> list[Ref]:
        """The stories, tasks and worklists a stored document names, besides
        the event's own subject (which the event's visibility covers)."""
        return []

    @classmethod
    def hide(cls, info: dict[str, Any], visible: Visible) -> dict[str, Any]:
        """The document with every reference `visible` refuses blanked (ids and
        titles set to None): what a reader of the event who may not see those
        things is shown. Works on the stored dict, so old rows are covered."""
        return info

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

    link_id: int | None
    kind: str
    # None where the reader may not see that end (`hide`).
    story_id: int | None
    target_story_id: int | None
    other_story_id: int | None

    def story_ids(self) -> list[int]:
        return [self.other_story_id] if self.other_story_id is not None else []

    @classmethod
    def refs(cls, info: Mapping[str, Any]) -> list[Ref]:
        return [("story", info[key]) for key in _LINK_ENDS if isinstance(info.get(key), int)]

    @classmethod
    def hide(cls, info: dict[str, Any], visible: Visible) -> dict[str, Any]:
        hidden = {ref[1] for ref in cls.refs(info) if not visible(ref)}
        if not hidden:
            return info
        # Like /links, which leaves out a link with a hidden end: nothing
        # of the far end, not even that link's id.
        return {
            **info,
            "link_id": None,
            **{key: None for key in _LINK_ENDS if info.get(key) in hidden},
        }


_LINK_ENDS = ("story_id", "target_story_id", "other_story_id")


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

    @classmethod
    def refs(cls, info: Mapping[str, Any]) -> list[Ref]:
        refs: list[Ref] = []
        for change in _changes(info):
            item_type, item_id = change.get("item_type"), change.get("item_id")
            if item_type in ("story", "task") and isinstance(item_id, int):
                refs.append((item_type, item_id))
            for end in ("old", "new"):
                list_id = (change.get(end) or {}).get("list_id")
                if isinstance(list_id, int):
                    refs.append(("worklist", list_id))
        return refs

    @classmethod
    def hide(cls, info: dict[str, Any], visible: Visible) -> dict[str, Any]:
        result = dict(info)
        for key in ("added", "updated", "removed"):
            change = info.get(key)
            if not isinstance(change, dict):
                continue
            change = dict(change)
            item = (change.get("item_type"), change.get("item_id"))
            if isinstance(item[1], int) and not visible(item):  # type: ignore[arg-type]
                change.update(item_id=None, item_title=None)
            for end in ("old", "new"):
                place = change.get(end)
                if not isinstance(place, dict):
                    continue
                list_id = place.get("list_id")
                if isinstance(list_id, int) and not visible(("worklist", list_id)):
                    change[end] = {**place, "list_id": None}
            result[key] = change
        return result


def _changes(info: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [
        change
        for key in ("added", "updated", "removed")
        if isinstance(change := info.get(key), dict)
    ]


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

    @classmethod
    def refs(cls, info: Mapping[str, Any]) -> list[Ref]:
        return [("worklist", lane["list_id"]) for lane in _lanes(info) if _lane_id(lane)]

    @classmethod
    def hide(cls, info: dict[str, Any], visible: Visible) -> dict[str, Any]:
        # A private lane the reader may not see stays counted, unnamed.
        def shown(lanes: Any) -> Any:
            if not isinstance(lanes, list):
                return lanes
            return [
                {**lane, "list_id": None}
                if _lane_id(lane) and not visible(("worklist", lane["list_id"]))
                else lane
                for lane in lanes
            ]

        return {**info, "old": shown(info.get("old")), "new": shown(info.get("new"))}


def _lanes(info: Mapping[str, Any]) -> list[Any]:
    return [lane for key in ("old", "new") if isinstance(info.get(key), list) for lane in info[key]]


def _lane_id(lane: Any) -> bool:
    return isinstance(lane, dict) and isinstance(lane.get("list_id"), int)


# Freeze exceptions (release cycles): on the story they are about. Names are
# copied in, so that the sentence needs no lookup and stays true to the day.


@dataclass(frozen=True, kw_only=True)
class FreezeException(Payload):
    exception_id: int
    # "feature" or "string".
    freeze: str
    cycle_name: str
    project_id: int
    project_name: str


@dataclass(frozen=True, kw_only=True)
class FreezeExceptionCommented(FreezeException):
    # "grant", "deny" or None for a comment that advises nothing.
    advice: str | None


@dataclass(frozen=True, kw_only=True)
class FreezeExceptionDecided(FreezeException):
    # "granted" or "denied".
    decision: str
    reason: str
    # ISO date by which a granted exception must merge; None when denied.
    deadline: str | None
    # The cycle a denied request went to; None when granted or last.
    deferred_to: str | None


@dataclass(frozen=True, kw_only=True)
class FreezeExceptionDeferred(FreezeException):
    """A granted exception's deadline passed unmerged: the feature moved on."""

    deferred_to: str | None
