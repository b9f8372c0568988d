"""The elections' periodic jobs, run by the notifications worker on every
pass (`storyline.notifications.worker.Job`): open drafts whose time has
come, remind the electorate the day before the close, close and count.

Each is one indexed query when nothing is due, and each election is handled
in its own unit of work, so one that cannot open (an empty electorate) does
not hold back the others.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select

from storyline.config import Settings
from storyline.errors import StorylineError
from storyline.kernel.db import Database
from storyline.voting import ballots, elections, notices
from storyline.voting.models import DRAFT, OPEN, Election

log = logging.getLogger(__name__)
REMINDER = dt.timedelta(days=1)


def _due(db: Database, *conditions: object) -> list[int]:
    with db.read() as session:
        return list(session.scalars(select(Election.id).where(*conditions)))  # type: ignore[arg-type]


def _open_due(db: Database, settings: Settings, now: dt.datetime) -> None:
    # Drafts are written by officials until their `opens_at`; at that time
    # the worker opens them as they are.
    for election_id in _due(db, Election.state == DRAFT, Election.opens_at <= now):
        try:
            with db.write() as session:
                election = session.get(Election, election_id)
                if election is not None and election.state == DRAFT:
                    elections.open_election(session, actor=None, election=election, now=now)
        except StorylineError as error:
            log.warning("election %s could not open: %s", election_id, error.message)


def _remind(db: Database, settings: Settings, now: dt.datetime) -> None:
    for election_id in _due(
        db,
        Election.state == OPEN,
        Election.reminded.is_(False),
        Election.closes_at <= now + REMINDER,
        Election.closes_at > now,
    ):
        with db.write() as session:
            election = session.get(Election, election_id)
            if election is not None and not election.reminded:
                election.reminded = True
                # Voting that lasts a day or less has nothing to remind of.
                if election.closes_at - election.opens_at > REMINDER:
                    notices.closing_soon(session, election)


def _close_due(db: Database, settings: Settings, now: dt.datetime) -> None:
    for election_id in _due(db, Election.state == OPEN, Election.closes_at <= now):
        with db.write() as session:
            ballots.close(session, actor=None, election_id=election_id, now=now)


JOBS = (_open_due, _remind, _close_due)
