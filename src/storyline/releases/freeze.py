"""Feature and string freezes, enforced on every task write.

From the day a cycle's feature freeze begins (that day included), a task of
a feature (a story that is not a bug) may neither be newly targeted to one
of the cycle's milestones nor be merged there, unless a granted exception in
force covers the story for that project and cycle. The string freeze holds
the same way for stories flagged as changing translatable strings, bug fixes
included: their strings reach translators all the same.

The rule runs as a write check (`storyline.kernel.checks`) inside the
tracker's task service, so every path that targets or merges a task (the
API, the pages, a code review event one day) meets it; the tracker never
imports releases. Moving a task between milestones of one cycle is not
targeting it anew.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete
from sqlalchemy.orm import Session

from storyline.errors import Conflict
from storyline.kernel.access import Actor, get_story, require_user
from storyline.kernel.checks import TaskWrite
from storyline.kernel.schema import utcnow
from storyline.releases import cycles, exceptions
from storyline.releases.models import (
    FREEZE_FEATURE,
    FREEZE_STRING,
    Cycle,
    ScheduleEntry,
    TranslatableChange,
)
from storyline.tracker.models import Story

MERGED = "merged"
# Where a person asks for an exception: the API's and the pages'.
REQUEST_PATH = "/v1/freeze_exceptions"
REQUEST_PAGE = "/exceptions/new"


def _cycle_of(session: Session, milestone_id: object) -> tuple[Cycle, ScheduleEntry] | None:
    if not isinstance(milestone_id, int):
        return None
    found = cycles.cycle_milestone(session, milestone_id)
    return None if found is None else (found[0], found[2])


def freezes_for(session: Session, story: Story) -> list[str]:
    """The freezes that hold this story's tasks."""
    held = [] if story.is_bug else [FREEZE_FEATURE]
    if session.get(TranslatableChange, story.id) is not None:
        held.append(FREEZE_STRING)
    return held


def check_task(session: Session, write: TaskWrite, *, today: dt.date | None = None) -> None:
    """Refuse a task write that targets a frozen story to a cycle, or merges
    it there, without an exception in force (Conflict, code
    `feature_frozen` or `string_frozen`)."""
    # Most task writes (a title, an assignee) touch nothing the freezes
    # hold: they cost no query here.
    if not any(
        write.changed(name) for name in ("milestone_id", "status", "story_id", "project_id")
    ):
        return
    target = _cycle_of(session, write.new.get("milestone_id"))
    if target is None:
        return
    cycle, entry = target
    before = (
        target
        if write.old and not write.changed("milestone_id")
        else _cycle_of(session, write.old.get("milestone_id"))
    )
    targeting = (
        before is None
        or before[0].id != cycle.id
        or write.changed("story_id")
        or write.changed("project_id")
    )
    merging = write.new.get("status") == MERGED and write.changed("status")
    if not (targeting or merging):
        return
    story = session.get(Story, write.new["story_id"])
    if story is None:  # the service has checked it exists
        return
    day = today or dt.datetime.now(dt.UTC).date()
    project_id = write.new["project_id"]
    for freeze in freezes_for(session, story):
        starts = cycles.freeze_starts(session, cycle.id, freeze)
        if starts is None or day < starts:
            continue
        allowed = exceptions.covering(
            session,
            story_id=story.id,
            project_id=project_id,
            cycle_id=cycle.id,
            freeze=freeze,
            today=day,
        )
        if allowed is None:
            raise _frozen(
                freeze=freeze,
                cycle=cycle,
                entry=entry,
                starts=starts,
                story_id=story.id,
                project_id=project_id,
                merging=merging and not targeting,
            )
        if merging:
            exceptions.note_merge(session, allowed, task_id=write.task_id)


def _frozen(
    *,
    freeze: str,
    cycle: Cycle,
    entry: ScheduleEntry,
    starts: dt.date,
    story_id: int,
    project_id: int,
    merging: bool,
) -> Conflict:
    what = "features" if freeze == FREEZE_FEATURE else "translatable strings"
    deed = f"merged in {cycle.name}" if merging else f"targeted to {entry.name}"
    return Conflict(
        f"{cycle.name} froze {what} on {starts.isoformat()}: this task of story {story_id} "
        f"cannot be {deed} without a {freeze} freeze exception. Ask the project's lead for "
        f"one: POST {REQUEST_PATH} with story_id {story_id}, project_id {project_id}, "
        f'cycle_id {cycle.id} and freeze "{freeze}", or on the page '
        f"{REQUEST_PAGE}?story_id={story_id}.",
        code=f"{freeze}_frozen",
        details={
            "freeze": freeze,
            "cycle_id": cycle.id,
            "cycle": cycle.name,
            "freeze_starts": starts.isoformat(),
            "story_id": story_id,
            "project_id": project_id,
            "request": REQUEST_PATH,
        },
    )


# Flagging stories that change translatable strings


def is_translatable(session: Session, *, actor: Actor, story_id: int) -> bool:
    get_story(session, actor=actor, story_id=story_id)
    return session.get(TranslatableChange, story_id) is not None


def flag(session: Session, *, actor: Actor, story_id: int) -> None:
    """Mark the story as changing translatable strings (anyone who may see
    and change it; flagging twice is flagging once)."""
    user_id = require_user(actor)
    get_story(session, actor=actor, story_id=story_id, for_update=True)
    if session.get(TranslatableChange, story_id) is None:
        session.add(TranslatableChange(story_id=story_id, flagged_by=user_id, created_at=utcnow()))
        session.flush()


def unflag(session: Session, *, actor: Actor, story_id: int) -> None:
    require_user(actor)
    get_story(session, actor=actor, story_id=story_id, for_update=True)
    session.execute(delete(TranslatableChange).where(TranslatableChange.story_id == story_id))
