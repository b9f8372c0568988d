"""Object roles: who owns, and who may work on, one object of any kind.

A kind of object declares its roles once, as a `RoleSpec` (worklists,
boards and due dates in `storyline.lists.models`); everything here works for
any spec, so a new kind of object (a release cycle's managers, an
election's officials) gets grants, checks, the permission endpoints
(`storyline.api.roles`) and the gate's rules by declaring one.

- **Reading**: `holders` lists an object's own grants; `roles_of` and
  `held` answer what one actor holds, grants inherited from a parent object
  (`RoleSpec.inherit`) included; `holds` is the same question as a SQL
  clause and `holders_among` the same of many users at once (both from
  `storyline.kernel.grants`, which the gate reads too).
- **Checking**: `require` raises PermissionDenied unless the actor holds a
  role; owners hold every role of their object, and administrators every
  role of every object.
- **Writing**: `grant_new` gives a new object its first holders (its creator
  among the owners); `replace` makes a role's holders exactly a set and
  `update` adds or removes some, recording the change on the object's
  timeline when the spec names an event. An object always keeps one owner.

Visibility stays the gate's: a caller who may not see an object gets
NotFound from the object's loader before any role is asked about.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Select, delete, select, union
from sqlalchemy.orm import Session

from storyline.accounts.models import User
from storyline.errors import InvalidInput, PermissionDenied
from storyline.kernel import timeline
from storyline.kernel.access import Actor, require_user
from storyline.kernel.grants import holders_among, holds
from storyline.kernel.schema import RoleSpec
from storyline.kernel.validation import Id

# Reading


def holders(
    session: Session, spec: RoleSpec, object_ids: Sequence[int]
) -> dict[int, dict[str, list[int]]]:
    """The users granted each role on each object, in one query, by user id.

    Only the objects' own grants: what the API lists as `owners` and `users`.
    """
    result: dict[int, dict[str, list[int]]] = {
        object_id: {role: [] for role in spec.roles} for object_id in object_ids
    }
    if object_ids:
        rows = session.execute(
            select(spec.object_column, spec.role_column, spec.user_column)
            .where(spec.object_column.in_(object_ids))
            .order_by(spec.user_column)
        )
        for object_id, role, user_id in rows:
            result[object_id][role].append(user_id)
    return result


def objects_held(spec: RoleSpec, user_id: int, roles: Collection[str] | None = None) -> Select[Any]:
    """Ids of the objects `user_id` is granted one of `roles` (any, by
    default) on: the "mine" filters of list endpoints. Own grants only, as
    StoryBoard's `user_id` filters list them."""
    stmt = select(spec.object_column).where(spec.user_column == user_id)
    if roles is not None:
        stmt = stmt.where(spec.role_column.in_(roles))
    return stmt


def _role_rows(spec: RoleSpec, user_id: int, object_ids: Any) -> list[Select[Any]]:
    """Selects of the roles `user_id` holds on `object_ids` (a list or a
    subquery), one per level of inheritance."""
    parts: list[Select[Any]] = [
        select(spec.role_column).where(
            spec.object_column.in_(object_ids), spec.user_column == user_id
        )
    ]
    if spec.inherit is not None:
        inherit = spec.inherit
        parents = select(inherit.parent_column).where(inherit.child_column.in_(object_ids))
        parts.extend(_role_rows(inherit.parent, user_id, parents))
    return parts


def roles_of(session: Session, spec: RoleSpec, *, actor: Actor, object_id: int) -> set[str]:
    """The roles `actor` holds on the object, inherited ones included."""
    if actor.is_superuser:
        return set(spec.roles)
    if actor.user_id is None:
        return set()
    parts = _role_rows(spec, actor.user_id, [object_id])
    stmt = parts[0] if len(parts) == 1 else union(*parts)
    return set(session.scalars(stmt))


def _satisfies(spec: RoleSpec, mine: Collection[str], role: str) -> bool:
    # Owners may do everything the other roles may.
    return role in mine or spec.owner in mine


def held(session: Session, spec: RoleSpec, *, actor: Actor, object_id: int, role: str) -> bool:
    """Whether `actor` may act as `role` on the object (owners may act as any)."""
    return _satisfies(spec, roles_of(session, spec, actor=actor, object_id=object_id), role)


