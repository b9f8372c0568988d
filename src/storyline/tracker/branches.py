"""Branches (a project's series, e.g. `master`, `stable/2026.1`) and their
milestones. Anyone may read them; only administrators change them.

Expiry follows StoryBoard: nothing is created expired, and `expiration_date`
is the server's record of when `expired` was last switched on; clients set
`expired` and the date follows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from storyline.errors import Conflict, InvalidInput, NotFound
from storyline.kernel.access import Actor, require_superuser
from storyline.kernel.paging import Page, PageRequest, paginate
from storyline.kernel.schema import utcnow
from storyline.kernel.text import contains
from storyline.kernel.validation import Id, validate
from storyline.tracker.models import Branch, Milestone, Project, project_group_mapping

BRANCH_SORT = {
    "id": Branch.id,
    "name": Branch.name,
    "project_id": Branch.project_id,
    "created_at": Branch.created_at,
    "updated_at": Branch.updated_at,
}
MILESTONE_SORT = {
    "id": Milestone.id,
    "name": Milestone.name,
    "branch_id": Milestone.branch_id,
    "created_at": Milestone.created_at,
    "updated_at": Milestone.updated_at,
}


def _not_blank(value: str) -> str:
    if not value:
        raise ValueError("must not be empty")
    return value


class BranchIn(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    # Git branch names have no whitespace; the column holds 100 characters.
    name: str = Field(min_length=1, max_length=100, pattern=r"^\S+$")
    project_id: Id
    expired: bool = False
    autocreated: bool = False
    restricted: bool = False


class MilestoneIn(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    name: str = Field(max_length=100)
    branch_id: Id
    expired: bool = False

    _name = field_validator("name")(_not_blank)


def _expiry(*, was_expired: bool, expired: bool, date: dt.datetime | None) -> dt.datetime | None:
    if expired and not was_expired:
        return utcnow()
    return date if expired else None


# Branches


@dataclass(frozen=True, kw_only=True)
class BranchFilter:
    name: str | None = None
    project_id: int | None = None
    project_group_id: int | None = None


def list_branches(session: Session, *, filters: BranchFilter, page: PageRequest) -> Page[Branch]:
    stmt = select(Branch)
    if filters.name:
        stmt = stmt.where(contains(Branch.name, filters.name))
    if filters.project_id is not None:
        stmt = stmt.where(Branch.project_id == filters.project_id)
    if filters.project_group_id is not None:
        stmt = stmt.where(
            Branch.project_id.in_(
                select(project_group_mapping.c.project_id).where(
                    project_group_mapping.c.project_group_id == filters.project_group_id
                )
            )
        )
    return paginate(session, stmt, model=Branch, page=page, sortable=BRANCH_SORT)


def get_branch(session: Session, *, branch_id: int) -> Branch:
    branch = session.get(Branch, branch_id)
    if branch is None:
        raise NotFound.of("branch", branch_id)
    return branch


def _check_branch_name(
    session: Session, *, project_id: int, name: str, exclude_id: int | None = None
) -> None:
    # Exact match: git branch names are case-sensitive.
    stmt = select(Branch.id).where(Branch.project_id == project_id, Branch.name == name)
    if exclude_id is not None:
        stmt = stmt.where(Branch.id != exclude_id)
    if session.scalar(stmt) is not None:
        raise Conflict(
            f"Project {project_id} already has a branch named {name!r}.",
            details={"field": "name"},
        )


def create_branch(session: Session, *, actor: Actor, data: BranchIn) -> Branch:
    require_superuser(actor)
    if data.expired:
        raise InvalidInput.field("expired", "a new branch cannot be expired")
    if session.get(Project, data.project_id) is None:
        raise InvalidInput.field("project_id", f"there is no project {data.project_id}")
    _check_branch_name(session, project_id=data.project_id, name=data.name)
    branch = Branch(**data.model_dump())
    session.add(branch)
    session.flush()
    return branch


def update_branch(
    session: Session, *, actor: Actor, branch_id: int, changes: dict[str, Any]
) -> Branch:
    require_superuser(actor)
    branch = get_branch(session, branch_id=branch_id)
    current = {key: getattr(branch, key) for key in BranchIn.model_fields}
    merged = validate(BranchIn, {**current, **changes})
    if merged.project_id != branch.project_id:
        raise InvalidInput.field("project_id", "a branch cannot move to another project")
    if merged.name != branch.name:
        _check_branch_name(
            session, project_id=branch.project_id, name=merged.name, exclude_id=branch.id
        )
    branch.expiration_date = _expiry(
        was_expired=branch.expired, expired=merged.expired, date=branch.expiration_date
    )
    for key, value in merged.model_dump().items():
        setattr(branch, key, value)
    session.flush()
    return branch


# Milestones


@dataclass(frozen=True, kw_only=True)
class MilestoneFilter:
    name: str | None = None
    branch_id: int | None = None


def list_milestones(
    session: Session, *, filters: MilestoneFilter, page: PageRequest
) -> Page[Milestone]:
    stmt = select(Milestone)
    if filters.name:
        stmt = stmt.where(contains(Milestone.name, filters.name))
    if filters.branch_id is not None:
        stmt = stmt.where(Milestone.branch_id == filters.branch_id)
    return paginate(session, stmt, model=Milestone, page=page, sortable=MILESTONE_SORT)


def get_milestone(session: Session, *, milestone_id: int) -> Milestone:
    milestone = session.get(Milestone, milestone_id)
    if milestone is None:
        raise NotFound.of("milestone", milestone_id)
    return milestone


def _check_milestone_name(
    session: Session, *, branch_id: int, name: str, exclude_id: int | None = None
) -> None:
    stmt = select(Milestone.id).where(Milestone.branch_id == branch_id, Milestone.name == name)
    if exclude_id is not None:
        stmt = stmt.where(Milestone.id != exclude_id)
    if session.scalar(stmt) is not None:
        raise Conflict(
            f"Branch {branch_id} already has a milestone named {name!r}.",
            details={"field": "name"},
        )


def create_milestone(session: Session, *, actor: Actor, data: MilestoneIn) -> Milestone:
    require_superuser(actor)
    if data.expired:
        raise InvalidInput.field("expired", "a new milestone cannot be expired")
    if session.get(Branch, data.branch_id) is None:
        raise InvalidInput.field("branch_id", f"there is no branch {data.branch_id}")
    _check_milestone_name(session, branch_id=data.branch_id, name=data.name)
    milestone = Milestone(**data.model_dump())
    session.add(milestone)
    session.flush()
    return milestone


def update_milestone(
    session: Session, *, actor: Actor, milestone_id: int, changes: dict[str, Any]
) -> Milestone:
    require_superuser(actor)
    milestone = get_milestone(session, milestone_id=milestone_id)
    current = {key: getattr(milestone, key) for key in MilestoneIn.model_fields}
    merged = validate(MilestoneIn, {**current, **changes})
    if merged.branch_id != milestone.branch_id:
        raise InvalidInput.field("branch_id", "a milestone cannot move to another branch")
    if merged.name != milestone.name:
        _check_milestone_name(
            session, branch_id=milestone.branch_id, name=merged.name, exclude_id=milestone.id
        )
    milestone.expiration_date = _expiry(
        was_expired=milestone.expired, expired=merged.expired, date=milestone.expiration_date
    )
    for key, value in merged.model_dump().items():
        setattr(milestone, key, value)
    session.flush()
    return milestone
