"""Users: creation by the administrator CLI (more with the users resource)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storyline.db.models import User
from storyline.errors import Conflict, InvalidInput
from storyline.services import auth


def _check_email(session: Session, email: str) -> str:
    email = email.strip()
    if "@" not in email or email.startswith("@") or email.endswith("@"):
        raise InvalidInput.field("email", f"{email!r} is not an email address")
    taken = session.scalar(select(User.id).where(func.lower(User.email) == email.lower()))
    if taken is not None:
        raise Conflict(f"A user with email {email} already exists.", details={"field": "email"})
    return email


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
