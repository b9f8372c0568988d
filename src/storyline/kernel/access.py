"""The one access gate: who may see what, and who may be told about it.

Every visibility decision is made here and nowhere else:

- **stories** are public, or private and shared with users and teams
  (`story_visibility`); what hangs off a story (tasks, comments, tags, links,
  events, worklist cards) is visible exactly when its story is; a tag, whose
  name is shared by all stories, is visible when a visible story carries it
  or no story does (`tag_visibility`);
- **worklists, boards and due dates** are public, or private and visible to
  those who hold a role on them, directly or through a parent object
  (`storyline.kernel.grants`; a worklist that is a lane of a board is
  visible to the board's role holders, as `WORKLIST_ROLES` declares);
- **events** follow what they belong to (`event_visibility`);
- **fan-out**: `readers()` answers, of many users at once, those who may see
  one thing, with the same rules, for notifications and feeds;
- administrators see everything; anonymous callers see what is public.

List queries, counts, searches, feeds and notifications start from the
clauses here, so a rule changes in one place. A private thing the caller may
not see does not exist for them: reads answer NotFound, never
PermissionDenied.

This module sits above the subsystems' models (it must see every private
flag and every grant) and below their services; see docs/architecture.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Final, Literal, cast

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Integer,
    Row,
    Select,
    and_,
    bindparam,
    exists,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Session

from storyline.accounts.models import TeamMembership, User
from storyline.errors import NotAuthenticated, NotFound, PermissionDenied
from storyline.kernel.db import PREPARED
from storyline.kernel.grants import holders_among, holds
from storyline.kernel.models import Event
from storyline.kernel.schema import RoleSpec
from storyline.lists.models import (
    BOARD_ROLES,
    DUE_DATE_ROLES,
    WORKLIST_ROLES,
    Board,
    DueDate,
    Worklist,
    WorklistItem,
)
from storyline.tracker.models import (
    Comment,
    Project,
    ProjectGroup,
    Story,
    StoryAclTeam,
    StoryAclUser,
    StoryTag,
    Tag,
    Task,
)
from storyline.voting.models import (
    CLOSED,
    DRAFT,
    ELECTION_ROLES,
    OPEN,
    Election,
    Voter,
)

# The kinds of things the gate knows, by the names subscriptions and
# notifications use.
KINDS: Final = (
    "story",
    "task",
    "comment",
    "project",
    "project_group",
    "worklist",
    "board",
    "due_date",
    "event",
)


@dataclass(frozen=True)
class Actor:
    """Who is asking. `user_id` is None for anonymous requests."""

    user_id: int | None = None
    is_superuser: bool = False
    # False for read-only tokens: they authenticate reads but may not write.
    can_write: bool = False

    @property
    def is_authenticated(self) -> bool:
        return self.user_id is not None


ANONYMOUS = Actor()


def require_user(actor: Actor) -> int:
    """The actor's user id, for operations that need someone signed in to write."""
    if actor.user_id is None:
        raise NotAuthenticated("Sign in (send a bearer token) to do this.")
    if not actor.can_write:
        raise PermissionDenied("This token is read-only; use a read-write token to make changes.")
    return actor.user_id


def require_superuser(actor: Actor) -> int:
    user_id = require_user(actor)
    if not actor.is_superuser:
        raise PermissionDenied("Only administrators may do this.")
    return user_id


def actor_for(session: Session, user_id: int) -> Actor:
    """The read-only actor of another user (a subscriber, a recipient), for
    deciding what *they* may see."""
    is_superuser = session.scalar(select(User.is_superuser).where(User.id == user_id))
    return Actor(user_id=user_id, is_superuser=bool(is_superuser))


# Stories and what hangs off them


