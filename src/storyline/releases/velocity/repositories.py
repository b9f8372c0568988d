"""Where velocity counts a project's commits: its `ProjectRepository`.

Only administrators read or set it: a location names a folder of the server
or a remote the server would reach, neither of which is anyone else's
business.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.orm import Session

from storyline.errors import NotFound
from storyline.kernel.access import Actor, require_superuser
from storyline.releases.models import ProjectRepository
from storyline.tracker.models import Project

__all__ = ["REMOTE_SCHEMES", "RepositoryIn", "get_repository", "is_remote", "set_repository"]

# git's own protocols that need no local account (ssh would need the
# server's keys, file:// is a local path spelled another way).
REMOTE_SCHEMES = frozenset({"http", "https", "git"})


def is_remote(location: str) -> bool:
    return "://" in location


class RepositoryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    location: str = Field(min_length=1, max_length=1000)

    @field_validator("location")
    @classmethod
    def _location(cls, value: str) -> str:
        if any(ord(c) < 0x20 or c == "\x7f" for c in value):
            raise ValueError("must not contain control characters")
        if is_remote(value):
            parts = urlsplit(value)
            if parts.scheme.lower() not in REMOTE_SCHEMES or not parts.hostname:
                raise ValueError("must be an http://, https:// or git:// URL with a host")
            return value
        path = Path(value)
        if not path.is_absolute() or not path.is_dir():
            raise ValueError("must be the absolute path of a folder on the server, or a URL")
        return value


def _project(session: Session, project_id: int) -> None:
    if session.get(Project, project_id) is None:
        raise NotFound.of("project", project_id)


def get_repository(session: Session, *, actor: Actor, project_id: int) -> ProjectRepository:
    require_superuser(actor)
    _project(session, project_id)
    repository = session.get(ProjectRepository, project_id)
    if repository is None:
        raise NotFound.of("repository of project", project_id)
    return repository


def set_repository(
    session: Session, *, actor: Actor, project_id: int, data: RepositoryIn
) -> ProjectRepository:
    require_superuser(actor)
    _project(session, project_id)
    repository = session.get(ProjectRepository, project_id)
    if repository is None:
        repository = ProjectRepository(project_id=project_id, location=data.location)
        session.add(repository)
    elif repository.location != data.location:
        # What was fetched from the old location says nothing of the new one.
        repository.location = data.location
        repository.fetched_at = None
        repository.last_error = None
    session.flush()
    return repository
