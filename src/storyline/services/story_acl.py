"""The users and teams a private story is shared with, one entry at a time
(/v1/stories/{id}/users and /teams). Whole-list changes go through
`stories.update_story`."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storyline.db.base import utcnow
from storyline.db.models import Story, StoryAclTeam, StoryAclUser, Team, User
from storyline.domain import events
from storyline.errors import NotFound
from storyline.services import timeline
from storyline.services.access import Actor, get_story, require_user


def list_users(session: Session, *, actor: Actor, story_id: int) -> Sequence[User]:
    get_story(session, actor=actor, story_id=story_id)
    return session.scalars(
        select(User)
        .join(StoryAclUser, StoryAclUser.user_id == User.id)
        .where(StoryAclUser.story_id == story_id)
        .order_by(User.id)
    ).all()


def list_teams(session: Session, *, actor: Actor, story_id: int) -> Sequence[Team]:
    get_story(session, actor=actor, story_id=story_id)
    return session.scalars(
        select(Team)
        .join(StoryAclTeam, StoryAclTeam.team_id == Team.id)
        .where(StoryAclTeam.story_id == story_id)
        .order_by(Team.id)
    ).all()


def _changed(session: Session, *, story: Story, author_id: int, info: dict[str, int]) -> None:
    story.updated_at = utcnow()
    timeline.record(
        session,
        event_type=events.STORY_PRIVACY_CHANGED,
        author_id=author_id,
        story_id=story.id,
        info={"story_id": story.id, **info},
    )


def add_user(session: Session, *, actor: Actor, story_id: int, user_id: int) -> User:
    author_id = require_user(actor)
    story = get_story(session, actor=actor, story_id=story_id, for_update=True)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound.of("user", user_id)
    present = session.get(StoryAclUser, (story_id, user_id))
    if present is None:
        session.add(StoryAclUser(story_id=story_id, user_id=user_id))
        _changed(session, story=story, author_id=author_id, info={"user_added": user_id})
        session.flush()
    return user


def remove_user(session: Session, *, actor: Actor, story_id: int, user_id: int) -> None:
    author_id = require_user(actor)
    story = get_story(session, actor=actor, story_id=story_id, for_update=True)
    result = session.execute(
        delete(StoryAclUser).where(
            StoryAclUser.story_id == story_id, StoryAclUser.user_id == user_id
        )
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise NotFound(
            f"user {user_id} is not on the ACL of story {story_id}",
            details={"resource": "user", "id": str(user_id)},
        )
    _changed(session, story=story, author_id=author_id, info={"user_removed": user_id})
    session.flush()


def add_team(session: Session, *, actor: Actor, story_id: int, team_id: int) -> Team:
    author_id = require_user(actor)
    story = get_story(session, actor=actor, story_id=story_id, for_update=True)
    team = session.get(Team, team_id)
    if team is None:
        raise NotFound.of("team", team_id)
    present = session.get(StoryAclTeam, (story_id, team_id))
    if present is None:
        session.add(StoryAclTeam(story_id=story_id, team_id=team_id))
        _changed(session, story=story, author_id=author_id, info={"team_added": team_id})
        session.flush()
    return team


def remove_team(session: Session, *, actor: Actor, story_id: int, team_id: int) -> None:
    author_id = require_user(actor)
    story = get_story(session, actor=actor, story_id=story_id, for_update=True)
    result = session.execute(
        delete(StoryAclTeam).where(
            StoryAclTeam.story_id == story_id, StoryAclTeam.team_id == team_id
        )
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise NotFound(
            f"team {team_id} is not on the ACL of story {story_id}",
            details={"resource": "team", "id": str(team_id)},
        )
    _changed(session, story=story, author_id=author_id, info={"team_removed": team_id})
    session.flush()