def story_visibility(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause on `Story` that keeps the stories `actor` may see."""
    if actor.is_superuser:
        return true()
    if actor.user_id is None:
        return Story.private.is_(False)
    return _visible_to(actor.user_id)


def _visible_to(user_id: int | BindParameter[int]) -> ColumnElement[bool]:
    by_user = exists().where(StoryAclUser.story_id == Story.id, StoryAclUser.user_id == user_id)
    by_team = exists().where(
        StoryAclTeam.story_id == Story.id,
        StoryAclTeam.team_id == TeamMembership.team_id,
        TeamMembership.user_id == user_id,
    )
    return or_(Story.private.is_(False), by_user, by_team)


def story_probe(actor: Actor, story_id: Any) -> ColumnElement[bool]:
    """True where the story `story_id` (a column or a value) exists and `actor`
    may see it.

    A correlated EXISTS: one primary-key probe per row, so checking the rows
    of one page (events, cards) does not cost a pass over every visible
    story, as `IN (visible story ids)` does.
    """
    return exists().where(Story.id == story_id, story_visibility(actor))


def acl_story_ids(actor: Actor) -> Select[int]:
    """Ids of the stories whose ACL names the actor, directly or through one
    of their teams: the private stories `story_visibility` lets them see.

    For counting from the other end: when most stories are public, "private
    matches minus those on the actor's ACL" is far cheaper than checking the
    ACL of every private match.
    """
    user_id = actor.user_id if actor.user_id is not None else -1
    by_user = select(StoryAclUser.story_id).where(StoryAclUser.user_id == user_id)
    by_team = (
        select(StoryAclTeam.story_id)
        .join(TeamMembership, TeamMembership.team_id == StoryAclTeam.team_id)
        .where(TeamMembership.user_id == user_id)
    )
    return by_user.union(by_team)  # type: ignore[return-value]


def visible_stories(actor: Actor) -> Select[Story]:
    return select(Story).where(story_visibility(actor))


def visible_story_ids(actor: Actor) -> Select[int]:
    """A subquery of visible story ids, for filtering rows that belong to stories."""
    return select(Story.id).where(story_visibility(actor))


def get_story(session: Session, *, actor: Actor, story_id: int, for_update: bool = False) -> Story:
    """The story, if `actor` may see it; NotFound otherwise.

    With `for_update`, the row is locked (PostgreSQL) so that concurrent task
    writes to one story serialize on it; SQLite's write transaction already
    holds the database lock.
    """
    story: Story = read_story(session, actor=actor, story_id=story_id, for_update=for_update)[0][0]
    return story


# What a caller may add to the one-story read: columns and outer joins of
# what belongs to the story (its tags, say), so that one statement brings the
# story and them. A module-level function, so that the statement it makes is
# built once (below); the gate's WHERE stays.
StoryExtension = Callable[[Select[tuple[Story]]], Select[Any]]


def read_story(
    session: Session,
    *,
    actor: Actor,
    story_id: int,
    for_update: bool = False,
    extend: StoryExtension | None = None,
) -> Sequence[Row[Any]]:
    """The rows of the one-story read, the story first in each, extended by
    `extend`; NotFound if `actor` may not see the story."""
    stmt = _story_by_id(_viewer(actor), for_update=for_update, extend=extend)
    params = {"story_id": story_id, "viewer_id": actor.user_id}
    rows = session.execute(stmt, params).all()
    if not rows:
        raise NotFound.of("story", story_id)
    return rows


# The one-story read is the most frequent statement there is. Building it
# (clauses, then SQLAlchemy's cache key) cost about as much as running it on
# SQLite, so it is built once per kind of viewer, with the story and the
# viewer as parameters.
_Viewer = Literal["everything", "public", "user"]


def _viewer(actor: Actor) -> _Viewer:
    if actor.is_superuser:
        return "everything"
    return "public" if actor.user_id is None else "user"


@cache
def _story_by_id(
    viewer: _Viewer, *, for_update: bool, extend: StoryExtension | None
) -> Select[Any]:
    visible: ColumnElement[bool] = {
        "everything": true(),
        "public": Story.private.is_(False),
        "user": _visible_to(bindparam("viewer_id", type_=Integer)),
    }[viewer]
    stmt: Select[Any] = select(Story).where(
        Story.id == bindparam("story_id", type_=Integer), visible
    )
    if extend is not None:
        stmt = extend(stmt)
    # An index probe whatever the story and viewer: PostgreSQL may keep its plan.
    stmt = stmt.execution_options(**{PREPARED: True})
    return stmt.with_for_update(of=Story) if for_update else stmt


def story_is_visible(session: Session, *, actor: Actor, story_id: int) -> bool:
    stmt = select(Story.id).where(Story.id == story_id, story_visibility(actor))
    return session.scalar(stmt) is not None


def tag_visibility(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause on `Tag`: tags on a story `actor` may see, and tags on
    no story at all (made for later use). A tag carried only by private
    stories names what they are about, so it is as hidden as they are."""
    if actor.is_superuser:
        return true()
    on_any = exists().where(StoryTag.tag_id == Tag.id)
    on_visible = exists().where(StoryTag.tag_id == Tag.id, story_probe(actor, StoryTag.story_id))
    return or_(not_(on_any), on_visible)


def task_visibility(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause on `Task`: tasks of stories `actor` may see."""
    if actor.is_superuser:
        return true()
    return story_probe(actor, Task.story_id)


def item_visibility(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause on `WorklistItem`: cards whose story, or whose task's
    story, `actor` may see."""
    if actor.is_superuser:
        return true()
    return or_(
        story_probe(actor, WorklistItem.story_id),
        exists().where(
            Task.id == WorklistItem.task_id, Story.id == Task.story_id, story_visibility(actor)
        ),
    )


# Things guarded by roles: worklists, boards, due dates


def _role_visibility(actor: Actor, spec: RoleSpec, model: Any) -> ColumnElement[bool]:
    """Public, or held by the actor, directly or as the spec inherits."""
    if actor.is_superuser:
        return true()
    public: ColumnElement[bool] = model.private.is_(False)
    if actor.user_id is None:
        return public
    return or_(public, holds(spec, actor.user_id, model.id))


def worklist_visibility(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause on `Worklist` keeping the lists `actor` may see: public
    ones, and private ones they hold a role on, directly or through a board
    the list is a lane of (`WORKLIST_ROLES.inherit`)."""
    return _role_visibility(actor, WORKLIST_ROLES, Worklist)


def board_visibility(actor: Actor) -> ColumnElement[bool]:
    return _role_visibility(actor, BOARD_ROLES, Board)


def due_date_visibility(actor: Actor) -> ColumnElement[bool]:
    return _role_visibility(actor, DUE_DATE_ROLES, DueDate)


def worklist_probe(actor: Actor, worklist_id: Any) -> ColumnElement[bool]:
    """True where the worklist `worklist_id` exists and `actor` may see it:
    for filters that name a worklist, so that a private one matches nothing
    rather than answer whether it exists."""
    return exists().where(Worklist.id == worklist_id, worklist_visibility(actor))


def board_probe(actor: Actor, board_id: Any) -> ColumnElement[bool]:
    """True where the board `board_id` exists and `actor` may see it."""
    return exists().where(Board.id == board_id, board_visibility(actor))


# Elections and polls


def election_visibility(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause on `Election`: an election is public once voting has
    opened; a draft only for its officials (and administrators)."""
    if actor.is_superuser:
        return true()
    started: ColumnElement[bool] = Election.state != DRAFT
    if actor.user_id is None:
        return started
    return or_(started, holds(ELECTION_ROLES, actor.user_id, Election.id))


def results_visible(session: Session, *, actor: Actor, election: Election) -> bool:
    """Whether `actor` may see the results (and the ballot file) of an
    election they may see: once it is closed (or, for a poll with live
    results, while it is open), for everyone if the results are public,
    else for the electorate, the officials and administrators."""
    counted = election.state == CLOSED or (election.state == OPEN and election.live_results)
    if not counted:
        return False
    if election.results_public or actor.is_superuser:
        return True
    if actor.user_id is None:
        return False
    member = exists().where(Voter.election_id == election.id, Voter.user_id == actor.user_id)
    official = holds(ELECTION_ROLES, actor.user_id, election.id)
    return bool(session.scalar(select(or_(member, official))))


# Events


def event_visibility(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause on `Event` keeping the events `actor` may see.

    Each event follows the visibility of what it belongs to: a story's events
    its story's, a worklist's the worklist's, a board's the board's. An event
    whose worklist or board no longer exists stays visible, as StoryBoard's
    events outlive what they describe.
    """
    if actor.is_superuser:
        return true()
    hidden_worklist = exists().where(
        Worklist.id == Event.worklist_id, not_(worklist_visibility(actor))
    )
    hidden_board = exists().where(Board.id == Event.board_id, not_(board_visibility(actor)))
    return and_(
        or_(Event.story_id.is_(None), story_probe(actor, Event.story_id)),
        or_(Event.worklist_id.is_(None), not_(hidden_worklist)),
        or_(Event.board_id.is_(None), not_(hidden_board)),
    )


def visible_refs(
    session: Session, *, actor: Actor, refs: Iterable[tuple[str, int]]
) -> set[tuple[str, int]]:
    """Of these ("story" | "task" | "worklist", id) pairs, those `actor` may
    see: one query per kind, for the references of a page of events."""
    wanted: dict[str, set[int]] = {}
    for kind, object_id in refs:
        wanted.setdefault(kind, set()).add(object_id)
    if actor.is_superuser:
        return {(kind, i) for kind, ids in wanted.items() for i in ids}
    clauses: dict[str, tuple[Any, ColumnElement[bool]]] = {
        "story": (Story.id, story_visibility(actor)),
        "task": (Task.id, task_visibility(actor)),
        "worklist": (Worklist.id, worklist_visibility(actor)),
    }
    seen: set[tuple[str, int]] = set()
    for kind, ids in wanted.items():
        column, clause = clauses[kind]
        found = session.scalars(select(column).where(column.in_(ids), clause))
        seen.update((kind, object_id) for object_id in found)
    return seen


def event_probe(actor: Actor, event_id: Any) -> ColumnElement[bool]:
    """True where the event `event_id` exists and `actor` may see it: for
    rows that copy an event (a subscriber's feed), checked when they are read
    rather than only when they were written."""
    return exists().where(Event.id == event_id, event_visibility(actor))


# One thing at a time


def can_see(session: Session, *, actor: Actor, kind: str, object_id: int) -> bool:
    """True when the `kind` with `object_id` exists and `actor` may see it."""
    stmt: Select[Any]
    if kind == "story":
        stmt = select(Story.id).where(Story.id == object_id, story_visibility(actor))
    elif kind == "task":
        stmt = select(Task.id).where(Task.id == object_id, task_visibility(actor))
    elif kind == "comment":
        stmt = select(Comment.id).where(
            Comment.id == object_id, story_probe(actor, Comment.story_id)
        )
    elif kind == "project":
        stmt = select(Project.id).where(Project.id == object_id)
    elif kind == "project_group":
        stmt = select(ProjectGroup.id).where(ProjectGroup.id == object_id)
    elif kind == "worklist":
        stmt = select(Worklist.id).where(Worklist.id == object_id, worklist_visibility(actor))
    elif kind == "board":
        stmt = select(Board.id).where(Board.id == object_id, board_visibility(actor))
    elif kind == "due_date":
        stmt = select(DueDate.id).where(DueDate.id == object_id, due_date_visibility(actor))
    elif kind == "event":
        stmt = select(Event.id).where(Event.id == object_id, event_visibility(actor))
    elif kind == "election":
        stmt = select(Election.id).where(Election.id == object_id, election_visibility(actor))
    else:
        raise ValueError(f"the gate knows no kind {kind!r}")
    return session.scalar(stmt) is not None


# Fan-out: of many users, who may see one thing


def readers(session: Session, *, kind: str, object_id: int, users: Iterable[int]) -> set[int]:
    """Of `users`, those who may see the `kind` with `object_id` (nobody, if it
    does not exist): the rules above, answered for many users at once.

    Used wherever someone other than the caller is told about something
    (notifications, feeds, email); a property test checks that it agrees
    with the clauses above for every kind.
    """
    candidates = set(users)
    if not candidates:
        return set()
    if kind == "event":
        return _event_readers(session, object_id, candidates)
    if kind in {"task", "comment"}:
        child: type[Task] | type[Comment] = Task if kind == "task" else Comment
        story_id = session.scalar(select(child.story_id).where(child.id == object_id))
        if story_id is None:
            return set()
        return readers(session, kind="story", object_id=story_id, users=candidates)
    if kind in {"project", "project_group"}:
        public: type[Project] | type[ProjectGroup] = Project if kind == "project" else ProjectGroup
        found = session.scalar(select(public.id).where(public.id == object_id))
        return candidates if found is not None else set()
    private = _private_flag(session, kind, object_id)
    if private is None:
        return set()
    return _private_readers(session, kind, object_id, candidates) if private else candidates


def _private_readers(session: Session, kind: str, object_id: int, users: set[int]) -> set[int]:
    """Of `users`, those who may see a private story, worklist, board or due date."""
    allowed = _superusers(session, users)
    if kind == "story":
        allowed |= set(
            session.scalars(
                select(StoryAclUser.user_id).where(
                    StoryAclUser.story_id == object_id, StoryAclUser.user_id.in_(users)
                )
            )
        )
        allowed |= set(
            session.scalars(
                select(TeamMembership.user_id)
                .join(StoryAclTeam, StoryAclTeam.team_id == TeamMembership.team_id)
                .where(StoryAclTeam.story_id == object_id, TeamMembership.user_id.in_(users))
            )
        )
        return allowed
    spec = {"worklist": WORKLIST_ROLES, "board": BOARD_ROLES, "due_date": DUE_DATE_ROLES}[kind]
    allowed |= holders_among(session, spec, [object_id], users)
    return allowed


def _private_flag(session: Session, kind: str, object_id: int) -> bool | None:
    models: dict[str, type[Story] | type[Worklist] | type[Board] | type[DueDate]] = {
        "story": Story,
        "worklist": Worklist,
        "board": Board,
        "due_date": DueDate,
    }
    model = models.get(kind)
    if model is None:
        raise ValueError(f"the gate knows no kind {kind!r}")
    # Through the identity map: a write's fan-out asks about the story it
    # has just changed, which this unit of work holds, so that costs no
    # statement (and sees the change before it is flushed).
    found = cast("Story | Worklist | Board | DueDate | None", _held(session, model, object_id))
    return None if found is None else bool(found.private)


def _held(session: Session, model: type[Any], object_id: int) -> Any:
    """The row through the session's identity map, as a query would see it:
    one this unit of work has deleted but not yet flushed is gone (a query
    would have flushed the deletion first)."""
    found = session.get(model, object_id)
    return None if found is None or found in session.deleted else found


def _superusers(session: Session, users: set[int]) -> set[int]:
    return set(
        session.scalars(select(User.id).where(User.id.in_(users), User.is_superuser.is_(True)))
    )


def _event_readers(session: Session, event_id: int, users: set[int]) -> set[int]:
    """Readers of an event: readers of its story, and of its worklist and
    board while they exist (the rule of `event_visibility`)."""
    # The event is usually the one the fan-out has just recorded, held by
    # this unit of work: no statement.
    event = _held(session, Event, event_id)
    if event is None:
        return set()
    story_id, worklist_id, board_id = event.story_id, event.worklist_id, event.board_id
    allowed = set(users)
    if story_id is not None:
        allowed = readers(session, kind="story", object_id=story_id, users=allowed)
    for kind, object_id in (("worklist", worklist_id), ("board", board_id)):
        if object_id is None or not allowed:
            continue
        # A worklist or board that no longer exists hides nothing.
        if _private_flag(session, kind, object_id):
            allowed = _private_readers(session, kind, object_id, allowed)
    return allowed
