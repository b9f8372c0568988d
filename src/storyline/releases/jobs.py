"""Release management's periodic jobs, run by the notifications worker on
every pass (`storyline.notifications.worker.Job`)."""

from __future__ import annotations

import datetime as dt

from storyline.config import Settings
from storyline.kernel.db import Database
from storyline.releases import exceptions


def _expire_exceptions(db: Database, settings: Settings, now: dt.datetime) -> None:
    # Cheap when nothing is due: one indexed query for granted exceptions
    # past their deadline.
    with db.write() as session:
        exceptions.expire(session, today=now.date())


JOBS = (_expire_exceptions,)
