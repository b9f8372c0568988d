"""The schema's foundations: the declarative base, portable column types, the
constraint naming convention, and the shape of object role tables.

Every subsystem's models import this module and nothing else of the kernel."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    TypeDecorator,
    func,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Named constraints make migrations reviewable and identical on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Stores naive UTC, returns aware UTC, on every database.

    SQLite has no time zones and PostgreSQL's `timestamptz` would make the
    schema dialect-specific; storing naive UTC everywhere keeps comparisons
    and indexes identical on both.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware datetime")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        return value.replace(tzinfo=dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class IdMixin:
    id: Mapped[int] = mapped_column(Integer, primary_key=True)


class TimestampMixin:
    created_at: Mapped[dt.datetime] = mapped_column(
        UTCDateTime(), default=utcnow, server_default=func.current_timestamp()
    )
    updated_at: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime(), default=utcnow, onupdate=utcnow
    )


# Object roles: one mechanism for "the owners and users of an object".


class RoleGrant:
    """A user holding a role on one object: a row of a role table.

    Each kind of object has its own table (`worklist_permissions`, …) with the
    object's id as a foreign key, so that deleting the object or the user
    removes the grant, and a grant can never point at nothing. The columns
    other than the object's are declared once, here; `role_table_args` gives
    each table its index on `user_id`. What the roles mean, and who may change
    them, is `RoleSpec`'s and `storyline.kernel.roles`'.
    """

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, sort_order=1
    )
    role: Mapped[str] = mapped_column(String(10), primary_key=True, sort_order=2)


def role_object_key(table: str) -> Mapped[int]:
    """The object column of a role table: part of the key, removed with the object."""
    return mapped_column(ForeignKey(f"{table}.id", ondelete="CASCADE"), primary_key=True)


def role_table_args(table: str) -> tuple[Index]:
    return (Index(f"ix_{table}_user_id", "user_id"),)


@dataclass(frozen=True)
class RoleInheritance:
    """Holders of a parent object's roles hold the same roles on its children.

    `link` is the table joining the two (`BoardLane` joins a board to the
    worklists that are its lanes): its `child_key` column names the child,
    its `parent_key` column the parent whose roles are inherited. The
    parent's roles carry the child's names (a board's owner is an owner of
    each of its lanes). Inherited roles let a person see and change the
    child; they are not listed among the child's own holders.
    """

    parent: RoleSpec
    # A mapped class, or a plain table's columns (`table.c`).
    link: Any
    child_key: str
    parent_key: str

    @property
    def child_column(self) -> ColumnElement[int]:
        column: ColumnElement[int] = getattr(self.link, self.child_key)
        return column

    @property
    def parent_column(self) -> ColumnElement[int]:
        column: ColumnElement[int] = getattr(self.link, self.parent_key)
        return column


@dataclass(frozen=True)
class RoleSpec:
    """The roles one kind of object has, declared once by its subsystem.

    `codenames` maps StoryBoard's permission codenames (what the
    `/permissions` endpoints speak) to roles, the owner's first: owners may
    do everything the other roles may, change the object and its roles, and
    an object always keeps at least one owner. `fields` names, in the same
    order, the request fields that carry each role's holders when the object
    itself is created or changed (StoryBoard's `owners` and `users`).
    """

    kind: str
    # How messages name the object: "worklist", "board", "due date".
    noun: str
    table: type[RoleGrant]
    object_key: str
    codenames: Mapping[str, str]
    # Recorded on the object's timeline when its role holders change; the
    # timeline must then have a column named like `object_key`.
    event_type: str | None = None
    fields: tuple[str, ...] = ("owners", "users")
    # How a person holds roles here without a grant of this kind.
    inherit: RoleInheritance | None = None
    # False for roles nobody owns the object through (a project's leads):
    # its holders may then all be removed.
    keeps_owner: bool = True

    # Typed as columns: read as class attributes of a mixin, mypy would see
    # the Python value type (int), not the column.
    @property
    def object_column(self) -> ColumnElement[int]:
        column: ColumnElement[int] = getattr(self.table, self.object_key)
        return column

    @property
    def user_column(self) -> ColumnElement[int]:
        column: ColumnElement[int] = getattr(self.table, "user_id")  # noqa: B009
        return column

    @property
    def role_column(self) -> ColumnElement[str]:
        column: ColumnElement[str] = getattr(self.table, "role")  # noqa: B009
        return column

    @property
    def owner(self) -> str:
        return next(iter(self.codenames.values()))

    @property
    def roles(self) -> tuple[str, ...]:
        return tuple(self.codenames.values())

    def codename(self, role: str) -> str:
        return next(code for code, held in self.codenames.items() if held == role)

    def field(self, role: str) -> str:
        """The request field that carries the holders of `role`."""
        return self.fields[self.roles.index(role)]
