"""User preferences: a flat, typed key/value store per user.

Values keep their JSON type. StoryBoard stored every value as text and its
email worker compared the text with "true", so a client that sent the JSON
boolean `true` silently got no email; here a boolean is stored as a boolean
and read back as one.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from storyline.accounts.models import UserPreference
from storyline.accounts.users import get_user
from storyline.errors import InvalidInput, PermissionDenied
from storyline.kernel.access import Actor, require_user
from storyline.kernel.db import PREPARED

PrefValue = str | bool | int | float

KEY_MAX = 100
STRING_MAX = 10_000
# Enough for any client's settings; a bound keeps one account from filling
# the table.
KEYS_MAX = 200
INT_MIN, INT_MAX = -(2**63), 2**63 - 1


def _check_access(actor: Actor, user_id: int) -> None:
    if actor.user_id is None:
        # require_user raises the right "sign in" error for anonymous callers.
        require_user(actor)
    if not actor.is_superuser and actor.user_id != user_id:
        raise PermissionDenied("You may only see and change your own preferences.")


def get_preferences(session: Session, *, actor: Actor, user_id: int) -> dict[str, PrefValue]:
    _check_access(actor, user_id)
    get_user(session, user_id=user_id)
    rows = session.scalars(
        select(UserPreference).where(UserPreference.user_id == user_id).order_by(UserPreference.key)
    )
    return {row.key: _decode(row.value, row.type) for row in rows}


def values_of(
    session: Session, *, user_ids: Iterable[int], keys: Iterable[str]
) -> dict[int, dict[str, PrefValue]]:
    """Some preferences of many users in one query, for the services that act
    on others' behalf (notifications): no access check, no missing-user error.
    Users with none of the keys set are left out."""
    wanted_users, wanted_keys = list(user_ids), list(keys)
    result: dict[int, dict[str, PrefValue]] = {}
    if not wanted_users or not wanted_keys:
        return result
    rows = session.execute(_VALUES_OF, {"user_ids": wanted_users, "keys": wanted_keys})
    for user_id, key, value, kind in rows:
        result.setdefault(user_id, {})[key] = _decode(value, kind)
    return result


# Every write that notifies someone runs this: built once, and prepared on
# PostgreSQL (index probes whatever the values).
_VALUES_OF = (
    select(UserPreference.user_id, UserPreference.key, UserPreference.value, UserPreference.type)
    .where(
        UserPreference.user_id.in_(bindparam("user_ids", expanding=True)),
        UserPreference.key.in_(bindparam("keys", expanding=True)),
    )
    .execution_options(**{PREPARED: True})
)


def set_preferences(
    session: Session, *, actor: Actor, user_id: int, changes: Mapping[str, Any]
) -> dict[str, PrefValue]:
    """Merge `changes` into the stored preferences; a null value deletes its
    key. Answers the whole, updated dictionary."""
    require_user(actor)
    _check_access(actor, user_id)
    get_user(session, user_id=user_id)
    encoded = _validate(changes)
    rows = {
        row.key: row
        for row in session.scalars(select(UserPreference).where(UserPreference.user_id == user_id))
    }
    removed = [key for key, value in encoded.items() if value is None and key in rows]
    if removed:
        session.execute(
            delete(UserPreference).where(
                UserPreference.user_id == user_id, UserPreference.key.in_(removed)
            )
        )
    for key, pair in encoded.items():
        if pair is None:
            continue
        text, kind = pair
        row = rows.get(key)
        if row is None:
            session.add(UserPreference(user_id=user_id, key=key, value=text, type=kind))
        else:
            row.value, row.type = text, kind
    kept = {key for key in rows if key not in removed} | {
        key for key, pair in encoded.items() if pair is not None
    }
    if len(kept) > KEYS_MAX:
        raise InvalidInput(
            f"A user may keep at most {KEYS_MAX} preferences.",
            details=[{"field": "body", "message": f"at most {KEYS_MAX} keys"}],
        )
    session.flush()
    return get_preferences(session, actor=actor, user_id=user_id)


def _validate(changes: Mapping[str, Any]) -> dict[str, tuple[str, str] | None]:
    if not isinstance(changes, Mapping):
        raise InvalidInput.field("body", "must be a JSON object of key → value")
    errors: list[dict[str, str]] = []
    encoded: dict[str, tuple[str, str] | None] = {}
    for key, value in changes.items():
        if not isinstance(key, str) or not key.strip():
            errors.append({"field": str(key), "message": "a key must not be empty"})
            continue
        if len(key) > KEY_MAX:
            errors.append({"field": key, "message": f"a key may have at most {KEY_MAX} characters"})
            continue
        try:
            encoded[key] = None if value is None else _encode(value)
        except ValueError as error:
            errors.append({"field": key, "message": str(error)})
    if errors:
        message = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        raise InvalidInput(message, details=errors)
    return encoded


def _encode(value: Any) -> tuple[str, str]:
    # bool before int: in Python a bool is an int.
    if isinstance(value, bool):
        return ("true" if value else "false"), "bool"
    if isinstance(value, int):
        if not INT_MIN <= value <= INT_MAX:
            raise ValueError("a whole number must fit in 64 bits")
        return str(value), "int"
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("a number must be finite")
        return repr(value), "float"
    if isinstance(value, str):
        if len(value) > STRING_MAX:
            raise ValueError(f"a text value may have at most {STRING_MAX} characters")
        return value, "string"
    raise ValueError(
        "a value must be a string, a number, true or false (or null to delete the key)"
    )


def _decode(text: str | None, kind: str) -> PrefValue:
    text = text or ""
    if kind == "bool":
        # StoryBoard wrote Python's "True"/"False"; imported rows keep working.
        return text.strip().lower() in {"true", "1", "yes", "on"}
    try:
        if kind == "int":
            return int(text)
        if kind == "float":
            return float(text)
    except ValueError:
        # A malformed imported row is shown as the text it holds rather
        # than failing the whole dictionary.
        return text
    return text
