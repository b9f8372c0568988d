"""Release cycles, their schedules and the projects taking part.

A **cycle** (`icehouse`, `2026.1`) is a span of development ending in a
release, ordered among the others by `position`. Its **schedule** is a list
of dated entries: typed milestones (milestone N, the freezes, RC N, the final
release) and free-form events (the summit, an "off" week).

A project joins a cycle with a **series**: the branch the cycle develops on
(usually `master`) and, once released, its stable branch. For each milestone
of the cycle the series has a tracker milestone on its development branch
(StoryBoard's per-branch milestones, so API v1 clients target tasks as they
always did) and the project's tag for it (nova's icehouse-1 is `2014.1.b1`).
Targeting a story to a cycle milestone is targeting its tasks to those
tracker milestones; nothing else records a target.

Feature freeze exceptions (and string freeze exceptions) are requests on a
story for one project in one cycle, decided by the project's lead; release
managers advise in comments. Release managers hold a role on the cycle and
project leads on the project or its group (object roles, `kernel/roles.py`).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storyline.kernel.schema import (
    Base,
    IdMixin,
    RoleGrant,
    RoleInheritance,
    RoleSpec,
    TimestampMixin,
    UTCDateTime,
    role_object_key,
    role_table_args,
)
from storyline.tracker.models import project_group_mapping

# Kinds of schedule entries. Milestones and RCs are numbered (`number`); the
# others occur once per cycle, except free-form events.
MILESTONE = "milestone"
FEATURE_FREEZE = "feature_freeze"
STRING_FREEZE = "string_freeze"
DEPENDENCY_FREEZE = "dependency_freeze"
RC = "rc"
FINAL_RELEASE = "final_release"
EVENT = "event"
ENTRY_KINDS = (
    MILESTONE,
    FEATURE_FREEZE,
    STRING_FREEZE,
    DEPENDENCY_FREEZE,
    RC,
    FINAL_RELEASE,
    EVENT,
)
NUMBERED_KINDS = (MILESTONE, RC)

# Stable support phases of a series, in the order a series goes through them.
DEVELOPMENT = "development"
MAINTAINED = "maintained"
SECURITY = "security"
END_OF_LIFE = "eol"
SUPPORT_PHASES = (DEVELOPMENT, MAINTAINED, SECURITY, END_OF_LIFE)

# The freezes an exception can be asked of.
FREEZE_FEATURE = "feature"
FREEZE_STRING = "string"
FREEZES = (FREEZE_FEATURE, FREEZE_STRING)

# States of an exception request. Denied and expired requests are deferred
# to the next cycle, not lost: `deferred_to_cycle_id` says where they went.
REQUESTED = "requested"
GRANTED = "granted"
DENIED = "denied"
DEFERRED = "deferred"
MERGED = "merged"
WITHDRAWN = "withdrawn"
EXCEPTION_STATES = (REQUESTED, GRANTED, DENIED, DEFERRED, MERGED, WITHDRAWN)

RISKS = ("low", "medium", "high")

# Roles: release managers run a cycle; a project lead decides exceptions for
# a project (held on the project, or on a group for all of its projects).
RELEASE_MANAGER = "manager"
PROJECT_LEAD = "lead"


class Cycle(IdMixin, TimestampMixin, Base):
    __tablename__ = "cycles"

    # Short, stable and used in URLs and tags: "icehouse", "2026.1".
    name: Mapped[str] = mapped_column(String(50), unique=True)
    title: Mapped[str | None] = mapped_column(String(255))
    description: Mapped[str | None] = mapped_column(Text)
    # Cycles are ordered by this, oldest first; a new cycle goes last.
    position: Mapped[int] = mapped_column(Integer, unique=True)
    starts_on: Mapped[dt.date] = mapped_column(Date)
    releases_on: Mapped[dt.date] = mapped_column(Date)
    creator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class ScheduleEntry(IdMixin, TimestampMixin, Base):
    """A milestone, freeze, release or event of a cycle's schedule."""

    __tablename__ = "cycle_schedule"
    __table_args__ = (
        Index("ix_cycle_schedule_cycle_id_starts_on", "cycle_id", "starts_on"),
        CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name="dates_ordered"),
    )

    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    # Milestone N, RC N; null for the other kinds.
    number: Mapped[int | None] = mapped_column(Integer)
    # Shown on the schedule: "icehouse-1", "Feature freeze", "Summit (Atlanta)".
    name: Mapped[str] = mapped_column(String(100))
    starts_on: Mapped[dt.date] = mapped_column(Date)
    # For entries that span days (a summit week); null for one day.
    ends_on: Mapped[dt.date | None] = mapped_column(Date)
    description: Mapped[str | None] = mapped_column(Text)


class CycleRole(RoleGrant, Base):
    __tablename__ = "cycle_roles"
    __table_args__ = role_table_args("cycle_roles")

    cycle_id: Mapped[int] = role_object_key("cycles")


class ProjectRole(RoleGrant, Base):
    __tablename__ = "project_roles"
    __table_args__ = role_table_args("project_roles")

    project_id: Mapped[int] = role_object_key("projects")


class ProjectGroupRole(RoleGrant, Base):
    __tablename__ = "project_group_roles"
    __table_args__ = role_table_args("project_group_roles")

    project_group_id: Mapped[int] = role_object_key("project_groups")