def codenames(session: Session, spec: RoleSpec, *, actor: Actor, object_id: int) -> list[str]:
    """StoryBoard's codenames of what `actor` may do with the object (what
    `GET …/permissions` answers), in the spec's order."""
    mine = roles_of(session, spec, actor=actor, object_id=object_id)
    return [code for code, role in spec.codenames.items() if _satisfies(spec, mine, role)]


# Checking


def _plural(spec: RoleSpec, role: str) -> str:
    names = [f"{role}s"] if role == spec.owner else [f"{spec.owner}s", f"{role}s"]
    return " and ".join(names)


def require(
    session: Session, spec: RoleSpec, *, actor: Actor, object_id: int, role: str, to: str
) -> int:
    """The actor's user id, if they may write and act as `role` on the
    object; PermissionDenied ("Only the worklist's owners may `to`.")
    otherwise. The object has been loaded through the gate already."""
    user_id = require_user(actor)
    if not held(session, spec, actor=actor, object_id=object_id, role=role):
        raise PermissionDenied(f"Only the {spec.noun}'s {_plural(spec, role)} may {to}.")
    return user_id


# Parsing


def id_list(value: Any) -> Any:
    """A pydantic before-validator for user lists: StoryBoard's clients send
    ids or user objects (`[{"id": 3}]`)."""
    if not isinstance(value, list):
        return value
    return [item.get("id") if isinstance(item, dict) else item for item in value]


class HoldersIn(BaseModel):
    """The holders sent with an object when it is created or changed
    (StoryBoard's `owners` and `users`): what `grant_new` and
    `replace_sent` take. The input of every object with roles extends it."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    owners: list[Id] = Field(default_factory=list)
    users: list[Id] = Field(default_factory=list)

    _user_ids = field_validator("owners", "users", mode="before")(id_list)


def parse_users(raw: Any, field: str = "users") -> list[int]:
    """User ids from a permission body: a list of ids or users, or text."""
    if isinstance(raw, str):
        # StoryBoard's body is a dict of text; accept "1,2" and "[1, 2]".
        raw = [part for part in raw.strip("[] ").split(",") if part.strip()]
    if not isinstance(raw, list):
        raise InvalidInput.field(field, "must be a list of user ids")
    try:
        return [int(item["id"] if isinstance(item, dict) else item) for item in raw]
    except (TypeError, ValueError, KeyError):
        raise InvalidInput.field(field, "must be a list of user ids") from None


def check_users(session: Session, user_ids: Sequence[int], field: str) -> list[int]:
    """`user_ids` without repeats, in order; InvalidInput naming `field` for
    an id that is nobody's."""
    unique = list(dict.fromkeys(user_ids))
    if unique:
        known = set(session.scalars(select(User.id).where(User.id.in_(unique))))
        missing = [uid for uid in unique if uid not in known]
        if missing:
            raise InvalidInput.field(field, f"no user with id {missing[0]}")
    return unique


def role_of(spec: RoleSpec, codename: Any) -> str:
    """The role a StoryBoard codename stands for; InvalidInput for another."""
    if codename not in spec.codenames:
        raise InvalidInput.field("codename", f"must be {' or '.join(spec.codenames)}")
    return spec.codenames[codename]


# Writing


def _set(
    session: Session, spec: RoleSpec, object_id: int, role: str, user_ids: Sequence[int]
) -> tuple[list[int], list[int]]:
    """Make `user_ids` exactly the holders of `role`; answers (added, removed)."""
    current = set(
        session.scalars(
            select(spec.user_column).where(
                spec.object_column == object_id, spec.role_column == role
            )
        )
    )
    wanted = set(user_ids)
    added, removed = sorted(wanted - current), sorted(current - wanted)
    if removed:
        session.execute(
            delete(spec.table).where(
                spec.object_column == object_id,
                spec.role_column == role,
                spec.user_column.in_(removed),
            )
        )
    session.add_all(
        spec.table(**{spec.object_key: object_id, "user_id": uid, "role": role}) for uid in added
    )
    session.flush()
    return added, removed


def grant_new(
    session: Session,
    spec: RoleSpec,
    *,
    object_id: int,
    creator_id: int,
    data: HoldersIn,
) -> None:
    """The first holders of a new object, as sent with it (`owners`, `users`),
    the creator always among the owners. No timeline event: the object's own
    creation event stands for it."""
    for role in spec.roles:
        field = spec.field(role)
        wanted = list(getattr(data, field))
        if role == spec.owner:
            wanted = [creator_id, *wanted]
        _set(session, spec, object_id, role, check_users(session, wanted, field))


