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


# Branches and milestones are the same idea one level apart: a named child
# of a parent (project, branch) whose name is unique under it, that never
# moves to another parent and expires by the rule above.


@dataclass(frozen=True)
class _Kind:
    model: type[Branch] | type[Milestone]
    schema: type[BranchIn] | type[MilestoneIn]
    noun: str
    parent_field: str
    parent_model: type[Project] | type[Branch]
    parent_noun: str


_BRANCH = _Kind(Branch, BranchIn, "branch", "project_id", Project, "project")
_MILESTONE = _Kind(Milestone, MilestoneIn, "milestone", "branch_id", Branch, "branch")


def _get(session: Session, kind: _Kind, object_id: int) -> Any:
    found = session.get(kind.model, object_id)
    if found is None:
        raise NotFound.of(kind.noun, object_id)
    return found


def _check_name(
    session: Session, kind: _Kind, *, parent_id: int, name: str, exclude_id: int | None = None
) -> None:
    # Exact match: git branch names are case-sensitive.
    parent = getattr(kind.model, kind.parent_field)
    stmt = select(kind.model.id).where(parent == parent_id, kind.model.name == name)
    if exclude_id is not None:
        stmt = stmt.where(kind.model.id != exclude_id)
    if session.scalar(stmt) is not None:
        owner = kind.parent_noun.capitalize()
        raise Conflict(
            f"{owner} {parent_id} already has a {kind.noun} named {name!r}.",
            details={"field": "name"},
        )


def _create(session: Session, kind: _Kind, *, actor: Actor, data: BranchIn | MilestoneIn) -> Any:
    require_superuser(actor)
    if data.expired:
        raise InvalidInput.field("expired", f"a new {kind.noun} cannot be expired")
    parent_id = getattr(data, kind.parent_field)
    if session.get(kind.parent_model, parent_id) is None:
        raise InvalidInput.field(kind.parent_field, f"there is no {kind.parent_noun} {parent_id}")
    _check_name(session, kind, parent_id=parent_id, name=data.name)
    created = kind.model(**data.model_dump())
    session.add(created)
    session.flush()
    return created


def _update(
    session: Session, kind: _Kind, *, actor: Actor, object_id: int, changes: dict[str, Any]
) -> Any:
    require_superuser(actor)
    found = _get(session, kind, object_id)
    current = {key: getattr(found, key) for key in kind.schema.model_fields}
    merged = validate(kind.schema, {**current, **changes})
    parent_id = getattr(found, kind.parent_field)
    if getattr(merged, kind.parent_field) != parent_id:
        raise InvalidInput.field(
            kind.parent_field, f"a {kind.noun} cannot move to another {kind.parent_noun}"
        )
    if merged.name != found.name:
        _check_name(session, kind, parent_id=parent_id, name=merged.name, exclude_id=found.id)
    found.expiration_date = _expiry(
        was_expired=found.expired, expired=merged.expired, date=found.expiration_date
    )
    for key, value in merged.model_dump().items():
        setattr(found, key, value)
    session.flush()
    return found


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
    branch: Branch = _get(session, _BRANCH, branch_id)
    return branch


def create_branch(session: Session, *, actor: Actor, data: BranchIn) -> Branch:
    branch: Branch = _create(session, _BRANCH, actor=actor, data=data)
    return branch


def update_branch(
    session: Session, *, actor: Actor, branch_id: int, changes: dict[str, Any]
) -> Branch:
    branch: Branch = _update(session, _BRANCH, actor=actor, object_id=branch_id, changes=changes)
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
    milestone: Milestone = _get(session, _MILESTONE, milestone_id)
    return milestone


def create_milestone(session: Session, *, actor: Actor, data: MilestoneIn) -> Milestone:
    milestone: Milestone = _create(session, _MILESTONE, actor=actor, data=data)
    return milestone


def update_milestone(
    session: Session, *, actor: Actor, milestone_id: int, changes: dict[str, Any]
) -> Milestone:
    milestone: Milestone = _update(
        session, _MILESTONE, actor=actor, object_id=milestone_id, changes=changes
    )
    return milestone
