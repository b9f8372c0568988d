"""Freeze exceptions: requests, advice, decisions, and the deadline job.

After a cycle's feature (or string) freeze a feature lands only under an
exception for its story, project and cycle. Anyone who may see the story
asks; the cycle's release managers and the project's leads advise in
comments; a project lead (or an administrator) grants with a deadline or
denies with a reason. A denied request is deferred to the next cycle, not
lost. A granted one whose deadline passes unmerged is deferred by `expire`
(run by the worker and `storyline exceptions expire`): its tasks move to the
next cycle's first milestone. Everything is recorded on the story's timeline,
so the story's subscribers hear of it through the usual notifications.

Exceptions are as visible as their story: lists, counts and the decision
context go through the gate.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from storyline.accounts import audit
from storyline.accounts.models import User
from storyline.domain import events
from storyline.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from storyline.kernel import roles, subscriptions, timeline
from storyline.kernel.access import Actor, get_story, require_user, story_visibility
from storyline.kernel.paging import Page, PageRequest, paginate
from storyline.kernel.schema import utcnow
from storyline.kernel.validation import Id
from storyline.releases import cycles
from storyline.releases.models import (
    CYCLE_ROLES,
    DEFERRED,
    DENIED,
    EXCEPTION_STATES,
    FREEZE_FEATURE,
    FREEZE_STRING,
    GRANTED,
    MERGED,
    PROJECT_LEAD,
    PROJECT_ROLES,
    RELEASE_MANAGER,
    REQUESTED,
    WITHDRAWN,
    Cycle,
    FreezeException,
    FreezeExceptionComment,
    Series,
    SeriesMilestone,
    TranslatableChange,
)
from storyline.tracker import tasks as task_service
from storyline.tracker.models import Project, Story, Task

# Requests still waiting or in force: one of these per story, project,
# cycle and freeze at a time.
OPEN_STATES = (REQUESTED, GRANTED)
# States of an exception that was granted at some point: what "how many has
# this project granted this cycle" counts.
GRANTED_STATES = (GRANTED, MERGED, DEFERRED)
# Task statuses that need no more work under an exception.
DONE_STATUSES = ("merged", "invalid")
MAX_TEXT = 10_000
MAX_COMMENTS = 500

EXCEPTION_SORT = {
    "id": FreezeException.id,
    "created_at": FreezeException.created_at,
    "updated_at": FreezeException.updated_at,
    "state": FreezeException.state,
    "story_id": FreezeException.story_id,
    "project_id": FreezeException.project_id,
}


class ExceptionIn(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    story_id: Id
    project_id: Id
    # The current cycle (the earliest not yet released) when left out.
    cycle_id: Id | None = None
    freeze: Literal["feature", "string"] = "feature"
    rationale: str = Field(min_length=1, max_length=MAX_TEXT)
    self_contained: bool = False
    days_to_merge: int = Field(ge=1, le=60)
    risk: Literal["low", "medium", "high"]


class CommentIn(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    content: str = Field(min_length=1, max_length=MAX_TEXT)
    advice: Literal["grant", "deny"] | None = None


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    decision: Literal["grant", "deny"]
    reason: str = Field(min_length=1, max_length=MAX_TEXT)
    # The last day a granted exception may merge on; required to grant.
    deadline: dt.date | None = None

    @model_validator(mode="after")
    def _deadline(self) -> DecisionIn:
        if self.decision == "grant" and self.deadline is None:
            raise ValueError("deadline is required to grant an exception")
        return self


@dataclass(frozen=True, kw_only=True)
class ExceptionFilter:
    """One definition of "which exceptions", for the API, the pages and the CLI."""

    cycle_id: int | None = None
    project_id: int | None = None
    story_id: int | None = None
    state: str | None = None

    def __post_init__(self) -> None:
        if self.state is not None and self.state not in EXCEPTION_STATES:
            raise InvalidInput.field(
                "state", f"{self.state!r} is not a state; use {', '.join(EXCEPTION_STATES)}"
            )


@dataclass(frozen=True, kw_only=True)
class Context:
    """What the lead weighs: how deep into the freeze the cycle is (negative
    before it starts; None when the schedule has no such freeze) and how
    many exceptions this project already granted in this cycle."""

    freeze_starts: dt.date | None
    days_into_freeze: int | None
    project_granted: int


@dataclass(frozen=True, kw_only=True)
class ExceptionView:
    exception: FreezeException
    story_title: str
    project_name: str
    cycle_name: str
    deferred_to: str | None
    comments: list[FreezeExceptionComment]
    context: Context


# Reading


def _today(today: dt.date | None) -> dt.date:
    return today or dt.datetime.now(dt.UTC).date()


def exception_query(actor: Actor, filters: ExceptionFilter) -> Select[FreezeException]:
    """The exceptions on stories `actor` may see that match `filters`."""
    stmt = select(FreezeException)
    if not actor.is_superuser:
        stmt = stmt.join(Story, Story.id == FreezeException.story_id).where(story_visibility(actor))
    if filters.cycle_id is not None:
        stmt = stmt.where(FreezeException.cycle_id == filters.cycle_id)
    if filters.project_id is not None:
        stmt = stmt.where(FreezeException.project_id == filters.project_id)
    if filters.story_id is not None:
        stmt = stmt.where(FreezeException.story_id == filters.story_id)
    if filters.state is not None:
        stmt = stmt.where(FreezeException.state == filters.state)
    return stmt


def list_exceptions(
    session: Session, *, actor: Actor, filters: ExceptionFilter, page: PageRequest
) -> Page[FreezeException]:
    return paginate(
        session,
        exception_query(actor, filters),
        model=FreezeException,
        page=page,
        sortable=EXCEPTION_SORT,
    )


def load_exception(
    session: Session, *, actor: Actor, exception_id: int, for_update: bool = False
) -> FreezeException:
    """An exception through the gate: one on a story the actor may not see
    is as missing as one that does not exist."""
    stmt = exception_query(actor, ExceptionFilter()).where(FreezeException.id == exception_id)
    if for_update:
        stmt = stmt.with_for_update(of=FreezeException)
    found = session.scalars(stmt).one_or_none()
    if found is None:
        raise NotFound.of("freeze exception", exception_id)
    return found


def context(
    session: Session, *, actor: Actor, exception: FreezeException, today: dt.date | None = None
) -> Context:
    starts = cycles.freeze_starts(session, exception.cycle_id, exception.freeze)
    granted = session.scalar(
        exception_query(
            actor, ExceptionFilter(cycle_id=exception.cycle_id, project_id=exception.project_id)
        )
        .where(FreezeException.state.in_(GRANTED_STATES))
        .with_only_columns(func.count(FreezeException.id))
    )
    return Context(
        freeze_starts=starts,
        days_into_freeze=None if starts is None else (_today(today) - starts).days,
        project_granted=granted or 0,
    )


def get_exception(
    session: Session, *, actor: Actor, exception_id: int, today: dt.date | None = None
) -> ExceptionView:
    exception = load_exception(session, actor=actor, exception_id=exception_id)
    return views(session, actor=actor, found=[exception], today=today, full=True)[0]


def views(
    session: Session,
    *,
    actor: Actor,
    found: Sequence[FreezeException],
    today: dt.date | None = None,
    full: bool = False,
) -> list[ExceptionView]:
    """The exceptions with the names they show, loaded together; `full` adds
    each one's comments and decision context (the single-exception page)."""
    story_ids = {e.story_id for e in found}
    project_ids = {e.project_id for e in found}
    cycle_ids = {e.cycle_id for e in found} | {
        e.deferred_to_cycle_id for e in found if e.deferred_to_cycle_id is not None
    }
    titles = _names(session, Story.id, Story.title, story_ids)
    projects = _names(session, Project.id, Project.name, project_ids)
    cycle_names = _names(session, Cycle.id, Cycle.name, cycle_ids)
    result = []
    for exception in found:
        comments: list[FreezeExceptionComment] = []
        ctx = Context(freeze_starts=None, days_into_freeze=None, project_granted=0)
        if full:
            comments = list(
                session.scalars(
                    select(FreezeExceptionComment)
                    .where(FreezeExceptionComment.exception_id == exception.id)
                    .order_by(FreezeExceptionComment.id)
                )
            )
            ctx = context(session, actor=actor, exception=exception, today=today)
        deferred = exception.deferred_to_cycle_id
        result.append(
            ExceptionView(
                exception=exception,
                story_title=titles[exception.story_id],
                project_name=projects[exception.project_id],
                cycle_name=cycle_names[exception.cycle_id],
                deferred_to=None if deferred is None else cycle_names.get(deferred),
                comments=comments,
                context=ctx,
            )
        )
    return result


