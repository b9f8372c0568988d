"""/v1/users/{id}/tokens: personal access tokens."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Response
from pydantic import BaseModel

from storyline.accounts import tokens as service
from storyline.accounts.models import AccessToken
from storyline.accounts.tokens import TokenIn
from storyline.api.deps import ContextDep, PageDep, Timestamp, set_page_headers
from storyline.kernel.validation import Id

router = APIRouter(prefix="/users", tags=["tokens"])


class TokenOut(BaseModel):
    """StoryBoard's AccessToken plus Storyline's fields. `access_token`, the
    secret, is present only in the answer that creates the token; `prefix`
    (its first characters) tells tokens apart afterwards."""

    id: int
    created_at: Timestamp
    updated_at: Timestamp | None
    user_id: int
    prefix: str
    name: str | None
    scope: str
    expires_in: int | None
    expires_at: Timestamp | None
    last_used_at: Timestamp | None
    # Last on purpose: python-storyboardclient reads a field it does not
    # know (any of Storyline's) by fetching the token again, and copies that
    # answer, without the secret, over what it has read so far. Fields read
    # after that fetch are kept, so the secret must come after Storyline's.
    access_token: str | None

    @classmethod
    def of(cls, token: AccessToken, secret: str | None = None) -> TokenOut:
        return cls(
            id=token.id,
            created_at=token.created_at,
            updated_at=token.updated_at,
            user_id=token.user_id,
            access_token=secret,
            prefix=token.prefix,
            name=token.name,
            scope=token.scope,
            expires_in=service.expires_in_of(token),
            expires_at=token.expires_at,
            last_used_at=token.last_used_at,
        )


@router.get("/{user_id:int}/tokens", response_model=list[TokenOut])
def list_tokens(ctx: ContextDep, paging: PageDep, response: Response, user_id: Id) -> Any:
    with ctx.db.read() as session:
        page = service.list_tokens(
            session, actor=ctx.actor, user_id=user_id, page=paging.request(ctx.settings)
        )
    set_page_headers(response, page)
    return [TokenOut.of(token) for token in page.items]


@router.post("/{user_id:int}/tokens", response_model=TokenOut)
def create_token(ctx: ContextDep, user_id: Id, body: TokenIn) -> Any:
    with ctx.db.write() as session:
        token, secret = service.create_token(session, actor=ctx.actor, user_id=user_id, data=body)
    return TokenOut.of(token, secret)


@router.delete("/{user_id:int}/tokens/delete_all", status_code=204)
def delete_all_tokens(ctx: ContextDep, user_id: Id) -> Response:
    with ctx.db.write() as session:
        service.delete_all_tokens(session, actor=ctx.actor, user_id=user_id)
    return Response(status_code=204)


@router.get("/{user_id:int}/tokens/{token_id:int}", response_model=TokenOut)
def get_token(ctx: ContextDep, user_id: Id, token_id: Id) -> Any:
    with ctx.db.read() as session:
        token = service.get_token(session, actor=ctx.actor, user_id=user_id, token_id=token_id)
    return TokenOut.of(token)


@router.put("/{user_id:int}/tokens/{token_id:int}", response_model=TokenOut)
def update_token(
    ctx: ContextDep, user_id: Id, token_id: Id, body: Annotated[dict[str, Any], Body()]
) -> Any:
    with ctx.db.write() as session:
        token = service.update_token(
            session, actor=ctx.actor, user_id=user_id, token_id=token_id, changes=body
        )
    return TokenOut.of(token)


@router.delete("/{user_id:int}/tokens/{token_id:int}", status_code=204)
def delete_token(ctx: ContextDep, user_id: Id, token_id: Id) -> Response:
    with ctx.db.write() as session:
        service.delete_token(session, actor=ctx.actor, user_id=user_id, token_id=token_id)
    return Response(status_code=204)
