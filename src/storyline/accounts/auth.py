"""Bearer tokens: minting, hashing and resolving them to an Actor."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storyline.accounts import audit
from storyline.accounts.audit import Client
from storyline.accounts.models import AccessToken, User
from storyline.errors import NotAuthenticated
from storyline.kernel.access import Actor
from storyline.kernel.db import Database
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


@dataclass(frozen=True)
class Bearer:
    """What a bearer secret stands for: what a request needs of its token,
    as a value, so that each process can remember it (`kernel.credentials`)."""

    actor: Actor
    token_id: int
    scope: str
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None

    def check(self, now: dt.datetime) -> None:
        if self.expires_at is not None and self.expires_at <= now:
            raise NotAuthenticated("The bearer token has expired; create a new one.")

    def needs_touch(self, now: dt.datetime) -> bool:
        last = self.last_used_at
        return last is None or now - last >= LAST_USED_RESOLUTION


def authenticate(session: Session, *, secret: str) -> Bearer:
    """Resolve a bearer secret. A bad one is an error, so that a client with
    a typo'd or revoked token learns it at once."""
    row = session.execute(
        select(AccessToken, User)
        .join(User, User.id == AccessToken.user_id)
        .where(AccessToken.token_hash == hash_token(secret))
    ).one_or_none()
    if row is None:
        raise NotAuthenticated("The bearer token is not valid (unknown or revoked).")
    token, user = row
    bearer = Bearer(
        actor=Actor(
            user_id=user.id, is_superuser=user.is_superuser, can_write=token.scope == "write"
        ),
        token_id=token.id,
        scope=token.scope,
        expires_at=token.expires_at,
        last_used_at=token.last_used_at,
    )
    bearer.check(utcnow())
    if not user.is_active:
        raise NotAuthenticated("This account is disabled.")
    return bearer


def _cache_key(secret: str) -> tuple[str, str]:
    return ("token", hash_token(secret))


def remembered(db: Database, *, secret: str) -> Bearer | None:
    """The bearer this process resolved `secret` to, while no credential has
    changed since; None when it must be looked up (and when its last use is
    due to be written). No I/O: the API awaits this on the event loop."""
    bearer: Bearer | None = db.credentials.get(_cache_key(secret))
    if bearer is None:
        return None
    now = utcnow()
    bearer.check(now)
    return None if bearer.needs_touch(now) else bearer


def resolve(db: Database, *, secret: str, client: Client) -> Bearer:
    """Look `secret` up, write its last use when due (audited as often: enough
    to see which tokens are in use, from where, without a row per request),
    and remember the answer."""
    epoch = db.credentials.epoch()  # before the lookup: see CredentialCache
    with db.read() as session:
        bearer = authenticate(session, secret=secret)
    now = utcnow()
    if bearer.needs_touch(now):
        with db.write() as session:
            touch(session, token_id=bearer.token_id, now=now)
            audit.record(
                session,
                event_type=audit.TOKEN_USED,
                user_id=bearer.actor.user_id,
                client=client,
                token_id=bearer.token_id,
                scope=bearer.scope,
            )
        bearer = dataclasses.replace(bearer, last_used_at=now)
    db.credentials.put(_cache_key(secret), epoch, bearer)
    return bearer


def touch(session: Session, *, token_id: int, now: dt.datetime | None = None) -> None:
    session.execute(
        update(AccessToken).where(AccessToken.id == token_id).values(last_used_at=now or utcnow())
    )
