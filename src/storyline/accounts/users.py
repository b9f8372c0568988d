"""Users: listing, reading, creating and changing accounts.

Privacy: a user's email address, OpenID identifier and last login are
personal data. StoryBoard showed them to everyone, anonymous readers
included, which made the user list a harvestable address book. Storyline
shows them only to the user themself and to administrators
(`sees_private_fields`), and only administrators may filter or sort by them,
because a filter on a hidden field would reveal it one guess at a time.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Select, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from storyline.accounts import auth
from storyline.accounts.models import User
from storyline.errors import Conflict, InvalidInput, NotAuthenticated, NotFound, PermissionDenied
from storyline.kernel.access import Actor, require_user
from storyline.kernel.paging import Page, PageRequest, paginate
from storyline.kernel.search import Searchable, dialect_of, parse
from storyline.kernel.text import contains
from storyline.kernel.validation import validate

PUBLIC_USER_SORT: dict[str, InstrumentedAttribute[Any]] = {
    "id": User.id,
    "full_name": User.full_name,
    "created_at": User.created_at,
    "updated_at": User.updated_at,
}
USER_SORT: dict[str, InstrumentedAttribute[Any]] = {
    **PUBLIC_USER_SORT,
    "email": User.email,
    "openid": User.openid,
    "last_login": User.last_login,
}
# Fields shown only to the user themself and to administrators.
PRIVATE_FIELDS = ("email", "openid", "last_login")
# What a user may change about their own account. The email address stays
# with administrators (and, later, the identity provider): a self-chosen,
# unverified address would receive someone else's notifications.
SELF_EDITABLE = frozenset({"full_name", "affiliation"})

# The operator at the command line: sees everything. Writes by the operator
# go through the admin_* functions, which need no actor.
OPERATOR = Actor(user_id=None, is_superuser=True, can_write=False)


class UserIn(BaseModel):
    """A user as an administrator creates or changes it."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    full_name: str = Field(min_length=1, max_length=255)
    email: str | None = Field(default=None, max_length=255)
    openid: str | None = Field(default=None, max_length=255)
    is_superuser: bool = False
    is_active: bool = True
    enable_login: bool = True
    # Declared by the user, not checked: elections group candidates by it.
    affiliation: str | None = Field(default=None, max_length=100)

    @field_validator("affiliation")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        # An emptied field on the profile form means "none", not "".
        return value or None


@dataclass(frozen=True, kw_only=True)
class UserFilter:
    """StoryBoard's user filters: substring matches, case-insensitive."""

    full_name: str | None = None
    email: str | None = None
    openid: str | None = None

    def private_fields_used(self) -> list[str]:
        return [name for name in ("email", "openid") if getattr(self, name)]


def user_query(filters: UserFilter) -> Select[User]:
    """The users matching `filters`, unsorted and unpaged (for lists and search).

    It applies no permission check: callers that take filters from a request
    call `check_filters` first.
    """
    stmt = select(User)
    if filters.full_name:
        stmt = stmt.where(contains(User.full_name, filters.full_name))
    if filters.email:
        stmt = stmt.where(contains(User.email, filters.email))
    if filters.openid:
        stmt = stmt.where(contains(User.openid, filters.openid))
    return stmt


def sees_private_fields(actor: Actor, user_id: int) -> bool:
    """True when `actor` may see the email, OpenID and last login of `user_id`."""
    return actor.is_superuser or actor.user_id == user_id


def check_filters(actor: Actor, filters: UserFilter) -> None:
    if actor.is_superuser:
        return
    used = filters.private_fields_used()
    if used:
        raise PermissionDenied(
            f"Only administrators may filter users by {' or '.join(used)}.",
            details=[
                {"field": name, "message": "only administrators may filter by this"}
                for name in used
            ],
        )


def sortable_for(actor: Actor) -> dict[str, InstrumentedAttribute[Any]]:
    return USER_SORT if actor.is_superuser else PUBLIC_USER_SORT


def list_users(
    session: Session, *, actor: Actor, filters: UserFilter, page: PageRequest
) -> Page[User]:
    check_filters(actor, filters)
    return paginate(
        session, user_query(filters), model=User, page=page, sortable=sortable_for(actor)
    )


