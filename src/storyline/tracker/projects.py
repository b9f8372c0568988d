"""Projects, project groups, and the `master` branch every project has."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Select, delete, func, insert, select
from sqlalchemy.orm import Session

from storyline.errors import Conflict, InvalidInput, NotFound
from storyline.kernel import subscriptions
from storyline.kernel.access import Actor, require_superuser
from storyline.kernel.paging import Page, PageRequest, paginate
from storyline.kernel.text import contains
from storyline.kernel.validation import LongText, WebUrl, id_or_name, is_number, validate
from storyline.tracker.models import Branch, Project, ProjectGroup, project_group_mapping

PROJECT_SORT = {
    "id": Project.id,
    "name": Project.name,
    "created_at": Project.created_at,
    "updated_at": Project.updated_at,
}
GROUP_SORT = {
    "id": ProjectGroup.id,
    "name": ProjectGroup.name,
    "title": ProjectGroup.title,
    "created_at": ProjectGroup.created_at,
    "updated_at": ProjectGroup.updated_at,
}


class ProjectIn(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9_.\-/]+$")
    description: LongText | None = None
    repo_url: WebUrl | None = Field(default=None, max_length=255)
    is_active: bool = True
    autocreate_branches: bool = False


class ProjectGroupIn(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=255, pattern=r"^[A-Za-z0-9_.\-/]+$")
    title: str | None = Field(default=None, max_length=255)


@dataclass(frozen=True, kw_only=True)
class ProjectFilter:
    name: str | None = None
    description: str | None = None
    project_group_id: int | None = None
    subscriber_id: int | None = None


def project_query(filters: ProjectFilter) -> Select[Project]:
    """The projects matching `filters`, unsorted and unpaged (for lists and search)."""
    stmt = select(Project)
    if filters.name:
        stmt = stmt.where(contains(Project.name, filters.name))
    if filters.description:
        stmt = stmt.where(contains(Project.description, filters.description))
    if filters.project_group_id is not None:
        stmt = stmt.where(
            Project.id.in_(
                select(project_group_mapping.c.project_id).where(
                    project_group_mapping.c.project_group_id == filters.project_group_id
                )
            )
        )
    if filters.subscriber_id is not None:
        stmt = stmt.where(Project.id.in_(subscriptions.followed("project", filters.subscriber_id)))
    return stmt


def list_projects(session: Session, *, filters: ProjectFilter, page: PageRequest) -> Page[Project]:
    return paginate(
        session, project_query(filters), model=Project, page=page, sortable=PROJECT_SORT
    )


def get_project(session: Session, *, ref: str | int) -> Project:
    """A project by id or by name (names may contain slashes)."""
    project: Project | None
    key = id_or_name(ref)
    if isinstance(key, int):
        project = session.get(Project, key)
    else:
        project = session.scalars(select(Project).where(Project.name == key)).one_or_none()
    if project is None:
        raise NotFound.of("project", ref)
    return project


def _check_project_name(session: Session, name: str, *, exclude_id: int | None = None) -> None:
    if is_number(name):
        raise InvalidInput.field(
            "name", "must not be a number, so that it can't be taken for an id"
        )
    stmt = select(Project.id).where(func.lower(Project.name) == name.lower())
    if exclude_id is not None:
        stmt = stmt.where(Project.id != exclude_id)
    if session.scalar(stmt) is not None:
        raise Conflict(f"A project named {name!r} already exists.", details={"field": "name"})


def create_project(session: Session, *, actor: Actor, data: ProjectIn) -> Project:
    require_superuser(actor)
    _check_project_name(session, data.name)
    project = Project(**data.model_dump())
    session.add(project)
    session.flush()
    session.add(Branch(name="master", project_id=project.id, autocreated=True))
    session.flush()
    return project


def update_project(
    session: Session, *, actor: Actor, project_id: int, changes: dict[str, object]
) -> Project:
    require_superuser(actor)
    project = get_project(session, ref=project_id)
    merged = validate(ProjectIn, {**_project_fields(project), **changes})
    if merged.name != project.name:
        _check_project_name(session, merged.name, exclude_id=project.id)
    for key, value in merged.model_dump().items():
        setattr(project, key, value)
    session.flush()
    return project


def _project_fields(project: Project) -> dict[str, object]:
    return {key: getattr(project, key) for key in ProjectIn.model_fields}


# Project groups


@dataclass(frozen=True, kw_only=True)
class ProjectGroupFilter:
    name: str | None = None
    title: str | None = None
    subscriber_id: int | None = None


def list_project_groups(
    session: Session, *, filters: ProjectGroupFilter, page: PageRequest
) -> Page[ProjectGroup]:
    stmt = select(ProjectGroup)
    if filters.name:
        stmt = stmt.where(contains(ProjectGroup.name, filters.name))
    if filters.title:
        stmt = stmt.where(contains(ProjectGroup.title, filters.title))
    if filters.subscriber_id is not None:
        stmt = stmt.where(
            ProjectGroup.id.in_(subscriptions.followed("project_group", filters.subscriber_id))
        )
    return paginate(session, stmt, model=ProjectGroup, page=page, sortable=GROUP_SORT)


def get_project_group(session: Session, *, ref: str | int) -> ProjectGroup:
    group: ProjectGroup | None
    key = id_or_name(ref)
    if isinstance(key, int):
        group = session.get(ProjectGroup, key)
    else:
        group = session.scalars(select(ProjectGroup).where(ProjectGroup.name == key)).one_or_none()
    if group is None:
        raise NotFound.of("project group", ref)
    return group


def _check_group_name(session: Session, name: str, *, exclude_id: int | None = None) -> None:
    if is_number(name):
        raise InvalidInput.field(
            "name", "must not be a number, so that it can't be taken for an id"
        )
    stmt = select(ProjectGroup.id).where(func.lower(ProjectGroup.name) == name.lower())
    if exclude_id is not None:
        stmt = stmt.where(ProjectGroup.id != exclude_id)
    if session.scalar(stmt) is not None:
        raise Conflict(f"A project group named {name!r} already exists.", details={"field": "name"})


def create_project_group(session: Session, *, actor: Actor, data: ProjectGroupIn) -> ProjectGroup:
    require_superuser(actor)
    _check_group_name(session, data.name)
    group = ProjectGroup(**data.model_dump())
    session.add(group)
    session.flush()
    return group


def update_project_group(
    session: Session, *, actor: Actor, group_id: int, changes: dict[str, object]
) -> ProjectGroup:
    require_superuser(actor)
    group = get_project_group(session, ref=group_id)
    merged = validate(ProjectGroupIn, {"name": group.name, "title": group.title, **changes})
    if merged.name != group.name:
        _check_group_name(session, merged.name, exclude_id=group.id)
    group.name = merged.name
    group.title = merged.title
    session.flush()
    return group


def delete_project_group(session: Session, *, actor: Actor, group_id: int) -> None:
    require_superuser(actor)
    group = get_project_group(session, ref=group_id)
    session.delete(group)
    session.flush()


def group_projects(session: Session, *, group_id: int) -> Sequence[Project]:
    get_project_group(session, ref=group_id)
    stmt = (
        select(Project)
        .join(project_group_mapping, project_group_mapping.c.project_id == Project.id)
        .where(project_group_mapping.c.project_group_id == group_id)
        .order_by(Project.id)
    )
    return session.scalars(stmt).all()


def add_project_to_group(
    session: Session, *, actor: Actor, group_id: int, project_id: int
) -> Project:
    require_superuser(actor)
    get_project_group(session, ref=group_id)
    project = get_project(session, ref=project_id)
    present = session.scalar(
        select(func.count()).where(
            project_group_mapping.c.project_group_id == group_id,
            project_group_mapping.c.project_id == project_id,
        )
    )
    if not present:
        session.execute(
            insert(project_group_mapping).values(project_group_id=group_id, project_id=project_id)
        )
    return project


def remove_project_from_group(
    session: Session, *, actor: Actor, group_id: int, project_id: int
) -> None:
    require_superuser(actor)
    get_project_group(session, ref=group_id)
    result = session.execute(
        delete(project_group_mapping).where(
            project_group_mapping.c.project_group_id == group_id,
            project_group_mapping.c.project_id == project_id,
        )
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise NotFound(
            f"project {project_id} is not in project group {group_id}",
            details={"resource": "project", "id": str(project_id)},
        )
