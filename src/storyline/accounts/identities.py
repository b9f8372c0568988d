"""Accounts made from sign-ins: the sign-up policy, linked provider
identities and invitations.

A person is identified by (issuer, subject) at a provider, never by an email
address alone: a provider account whose address matches an existing user is
not let into that user's account. The owner links it from their settings.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storyline.accounts import audit
from storyline.accounts.audit import Client
from storyline.accounts.models import Invitation, LocalCredential, User, UserIdentity
from storyline.accounts.oidc import VerifiedClaims
from storyline.config import Settings
from storyline.errors import Conflict, InvalidInput, NotAuthenticated, NotFound, PermissionDenied
from storyline.kernel.access import Actor, require_user
from storyline.kernel.schema import utcnow

INVITATION_PREFIX = "slinv_"


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _refused(message: str, **details: str) -> PermissionDenied:
    return PermissionDenied(message, code="signup_not_allowed", details=details or None)


def check_email_domain(settings: Settings, email: str | None) -> None:
    if not settings.signup_email_domains:
        return
    domain = (email or "").rpartition("@")[2].strip().lower()
    if not domain or domain not in settings.signup_email_domains:
        raise _refused(
            "Accounts on this server are for addresses at "
            f"{', '.join(settings.signup_email_domains)}; "
            f"{email or 'an account without an email address'} is not one of them.",
            reason="email_domain",
        )


def check_issuer(settings: Settings, issuer: str) -> None:
    allowed = settings.signup_allowed_issuers
    if allowed and issuer.rstrip("/") not in allowed:
        raise _refused(
            "New accounts cannot be created through this provider; sign in with another "
            "one, or ask an administrator.",
            reason="issuer",
        )


def take_invitation(
    session: Session, *, settings: Settings, secret: str | None, email: str | None
) -> Invitation | None:
    """The invitation to use for a new account (required when sign-up is by invitation only)."""
    if not secret:
        if settings.signup_invite_only:
            raise _refused(
                "Sign-up on this server is by invitation only; ask an administrator "
                "for an invitation link.",
                reason="invitation_required",
            )
        return None
    invitation = session.scalars(
        select(Invitation).where(Invitation.token_hash == _sha256(secret.strip()))
    ).one_or_none()
    if (
        invitation is None
        or invitation.used_at is not None
        or (invitation.expires_at is not None and invitation.expires_at <= utcnow())
    ):
        raise _refused(
            "This invitation is unknown, expired or already used.", reason="invitation_invalid"
        )
    if invitation.email and (email or "").strip().lower() != invitation.email.lower():
        raise _refused(f"This invitation is for {invitation.email}.", reason="invitation_email")
    return invitation


def create_account(
    session: Session,
    *,
    full_name: str | None,
    email: str | None,
    invitation: Invitation | None,
) -> User:
    email = (email or "").strip() or None
    if email is not None:
        taken = session.scalar(select(User.id).where(func.lower(User.email) == email.lower()))
        if taken is not None:
            raise Conflict(
                f"An account with the address {email} already exists. Sign in to it the way "
                "you did before, then link this sign-in under Settings → Identities.",
                code="account_exists",
                details={"field": "email"},
            )
    name = (full_name or "").strip() or (email.partition("@")[0] if email else "New user")
    user = User(full_name=name[:255], email=email, is_active=True, is_superuser=False)
    session.add(user)
    session.flush()
    if invitation is not None:
        invitation.used_by = user.id
        invitation.used_at = utcnow()
    return user


def sign_in(
    session: Session,
    *,
    settings: Settings,
    claims: VerifiedClaims,
    invitation: str | None,
    client: Client,
) -> User:
    """The user that the provider identity belongs to, created on first sign-in."""
    now = utcnow()
    identity = session.scalars(
        select(UserIdentity).where(
            UserIdentity.issuer == claims.issuer, UserIdentity.subject == claims.subject
        )
    ).one_or_none()
    if identity is not None:
        user = session.get(User, identity.user_id)
        assert user is not None
        if not user.is_active or not user.enable_login:
            raise NotAuthenticated("This account is disabled.", code="account_disabled")
        identity.email = claims.email
        identity.last_login = now
        return user
    check_issuer(settings, claims.issuer)
    if claims.email_verified is False and (
        settings.signup_email_domains or settings.signup_invite_only
    ):
        # A domain or an invitation is only worth checking on an address the
        # provider has verified.
        raise _refused(
            "Your provider has not verified your email address, so it cannot be used to "
            "sign up here.",
            reason="email_unverified",
        )
    check_email_domain(settings, claims.email)
    pending = take_invitation(session, settings=settings, secret=invitation, email=claims.email)
    user = create_account(session, full_name=claims.name, email=claims.email, invitation=pending)
    _add_identity(session, user_id=user.id, claims=claims, now=now)
    audit.record(
        session,
        event_type=audit.SIGNUP,
        user_id=user.id,
        client=client,
        method=claims.provider,
        issuer=claims.issuer,
    )
    return user


def _add_identity(
    session: Session, *, user_id: int, claims: VerifiedClaims, now: dt.datetime
) -> UserIdentity:
    identity = UserIdentity(
        user_id=user_id,
        provider=claims.provider,
        issuer=claims.issuer,
        subject=claims.subject,
        email=claims.email,
        last_login=now,
    )
    session.add(identity)
    session.flush()
    return identity


def link(session: Session, *, user_id: int, claims: VerifiedClaims, client: Client) -> UserIdentity:
    """Link a provider identity to a signed-in user's account."""
    existing = session.scalars(
        select(UserIdentity).where(
            UserIdentity.issuer == claims.issuer, UserIdentity.subject == claims.subject
        )
    ).one_or_none()
    if existing is not None:
        if existing.user_id != user_id:
            raise Conflict(
                "This sign-in is already linked to another account. Sign in with it and "
                "unlink it there first.",
                code="identity_taken",
            )
        return existing
    identity = _add_identity(session, user_id=user_id, claims=claims, now=utcnow())
    audit.record(
        session,
        event_type=audit.IDENTITY_LINKED,
        user_id=user_id,
        client=client,
        provider=claims.provider,
        issuer=claims.issuer,
    )
    return identity


