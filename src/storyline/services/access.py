"""The one visibility gate.

Every query that can reach a story, or anything that belongs to one (tasks,
comments, events, tags, ACL entries), starts from `visible_stories()` or
`story_is_visible()`. A private story that the actor may not see does not
exist for them: reads answer NotFound, never PermissionDenied.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, exists, or_, select, true
from sqlalchemy.orm import Session

from storyline.db.models import Story, StoryAclTeam, StoryAclUser, TeamMembership
from storyline.errors import NotAuthenticated, NotFound, PermissionDenied


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


def story_visibility(actor: Actor) -> ColumnElement[bool]:
    """A WHERE clause on `Story` that keeps the stories `actor` may see."""
    if actor.is_superuser:
        return true()
    public = Story.private.is_(False)
    if actor.user_id is None:
        return public
    by_user = exists().where(
        StoryAclUser.story_id == Story.id, StoryAclUser.user_id == actor.user_id
    )
    by_team = exists().where(
        StoryAclTeam.story_id == Story.id,
        StoryAclTeam.team_id == TeamMembership.team_id,
        TeamMembership.user_id == actor.user_id,
    )
    return or_(public, by_user, by_team)


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
    stmt = visible_stories(actor).where(Story.id == story_id)
    if for_update:
        stmt = stmt.with_for_update()
    story = session.scalars(stmt).one_or_none()
    if story is None:
        raise NotFound.of("story", story_id)
    return story


def story_is_visible(session: Session, *, actor: Actor, story_id: int) -> bool:
    stmt = select(Story.id).where(Story.id == story_id, story_visibility(actor))
    return session.scalar(stmt) is not None
