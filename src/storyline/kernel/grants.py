"""The SQL of role grants: who holds a role on an object, as a clause and of
many users at once, grants inherited from a parent object included.

The gate (`storyline.kernel.access`) decides visibility with these, and
`storyline.kernel.roles` (the services every kind of object uses) answers
with them; this module sits below both so that neither imports the other's
callers.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.orm import Session

from storyline.kernel.schema import RoleSpec


def holds(
    spec: RoleSpec, user_id: int, object_id: Any, roles: Collection[str] | None = None
) -> ColumnElement[bool]:
    """True where `user_id` holds one of `roles` (any role, by default) on the
    object `object_id` (a column or a value), directly or through a parent.

    Correlated EXISTS clauses: one index probe per row of the outer query.
    """

    def granted(on: RoleSpec, object_ids: Any) -> list[ColumnElement[bool]]:
        conditions = [on.object_column == object_ids, on.user_column == user_id]
        if roles is not None:
            conditions.append(on.role_column.in_(roles))
        return conditions

    direct: ColumnElement[bool] = exists().where(*granted(spec, object_id))
    inherit = spec.inherit
    if inherit is None:
        return direct
    parent = inherit.parent
    # A lane's row in `board_worklists` and the board's grant, checked in one
    # probe; a parent that inherits in turn nests its own clause.
    through = (
        granted(parent, inherit.parent_column)
        if parent.inherit is None
        else [holds(parent, user_id, inherit.parent_column, roles)]
    )
    return or_(direct, exists().where(inherit.child_column == object_id, *through))


def holders_among(
    session: Session, spec: RoleSpec, object_ids: Sequence[int], users: Iterable[int]
) -> set[int]:
    """Of `users`, those holding any role on any of the objects, inherited
    roles included: the gate's fan-out (`readers`) for role-guarded objects."""
    candidates = set(users)
    if not object_ids or not candidates:
        return set()
    found = set(
        session.scalars(
            select(spec.user_column).where(
                spec.object_column.in_(object_ids), spec.user_column.in_(candidates)
            )
        )
    )
    if spec.inherit is not None:
        inherit = spec.inherit
        parents = list(
            session.scalars(
                select(inherit.parent_column).where(inherit.child_column.in_(object_ids))
            )
        )
        found |= holders_among(session, inherit.parent, parents, candidates - found)
    return found


__all__ = ["holders_among", "holds"]
