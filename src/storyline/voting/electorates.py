"""Who may vote: the electorate's definition and the users it names.

Three kinds, as OpenStack defined its electorates:

- `users`: a list of users;
- `team`: the members of a team (as they are when voting opens);
- `contributors`: everyone with a task merged in some projects (or in the
  projects of a group) between two dates: the task's assignee, or whoever
  moved it to merged when nobody was assigned. Once code review is
  integrated, a merged change will count the same way.

Each may add `extra_user_ids` (officials' additions). Deactivated users
never vote. The electorate is resolved, and frozen, when voting opens.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from storyline.accounts.models import Team, TeamMembership, User
from storyline.domain.events import TASK_STATUS_CHANGED
from storyline.errors import InvalidInput
from storyline.kernel import roles
from storyline.kernel.models import Event
from storyline.kernel.validation import Id
from storyline.tracker.models import Project, ProjectGroup, Task, project_group_mapping

MAX_LISTED = 10_000
MAX_PROJECTS = 500


class ElectorateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["users", "team", "contributors"]
    user_ids: list[Id] | None = Field(default=None, max_length=MAX_LISTED)
    team_id: Id | None = None
    project_ids: list[Id] | None = Field(default=None, max_length=MAX_PROJECTS)
    project_group_id: Id | None = None
    # Contributors: tasks merged on or after `since` and on or before `until`.
    since: dt.date | None = None
    until: dt.date | None = None
    extra_user_ids: list[Id] | None = Field(default=None, max_length=MAX_LISTED)

    @model_validator(mode="after")
    def _complete(self) -> ElectorateIn:
        if self.type == "users" and not self.user_ids:
            raise ValueError("an electorate of users lists user_ids")
        if self.type == "team" and self.team_id is None:
            raise ValueError("an electorate of a team names team_id")
        if self.type == "contributors":
            if not self.project_ids and self.project_group_id is None:
                raise ValueError(
                    "an electorate of contributors names project_ids or project_group_id"
                )
            if self.since is None or self.until is None:
                raise ValueError("an electorate of contributors has since and until dates")
            if self.until < self.since:
                raise ValueError("until must not come before since")
        return self


def check(session: Session, data: ElectorateIn) -> None:
    """InvalidInput naming the field when the electorate names what does not exist."""
    roles.check_users(session, data.user_ids or [], "electorate.user_ids")
    roles.check_users(session, data.extra_user_ids or [], "electorate.extra_user_ids")
    if data.team_id is not None and session.get(Team, data.team_id) is None:
        raise InvalidInput.field("electorate.team_id", f"no team with id {data.team_id}")
    if (
        data.project_group_id is not None
        and session.get(ProjectGroup, data.project_group_id) is None
    ):
        raise InvalidInput.field(
            "electorate.project_group_id", f"no project group with id {data.project_group_id}"
        )
    if data.project_ids:
        wanted = set(data.project_ids)
        known = set(session.scalars(select(Project.id).where(Project.id.in_(wanted))))
        if wanted - known:
            missing = min(wanted - known)
            raise InvalidInput.field("electorate.project_ids", f"no project with id {missing}")


def _projects(session: Session, spec: Mapping[str, Any]) -> set[int]:
    projects = set(spec.get("project_ids") or [])
    if spec.get("project_group_id") is not None:
        projects |= set(
            session.scalars(
                select(project_group_mapping.c.project_id).where(
                    project_group_mapping.c.project_group_id == spec["project_group_id"]
                )
            )
        )
    return projects


def contributors(session: Session, projects: set[int], since: dt.date, until: dt.date) -> set[int]:
    """Users with a task of `projects` merged between the two dates (inclusive)."""
    if not projects:
        return set()
    start = dt.datetime.combine(since, dt.time(), tzinfo=dt.UTC)
    end = dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
    stories = select(Task.story_id).where(Task.project_id.in_(projects))
    # The status change's task is in its payload (JSON, keys sorted): the
    # LIKE narrows to merges in the index's rows, the payload names the task.
    rows = session.execute(
        select(Event.author_id, Event.event_info).where(
            Event.event_type == TASK_STATUS_CHANGED,
            Event.created_at >= start,
            Event.created_at < end,
            Event.story_id.in_(stories),
            Event.event_info.like('%"new_status": "merged"%'),
        )
    ).all()
    authors: dict[int, int | None] = {}
    for author_id, info in rows:
        try:
            task_id = int(json.loads(info or "{}")["task_id"])
        except (TypeError, ValueError, KeyError):
            continue
        authors.setdefault(task_id, author_id)
    found: set[int] = set()
    for chunk in _chunks(sorted(authors), 500):
        for task_id, project_id, assignee_id in session.execute(
            select(Task.id, Task.project_id, Task.assignee_id).where(Task.id.in_(chunk))
        ):
            person = assignee_id if assignee_id is not None else authors[task_id]
            if project_id in projects and person is not None:
                found.add(person)
    return found


def _chunks(items: list[int], size: int) -> list[list[int]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def resolve(session: Session, spec: Mapping[str, Any]) -> list[int]:
    """The electorate's active users' ids, sorted."""
    kind = spec["type"]
    members: set[int] = set(spec.get("extra_user_ids") or [])
    if kind == "users":
        members |= set(spec.get("user_ids") or [])
    elif kind == "team":
        members |= set(
            session.scalars(
                select(TeamMembership.user_id).where(TeamMembership.team_id == spec["team_id"])
            )
        )
    elif kind == "contributors":
        members |= contributors(
            session,
            _projects(session, spec),
            dt.date.fromisoformat(spec["since"]),
            dt.date.fromisoformat(spec["until"]),
        )
    if not members:
        return []
    active: set[int] = set()
    for chunk in _chunks(sorted(members), 500):
        active |= set(
            session.scalars(select(User.id).where(User.id.in_(chunk), User.is_active.is_(True)))
        )
    return sorted(active)
