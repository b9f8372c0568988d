from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storyline.db.base import Base, IdMixin, TimestampMixin, UTCDateTime

project_group_mapping = Table(
    "project_group_mapping",
    Base.metadata,
    Column(
        "project_group_id",
        Integer,
        ForeignKey("project_groups.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_project_group_mapping_project_id", "project_id"),
)

project_teams = Table(
    "project_teams",
    Base.metadata,
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("team_id", Integer, ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_project_teams_team_id", "team_id"),
)


class Project(IdMixin, TimestampMixin, Base):
    __tablename__ = "projects"

    # Names may contain slashes ("openstack/nova"), as in StoryBoard.
    name: Mapped[str] = mapped_column(String(255), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    repo_url: Mapped[str | None] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    autocreate_branches: Mapped[bool] = mapped_column(Boolean, default=False)


class ProjectGroup(IdMixin, TimestampMixin, Base):
    __tablename__ = "project_groups"

    name: Mapped[str] = mapped_column(String(255), unique=True)
    title: Mapped[str | None] = mapped_column(String(255))


class Branch(IdMixin, TimestampMixin, Base):
    __tablename__ = "branches"
    __table_args__ = (UniqueConstraint("project_id", "name"),)

    name: Mapped[str] = mapped_column(String(100))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    expired: Mapped[bool] = mapped_column(Boolean, default=False)
    expiration_date: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    autocreated: Mapped[bool] = mapped_column(Boolean, default=False)
    restricted: Mapped[bool] = mapped_column(Boolean, default=False)


class Milestone(IdMixin, TimestampMixin, Base):
    __tablename__ = "milestones"
    __table_args__ = (UniqueConstraint("branch_id", "name"),)

    name: Mapped[str] = mapped_column(String(100))
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id", ondelete="CASCADE"))
    expired: Mapped[bool] = mapped_column(Boolean, default=False)
    expiration_date: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
