"""StoryBoard's `/permissions` endpoints, for any object with roles.

`GET /v1/{things}/{id}/permissions` answers the codenames the caller may
exercise (`["edit_worklist", "move_items"]`); `POST` adds the body's users to
a codename's holders, `PUT` makes them its only holders, both answering the
codename; `DELETE` takes them away (204). The body is StoryBoard's
`{"codename": …, "users": [ids]}` (the users also as text, "1,2").

A resource mounts them with `mount_permissions`, naming its spec, its path
parameter, the service that loads one object through the gate, and the
object's id column and representation, against which `If-Match` on `PUT`
and `DELETE` is checked (the holders are part of it: `owners`, `users`).
"""

# No `from __future__ import annotations`: the routes' parameter types are
# built here, per spec, and FastAPI must see them as objects, not as names
# to look up in this module.

from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Path, Response
from sqlalchemy.orm import InstrumentedAttribute, Session

from storyline.api.deps import Context, ContextDep
from storyline.api.preconditions import IfMatch, IfMatchDep
from storyline.kernel import roles
from storyline.kernel.schema import RoleSpec
from storyline.kernel.validation import Id

PermissionBody = Annotated[dict[str, Any], Body()]
How = Literal["add", "replace", "remove"]


def mount_permissions(
    router: APIRouter,
    *,
    spec: RoleSpec,
    param: str,
    load: roles.Loader,
    row: InstrumentedAttribute[int],
    current: Callable[[Session, Context, int], Any],
) -> None:
    """Add `GET`, `POST`, `PUT` and `DELETE /{param}/permissions` to `router`."""
    path = f"/{{{param}}}/permissions"
    ObjectId = Annotated[Id, Path(alias=param)]

    def change(
        ctx: Context, object_id: int, body: dict[str, Any], how: How, if_match: IfMatch
    ) -> str:
        with ctx.db.write() as session:
            if_match.check(session, row, object_id, lambda: current(session, ctx, object_id))
            return roles.change(
                session,
                spec,
                actor=ctx.actor,
                object_id=object_id,
                load=load,
                body=body,
                how=how,
            )

    @router.get(path, response_model=list[str], name=f"{spec.kind}_permissions")
    def my_permissions(ctx: ContextDep, object_id: ObjectId) -> Any:
        with ctx.db.read() as session:
            return roles.my_codenames(
                session, spec, actor=ctx.actor, object_id=object_id, load=load
            )

    @router.post(path, response_model=str, name=f"add_{spec.kind}_permission")
    def add_permission(ctx: ContextDep, object_id: ObjectId, body: PermissionBody) -> Any:
        return change(ctx, object_id, body, "add", IfMatch(None))

    @router.put(path, response_model=str, name=f"set_{spec.kind}_permission")
    def set_permission(
        ctx: ContextDep, object_id: ObjectId, body: PermissionBody, if_match: IfMatchDep
    ) -> Any:
        return change(ctx, object_id, body, "replace", if_match)

    @router.delete(path, status_code=204, name=f"remove_{spec.kind}_permission")
    def remove_permission(
        ctx: ContextDep, object_id: ObjectId, body: PermissionBody, if_match: IfMatchDep
    ) -> Response:
        change(ctx, object_id, body, "remove", if_match)
        return Response(status_code=204)


__all__ = ["mount_permissions"]
