"""The users and teams a private story is shared with, one entry at a time
(/v1/stories/{id}/users and /teams). Whole-list changes go through
`stories.update_story`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storyline.accounts.models import Team, User
from storyline.domain import events
from storyline.errors import NotFound
from storyline.kernel import timeline
from storyline.kernel.access import Actor, get_story, require_user
from storyline.kernel.schema import utcnow
from storyline.tracker.models import Story, StoryAclTeam, StoryAclUser


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


# ACL kind -> (the member's model, the link model, the link's member column).
_KINDS: dict[str, tuple[Any, Any, Any]] = {
    "user": (User, StoryAclUser, StoryAclUser.user_id),
    "team": (Team, StoryAclTeam, StoryAclTeam.team_id),
}


def _add(session: Session, *, actor: Actor, story_id: int, kind: str, member_id: int) -> Any:
    member_model, link_model, column = _KINDS[kind]
    author_id = require_user(actor)
    story = get_story(session, actor=actor, story_id=story_id, for_update=True)
    member = session.get(member_model, member_id)
    if member is None:
        raise NotFound.of(kind, member_id)
    if session.get(link_model, (story_id, member_id)) is None:
        session.add(link_model(story_id=story_id, **{column.key: member_id}))
        _changed(session, story=story, author_id=author_id, info={f"{kind}_added": member_id})
        session.flush()
    return member


def _remove(session: Session, *, actor: Actor, story_id: int, kind: str, member_id: int) -> None:
    _member_model, link_model, column = _KINDS[kind]
    author_id = require_user(actor)
    story = get_story(session, actor=actor, story_id=story_id, for_update=True)
    result = session.execute(
        delete(link_model).where(link_model.story_id == story_id, column == member_id)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise NotFound(
            f"{kind} {member_id} is not on the ACL of story {story_id}",
            details={"resource": kind, "id": str(member_id)},
        )
    _changed(session, story=story, author_id=author_id, info={f"{kind}_removed": member_id})
    session.flush()


def add_user(session: Session, *, actor: Actor, story_id: int, user_id: int) -> User:
    user: User = _add(session, actor=actor, story_id=story_id, kind="user", member_id=user_id)
    return user


def remove_user(session: Session, *, actor: Actor, story_id: int, user_id: int) -> None:
    _remove(session, actor=actor, story_id=story_id, kind="user", member_id=user_id)


def add_team(session: Session, *, actor: Actor, story_id: int, team_id: int) -> Team:
    team: Team = _add(session, actor=actor, story_id=story_id, kind="team", member_id=team_id)
    return team


def remove_team(session: Session, *, actor: Actor, story_id: int, team_id: int) -> None:
    _remove(session, actor=actor, story_id=story_id, kind="team", member_id=team_id)
