"""The composition root: Settings in, everything the process needs out."""

from __future__ import annotations

from dataclasses import dataclass

from storyline.config import Settings
from storyline.db.engine import Database, make_engine


@dataclass(frozen=True)
class Container:
    settings: Settings
    db: Database


def build(settings: Settings) -> Container:
    return Container(settings=settings, db=Database(make_engine(settings)))