def replace(
    session: Session,
    spec: RoleSpec,
    *,
    object_id: int,
    role: str,
    user_ids: Sequence[int],
    author_id: int,
    field: str | None = None,
) -> tuple[list[int], list[int]]:
    """Make `user_ids` exactly the holders of `role` on the object; answers
    (added, removed). Errors name `field` (by default the role's request
    field). The caller has checked that the author may (`require`)."""
    field = field or spec.field(role)
    wanted = check_users(session, user_ids, field)
    if role == spec.owner and spec.keeps_owner and not wanted:
        raise InvalidInput.field(field, f"a {spec.noun} needs at least one owner")
    added, removed = _set(session, spec, object_id, role, wanted)
    if (added or removed) and spec.event_type is not None:
        # The spec's object key is the timeline's column for the kind.
        on: dict[str, Any] = {spec.object_key: object_id}
        timeline.record(
            session,
            event_type=spec.event_type,
            author_id=author_id,
            info={
                spec.object_key: object_id,
                "codename": spec.codename(role),
                "added": added,
                "removed": removed,
            },
            **on,
        )
    return added, removed


def replace_sent(
    session: Session,
    spec: RoleSpec,
    *,
    object_id: int,
    changes: Mapping[str, Any],
    data: HoldersIn,
    author_id: int,
) -> None:
    """Replace the holders of each role whose request field (`owners`,
    `users`) was sent with the object: a `PUT` of the object itself."""
    for role in spec.roles:
        field = spec.field(role)
        if field in changes:
            replace(
                session,
                spec,
                object_id=object_id,
                role=role,
                user_ids=getattr(data, field),
                author_id=author_id,
            )


def update(
    session: Session,
    spec: RoleSpec,
    *,
    object_id: int,
    role: str,
    author_id: int,
    add: Sequence[int] = (),
    remove: Sequence[int] = (),
    field: str = "users",
) -> tuple[list[int], list[int]]:
    """Add `add` to, and take `remove` from, the holders of `role`."""
    add = check_users(session, add, field)
    current = holders(session, spec, [object_id])[object_id][role]
    gone = set(remove)
    wanted = [uid for uid in dict.fromkeys([*current, *add]) if uid not in gone]
    return replace(
        session,
        spec,
        object_id=object_id,
        role=role,
        user_ids=wanted,
        author_id=author_id,
        field=field,
    )


# The permission endpoints' services (StoryBoard's `/permissions`)


class Loader(Protocol):
    """Loads an object through the gate (NotFound when the actor may not see it)."""

    def __call__(
        self, session: Session, *, actor: Actor, object_id: int, for_update: bool = False
    ) -> Any: ...


def my_codenames(
    session: Session, spec: RoleSpec, *, actor: Actor, object_id: int, load: Loader
) -> list[str]:
    """`GET …/permissions`: what the actor may do with a visible object."""
    load(session, actor=actor, object_id=object_id)
    return codenames(session, spec, actor=actor, object_id=object_id)


def change(
    session: Session,
    spec: RoleSpec,
    *,
    actor: Actor,
    object_id: int,
    load: Loader,
    body: Mapping[str, Any],
    how: Literal["add", "replace", "remove"],
) -> str:
    """`POST`, `PUT` and `DELETE …/permissions`: add users to a codename's
    holders, make them its only holders, or take them away. Only owners
    may; the object keeps one owner. Answers the codename."""
    require_user(actor)
    load(session, actor=actor, object_id=object_id, for_update=True)
    user_id = require(
        session, spec, actor=actor, object_id=object_id, role=spec.owner, to="change it"
    )
    codename = body.get("codename")
    role = role_of(spec, codename)
    users = parse_users(body.get("users", []))
    if how == "replace":
        replace(
            session,
            spec,
            object_id=object_id,
            role=role,
            user_ids=users,
            author_id=user_id,
            field="users",
        )
    else:
        update(
            session,
            spec,
            object_id=object_id,
            role=role,
            author_id=user_id,
            add=users if how == "add" else (),
            remove=users if how == "remove" else (),
        )
    return str(codename)


__all__ = [
    "HoldersIn",
    "Loader",
    "change",
    "check_users",
    "codenames",
    "grant_new",
    "held",
    "holders",
    "holders_among",
    "holds",
    "id_list",
    "my_codenames",
    "objects_held",
    "parse_users",
    "replace",
    "replace_sent",
    "require",
    "role_of",
    "roles_of",
    "update",
]