class Series(IdMixin, TimestampMixin, Base):
    """A project's work in one cycle."""

    __tablename__ = "series"
    __table_args__ = (
        UniqueConstraint("cycle_id", "project_id"),
        Index("ix_series_project_id", "project_id"),
    )

    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    # The branch the cycle develops on, and the stable branch cut at release.
    branch_id: Mapped[int] = mapped_column(ForeignKey("branches.id", ondelete="RESTRICT"))
    stable_branch_id: Mapped[int | None] = mapped_column(
        ForeignKey("branches.id", ondelete="SET NULL")
    )
    # Set by a release manager to overrule the support policy for this
    # series; null follows the policy (`SupportRule`) on its dates.
    support_override: Mapped[str | None] = mapped_column(String(12))
    # The tag of the project's release that closed this cycle ("2014.1");
    # velocity counts the next cycle's first milestone from it.
    release_tag: Mapped[str | None] = mapped_column(String(100))


class SeriesMilestone(Base):
    """One cycle milestone for one project: the tracker milestone tasks are
    targeted to, and the project's tag for it."""

    __tablename__ = "series_milestones"
    __table_args__ = (
        UniqueConstraint("milestone_id"),
        Index("ix_series_milestones_entry_id", "entry_id"),
    )

    series_id: Mapped[int] = mapped_column(
        ForeignKey("series.id", ondelete="CASCADE"), primary_key=True
    )
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("cycle_schedule.id", ondelete="CASCADE"), primary_key=True
    )
    milestone_id: Mapped[int] = mapped_column(ForeignKey("milestones.id", ondelete="CASCADE"))
    tag: Mapped[str | None] = mapped_column(String(100))


class SupportRule(IdMixin, TimestampMixin, Base):
    """The stable policy, one rule per phase change: a series enters `phase`
    on the date of the `at_kind` entry (milestone `at_number`) of the cycle
    `cycles_later` cycles after its own. "Series n-2 leaves support at the
    next cycle's feature freeze" is (eol, 2, feature_freeze)."""

    __tablename__ = "support_rules"
    __table_args__ = (UniqueConstraint("phase"),)

    phase: Mapped[str] = mapped_column(String(12))
    cycles_later: Mapped[int] = mapped_column(Integer)
    at_kind: Mapped[str] = mapped_column(String(20))
    at_number: Mapped[int | None] = mapped_column(Integer)


class TranslatableChange(Base):
    """A story flagged as changing translatable strings: after a cycle's
    string freeze its tasks in that cycle merge only under an exception."""

    __tablename__ = "translatable_changes"

    story_id: Mapped[int] = mapped_column(
        ForeignKey("stories.id", ondelete="CASCADE"), primary_key=True
    )
    flagged_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class FreezeException(IdMixin, TimestampMixin, Base):
    """A request for a feature (or string) freeze exception, and its decision."""

    __tablename__ = "freeze_exceptions"
    __table_args__ = (
        Index("ix_freeze_exceptions_cycle_id_state", "cycle_id", "state"),
        Index("ix_freeze_exceptions_story_id", "story_id"),
        Index("ix_freeze_exceptions_project_id", "project_id"),
    )

    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"))
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    freeze: Mapped[str] = mapped_column(String(10), default=FREEZE_FEATURE)
    requester_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    rationale: Mapped[str] = mapped_column(Text)
    self_contained: Mapped[bool] = mapped_column(Boolean, default=False)
    days_to_merge: Mapped[int] = mapped_column(Integer)
    risk: Mapped[str] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(12), default=REQUESTED)
    decider_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    decision_reason: Mapped[str | None] = mapped_column(Text)
    # A granted exception must merge by the end of this day (UTC).
    deadline: Mapped[dt.date | None] = mapped_column(Date)
    deferred_to_cycle_id: Mapped[int | None] = mapped_column(
        ForeignKey("cycles.id", ondelete="SET NULL")
    )


class FreezeExceptionComment(IdMixin, TimestampMixin, Base):
    """Advice on a request, usually from a release manager."""

    __tablename__ = "freeze_exception_comments"

    exception_id: Mapped[int] = mapped_column(
        ForeignKey("freeze_exceptions.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    content: Mapped[str] = mapped_column(Text)
    # "grant", "deny" or null: what the author advises.
    advice: Mapped[str | None] = mapped_column(String(10))


class StatusReport(IdMixin, TimestampMixin, Base):
    """A project's short weekly report in a cycle, written by its lead."""

    __tablename__ = "status_reports"
    __table_args__ = (UniqueConstraint("cycle_id", "project_id", "week"),)

    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"))
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    # The Monday of the week reported on.
    week: Mapped[dt.date] = mapped_column(Date)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    content: Mapped[str] = mapped_column(Text)


class ProjectRepository(TimestampMixin, Base):
    """Where velocity counts a project's commits: a local repository, or a
    clone of a remote one that the worker keeps up to date under the data
    directory."""

    __tablename__ = "project_repositories"

    project_id: Mapped[int] = mapped_column(
        ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True
    )
    # A local path, or an http(s)/git URL to clone.
    location: Mapped[str] = mapped_column(String(1000))
    fetched_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)


CYCLE_ROLES = RoleSpec(
    kind="cycle",
    noun="cycle",
    table=CycleRole,
    object_key="cycle_id",
    codenames={"manage_cycle": RELEASE_MANAGER},
    fields=("managers",),
)
PROJECT_GROUP_ROLES = RoleSpec(
    kind="project_group",
    noun="project group",
    table=ProjectGroupRole,
    object_key="project_group_id",
    codenames={"lead_project": PROJECT_LEAD},
    fields=("leads",),
    keeps_owner=False,
)
# A lead of a group leads each of its projects.
PROJECT_ROLES = RoleSpec(
    kind="project",
    noun="project",
    table=ProjectRole,
    object_key="project_id",
    codenames={"lead_project": PROJECT_LEAD},
    fields=("leads",),
    keeps_owner=False,
    inherit=RoleInheritance(
        parent=PROJECT_GROUP_ROLES,
        link=project_group_mapping.c,
        child_key="project_id",
        parent_key="project_group_id",
    ),
)
