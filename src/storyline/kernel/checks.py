"""Write checks: rules of one subsystem on the writes of another.

A subsystem that must be able to refuse another's change (release
management refusing a feature merged after feature freeze) cannot be
imported by the service that makes the change: the tracker knows nothing of
releases. Instead the service describes the change it is about to apply and
runs the checks of its unit of work, which the composition root collected
from every subsystem's optional `checks` module (`TASK_CHECKS`) and gave the
database, as it gives it the timeline's listeners. A check raises a
`StorylineError` to refuse; the unit of work then rolls back.

Checks run inside the unit of work, after the service has validated the
change and locked what it locks, and before anything is written, so what a
check reads is what the change applies to.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy.orm import Session

# Where a write unit of work keeps its checks (`storyline.kernel.db`).
WRITE_CHECKS: Final = "storyline.write_checks"


@dataclass(frozen=True, kw_only=True)
class TaskWrite:
    """A task about to be created or changed. `old` and `new` hold the
    task's fields (story_id, project_id, branch_id, milestone_id, status and
    the others the service writes) before and after; `old` is empty for a
    new task."""

    author_id: int
    task_id: int | None
    old: Mapping[str, Any]
    new: Mapping[str, Any]

    def changed(self, name: str) -> bool:
        return not self.old or self.old.get(name) != self.new.get(name)


TaskCheck = Callable[[Session, TaskWrite], None]


@dataclass(frozen=True)
class WriteChecks:
    """Every subsystem's checks, by the kind of write they see."""

    tasks: tuple[TaskCheck, ...] = field(default=())


def check_task(session: Session, write: TaskWrite) -> None:
    """Run the unit of work's task checks; the first to refuse raises."""
    checks: WriteChecks = session.info.get(WRITE_CHECKS, WriteChecks())
    for check in checks.tasks:
        check(session, write)
