"""The users and teams a private story is shared with: the whole lists (sent
with a story on POST and PUT /v1/stories) and one entry at a time
(/v1/stories/{id}/users and /teams).

Who may change them (StoryBoard lets anyone who can see a story change its
lists; that let any signed-in user take a public story away from its
creator by making it private):

- Anyone who can see a story may make it private and may add people and
  teams. Making a story private never locks anyone out who wrote it or did
  it: the creator and the person making the change are put on the list.
- Taking anyone off the list needs the right to share the story:
  administrators, its creator, and the people it is shared with (directly or
  through a team). On a private story that is everyone who can see it.
- A private story always stays shared with someone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storyline.accounts.models import Team, TeamMembership, User
from storyline.domain import events
from storyline.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from storyline.kernel import timeline
from storyline.kernel.access import Actor, acl_story_ids, get_story, require_user
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
    _require_may_unshare(session, actor, story)
    if story.private and _acl_size(session, story.id) == 1:
        present = session.get(link_model, (story_id, member_id)) is not None
        if present:
            raise Conflict(
                "A private story must stay shared with someone: add another person "
                "or team first, or make the story public."
            )
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


# Whole lists


def may_unshare(session: Session, actor: Actor, story: Story) -> bool:
    """Whether `actor` may take people and teams off the story's list."""
    if actor.is_superuser or (actor.user_id is not None and actor.user_id == story.creator_id):
        return True
    on_list = acl_story_ids(actor).subquery()
    stmt = select(on_list.c.story_id).where(on_list.c.story_id == story.id).limit(1)
    return session.scalar(stmt) is not None


def _require_may_unshare(session: Session, actor: Actor, story: Story) -> None:
    if not may_unshare(session, actor, story):
        raise PermissionDenied(
            "Only the story's creator, the people and teams it is shared with, and "
            "administrators may take anyone off the list of who can see it."
        )


def _acl_size(session: Session, story_id: int) -> int:
    users = select(StoryAclUser.user_id).where(StoryAclUser.story_id == story_id)
    teams = select(StoryAclTeam.team_id).where(StoryAclTeam.story_id == story_id)
    return len(session.scalars(users.limit(2)).all()) + len(session.scalars(teams.limit(2)).all())


def check_users(session: Session, user_ids: Sequence[int]) -> list[int]:
    return _check_ids(session, User, "users", "user", user_ids)


def check_teams(session: Session, team_ids: Sequence[int]) -> list[int]:
    return _check_ids(session, Team, "teams", "team", team_ids)


def _check_ids(
    session: Session, model: Any, field: str, kind: str, ids: Sequence[int]
) -> list[int]:
    unique = list(dict.fromkeys(ids))
    if unique:
        known = set(session.scalars(select(model.id).where(model.id.in_(unique))))
        missing = [one for one in unique if one not in known]
        if missing:
            raise InvalidInput.field(field, f"no {kind} with id {missing[0]}")
    return unique


def _in_teams(session: Session, user_id: int, team_ids: Sequence[int]) -> bool:
    if not team_ids:
        return False
    stmt = select(TeamMembership.team_id).where(
        TeamMembership.user_id == user_id, TeamMembership.team_id.in_(team_ids)
    )
    return session.scalar(stmt.limit(1)) is not None


def keep_access(
    session: Session,
    *,
    actor: Actor,
    user_ids: list[int],
    team_ids: list[int],
    creator_id: int | None = None,
) -> list[int]:
    """The users of a private story's list, with the person changing it (and,
    when a story is being made private, its creator) added unless a team
    already lets them in. An administrator sees every story anyway and is
    only added when the lists would otherwise be empty."""
    user_ids = list(user_ids)
    keep = [creator_id]
    if not (actor.is_superuser and (user_ids or team_ids)):
        keep.append(actor.user_id)
    for user_id in dict.fromkeys(keep):
        if user_id is None or user_id in user_ids or _in_teams(session, user_id, team_ids):
            continue
        user_ids.append(user_id)
    return user_ids


def replace(
    session: Session,
    *,
    actor: Actor,
    story: Story,
    users: Sequence[int] | None,
    teams: Sequence[int] | None,
    private: bool,
) -> dict[str, Any] | None:
    """Replace the lists that were sent (None: keep) on a story that is, or
    is about to be, `private`. Returns the info of the story_privacy_changed
    event, or None when nothing changed."""
    current_users = list(
        session.scalars(select(StoryAclUser.user_id).where(StoryAclUser.story_id == story.id))
    )
    current_teams = list(
        session.scalars(select(StoryAclTeam.team_id).where(StoryAclTeam.story_id == story.id))
    )
    user_ids = check_users(session, users) if users is not None else current_users
    team_ids = check_teams(session, teams) if teams is not None else current_teams
    going_private = private and not story.private
    if private and (going_private or users is not None or teams is not None):
        user_ids = keep_access(
            session,
            actor=actor,
            user_ids=user_ids,
            team_ids=team_ids,
            creator_id=story.creator_id if going_private else None,
        )
    if set(current_users) - set(user_ids) or set(current_teams) - set(team_ids):
        _require_may_unshare(session, actor, story)
    changed = False
    for kind, current, wanted in (
        ("user", current_users, user_ids),
        ("team", current_teams, team_ids),
    ):
        if set(current) != set(wanted):
            _replace(session, kind=kind, story_id=story.id, current=current, wanted=wanted)
            changed = True
    if not changed:
        return None
    return {
        "story_id": story.id,
        "old": {"users": sorted(current_users), "teams": sorted(current_teams)},
        "new": {"users": sorted(user_ids), "teams": sorted(team_ids)},
    }


def _replace(
    session: Session, *, kind: str, story_id: int, current: Sequence[int], wanted: Sequence[int]
) -> None:
    _member_model, link_model, column = _KINDS[kind]
    gone = set(current) - set(wanted)
    if gone:
        session.execute(delete(link_model).where(link_model.story_id == story_id, column.in_(gone)))
    session.add_all(
        link_model(story_id=story_id, **{column.key: one}) for one in wanted if one not in current
    )
    session.flush()
