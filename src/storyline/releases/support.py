"""Stable support: the policy, and the phase of every series on a date.

A series is in **development** until its cycle's release. From then on the
policy decides: each rule (a `SupportRule` row) says that a series enters a
phase on the date of an entry of the cycle `cycles_later` cycles after its
own. Without rules the default applies, OpenStack's shape:

- **maintained** from its own cycle's final release (0, final_release);
- **security** (security fixes only) from the next cycle's final release
  (1, final_release);
- **end of life** at the feature freeze of the cycle two later
  (2, feature_freeze): "series n-2 leaves support at the next cycle's
  feature freeze".

A rule whose cycle or entry is not scheduled yet has not happened; a series'
`support_override`, set by a release manager, wins over the policy. The
phase is the same for every series of a cycle (but for overrides), so it is
computed per cycle, once, from the list of cycles and their entries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import and_, delete, or_, select
from sqlalchemy.orm import Session

from storyline.accounts import audit
from storyline.errors import InvalidInput
from storyline.kernel.access import Actor, require_superuser
from storyline.kernel.paging import Page, PageRequest, paginate
from storyline.releases.cycles import list_cycles
from storyline.releases.models import (
    DEVELOPMENT,
    END_OF_LIFE,
    ENTRY_KINDS,
    EVENT,
    FEATURE_FREEZE,
    FINAL_RELEASE,
    MAINTAINED,
    NUMBERED_KINDS,
    SECURITY,
    SUPPORT_PHASES,
    Cycle,
    ScheduleEntry,
    Series,
    SupportRule,
)
from storyline.tracker.models import Project

# The phases a rule can start; development ends with the release itself.
RULE_PHASES = (MAINTAINED, SECURITY, END_OF_LIFE)
# How far ahead a rule may look: further than any real policy.
MAX_CYCLES_LATER = 10


class RuleIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    phase: str
    cycles_later: int = Field(ge=0, le=MAX_CYCLES_LATER)
    at_kind: str
    at_number: int | None = Field(default=None, ge=1, le=99)

    @model_validator(mode="after")
    def _consistent(self) -> RuleIn:
        if self.phase not in RULE_PHASES:
            raise ValueError(f"phase must be one of {', '.join(RULE_PHASES)}")
        if self.at_kind not in ENTRY_KINDS or self.at_kind == EVENT:
            kinds = ", ".join(kind for kind in ENTRY_KINDS if kind != EVENT)
            raise ValueError(f"at_kind must be one of {kinds}")
        if (self.at_kind in NUMBERED_KINDS) != (self.at_number is not None):
            raise ValueError("milestones and RCs take an at_number; the other kinds none")
        return self


class PolicyIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    # Empty: back to the default policy.
    rules: list[RuleIn] = Field(max_length=len(RULE_PHASES))

    @model_validator(mode="after")
    def _one_rule_per_phase(self) -> PolicyIn:
        phases = [rule.phase for rule in self.rules]
        if len(set(phases)) != len(phases):
            raise ValueError("give at most one rule per phase")
        return self


DEFAULT_POLICY = (
    RuleIn(phase=MAINTAINED, cycles_later=0, at_kind=FINAL_RELEASE),
    RuleIn(phase=SECURITY, cycles_later=1, at_kind=FINAL_RELEASE),
    RuleIn(phase=END_OF_LIFE, cycles_later=2, at_kind=FEATURE_FREEZE),
)


@dataclass(frozen=True)
class Policy:
    rules: list[RuleIn]
    # True when no rules are stored and the default applies.
    default: bool


def get_policy(session: Session) -> Policy:
    stored = list(session.scalars(select(SupportRule)))
    if not stored:
        return Policy(rules=list(DEFAULT_POLICY), default=True)
    rules = [
        RuleIn(phase=r.phase, cycles_later=r.cycles_later, at_kind=r.at_kind, at_number=r.at_number)
        for r in stored
    ]
    return Policy(rules=sorted(rules, key=lambda r: RULE_PHASES.index(r.phase)), default=False)


def set_policy(session: Session, *, actor: Actor, data: PolicyIn) -> None:
    """Replace the policy (superusers); no rules restores the default."""
    user_id = require_superuser(actor)
    session.execute(delete(SupportRule))
    for rule in data.rules:
        session.add(SupportRule(**rule.model_dump()))
    session.flush()
    audit.record(
        session,
        event_type=audit.SUPPORT_POLICY_CHANGED,
        user_id=user_id,
        rules=[rule.model_dump() for rule in data.rules],
    )


# Phases


@dataclass(frozen=True)
class CycleSupport:
    """Where a cycle's series stand on a date, and when each phase begins
    (None: the entry it begins at is not scheduled yet)."""

    cycle: Cycle
    phase: str
    begins: dict[str, dt.date | None]


def cycle_support(session: Session, *, today: dt.date | None = None) -> dict[int, CycleSupport]:
    """Cycle id -> its series' phase on `today` (UTC today by default)."""
    day = today or dt.datetime.now(dt.UTC).date()
    cycles = list_cycles(session)
    rules = get_policy(session).rules
    kinds = {rule.at_kind for rule in rules} | {FINAL_RELEASE}
    dates: dict[tuple[int, str, int | None], dt.date] = {}
    entries = session.execute(
        select(
            ScheduleEntry.cycle_id,
            ScheduleEntry.kind,
            ScheduleEntry.number,
            ScheduleEntry.starts_on,
        )
        .where(ScheduleEntry.kind.in_(kinds))
        .order_by(ScheduleEntry.starts_on.desc())
    )
    # Latest first, so that the earliest entry of a kind, written last, wins.
    for cycle_id, kind, number, starts_on in entries:
        dates[(cycle_id, kind, number)] = starts_on

    def date_of(cycle: Cycle, kind: str, number: int | None) -> dt.date | None:
        found = dates.get((cycle.id, kind, number))
        # A schedule without a final release entry releases on the cycle's date.
        return cycle.releases_on if found is None and kind == FINAL_RELEASE else found

    support = {}
    for index, cycle in enumerate(cycles):
        released = date_of(cycle, FINAL_RELEASE, None) or cycle.releases_on
        begins: dict[str, dt.date | None] = {DEVELOPMENT: cycle.starts_on, MAINTAINED: released}
        for rule in rules:
            later = index + rule.cycles_later
            begins[rule.phase] = (
                date_of(cycles[later], rule.at_kind, rule.at_number)
                if later < len(cycles)
                else None
            )
        phase = DEVELOPMENT
        if day >= released:
            phase = MAINTAINED
            for name in RULE_PHASES:
                begun = begins.get(name)
                if begun is not None and begun <= day:
                    phase = name
        support[cycle.id] = CycleSupport(cycle=cycle, phase=phase, begins=begins)
    return support


