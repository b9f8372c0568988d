"""Users, their preferences, personal access tokens and teams; sign-in:
provider identities, local passwords, web sessions, pending provider logins,
throttling, invitations and the audit log."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from storyline.kernel.schema import Base, IdMixin, TimestampMixin, UTCDateTime, utcnow


class User(IdMixin, TimestampMixin, Base):
    __tablename__ = "users"

    full_name: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(255), unique=True)
    openid: Mapped[str | None] = mapped_column(String(255))
    is_staff: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_superuser: Mapped[bool] = mapped_column(Boolean, default=False)
    last_login: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    enable_login: Mapped[bool] = mapped_column(Boolean, default=True)
    # The company or organization the user declares working for: elections
    # group candidates by it (the company-block analysis).
    affiliation: Mapped[str | None] = mapped_column(String(100))


class UserPreference(IdMixin, TimestampMixin, Base):
    """A typed key/value pair; `type` is one of string, int, bool, float."""

    __tablename__ = "user_preferences"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(100))
    value: Mapped[str | None] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(20), default="string")


class AccessToken(IdMixin, TimestampMixin, Base):
    """A bearer token. Only a SHA-256 of the secret is stored."""

    __tablename__ = "access_tokens"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the secret, so that a person can tell tokens apart.
    prefix: Mapped[str] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(255))
    scope: Mapped[str] = mapped_column(String(16), default="write")
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class Team(IdMixin, TimestampMixin, Base):
    __tablename__ = "teams"

    name: Mapped[str] = mapped_column(String(255), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    security: Mapped[bool] = mapped_column(Boolean, default=False)


class TeamMembership(Base):
    __tablename__ = "team_membership"
    __table_args__ = (Index("ix_team_membership_user_id_team_id", "user_id", "team_id"),)

    team_id: Mapped[int] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )


# The projects a team works on (StoryBoard's project_teams); the projects
# are the tracker's, the link belongs to the team.
project_teams = Table(
    "project_teams",
    Base.metadata,
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("team_id", Integer, ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_project_teams_team_id", "team_id"),
)


# Sign-in: identities at OpenID Connect providers, local passwords, web
# sessions, pending provider logins, throttling, invitations and the audit log.


class UserIdentity(IdMixin, TimestampMixin, Base):
    """An account at an OpenID Connect provider, linked to one user.

    A person is (issuer, subject): email addresses change hands and differ
    between providers, so they never identify anyone on their own.
    """

    __tablename__ = "user_identities"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The configured provider's short name when the identity was linked, for display.
    provider: Mapped[str] = mapped_column(String(40))
    issuer: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(255))
    last_login: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class LocalCredential(TimestampMixin, Base):
    """A local password (argon2id hash), for the embedded default and small installs."""

    __tablename__ = "local_credentials"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    password_hash: Mapped[str] = mapped_column(String(255))


class WebSession(IdMixin, Base):
    """A signed-in browser. Kept on the server so that signing out (here or
    everywhere) really ends it; the cookie holds a secret whose SHA-256 is here."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # How the session was opened: "local" or the provider's name.
    method: Mapped[str] = mapped_column(String(40))
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))


class OidcLogin(Base):
    """A sign-in at a provider that has started and not yet come back.

    Holds the PKCE verifier and nonce on the server; the row is deleted when
    the provider redirects back, so a callback can be used only once.
    """

    __tablename__ = "oidc_logins"

    # SHA-256 of the `state` parameter.
    state_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    provider: Mapped[str] = mapped_column(String(40))
    nonce: Mapped[str] = mapped_column(String(128))
    code_verifier: Mapped[str] = mapped_column(String(128))
    # SHA-256 of the browser's CSRF cookie: the callback must come back to
    # the same browser that started the sign-in.
    browser_hash: Mapped[str] = mapped_column(String(64))
    redirect_uri: Mapped[str] = mapped_column(String(500))
    # Set when a signed-in user links another identity to their account.
    link_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    invitation: Mapped[str | None] = mapped_column(String(128))
    next_url: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)


class LoginAttempt(IdMixin, Base):
    """A failed sign-in, counted per account and per address to throttle guessing."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_key_created_at", "key", "created_at"),)

    # "account:<email>" or "ip:<address>".
    key: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Invitation(IdMixin, TimestampMixin, Base):
    """An invitation to sign up when sign-up is by invitation only."""

    __tablename__ = "invitations"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # When set, only this address may use the invitation.
    email: Mapped[str | None] = mapped_column(String(255))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    used_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class AuditEvent(IdMixin, Base):
    """Sign-ins, sign-outs, failures and token use, for administrators to read."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_user_id_created_at", "user_id", "created_at"),)

    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    event_type: Mapped[str] = mapped_column(String(40), index=True)
    # Whom the event is about (None for a failure with no matching account).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(255))
    # JSON: what, how, why it failed.
    details: Mapped[str | None] = mapped_column(Text)