def _names(session: Session, key: Any, name: Any, ids: set[int]) -> dict[int, str]:
    return {row[0]: row[1] for row in session.execute(select(key, name).where(key.in_(ids)))}


def covering(
    session: Session, *, story_id: int, project_id: int, cycle_id: int, freeze: str, today: dt.date
) -> FreezeException | None:
    """The granted exception in force for this story, project, cycle and
    freeze on `today` (its deadline day included), if any."""
    return session.scalar(
        select(FreezeException).where(
            FreezeException.story_id == story_id,
            FreezeException.project_id == project_id,
            FreezeException.cycle_id == cycle_id,
            FreezeException.freeze == freeze,
            FreezeException.state == GRANTED,
            FreezeException.deadline >= today,
        )
    )


def targeted_tasks(session: Session, exception: FreezeException) -> list[Task]:
    """The story's tasks for the project that are targeted to the cycle."""
    return list(
        session.scalars(
            select(Task)
            .join(SeriesMilestone, SeriesMilestone.milestone_id == Task.milestone_id)
            .join(Series, Series.id == SeriesMilestone.series_id)
            .where(
                Task.story_id == exception.story_id,
                Task.project_id == exception.project_id,
                Series.cycle_id == exception.cycle_id,
            )
            .order_by(Task.id)
        )
    )


