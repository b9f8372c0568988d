"""Signed-in browsers, kept on the server.

The cookie carries a random secret; only its SHA-256 is stored, so a copy of
the database lets nobody in. Because sessions are rows, signing out ends the
session everywhere it was copied, and "sign out everywhere" deletes them all.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storyline.accounts import audit
from storyline.accounts.audit import Client
from storyline.accounts.models import User, WebSession
from storyline.config import Settings
from storyline.kernel.access import Actor
from storyline.kernel.db import Database
from storyline.kernel.schema import utcnow

# Writing last_seen_at on every page view would turn reads into writes.
SEEN_RESOLUTION = dt.timedelta(minutes=5)
SECRET_FILE = "session-secret"


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def server_secret(settings: Settings) -> str:
    """The key that signs CSRF tokens: STORYLINE_SESSION_SECRET, or one made
    on first run and kept (mode 0600) in the data directory."""
    if settings.session_secret:
        return settings.session_secret
    path = Path(settings.data_dir) / SECRET_FILE
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    try:
        # O_EXCL: when two processes start at once, one writes and both read it.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secret + "\n")
    return secret


@dataclass(frozen=True)
class SignedIn:
    session_id: int
    user_id: int
    full_name: str | None
    email: str | None
    is_superuser: bool
    method: str
    expires_at: dt.datetime
    last_seen_at: dt.datetime

    @property
    def actor(self) -> Actor:
        return Actor(user_id=self.user_id, is_superuser=self.is_superuser, can_write=True)

    def needs_touch(self, now: dt.datetime) -> bool:
        return now - self.last_seen_at >= SEEN_RESOLUTION


def open_session(
    session: Session, *, settings: Settings, user: User, method: str, client: Client
) -> str:
    """Start a session for `user`; returns the cookie secret."""
    now = utcnow()
    secret = secrets.token_urlsafe(32)
    # Expired sessions of this user go now; others go with their owners' next sign-in.
    session.execute(
        delete(WebSession).where(WebSession.user_id == user.id, WebSession.expires_at <= now)
    )
    session.add(
        WebSession(
            token_hash=_sha256(secret),
            user_id=user.id,
            created_at=now,
            expires_at=now + settings.session_lifetime,
            last_seen_at=now,
            method=method,
            ip=(client.ip or None) and client.ip[:64],
            user_agent=(client.user_agent or None) and client.user_agent[:255],
        )
    )
    user.last_login = now
    session.flush()
    audit.record(session, event_type=audit.LOGIN, user_id=user.id, client=client, method=method)
    return secret


def resolve(session: Session, *, secret: str | None) -> SignedIn | None:
    """The signed-in user for a cookie secret, or None if it is unknown or expired."""
    if not secret:
        return None
    row = session.execute(
        select(WebSession, User)
        .join(User, User.id == WebSession.user_id)
        .where(WebSession.token_hash == _sha256(secret))
    ).one_or_none()
    if row is None:
        return None
    web_session, user = row
    if web_session.expires_at <= utcnow() or not user.is_active or not user.enable_login:
        return None
    return SignedIn(
        session_id=web_session.id,
        user_id=user.id,
        full_name=user.full_name,
        email=user.email,
        is_superuser=user.is_superuser,
        method=web_session.method,
        expires_at=web_session.expires_at,
        last_seen_at=web_session.last_seen_at,
    )


def _cache_key(secret: str) -> tuple[str, str]:
    return ("web_session", _sha256(secret))


def signed_in(db: Database, *, secret: str) -> SignedIn | None:
    """Who the cookie secret signs in: remembered by this process while no
    credential has changed (`kernel.credentials`), else looked up, with the
    session's last page view written when due."""
    key = _cache_key(secret)
    now = utcnow()
    known: SignedIn | None = db.credentials.get(key)
    if known is not None and known.expires_at > now and not known.needs_touch(now):
        return known
    epoch = db.credentials.epoch()  # before the lookup: see CredentialCache
    with db.read() as session:
        found = resolve(session, secret=secret)
    if found is None:
        db.credentials.forget(key)
        return None
    if found.needs_touch(now):
        with db.write() as session:
            touch(session, session_id=found.session_id, now=now)
        found = dataclasses.replace(found, last_seen_at=now)
    db.credentials.put(key, epoch, found)
    return found


def touch(session: Session, *, session_id: int, now: dt.datetime | None = None) -> None:
    web_session = session.get(WebSession, session_id)
    if web_session is not None:
        web_session.last_seen_at = now or utcnow()


def close(session: Session, *, secret: str, client: Client) -> None:
    row = session.scalars(
        select(WebSession).where(WebSession.token_hash == _sha256(secret))
    ).one_or_none()
    if row is None:
        return
    session.delete(row)
    session.flush()
    audit.record(session, event_type=audit.LOGOUT, user_id=row.user_id, client=client)


def close_all(session: Session, *, user_id: int, client: Client) -> int:
    """Sign the user out of every browser."""
    result = session.execute(delete(WebSession).where(WebSession.user_id == user_id))
    count = int(result.rowcount)  # type: ignore[attr-defined]
    audit.record(
        session, event_type=audit.LOGOUT_ALL, user_id=user_id, client=client, sessions=count
    )
    return count


def count_sessions(session: Session, *, user_id: int) -> int:
    now = utcnow()
    return len(
        session.scalars(
            select(WebSession.id).where(WebSession.user_id == user_id, WebSession.expires_at > now)
        ).all()
    )
