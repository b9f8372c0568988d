"""Release management's periodic jobs, run by the notifications worker on
every pass (`storyline.notifications.worker.Job`)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from storyline.releases import exceptions


def _expire_exceptions(session: Session, now: dt.datetime) -> None:
    # Cheap when nothing is due: one indexed query for granted exceptions
    # past their deadline.
    exceptions.expire(session, today=now.date())


JOBS = (_expire_exceptions,)
