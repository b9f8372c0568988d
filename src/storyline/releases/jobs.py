"""Release management's periodic jobs, run by the notifications worker on
every pass (`storyline.notifications.worker.Job`)."""

from __future__ import annotations

import datetime as dt

from storyline.config import Settings
from storyline.kernel.db import Database
from storyline.releases import exceptions
from storyline.releases.velocity import mirrors


def _expire_exceptions(db: Database, settings: Settings, now: dt.datetime) -> None:
    # Cheap when nothing is due: one indexed query for granted exceptions
    # past their deadline.
    with db.write() as session:
        exceptions.expire(session, today=now.date())


def _sync_mirrors(db: Database, settings: Settings, now: dt.datetime) -> None:
    # Cheap when nothing is due: one query. It opens its own short units of
    # work, since git may wait on the network for minutes.
    mirrors.sync(db, settings, now)


JOBS = (_expire_exceptions, _sync_mirrors)