def _unfinished(tasks: Sequence[Task], *, besides: int | None = None) -> list[Task]:
    return [t for t in tasks if t.status not in DONE_STATUSES and t.id != besides]


def cycle_projects(session: Session, cycle_id: int) -> list[tuple[int, str]]:
    """(id, name) of the projects taking part in the cycle, by name: the
    project filter of the cycle's requests."""
    rows = session.execute(
        select(Project.id, Project.name)
        .join(Series, Series.project_id == Project.id)
        .where(Series.cycle_id == cycle_id)
        .order_by(Project.name)
    )
    return [(row[0], row[1]) for row in rows]


@dataclass(frozen=True, kw_only=True)
class RequestChoices:
    """What the request form offers for a story: the projects of its tasks
    and the cycles, with the one under development first chosen."""

    story: Story
    projects: list[tuple[int, str]]
    cycles: list[Cycle]
    current_id: int | None
    translatable: bool


def request_choices(
    session: Session, *, actor: Actor, story_id: int, today: dt.date | None = None
) -> RequestChoices:
    story = get_story(session, actor=actor, story_id=story_id)
    projects = session.execute(
        select(Project.id, Project.name)
        .where(Project.id.in_(select(Task.project_id).where(Task.story_id == story.id)))
        .order_by(Project.name)
    ).all()
    # The form proposes the earliest unreleased cycle one of the story's
    # projects takes part in: an exception is asked of a project's cycle.
    current = session.scalar(
        select(Cycle)
        .join(Series, Series.cycle_id == Cycle.id)
        .where(
            Series.project_id.in_([row[0] for row in projects]),
            Cycle.releases_on >= _today(today),
        )
        .order_by(Cycle.position)
        .limit(1)
    ) or cycles.current_cycle(session, _today(today))
    return RequestChoices(
        story=story,
        projects=[(row[0], row[1]) for row in projects],
        cycles=cycles.list_cycles(session),
        current_id=None if current is None else current.id,
        translatable=session.get(TranslatableChange, story.id) is not None,
    )


