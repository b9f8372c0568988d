"""Release management's periodic jobs, run by the notifications worker on
every pass (`storyline.notifications.worker.Job`)."""

from __future__ import annotations

import datetime as dt
import logging
import threading

from storyline.config import Settings
from storyline.kernel.db import Database
from storyline.releases import exceptions
from storyline.releases.velocity import mirrors

log = logging.getLogger(__name__)
# Held while a sync runs: one at a time per process.
_syncing = threading.Lock()


def _expire_exceptions(db: Database, settings: Settings, now: dt.datetime) -> None:
    # Cheap when nothing is due: one indexed query for granted exceptions
    # past their deadline.
    with db.write() as session:
        exceptions.expire(session, today=now.date())


def _sync_mirrors(db: Database, settings: Settings, now: dt.datetime) -> None:
    # git may wait on the network for minutes (a first clone of a large
    # project), and the worker's pass must go on delivering email and
    # webhooks meanwhile: the sync runs beside the pass, one at a time, and
    # opens its own short units of work. Cheap when nothing is due: one query.
    if not _syncing.acquire(blocking=False):
        return

    def run() -> None:
        try:
            mirrors.sync(db, settings, now)
        except Exception:
            log.exception("syncing the repositories' clones failed")
        finally:
            _syncing.release()

    threading.Thread(target=run, name="storyline-mirrors", daemon=True).start()


def wait_for_mirrors(timeout: float) -> bool:
    """Wait until no sync runs (for tests and the command line); False on timeout."""
    if not _syncing.acquire(timeout=timeout):
        return False
    _syncing.release()
    return True


JOBS = (_expire_exceptions, _sync_mirrors)
