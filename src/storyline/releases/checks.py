"""Release management's rules on the tracker's writes (`storyline.kernel.checks`):
the feature and string freezes."""

from __future__ import annotations

from sqlalchemy.orm import Session

from storyline.kernel.checks import TaskWrite
from storyline.releases import freeze


def _freeze(session: Session, write: TaskWrite) -> None:
    freeze.check_task(session, write)


TASK_CHECKS = (_freeze,)