# Writing


def _payload(session: Session, exception: FreezeException) -> dict[str, Any]:
    cycle = session.get(Cycle, exception.cycle_id)
    project = session.get(Project, exception.project_id)
    # Both are kept by foreign keys.
    assert cycle is not None
    assert project is not None
    return {
        "exception_id": exception.id,
        "freeze": exception.freeze,
        "cycle_name": cycle.name,
        "project_id": project.id,
        "project_name": project.name,
    }


def _record(
    session: Session,
    exception: FreezeException,
    event_type: str,
    author_id: int | None,
    **info: Any,
) -> None:
    timeline.record(
        session,
        event_type=event_type,
        author_id=author_id,
        story_id=exception.story_id,
        info={**_payload(session, exception), **info},
    )


def request(
    session: Session, *, actor: Actor, data: ExceptionIn, today: dt.date | None = None
) -> FreezeException:
    """Ask for an exception; the requester follows the story from then on."""
    user_id = require_user(actor)
    try:
        # The lock makes "one open request at a time" hold under concurrent
        # requests for the same story.
        story = get_story(session, actor=actor, story_id=data.story_id, for_update=True)
    except NotFound:
        raise InvalidInput.field("story_id", f"no story with id {data.story_id}") from None
    if data.cycle_id is None:
        cycle = cycles.current_cycle(session, _today(today))
        if cycle is None:
            raise InvalidInput.field("cycle_id", "no cycle is under development; name one")
    else:
        cycle = session.get(Cycle, data.cycle_id)
        if cycle is None:
            raise InvalidInput.field("cycle_id", f"no cycle with id {data.cycle_id}")
    if cycles.series_of(session, cycle.id, data.project_id) is None:
        raise InvalidInput.field(
            "project_id", f"project {data.project_id} does not take part in cycle {cycle.name}"
        )
    has_task = session.scalar(
        select(Task.id)
        .where(Task.story_id == story.id, Task.project_id == data.project_id)
        .limit(1)
    )
    if has_task is None:
        raise InvalidInput.field(
            "project_id", f"story {story.id} has no task in project {data.project_id}"
        )
    if data.freeze == FREEZE_FEATURE and story.is_bug:
        raise InvalidInput.field("freeze", "bug fixes are not held by the feature freeze")
    if data.freeze == FREEZE_STRING and session.get(TranslatableChange, story.id) is None:
        raise InvalidInput.field(
            "freeze",
            f"story {story.id} is not flagged as changing translatable strings "
            f"(PUT /v1/stories/{story.id}/translatable)",
        )
    open_one = session.scalar(
        select(FreezeException.id).where(
            FreezeException.story_id == story.id,
            FreezeException.project_id == data.project_id,
            FreezeException.cycle_id == cycle.id,
            FreezeException.freeze == data.freeze,
            FreezeException.state.in_(OPEN_STATES),
        )
    )
    if open_one is not None:
        raise Conflict(
            f"Freeze exception {open_one} is already open for this story, project and cycle.",
            details={"id": open_one},
        )
    exception = FreezeException(
        cycle_id=cycle.id,
        story_id=story.id,
        project_id=data.project_id,
        freeze=data.freeze,
        requester_id=user_id,
        rationale=data.rationale,
        self_contained=data.self_contained,
        days_to_merge=data.days_to_merge,
        risk=data.risk,
        state=REQUESTED,
    )
    session.add(exception)
    session.flush()
    _record(session, exception, events.FREEZE_EXCEPTION_REQUESTED, user_id)
    if (
        subscriptions.subscription_to(session, actor=actor, kind="story", target_id=story.id)
        is None
    ):
        subscriptions.follow(session, user_id=user_id, kind="story", target_id=story.id)
    return exception


