"""Local accounts: an email address and a password hashed with argon2id.

For the embedded default and small installs. Sign-up from the web page is off
unless the operator turns it on; the first administrator is created with
`storyline admin create-user --password`.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storyline.accounts import audit, identities, throttle
from storyline.accounts.audit import Client
from storyline.accounts.models import LocalCredential, User
from storyline.config import Settings
from storyline.errors import InvalidInput, NotAuthenticated, PermissionDenied
from storyline.kernel.validation import Name

MIN_PASSWORD_LENGTH = 10
# argon2-cffi's defaults are RFC 9106's second recommended profile (argon2id,
# 64 MiB, 3 passes), tuned by its maintainers as hardware changes.
_hasher = PasswordHasher()
# Verified against when the account does not exist, so that a wrong address
# takes as long to refuse as a wrong password.
_DUMMY_HASH = _hasher.hash("storyline: no such account")

FAILED = "Wrong email address or password."


class SignupIn(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    full_name: str = Field(min_length=1, max_length=255)
    email: str = Field(min_length=3, max_length=255)
    password: str = Field(min_length=1, max_length=1024)
    invitation: Name | None = None


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput.field(
            "password", f"must be at least {MIN_PASSWORD_LENGTH} characters long"
        )
    if len(password) > 1024:
        raise InvalidInput.field("password", "must be at most 1024 characters long")


def require_enabled(settings: Settings) -> None:
    if not settings.local_accounts:
        raise PermissionDenied(
            "Local accounts are turned off on this server; sign in with one of the providers.",
            code="local_accounts_disabled",
        )


def set_password(
    session: Session, *, user_id: int, password: str, client: Client = audit.NO_CLIENT
) -> None:
    check_password_strength(password)
    credential = session.get(LocalCredential, user_id)
    hashed = _hasher.hash(password)
    if credential is None:
        session.add(LocalCredential(user_id=user_id, password_hash=hashed))
    else:
        credential.password_hash = hashed
    session.flush()
    audit.record(session, event_type=audit.PASSWORD_SET, user_id=user_id, client=client)


def has_password(session: Session, *, user_id: int) -> bool:
    return session.get(LocalCredential, user_id) is not None


def _user_by_email(session: Session, email: str) -> User | None:
    return session.scalars(
        select(User).where(func.lower(User.email) == email.strip().lower())
    ).one_or_none()


def check_login(
    session: Session, *, settings: Settings, email: str, password: str, client: Client
) -> User | None:
    """The user if the password is right; None (with the failure recorded) if not.

    Returning instead of raising lets the caller commit the recorded failure;
    the throttle is checked first, before any password is looked at.
    """
    require_enabled(settings)
    keys = throttle.keys_for(account=email, ip=client.ip)
    throttle.check(session, settings=settings, keys=keys)
    user = _user_by_email(session, email) if email.strip() else None
    credential = session.get(LocalCredential, user.id) if user is not None else None
    ok = False
    try:
        ok = _hasher.verify(
            credential.password_hash if credential is not None else _DUMMY_HASH, password
        )
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or user is None or credential is None:
        throttle.record_failure(session, settings=settings, keys=keys)
        audit.record(
            session,
            event_type=audit.LOGIN_FAILED,
            user_id=user.id if user is not None else None,
            client=client,
            method="local",
            reason="wrong_password" if user is not None else "unknown_account",
            email=email.strip()[:255],
        )
        return None
    if not user.is_active or not user.enable_login:
        raise NotAuthenticated("This account is disabled.", code="account_disabled")
    if _hasher.check_needs_rehash(credential.password_hash):
        credential.password_hash = _hasher.hash(password)
    throttle.clear(session, key=throttle.account_key(email))
    return user


def signup(session: Session, *, settings: Settings, data: SignupIn, client: Client) -> User:
    """Create a local account from the sign-up form."""
    require_enabled(settings)
    if not settings.local_signup:
        raise PermissionDenied(
            "Signing up is closed on this server; ask an administrator for an account.",
            code="signup_not_allowed",
        )
    check_password_strength(data.password)
    identities.check_email_domain(settings, data.email)
    invitation = identities.take_invitation(
        session, settings=settings, secret=data.invitation, email=data.email
    )
    user = identities.create_account(
        session, full_name=data.full_name, email=data.email, invitation=invitation
    )
    set_password(session, user_id=user.id, password=data.password, client=client)
    audit.record(session, event_type=audit.SIGNUP, user_id=user.id, client=client, method="local")
    return user
