"""The object roles mechanism on its own: grants, replacing and updating
holders, inheritance from a parent object, checks and the gate's clause,
for the specs of worklists, boards and due dates."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from storyline.bootstrap import Container
from storyline.domain import events
from storyline.errors import InvalidInput, NotAuthenticated, NotFound, PermissionDenied
from storyline.kernel import roles
from storyline.kernel.access import Actor, readers, worklist_visibility
from storyline.kernel.models import Event
from storyline.lists import boards, due_dates, worklists
from storyline.lists.boards import BoardIn, LaneIn
from storyline.lists.due_dates import DueDateIn
from storyline.lists.models import (
    BOARD_ROLES,
    DATE_ASSIGNER,
    DATE_OWNER,
    DUE_DATE_ROLES,
    MOVER,
    OWNER,
    WORKLIST_ROLES,
    Worklist,
)
from storyline.lists.worklists import WorklistIn
from tests.factories import Factory


def _writer(user_id: int) -> Actor:
    return Actor(user_id=user_id, can_write=True)


@pytest.fixture
def people(factory: Factory) -> list[int]:
    return [factory.user().id for _ in range(4)]


@pytest.fixture
def session(container: Container) -> Iterator[Session]:
    with container.db.write() as session:
        yield session


def _worklist(session: Session, owner: int, **fields: object) -> int:
    data = WorklistIn.model_validate({"title": "Triage", "private": True, **fields})
    return worklists.create_worklist(session, actor=_writer(owner), data=data).worklist.id


def test_grant_new_makes_the_creator_an_owner(session: Session, people: list[int]) -> None:
    alice, bob, carol, _ = people
    wid = _worklist(session, alice, owners=[bob, bob], users=[carol])
    assert roles.holders(session, WORKLIST_ROLES, [wid]) == {
        wid: {OWNER: sorted([alice, bob]), MOVER: [carol]}
    }
    with pytest.raises(InvalidInput) as refused:
        _worklist(session, alice, users=[10**6])
    assert refused.value.details == [{"field": "users", "message": f"no user with id {10**6}"}]


def test_replace_and_update_record_what_changed(session: Session, people: list[int]) -> None:
    alice, bob, carol, dave = people
    wid = _worklist(session, alice)
    added, removed = roles.replace(
        session, WORKLIST_ROLES, object_id=wid, role=MOVER, user_ids=[bob, carol], author_id=alice
    )
    assert (added, removed) == ([bob, carol], [])
    assert roles.update(
        session,
        WORKLIST_ROLES,
        object_id=wid,
        role=MOVER,
        author_id=alice,
        add=[dave],
        remove=[bob],
    ) == ([dave], [bob])
    # Nothing to change, nothing recorded.
    assert roles.replace(
        session, WORKLIST_ROLES, object_id=wid, role=MOVER, user_ids=[dave, carol], author_id=alice
    ) == ([], [])
    infos = [
        json.loads(e.event_info or "{}")
        for e in session.scalars(
            select(Event)
            .where(
                Event.worklist_id == wid,
                Event.event_type == events.WORKLIST_PERMISSIONS_CHANGED,
            )
            .order_by(Event.id)
        )
    ]
    assert [(i["codename"], i["added"], i["removed"]) for i in infos] == [
        ("move_items", [bob, carol], []),
        ("move_items", [dave], [bob]),
    ]
    assert roles.holders(session, WORKLIST_ROLES, [wid])[wid][MOVER] == sorted([carol, dave])


def test_an_object_keeps_one_owner(session: Session, people: list[int]) -> None:
    alice = people[0]
    wid = _worklist(session, alice)
    with pytest.raises(InvalidInput, match="at least one owner"):
        roles.replace(
            session, WORKLIST_ROLES, object_id=wid, role=OWNER, user_ids=[], author_id=alice
        )
    with pytest.raises(InvalidInput, match="a worklist needs at least one owner"):
        roles.update(
            session, WORKLIST_ROLES, object_id=wid, role=OWNER, author_id=alice, remove=[alice]
        )


def test_a_spec_without_an_event_records_none(session: Session, people: list[int]) -> None:
    alice, bob, *_ = people
    view = due_dates.create_due_date(
        session,
        actor=_writer(alice),
        data=DueDateIn(name="Freeze", date=dt.datetime(2030, 1, 1, tzinfo=dt.UTC)),
    )
    due_id = view.due_date.id
    before = session.scalar(select(Event.id).order_by(Event.id.desc()).limit(1))
    roles.replace(
        session,
        DUE_DATE_ROLES,
        object_id=due_id,
        role=DATE_ASSIGNER,
        user_ids=[bob],
        author_id=alice,
    )
    after = session.scalar(select(Event.id).order_by(Event.id.desc()).limit(1))
    assert before == after
    assert roles.holders(session, DUE_DATE_ROLES, [due_id])[due_id] == {
        DATE_OWNER: [alice],
        DATE_ASSIGNER: [bob],
    }


def test_board_roles_are_inherited_by_its_lanes(session: Session, people: list[int]) -> None:
    alice, bob, carol, dave = people
    lane = _worklist(session, alice)
    board = boards.create_board(
        session,
        actor=_writer(alice),
        data=BoardIn(title="Board", private=True, users=[bob], lanes=[LaneIn(list_id=lane)]),
    ).board.id
    roles.replace(
        session, BOARD_ROLES, object_id=board, role=OWNER, user_ids=[alice, carol], author_id=alice
    )
    # Held through the board, not granted on the lane.
    assert roles.roles_of(session, WORKLIST_ROLES, actor=_writer(bob), object_id=lane) == {MOVER}
    assert roles.roles_of(session, WORKLIST_ROLES, actor=_writer(carol), object_id=lane) == {OWNER}
    assert roles.holders(session, WORKLIST_ROLES, [lane])[lane] == {OWNER: [alice], MOVER: []}
    assert roles.held(session, WORKLIST_ROLES, actor=_writer(carol), object_id=lane, role=MOVER)
    assert not roles.held(session, WORKLIST_ROLES, actor=_writer(bob), object_id=lane, role=OWNER)
    assert roles.roles_of(session, WORKLIST_ROLES, actor=_writer(dave), object_id=lane) == set()
    # The same answer as a clause, for the gate, and of many users at once.
    for user, sees in ((bob, True), (carol, True), (dave, False)):
        clause = roles.holds(WORKLIST_ROLES, user, Worklist.id)
        found = session.scalar(select(Worklist.id).where(Worklist.id == lane, clause))
        assert (found == lane) is sees
        visible = session.scalar(
            select(Worklist.id).where(Worklist.id == lane, worklist_visibility(_writer(user)))
        )
        assert (visible == lane) is sees
    only_movers = roles.holds(WORKLIST_ROLES, carol, Worklist.id, roles=[MOVER])
    assert session.scalar(select(Worklist.id).where(Worklist.id == lane, only_movers)) is None
    assert roles.holders_among(session, WORKLIST_ROLES, [lane], people) == {alice, bob, carol}
    assert readers(session, kind="worklist", object_id=lane, users=people) == {alice, bob, carol}


def test_require_checks_writing_and_the_role(session: Session, people: list[int]) -> None:
    alice, bob, carol, _ = people
    wid = _worklist(session, alice, users=[bob])

    def require(actor: Actor, role: str) -> int:
        return roles.require(
            session, WORKLIST_ROLES, actor=actor, object_id=wid, role=role, to="change it"
        )

    assert require(_writer(alice), OWNER) == alice
    # Owners may act as any role.
    assert require(_writer(alice), MOVER) == alice
    assert require(_writer(bob), MOVER) == bob
    with pytest.raises(PermissionDenied, match="Only the worklist's owners may change it"):
        require(_writer(bob), OWNER)
    with pytest.raises(PermissionDenied, match="owners and movers may change it"):
        require(_writer(carol), MOVER)
    with pytest.raises(NotAuthenticated):
        require(Actor(), MOVER)
    with pytest.raises(PermissionDenied, match="read-only"):
        require(Actor(user_id=alice), OWNER)
    admin = Actor(user_id=carol, is_superuser=True, can_write=True)
    assert require(admin, OWNER) == carol
    assert roles.codenames(session, WORKLIST_ROLES, actor=admin, object_id=wid) == [
        "edit_worklist",
        "move_items",
    ]
    assert roles.codenames(session, WORKLIST_ROLES, actor=_writer(bob), object_id=wid) == [
        "move_items"
    ]
    assert roles.codenames(session, WORKLIST_ROLES, actor=Actor(), object_id=wid) == []


def test_change_loads_through_the_gate_first(session: Session, people: list[int]) -> None:
    alice, bob, carol, _ = people
    wid = _worklist(session, alice)

    def change(actor: Actor, body: dict[str, object], how: str = "add") -> str:
        return roles.change(
            session,
            WORKLIST_ROLES,
            actor=actor,
            object_id=wid,
            load=worklists.load_worklist,
            body=body,
            how=how,  # type: ignore[arg-type]
        )

    # A private list the caller may not see does not exist for them.
    with pytest.raises(NotFound):
        change(_writer(bob), {"codename": "move_items", "users": [bob]})
    with pytest.raises(InvalidInput, match="edit_worklist or move_items"):
        change(_writer(alice), {"codename": "edit_board", "users": [bob]})
    assert change(_writer(alice), {"codename": "move_items", "users": f"{bob},{carol}"}) == (
        "move_items"
    )
    assert change(_writer(alice), {"codename": "move_items", "users": [{"id": bob}]}, "remove")
    assert roles.holders(session, WORKLIST_ROLES, [wid])[wid][MOVER] == [carol]
    # Movers see the list now, but only owners change its roles.
    with pytest.raises(PermissionDenied):
        change(_writer(carol), {"codename": "move_items", "users": [bob]}, "replace")


@pytest.mark.parametrize(
    ("raw", "ids"),
    [([1, 2], [1, 2]), ("1,2", [1, 2]), ("[3, 4]", [3, 4]), ([{"id": 5}], [5]), ("", [])],
)
def test_parse_users(raw: object, ids: list[int]) -> None:
    assert roles.parse_users(raw) == ids


@pytest.mark.parametrize("raw", [{"a": 1}, ["x"], [{"name": "x"}], 3])
def test_parse_users_refuses_what_is_not_a_list_of_ids(raw: object) -> None:
    with pytest.raises(InvalidInput, match="list of user ids"):
        roles.parse_users(raw)


def test_specs_name_their_fields() -> None:
    assert WORKLIST_ROLES.field(OWNER) == "owners"
    assert BOARD_ROLES.field(MOVER) == "users"
    assert DUE_DATE_ROLES.codename(DATE_ASSIGNER) == "assign_date"
    assert WORKLIST_ROLES.inherit is not None
    assert WORKLIST_ROLES.inherit.parent is BOARD_ROLES