def may_advise(session: Session, *, actor: Actor, exception: FreezeException) -> bool:
    """The cycle's release managers and the project's leads advise."""
    return roles.held(
        session, CYCLE_ROLES, actor=actor, object_id=exception.cycle_id, role=RELEASE_MANAGER
    ) or may_decide(session, actor=actor, exception=exception)


def may_decide(session: Session, *, actor: Actor, exception: FreezeException) -> bool:
    return roles.held(
        session, PROJECT_ROLES, actor=actor, object_id=exception.project_id, role=PROJECT_LEAD
    )


def comment(
    session: Session, *, actor: Actor, exception_id: int, data: CommentIn
) -> FreezeExceptionComment:
    user_id = require_user(actor)
    exception = load_exception(session, actor=actor, exception_id=exception_id, for_update=True)
    if not may_advise(session, actor=actor, exception=exception):
        raise PermissionDenied(
            "Only the cycle's release managers and the project's leads may advise on it."
        )
    if data.advice is not None and exception.state != REQUESTED:
        raise Conflict(f"This request is {exception.state}: there is nothing left to advise.")
    count = session.scalar(
        select(func.count()).where(FreezeExceptionComment.exception_id == exception.id)
    )
    if (count or 0) >= MAX_COMMENTS:
        raise InvalidInput(f"A request holds at most {MAX_COMMENTS} comments.")
    note = FreezeExceptionComment(
        exception_id=exception.id, author_id=user_id, content=data.content, advice=data.advice
    )
    session.add(note)
    session.flush()
    _record(session, exception, events.FREEZE_EXCEPTION_COMMENTED, user_id, advice=data.advice)
    return note


def decide(
    session: Session,
    *,
    actor: Actor,
    exception_id: int,
    data: DecisionIn,
    today: dt.date | None = None,
) -> FreezeException:
    """Grant (until a deadline after today) or deny (deferring to the next
    cycle); only a lead of the project, or an administrator."""
    exception = load_exception(session, actor=actor, exception_id=exception_id, for_update=True)
    user_id = roles.require(
        session,
        PROJECT_ROLES,
        actor=actor,
        object_id=exception.project_id,
        role=PROJECT_LEAD,
        to="decide its freeze exceptions",
    )
    if exception.state != REQUESTED:
        raise Conflict(f"This request is {exception.state} already.")
    if data.decision == "grant":
        assert data.deadline is not None  # the model requires it
        if data.deadline <= _today(today):
            raise InvalidInput.field("deadline", "must be a day after today")
        exception.state = GRANTED
        exception.deadline = data.deadline
    else:
        cycle = session.get(Cycle, exception.cycle_id)
        assert cycle is not None
        later = cycles.next_cycle(session, cycle)
        exception.state = DENIED
        exception.deferred_to_cycle_id = None if later is None else later.id
    exception.decider_id = user_id
    exception.decided_at = utcnow()
    exception.decision_reason = data.reason
    session.flush()
    deferred_to = None
    if exception.deferred_to_cycle_id is not None:
        deferred_to = _cycle_name(session, exception.deferred_to_cycle_id)
    _record(
        session,
        exception,
        events.FREEZE_EXCEPTION_DECIDED,
        user_id,
        decision=exception.state,
        reason=data.reason,
        deadline=None if exception.deadline is None else exception.deadline.isoformat(),
        deferred_to=deferred_to,
    )
    audit.record(
        session,
        event_type=audit.FREEZE_EXCEPTION_DECIDED,
        user_id=user_id,
        exception_id=exception.id,
        decision=exception.state,
    )
    return exception


