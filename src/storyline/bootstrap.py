"""The composition root: Settings in, everything the process needs out."""

from __future__ import annotations

from dataclasses import dataclass

from storyline.config import Settings
from storyline.kernel.db import Database, make_engine


@dataclass(frozen=True)
class Container:
    settings: Settings
    db: Database


def build(settings: Settings) -> Container:
    from storyline.notifications.fanout import on_event

    return Container(
        settings=settings, db=Database(make_engine(settings), event_listeners=[on_event])
    )