def phase_of(series: Series, support: dict[int, CycleSupport]) -> str:
    return series.support_override or support[series.cycle_id].phase


@dataclass(frozen=True)
class SeriesSupport:
    series: Series
    project: Project
    support: CycleSupport
    phase: str


def list_support(
    session: Session,
    *,
    page: PageRequest,
    phase: str | None = None,
    cycle_id: int | None = None,
    today: dt.date | None = None,
) -> Page[SeriesSupport]:
    """Every series (of one cycle, in one phase) with its phase on `today`.
    Projects and cycles are public, so everyone may read it."""
    support = cycle_support(session, today=today)
    stmt = select(Series).join(Project, Project.id == Series.project_id)
    if cycle_id is not None:
        stmt = stmt.where(Series.cycle_id == cycle_id)
    if phase is not None:
        in_phase = [cid for cid, found in support.items() if found.phase == phase]
        stmt = stmt.where(
            or_(
                Series.support_override == phase,
                and_(Series.support_override.is_(None), Series.cycle_id.in_(in_phase)),
            )
        )
    found = paginate(
        session,
        stmt,
        model=Series,
        page=page,
        sortable={"id": Series.id, "project": Project.name, "cycle": Series.cycle_id},
    )
    projects = _projects(session, [series.project_id for series in found.items])
    items = [
        SeriesSupport(
            series=series,
            project=projects[series.project_id],
            support=support[series.cycle_id],
            phase=phase_of(series, support),
        )
        for series in found.items
    ]
    return Page(items=items, total=found.total, request=found.request)


def _projects(session: Session, ids: Sequence[int]) -> dict[int, Project]:
    return {p.id: p for p in session.scalars(select(Project).where(Project.id.in_(set(ids))))}


def check_phase(value: str | None) -> str | None:
    """A phase filter: one of the phases, or None for all."""
    if value is not None and value not in SUPPORT_PHASES:
        raise InvalidInput.field("phase", f"must be one of {', '.join(SUPPORT_PHASES)}")
    return value
