"""Timeline events, written by the services in the same transaction as the
change they describe, and the notifications they cause (same transaction)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from storyline.db.models import Event
from storyline.domain import events
from storyline.services import notifications


def record(
    session: Session,
    *,
    event_type: str,
    author_id: int | None,
    story_id: int | None = None,
    comment_id: int | None = None,
    worklist_id: int | None = None,
    board_id: int | None = None,
    info: dict[str, Any] | None = None,
) -> Event:
    if event_type not in events.ALL:
        raise ValueError(f"unknown event type {event_type!r}")
    event = Event(
        event_type=event_type,
        author_id=author_id,
        story_id=story_id,
        comment_id=comment_id,
        worklist_id=worklist_id,
        board_id=board_id,
        event_info=json.dumps(info, sort_keys=True) if info is not None else None,
    )
    session.add(event)
    session.flush()
    # The one place where changes reach subscribers and webhooks: every
    # service that changes something records its event here.
    notifications.on_event(session, event)
    return event
