"""Throttling of failed sign-ins, per account and per client address.

Failures are rows (not process memory) so that every app process behind a
load balancer counts the same failures.
"""

from __future__ import annotations

import math

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from storyline.accounts.models import LoginAttempt
from storyline.config import Settings
from storyline.errors import TooManyRequests
from storyline.kernel.schema import utcnow

# An address may fail this many times more than one account: a shared NAT
# address has many people behind it.
ADDRESS_FACTOR = 4


def account_key(account: str) -> str:
    return f"account:{account.strip().lower()}"[:300]


def keys_for(*, account: str | None, ip: str | None) -> dict[str, int]:
    """The throttle keys of an attempt, with their limit as a multiple of the base limit."""
    keys: dict[str, int] = {}
    if account:
        keys[account_key(account)] = 1
    if ip:
        keys[f"ip:{ip}"[:300]] = ADDRESS_FACTOR
    return keys


def check(session: Session, *, settings: Settings, keys: dict[str, int]) -> None:
    """Refuse the attempt if any key has failed too often in the window."""
    if not keys:
        return
    since = utcnow() - settings.login_attempts_window
    rows = session.execute(
        select(LoginAttempt.key, func.count(), func.min(LoginAttempt.created_at))
        .where(LoginAttempt.key.in_(keys), LoginAttempt.created_at > since)
        .group_by(LoginAttempt.key)
    ).all()
    for key, count, oldest in rows:
        if count >= settings.login_attempts_limit * keys[key]:
            retry = oldest + settings.login_attempts_window - utcnow()
            minutes = max(1, math.ceil(retry.total_seconds() / 60))
            raise TooManyRequests(
                f"Too many failed sign-in attempts; try again in {minutes} minute"
                f"{'s' if minutes != 1 else ''}.",
                details={"retry_after": minutes * 60},
            )


def record_failure(session: Session, *, settings: Settings, keys: dict[str, int]) -> None:
    cutoff = utcnow() - settings.login_attempts_window
    for key in keys:
        session.execute(
            delete(LoginAttempt).where(LoginAttempt.key == key, LoginAttempt.created_at < cutoff)
        )
        session.add(LoginAttempt(key=key))
    session.flush()


def clear(session: Session, *, key: str) -> None:
    session.execute(delete(LoginAttempt).where(LoginAttempt.key == key))