def get_user(session: Session, *, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound.of("user", user_id)
    return user


def get_self(session: Session, *, actor: Actor) -> User:
    if actor.user_id is None:
        raise NotAuthenticated("Sign in (send a bearer token) to see your own account.")
    return get_user(session, user_id=actor.user_id)


def users_by_id(session: Session, *, user_ids: Collection[int]) -> dict[int, User]:
    """Several users in one query (for embedding users in other resources)."""
    if not user_ids:
        return {}
    rows = session.scalars(select(User).where(User.id.in_(set(user_ids))))
    return {user.id: user for user in rows}


def _check_email(session: Session, email: str, *, exclude_id: int | None = None) -> str:
    email = email.strip()
    local, at, domain = email.rpartition("@")
    if not at or not local or not domain or any(c.isspace() for c in email):
        raise InvalidInput.field("email", f"{email!r} is not an email address")
    stmt = select(User.id).where(func.lower(User.email) == email.lower())
    if exclude_id is not None:
        stmt = stmt.where(User.id != exclude_id)
    if session.scalar(stmt) is not None:
        raise Conflict(f"A user with email {email} already exists.", details={"field": "email"})
    return email


def create_user(session: Session, *, actor: Actor, data: UserIn) -> User:
    require_user(actor)
    if not actor.is_superuser:
        raise PermissionDenied("Only administrators may create users.")
    user = User(**data.model_dump())
    if data.email is not None:
        user.email = _check_email(session, data.email)
    session.add(user)
    session.flush()
    return user


def update_user(session: Session, *, actor: Actor, user_id: int, changes: dict[str, Any]) -> User:
    """Change a user. Users change their own name and affiliation; administrators change
    anything. Unchanged fields may be sent back as they were read, because
    StoryBoard clients PUT whole objects."""
    actor_id = require_user(actor)
    if not actor.is_superuser and actor_id != user_id:
        raise PermissionDenied("You may only change your own account.")
    user = get_user(session, user_id=user_id)
    current = {key: getattr(user, key) for key in UserIn.model_fields}
    writable = {key: value for key, value in changes.items() if key in UserIn.model_fields}
    merged = validate(UserIn, {**current, **writable})
    changed = {key: value for key, value in merged.model_dump().items() if value != current[key]}
    if not actor.is_superuser:
        refused = sorted(set(changed) - SELF_EDITABLE)
        if refused:
            raise PermissionDenied(
                f"Only administrators may change {', '.join(refused)}.",
                details=[
                    {"field": name, "message": "only administrators may change this"}
                    for name in refused
                ],
            )
    if changed.get("email") is not None:
        changed["email"] = _check_email(session, changed["email"], exclude_id=user.id)
    if (
        user.is_superuser
        and user.is_active
        and (changed.get("is_superuser") is False or changed.get("is_active") is False)
    ):
        _keep_one_superuser(session, leaving=user.id)
    for key, value in changed.items():
        setattr(user, key, value)
    session.flush()
    return user


def _keep_one_superuser(session: Session, *, leaving: int) -> None:
    others = session.scalar(
        select(func.count())
        .select_from(User)
        .where(User.is_superuser.is_(True), User.is_active.is_(True), User.id != leaving)
    )
    if not others:
        raise Conflict(
            "This is the last active administrator; make someone else an administrator first.",
            details={"field": "is_superuser"},
        )


def admin_create_user(
    session: Session,
    *,
    full_name: str,
    email: str,
    superuser: bool = False,
    with_token: bool = False,
) -> tuple[User, str | None]:
    """Create a user from the operator's command line (no actor: the operator
    has the database already)."""
    if not full_name.strip():
        raise InvalidInput.field("name", "must not be empty")
    user = User(
        full_name=full_name.strip(),
        email=_check_email(session, email),
        is_superuser=superuser,
        is_active=True,
    )
    session.add(user)
    session.flush()
    secret = None
    if with_token:
        _token, secret = auth.mint_token(session, user_id=user.id, name="created by admin CLI")
    return user, secret


def actor_by_email(session: Session, *, email: str) -> Actor:
    """The actor a command acts as (`--as EMAIL`): that user, writing."""
    user = get_user_by_email(session, email=email)
    return Actor(user_id=user.id, is_superuser=user.is_superuser, can_write=True)


def get_user_by_email(session: Session, *, email: str) -> User:
    user = session.scalars(
        select(User).where(func.lower(User.email) == email.strip().lower())
    ).one_or_none()
    if user is None:
        raise NotFound(f"No user has the email address {email}.", details={"field": "email"})
    return user


# Search

# Email addresses are private (see accounts/users.py): only administrators
# search them; everyone else searches names alone.
USERS = Searchable("users", User.id, "users_fts")
USER_NAMES = Searchable(
    "users", User.id, "users_fts", pg_column="name_search_fts", fts_columns=("full_name",)
)


def search_users(
    session: Session, *, actor: Actor, q: str | None, filters: UserFilter, page: PageRequest
) -> Page[User]:
    query = parse(q)
    check_filters(actor, filters)
    target = USERS if actor.is_superuser else USER_NAMES
    stmt = user_query(filters).where(target.matches(dialect_of(session), query))
    return paginate(session, stmt, model=User, page=page, sortable=sortable_for(actor))
