"""Bearer tokens: minting, hashing and resolving them to an Actor."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storyline.accounts.models import AccessToken, User
from storyline.errors import NotAuthenticated
from storyline.kernel.access import ANONYMOUS, Actor
from storyline.kernel.schema import utcnow

TOKEN_PREFIX = "sl_"
# Writing last_used_at on every request would turn every read into a write;
# once per interval is precise enough for "last used" and for audits.
LAST_USED_RESOLUTION = dt.timedelta(minutes=5)


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def mint_token(
    session: Session,
    *,
    user_id: int,
    name: str | None = None,
    scope: str = "write",
    expires_at: dt.datetime | None = None,
    secret: str | None = None,
) -> tuple[AccessToken, str]:
    """Create a token row and return it with the secret, which is shown once."""
    secret = secret or new_secret()
    token = AccessToken(
        user_id=user_id,
        token_hash=hash_token(secret),
        prefix=secret[:8],
        name=name,
        scope=scope,
        expires_at=expires_at,
    )
    session.add(token)
    session.flush()
    return token, secret


def authenticate(session: Session, *, secret: str | None) -> tuple[Actor, AccessToken | None]:
    """Resolve a bearer secret. No secret is anonymous; a bad one is an error,
    so that a client with a typo'd or revoked token learns it at once."""
    if not secret:
        return ANONYMOUS, None
    row = session.execute(
        select(AccessToken, User)
        .join(User, User.id == AccessToken.user_id)
        .where(AccessToken.token_hash == hash_token(secret))
    ).one_or_none()
    if row is None:
        raise NotAuthenticated("The bearer token is not valid (unknown or revoked).")
    token, user = row
    now = utcnow()
    if token.expires_at is not None and token.expires_at <= now:
        raise NotAuthenticated("The bearer token has expired; create a new one.")
    if not user.is_active:
        raise NotAuthenticated("This account is disabled.")
    actor = Actor(user_id=user.id, is_superuser=user.is_superuser, can_write=token.scope == "write")
    return actor, token


def needs_touch(token: AccessToken) -> bool:
    last = token.last_used_at
    return last is None or utcnow() - last >= LAST_USED_RESOLUTION


def touch(session: Session, *, token_id: int) -> None:
    session.execute(
        update(AccessToken).where(AccessToken.id == token_id).values(last_used_at=utcnow())
    )