def list_identities(session: Session, *, actor: Actor) -> Sequence[UserIdentity]:
    user_id = require_user(actor)
    return session.scalars(
        select(UserIdentity).where(UserIdentity.user_id == user_id).order_by(UserIdentity.id)
    ).all()


def unlink(session: Session, *, actor: Actor, identity_id: int, client: Client) -> None:
    user_id = require_user(actor)
    identity = session.get(UserIdentity, identity_id)
    if identity is None or identity.user_id != user_id:
        raise NotFound.of("identity", identity_id)
    others = session.scalar(
        select(func.count())
        .select_from(UserIdentity)
        .where(UserIdentity.user_id == user_id, UserIdentity.id != identity_id)
    )
    if not others and session.get(LocalCredential, user_id) is None:
        raise Conflict(
            "This is your only way to sign in; link another identity before removing it.",
            code="last_identity",
        )
    session.delete(identity)
    session.flush()
    audit.record(
        session,
        event_type=audit.IDENTITY_UNLINKED,
        user_id=user_id,
        client=client,
        provider=identity.provider,
        issuer=identity.issuer,
    )


def create_invitation(
    session: Session,
    *,
    created_by: int | None,
    email: str | None = None,
    valid_days: int = 14,
) -> tuple[Invitation, str]:
    """An invitation; the secret is returned once, to be sent to the invitee."""
    if valid_days < 1:
        raise InvalidInput.field("days", "must be at least 1")
    email = (email or "").strip() or None
    if email is not None and "@" not in email:
        raise InvalidInput.field("email", f"{email!r} is not an email address")
    secret = INVITATION_PREFIX + secrets.token_urlsafe(24)
    invitation = Invitation(
        token_hash=_sha256(secret),
        email=email,
        created_by=created_by,
        expires_at=utcnow() + dt.timedelta(days=valid_days),
    )
    session.add(invitation)
    session.flush()
    audit.record(
        session,
        event_type=audit.INVITATION_CREATED,
        user_id=created_by,
        invitation_id=invitation.id,
        email=email,
    )
    return invitation, secret
