"""Edit forms that do not overwrite a change their author never saw.

An edit form carries, in a hidden `version` input, the version of the fields
it was rendered with (`storyline.http.preconditions.form_version`: one short
hash per field). The handler checks it first in its write transaction, with
the row locked, against the fields as stored; when some differ, it raises
`PreconditionFailed` naming them, who changed them and their current values,
and the page shows the form again with what the person typed in it and the
current version, so that saving again is a decision, not an accident.
A form posted without a version (an old page) is not checked.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from storyline.accounts import users
from storyline.errors import PreconditionFailed
from storyline.http.preconditions import changed_fields
from storyline.kernel import timeline
from storyline.kernel.access import Actor

# Long values (a description) are cut in the message; the form shows them whole.
_SHOWN = 200


def _shown(value: Any) -> str:
    text = "(none)" if value in (None, "") else str(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


def _last_editor(session: Session, actor: Actor, events: timeline.EventFilter | None) -> str | None:
    # Objects whose changes go to the audit log rather than a timeline
    # (elections) pass no events: the message then names nobody.
    if events is None:
        return None
    author = timeline.last_author(session, actor=actor, filters=events)
    if author is None:
        return None
    return users.get_user(session, user_id=author).full_name or f"user {author}"


def check_version(
    session: Session,
    *,
    actor: Actor,
    version: str,
    current: Mapping[str, Any],
    what: str,
    labels: Mapping[str, str],
    events: timeline.EventFilter | None,
) -> None:
    """Refuse the change when the fields `current` (as stored now, shown to
    people as `labels`) differ from those the form's `version` was made of;
    the message names who made the latest of the timeline `events`."""
    changed = changed_fields(version, current)
    if not changed:
        return
    who = _last_editor(session, actor, events)
    by = f" by {who}" if who else ""
    now = "; ".join(f"{labels[name]} is now “{_shown(current[name])}”" for name in changed)
    raise PreconditionFailed(
        f"This {what} was changed{by} since you opened it: "
        f"{', '.join(labels[name] for name in changed)}. {now}. "
        "Your changes are still in the form: check them against the current values "
        "and save again to keep yours.",
        details={
            "changed": changed,
            "current": {name: current[name] for name in changed},
            "by": who,
        },
    )
