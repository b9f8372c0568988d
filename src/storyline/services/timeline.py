"""Timeline events, written by the services in the same transaction as the
change they describe."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from storyline.db.models import Event
from storyline.domain import events


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
    return event
