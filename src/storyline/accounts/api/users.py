"""/v1/users"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response
from pydantic import BaseModel, ConfigDict

from storyline.accounts import users as service
from storyline.accounts.models import User
from storyline.accounts.users import UserFilter, UserIn
from storyline.api.deps import SEARCH_HELP, ContextDep, PageDep, Timestamp, set_page_headers
from storyline.api.preconditions import IfMatchDep
from storyline.kernel.access import Actor
from storyline.kernel.validation import Id

router = APIRouter(prefix="/users", tags=["users"])

Q = Annotated[str | None, Query(description=SEARCH_HELP)]


class UserOut(BaseModel):
    """A user. `email`, `openid` and `last_login` are null unless the reader
    is the user themself or an administrator."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: Timestamp
    updated_at: Timestamp | None
    full_name: str | None
    email: str | None
    openid: str | None
    is_superuser: bool
    is_active: bool
    enable_login: bool
    last_login: Timestamp | None
    # Not a StoryBoard field: the company or organization the user declares.
    affiliation: str | None

    @classmethod
    def of(cls, user: User, actor: Actor) -> UserOut:
        out = cls.model_validate(user)
        if not service.sees_private_fields(actor, user.id):
            out = out.model_copy(update=dict.fromkeys(service.PRIVATE_FIELDS))
        return out


def users_out(users: Iterable[User], actor: Actor) -> list[UserOut]:
    return [UserOut.of(user, actor) for user in users]


# Before /{user_id}: it would take "search" for an id.
@router.get("/search", response_model=list[UserOut])
def search_users(
    ctx: ContextDep,
    paging: PageDep,
    response: Response,
    q: Q = None,
    email: str | None = None,
    openid: str | None = None,
) -> Any:
    filters = UserFilter(email=email, openid=openid)
    with ctx.db.read() as session:
        page = service.search_users(
            session, actor=ctx.actor, q=q, filters=filters, page=paging.request(ctx.settings)
        )
    set_page_headers(response, page)
    return users_out(page.items, ctx.actor)


@router.get("", response_model=list[UserOut])
def list_users(
    ctx: ContextDep,
    paging: PageDep,
    response: Response,
    full_name: str | None = None,
    email: str | None = None,
    openid: str | None = None,
) -> Any:
    filters = UserFilter(full_name=full_name, email=email, openid=openid)
    with ctx.db.read() as session:
        page = service.list_users(
            session, actor=ctx.actor, filters=filters, page=paging.request(ctx.settings)
        )
    set_page_headers(response, page)
    return users_out(page.items, ctx.actor)


@router.post("", response_model=UserOut)
def create_user(ctx: ContextDep, body: UserIn) -> Any:
    with ctx.db.write() as session:
        user = service.create_user(session, actor=ctx.actor, data=body)
    return UserOut.of(user, ctx.actor)


@router.get("/self", response_model=UserOut)
def get_self(ctx: ContextDep) -> Any:
    with ctx.db.read() as session:
        user = service.get_self(session, actor=ctx.actor)
    return UserOut.of(user, ctx.actor)


@router.get("/{user_id:int}", response_model=UserOut)
def get_user(ctx: ContextDep, user_id: Id) -> Any:
    with ctx.db.read() as session:
        user = service.get_user(session, user_id=user_id)
    return UserOut.of(user, ctx.actor)


@router.put("/{user_id:int}", response_model=UserOut)
def update_user(
    ctx: ContextDep, user_id: Id, body: Annotated[dict[str, Any], Body()], if_match: IfMatchDep
) -> Any:
    with ctx.db.write() as session:
        if_match.check(
            session,
            User.id,
            user_id,
            lambda: UserOut.of(service.get_user(session, user_id=user_id), ctx.actor),
        )
        user = service.update_user(session, actor=ctx.actor, user_id=user_id, changes=body)
    return UserOut.of(user, ctx.actor)


__all__ = ["UserOut", "router", "users_out"]
