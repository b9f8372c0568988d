"""The cycles core: schedules, series and the tracker milestones that stand
for cycle milestones."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from storyline.accounts import audit
from storyline.accounts.models import AuditEvent
from storyline.bootstrap import Container
from storyline.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from storyline.kernel.access import Actor
from storyline.releases import cycles
from storyline.tracker.models import Milestone
from tests.factories import Factory

D = dt.date

ICEHOUSE = (
    {"kind": "milestone", "number": 1, "starts_on": D(2013, 12, 5)},
    {"kind": "milestone", "number": 2, "starts_on": D(2014, 1, 23)},
    {"kind": "event", "name": "Summit", "starts_on": D(2014, 1, 23), "ends_on": D(2014, 1, 26)},
    {"kind": "feature_freeze", "starts_on": D(2014, 3, 6)},
    {"kind": "milestone", "number": 3, "starts_on": D(2014, 3, 6)},
    {"kind": "final_release", "starts_on": D(2014, 4, 17)},
)


def _icehouse(factory: Factory, admin: object) -> int:
    return factory.cycle(
        admin,  # type: ignore[arg-type]
        "icehouse",
        starts_on=D(2013, 10, 17),
        releases_on=D(2014, 4, 17),
        entries=ICEHOUSE,
    )


def test_schedule_is_by_date_with_milestones_named_after_the_cycle(
    container: Container, factory: Factory
) -> None:
    admin = factory.admin()
    cycle_id = _icehouse(factory, admin)
    with container.db.read() as session:
        entries = cycles.schedule(session, cycle_id)
        names = [entry.name for entry in entries]
        assert names == [
            "icehouse-1",
            "icehouse-2",
            "Summit",
            "Feature freeze",
            "icehouse-3",
            "icehouse release",
        ]
        assert cycles.freeze_starts(session, cycle_id, "feature") == D(2014, 3, 6)
        assert cycles.freeze_starts(session, cycle_id, "string") is None
        assert [m.number for m in cycles.milestones(session, cycle_id)] == [1, 2, 3]
        assert cycles.get_cycle(session, "icehouse").id == cycle_id
        assert cycles.get_cycle(session, str(cycle_id)).name == "icehouse"
        with pytest.raises(NotFound):
            cycles.get_cycle(session, "juno")


def test_cycles_are_ordered_as_opened(container: Container, factory: Factory) -> None:
    admin = factory.admin()
    first = _icehouse(factory, admin)
    second = factory.cycle(admin, "juno", starts_on=D(2014, 4, 17), releases_on=D(2014, 10, 16))
    with container.db.read() as session:
        icehouse = cycles.get_cycle(session, first)
        juno = cycles.get_cycle(session, second)
        assert cycles.next_cycle(session, icehouse) == juno
        assert cycles.previous_cycle(session, juno) == icehouse
        assert cycles.next_cycle(session, juno) is None
        assert cycles.current_cycle(session, D(2014, 4, 17)) == icehouse
        assert cycles.current_cycle(session, D(2014, 4, 18)) == juno
        assert cycles.current_cycle(session, D(2015, 1, 1)) is None


def test_joining_puts_each_milestone_on_the_branch_and_later_ones_too(
    container: Container, factory: Factory
) -> None:
    admin = factory.admin()
    cycle_id = _icehouse(factory, admin)
    nova = factory.project(admin, "openstack/nova")
    series_id = factory.series(
        admin, cycle_id=cycle_id, project_id=nova["id"], release_tag="2013.2"
    )
    actor = Actor(user_id=admin.id, is_superuser=True, can_write=True)
    with container.db.write() as session:
        cycle = cycles.get_cycle(session, cycle_id)
        cycles.add_entry(
            session,
            actor=actor,
            cycle=cycle,
            data=cycles.EntryIn(kind="milestone", number=4, starts_on=D(2014, 4, 1)),
        )
    with container.db.read() as session:
        series = cycles.series_of(session, cycle_id, nova["id"])
        assert series is not None
        assert series.id == series_id
        names = session.query(Milestone.name).filter(Milestone.branch_id == series.branch_id)
        assert sorted(name for (name,) in names) == [
            "icehouse-1",
            "icehouse-2",
            "icehouse-3",
            "icehouse-4",
        ]
        second = cycles.entry_of(session, cycle_id, "milestone", 2)
        assert second is not None
        (milestone_id,) = cycles.tracker_milestones(session, [second.id])[second.id]
        found = cycles.cycle_milestone(session, milestone_id)
        assert found is not None
        assert (found[0].name, found[1].id, found[2].number) == ("icehouse", series_id, 2)


def test_a_project_joins_a_cycle_once(container: Container, factory: Factory) -> None:
    admin = factory.admin()
    cycle_id = _icehouse(factory, admin)
    nova = factory.project(admin)
    factory.series(admin, cycle_id=cycle_id, project_id=nova["id"])
    with pytest.raises(Conflict):
        factory.series(admin, cycle_id=cycle_id, project_id=nova["id"])


def test_duplicate_milestones_and_bad_entries_are_refused(factory: Factory) -> None:
    admin = factory.admin()
    cycle_id = _icehouse(factory, admin)
    with pytest.raises(Conflict, match="already has a milestone 2"):
        factory.cycle(
            admin,
            entries=ICEHOUSE + ICEHOUSE[1:2],
            starts_on=D(2013, 10, 17),
            releases_on=D(2014, 4, 17),
        )
    with pytest.raises(InvalidInput, match="must fall within the cycle"):
        factory.cycle(admin, entries=ICEHOUSE[:1])
    with pytest.raises(Conflict, match="already a cycle named"):
        factory.cycle(admin, "icehouse")
    with pytest.raises(ValidationError):
        cycles.EntryIn(kind="milestone", starts_on=D(2014, 1, 1))
    with pytest.raises(ValidationError):
        cycles.EntryIn(kind="summit", starts_on=D(2014, 1, 1))
    with pytest.raises(ValidationError):
        cycles.EntryIn(kind="event", starts_on=D(2014, 1, 2), ends_on=D(2014, 1, 1))
    with pytest.raises(ValidationError):
        cycles.CycleIn(name="x y", starts_on=D(2014, 1, 1), releases_on=D(2014, 6, 1))
    assert cycle_id


def test_only_release_managers_change_a_cycle(container: Container, factory: Factory) -> None:
    admin = factory.admin()
    manager = factory.user()
    someone = factory.user()
    cycle_id = factory.cycle(admin, managers=(manager.id,))
    entry = cycles.EntryIn(kind="feature_freeze", starts_on=D(2026, 3, 2))
    with container.db.write() as session:
        cycle = cycles.get_cycle(session, cycle_id)
        outsider = Actor(user_id=someone.id, can_write=True)
        with pytest.raises(PermissionDenied, match="managers may change its schedule"):
            cycles.add_entry(session, actor=outsider, cycle=cycle, data=entry)
        insider = Actor(user_id=manager.id, can_write=True)
        assert cycles.add_entry(session, actor=insider, cycle=cycle, data=entry).name == (
            "Feature freeze"
        )


def test_changes_to_a_cycle_are_in_the_audit_log(container: Container, factory: Factory) -> None:
    admin = factory.admin()
    cycle_id = _icehouse(factory, admin)
    nova = factory.project(admin)
    factory.series(admin, cycle_id=cycle_id, project_id=nova["id"])
    with container.db.read() as session:
        rows = session.scalars(
            select(AuditEvent)
            .where(AuditEvent.event_type == audit.CYCLE_CHANGED)
            .order_by(AuditEvent.id)
        ).all()
        details = [json.loads(row.details or "{}") for row in rows]
    assert {row.user_id for row in rows} == {admin.id}
    assert [d["action"] for d in details] == [
        "created",
        *["entry_added"] * len(ICEHOUSE),
        "project_joined",
    ]
    assert details[1] == {
        "action": "entry_added",
        "cycle": "icehouse",
        "cycle_id": cycle_id,
        "entry_id": details[1]["entry_id"],
        "name": "icehouse-1",
    }
    assert details[-1]["project_id"] == nova["id"]
