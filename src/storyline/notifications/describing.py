"""Events told in words, for email, digests and webhooks.

The sentence of each kind of event comes from the registry
(`storyline.domain.events`); this module loads what the sentences name, for
a batch of events at once and as one reader sees it (a story the reader may
not see is "another story"), and says what each event is about: the story,
worklist or board an email is threaded under and a digest groups by.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from storyline.accounts.models import User
from storyline.domain import events as event_types
from storyline.kernel import timeline
from storyline.kernel.access import Actor, story_visibility
from storyline.lists.models import Board, Worklist
from storyline.tracker.models import Story


class EventRow(Protocol):
    """A timeline event or a feed row: both carry what a sentence needs."""

    @property
    def event_type(self) -> str: ...
    @property
    def event_info(self) -> str | None: ...
    @property
    def author_id(self) -> int | None: ...
    @property
    def story_id(self) -> int | None: ...


R = TypeVar("R", bound=EventRow)


class _AsRead:
    """An event row with the `event_info` one reader may read."""

    def __init__(self, row: Any, event_info: str | None) -> None:
        self._row = row
        self.event_info = event_info

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, name)


def as_read(session: Session, *, actor: Actor, rows: Sequence[R]) -> list[R]:
    """The rows as `actor` may read them: what an event names that they may
    not see is blanked (`timeline.infos_for`), before anything is told."""
    infos = timeline.infos_for(session, actor=actor, events=rows)
    return [
        row if info == row.event_info else cast(R, _AsRead(row, info))
        for row, info in zip(rows, infos, strict=True)
    ]


def info_of(row: EventRow) -> dict[str, Any]:
    if not row.event_info:
        return {}
    try:
        info = json.loads(row.event_info)
    except ValueError:
        return {}
    return info if isinstance(info, dict) else {}


@dataclass
class Names:
    """The names a batch of sentences shows (`storyline.domain.sentences.Names`)."""

    users: dict[int, User] = field(default_factory=dict)
    # Titles of the stories the reader may see.
    stories: dict[int, str] = field(default_factory=dict)

    def user(self, user_id: int | None) -> str:
        if user_id is None:
            return "Someone"
        user = self.users.get(user_id)
        return (user.full_name if user is not None else None) or f"User {user_id}"

    def story_title(self, story_id: int) -> str | None:
        return self.stories.get(story_id)


def load_names(session: Session, *, actor: Actor, rows: Iterable[EventRow]) -> Names:
    """One query for the people and one for the stories the rows name."""
    user_ids: set[int] = set()
    story_ids: set[int] = set()
    for row in rows:
        if row.author_id is not None:
            user_ids.add(row.author_id)
        kind = event_types.REGISTRY.get(row.event_type)
        if kind is not None:
            info = info_of(row)
            user_ids.update(kind.user_ids(info))
            story_ids.update(kind.story_ids(info))
    names = Names()
    if user_ids:
        names.users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(user_ids)))}
    if story_ids:
        rows = session.execute(
            select(Story.id, Story.title).where(Story.id.in_(story_ids), story_visibility(actor))
        )
        names.stories = {row.id: row.title for row in rows}
    return names


def sentence(row: EventRow, names: Names) -> str:
    """ "Alice changed the status of task “Fix boot” from Todo to Review"."""
    what = event_types.describe(row.event_type, info_of(row), names)
    # A kind this server doesn't know (written by a newer version): its name.
    return f"{names.user(row.author_id)} {what or row.event_type.replace('_', ' ')}"


@dataclass(frozen=True)
class Subject:
    """What an event is about, as a reader finds it."""

    kind: str
    id: int
    title: str

    @property
    def path(self) -> str:
        return f"{_PAGES[self.kind]}/{self.id}"

    @property
    def heading(self) -> str:
        return f"{self.title} ({self.kind} #{self.id})"


_PAGES = {
    event_types.STORY: "/stories",
    event_types.WORKLIST: "/worklists",
    event_types.BOARD: "/boards",
}
_SUBJECT_MODELS: dict[str, Any] = {
    event_types.STORY: Story,
    event_types.WORKLIST: Worklist,
    event_types.BOARD: Board,
}


def subject_key(row: EventRow) -> tuple[str, int] | None:
    """(kind, id) of what the event is about. A story event's story is on the
    row; worklist and board payloads all carry their object's id."""
    if row.story_id is not None:
        return event_types.STORY, row.story_id
    kind = event_types.REGISTRY.get(row.event_type)
    if kind is None or kind.subject == event_types.STORY:
        return None
    object_id = info_of(row).get(f"{kind.subject}_id")
    return (kind.subject, object_id) if isinstance(object_id, int) else None


def load_subjects(session: Session, rows: Sequence[EventRow]) -> dict[tuple[str, int], Subject]:
    """The subjects of `rows` that still exist, one query per kind."""
    wanted: dict[str, set[int]] = {}
    for row in rows:
        key = subject_key(row)
        if key is not None:
            wanted.setdefault(key[0], set()).add(key[1])
    found: dict[tuple[str, int], Subject] = {}
    for kind, ids in wanted.items():
        model = _SUBJECT_MODELS[kind]
        for object_id, title in session.execute(
            select(model.id, model.title).where(model.id.in_(ids))
        ):
            found[kind, object_id] = Subject(kind, object_id, title)
    return found


def subject_of(session: Session, row: EventRow) -> Subject | None:
    key = subject_key(row)
    return load_subjects(session, [row]).get(key) if key is not None else None


def summary(row: EventRow, names: Names, subject: Subject | None) -> str:
    """One line that stands on its own (a webhook's `summary`):
    "Frobnicator crashes (story #12): Alice commented"."""
    line = sentence(row, names)
    return f"{subject.heading}: {line}" if subject is not None else line
