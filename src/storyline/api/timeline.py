"""Events as the caller may read them, for every endpoint that returns them
(the timeline, a story's events, the subscription feed)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from pydantic import BaseModel
from sqlalchemy.orm import Session

from storyline.kernel import timeline
from storyline.kernel.access import Actor

M = TypeVar("M", bound=BaseModel)


def as_read(
    session: Session, *, actor: Actor, model: type[M], rows: Sequence[timeline.Stored]
) -> list[M]:
    """`rows` in the shape of `model`, each `event_info` with what it names
    that `actor` may not see blanked (`timeline.infos_for`)."""
    infos = timeline.infos_for(session, actor=actor, events=rows)
    return [
        model.model_validate(row).model_copy(update={"event_info": info})
        for row, info in zip(rows, infos, strict=True)
    ]