def withdraw(session: Session, *, actor: Actor, exception_id: int) -> FreezeException:
    user_id = require_user(actor)
    exception = load_exception(session, actor=actor, exception_id=exception_id, for_update=True)
    if exception.requester_id != user_id and not actor.is_superuser:
        raise PermissionDenied("Only the person who asked may withdraw the request.")
    if exception.state not in OPEN_STATES:
        raise Conflict(f"This request is {exception.state}: it cannot be withdrawn.")
    exception.state = WITHDRAWN
    session.flush()
    _record(session, exception, events.FREEZE_EXCEPTION_WITHDRAWN, user_id)
    return exception


def _cycle_name(session: Session, cycle_id: int) -> str:
    cycle = session.get(Cycle, cycle_id)
    assert cycle is not None
    return cycle.name


def note_merge(session: Session, exception: FreezeException, *, task_id: int | None) -> None:
    """A task under a granted exception is being merged: when it is the last
    of the story's tasks for that project and cycle, the exception is done."""
    if not _unfinished(targeted_tasks(session, exception), besides=task_id):
        exception.state = MERGED
        session.flush()


# The deadline job


@dataclass(frozen=True)
class Expired:
    deferred: list[int]
    merged: list[int]


def expire(session: Session, *, today: dt.date | None = None) -> Expired:
    """Settle granted exceptions whose deadline passed (the deadline day
    itself is still allowed): those whose tasks in the cycle all merged are
    done; the others (untargeted ones included) are deferred
    to the next cycle, their unfinished tasks retargeted to that cycle's
    first milestone for the project (or left untargeted when the project has
    no series there), with an event on the story."""
    day = _today(today)
    due = list(
        session.scalars(
            select(FreezeException)
            .where(FreezeException.state == GRANTED, FreezeException.deadline < day)
            .order_by(FreezeException.id)
            .with_for_update()
        )
    )
    result = Expired(deferred=[], merged=[])
    for exception in due:
        targeted = targeted_tasks(session, exception)
        unfinished = _unfinished(targeted)
        if targeted and not unfinished:
            exception.state = MERGED
            result.merged.append(exception.id)
            continue
        cycle = session.get(Cycle, exception.cycle_id)
        assert cycle is not None
        later = cycles.next_cycle(session, cycle)
        exception.state = DEFERRED
        exception.deferred_to_cycle_id = None if later is None else later.id
        session.flush()
        author = _job_author(session, exception)
        if author is not None:
            target = _first_milestone(session, later, exception.project_id)
            for task in unfinished:
                task_service.update_task(
                    session,
                    actor=author,
                    task_id=task.id,
                    changes={"milestone_id": None}
                    if target is None
                    else {"milestone_id": target[1], "branch_id": target[0]},
                )
        _record(
            session,
            exception,
            events.FREEZE_EXCEPTION_DEFERRED,
            exception.decider_id,
            deferred_to=None if later is None else later.name,
        )
        result.deferred.append(exception.id)
    session.flush()
    return result


def _job_author(session: Session, exception: FreezeException) -> Actor | None:
    """Who the job moves tasks as: the lead whose deadline passed, with an
    administrator's reach, since the move is theirs by decision and must not
    fail on a story's access list changed since. None when that account is
    gone: the tasks then stay where they are, and the event still says so."""
    if exception.decider_id is None or session.get(User, exception.decider_id) is None:
        return None
    return Actor(user_id=exception.decider_id, is_superuser=True, can_write=True)


def _first_milestone(
    session: Session, cycle: Cycle | None, project_id: int
) -> tuple[int, int] | None:
    """(branch id, tracker milestone id) of the cycle's first milestone for
    the project's series there, if both exist."""
    if cycle is None:
        return None
    series = cycles.series_of(session, cycle.id, project_id)
    first = next(iter(cycles.milestones(session, cycle.id)), None)
    if series is None or first is None:
        return None
    link = session.get(SeriesMilestone, (series.id, first.id))
    return None if link is None else (series.branch_id, link.milestone_id)
