"""Targeting stories and tasks to cycle milestones, and milestone status:
through the tracker's task update, by the API and the service, through the
access gate."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from storyline.bootstrap import Container
from storyline.kernel.access import Actor
from storyline.kernel.models import Event
from storyline.releases import cycles, targeting
from storyline.releases.targeting import Scope
from tests.factories import Factory, TestUser
from tests.queries import count_queries


# The cycle is under way: milestone 1 is behind, milestone 2 and the feature
# freeze (which the tracker's writes check against the real date) ahead.
def _today() -> dt.date:
    # Read at each use, not at import: a run that crosses midnight (UTC)
    # must not hold yesterday's date against the server's.
    return dt.datetime.now(dt.UTC).date()


def _first() -> dt.date:
    return _today() - dt.timedelta(days=30)


def _second() -> dt.date:
    return _today() + dt.timedelta(days=30)


@dataclass(frozen=True)
class World:
    admin: TestUser
    cycle_id: int
    nova: int
    glance: int
    # Milestone entries 1 and 2, and the feature freeze entry.
    first: int
    second: int
    freeze: int
    # nova's tracker milestone standing for milestone 1.
    nova_first: int


def _world(factory: Factory, container: Container) -> World:
    admin = factory.admin()
    cycle_id = factory.cycle(
        admin,
        starts_on=_today() - dt.timedelta(days=90),
        releases_on=_today() + dt.timedelta(days=200),
        entries=(
            {"kind": "milestone", "number": 1, "starts_on": _first()},
            {"kind": "milestone", "number": 2, "starts_on": _second()},
            {"kind": "feature_freeze", "starts_on": _today() + dt.timedelta(days=120)},
        ),
    )
    nova = factory.project(admin)["id"]
    glance = factory.project(admin)["id"]
    nova_series = factory.series(admin, cycle_id=cycle_id, project_id=nova)
    factory.series(admin, cycle_id=cycle_id, project_id=glance)
    with container.db.read() as session:
        first, second = cycles.milestones(session, cycle_id)
        freeze = cycles.entry_of(session, cycle_id, "feature_freeze")
        assert freeze is not None
        series = cycles.series_of(session, cycle_id, nova)
        assert series is not None
        assert series.id == nova_series
        (nova_first,) = [
            m
            for m in cycles.tracker_milestones(session, [first.id])[first.id]
            if cycles.cycle_milestone(session, m)[1].id == nova_series  # type: ignore[index]
        ]
    return World(admin, cycle_id, nova, glance, first.id, second.id, freeze.id, nova_first)


def _target(client: TestClient, user: TestUser, story_id: int, **body: Any) -> Any:
    return client.put(f"/v1/stories/{story_id}/targets", json=body, headers=user.headers)


def test_targeting_a_story_sets_its_tasks_milestone_through_the_tracker(
    client: TestClient, factory: Factory, container: Container
) -> None:
    w = _world(factory, container)
    user = factory.user()
    story = factory.story(user)
    a = factory.task(user, story_id=story["id"], project_id=w.nova)
    b = factory.task(user, story_id=story["id"], project_id=w.nova)
    other = factory.task(user, story_id=story["id"], project_id=w.glance)

    response = _target(client, user, story["id"], cycle_id=w.cycle_id, entry_id=w.first,
                       project_id=w.nova)  # fmt: skip
    assert response.status_code == 200, response.text
    found = response.json()
    (target,) = found["targets"]
    assert (target["entry_id"], target["number"], target["date"]) == (
        w.first,
        1,
        _first().isoformat(),
    )
    assert [t["id"] for t in target["tasks"]] == [a["id"], b["id"]]
    assert [t["id"] for t in found["untargeted"]] == [other["id"]]
    # The tracker's own view: the task's milestone, and a timeline event per task.
    task = client.get(f"/v1/tasks/{a['id']}").json()
    assert task["milestone_id"] == w.nova_first
    with container.db.read() as session:
        changed = session.scalars(
            select(Event.event_info).where(
                Event.story_id == story["id"], Event.event_type == "task_details_changed"
            )
        ).all()
    assert len(changed) == 2
    assert all(str(w.nova_first) in info for info in changed)

    # One task moves to milestone 2; targeting again changes nothing else.
    response = _target(client, user, story["id"], entry_id=w.second, task_id=b["id"])
    assert [(t["number"], len(t["tasks"])) for t in response.json()["targets"]] == [(1, 1), (2, 1)]

    response = client.delete(
        f"/v1/stories/{story['id']}/targets",
        params={"cycle_id": w.cycle_id, "task_id": a["id"]},
        headers=user.headers,
    )
    assert response.status_code == 200, response.text
    assert [t["number"] for t in response.json()["targets"]] == [2]
    assert client.get(f"/v1/tasks/{a['id']}").json()["milestone_id"] is None
    response = client.delete(
        f"/v1/stories/{story['id']}/targets",
        params={"cycle_id": w.cycle_id},
        headers=user.headers,
    )
    assert response.json()["targets"] == []


def test_storyboards_task_milestone_is_a_target(
    client: TestClient, factory: Factory, container: Container
) -> None:
    w = _world(factory, container)
    user = factory.user()
    story = factory.story(user)
    task = factory.task(user, story_id=story["id"], project_id=w.nova)
    response = client.put(
        f"/v1/tasks/{task['id']}", json={"milestone_id": w.nova_first}, headers=user.headers
    )
    assert response.status_code == 200, response.text
    (target,) = client.get(f"/v1/stories/{story['id']}/targets").json()["targets"]
    assert target["entry_id"] == w.first


def test_refusals_name_what_is_wrong(
    client: TestClient, factory: Factory, container: Container
) -> None:
    w = _world(factory, container)
    user = factory.user()
    story = factory.story(user)
    branch = client.post(
        "/v1/branches",
        json={"name": "stable/havana", "project_id": w.nova},
        headers=w.admin.headers,
    ).json()
    backport = factory.task(user, story_id=story["id"], project_id=w.nova, branch_id=branch["id"])
    outside = factory.project(w.admin)["id"]
    factory.task(user, story_id=story["id"], project_id=outside)

    def refused(**body: Any) -> str:
        response = _target(client, user, story["id"], **body)
        assert response.status_code == 400, response.text
        assert response.json()["code"] == "invalid_input"
        return str(response.json()["message"])

    message = refused(entry_id=w.first, task_id=backport["id"])
    assert "stable/havana" in message
    assert "master" in message
    assert "does not take part" in refused(entry_id=w.first, project_id=outside)
    assert "is not a milestone" in refused(entry_id=w.freeze, project_id=w.nova)
    assert "has no task" in refused(entry_id=w.first, project_id=w.glance)
    assert "either project_id" in refused(entry_id=w.first, project_id=w.nova, task_id=1)
    other_cycle = factory.cycle(w.admin)
    assert "no milestone entry" in refused(
        entry_id=w.first, cycle_id=other_cycle, project_id=w.nova
    )
    # Nothing changed: the backport stays on no milestone.
    assert client.get(f"/v1/tasks/{backport['id']}").json()["milestone_id"] is None

    anonymous = client.put(f"/v1/stories/{story['id']}/targets", json={"entry_id": w.first,
                           "project_id": w.nova})  # fmt: skip
    assert anonymous.status_code == 401


def test_a_private_story_is_not_found_by_an_outsider(
    client: TestClient, factory: Factory, container: Container
) -> None:
    w = _world(factory, container)
    owner = factory.user()
    outsider = factory.user()
    story = factory.story(owner, private=True)
    factory.task(owner, story_id=story["id"], project_id=w.nova)
    assert (
        client.get(f"/v1/stories/{story['id']}/targets", headers=outsider.headers).status_code
        == 404
    )
    response = _target(client, outsider, story["id"], entry_id=w.first, project_id=w.nova)
    assert response.status_code == 404
    assert (
        _target(client, owner, story["id"], entry_id=w.first, project_id=w.nova).status_code == 200
    )


# Milestone status


def _story_with(
    factory: Factory, client: TestClient, user: TestUser, project_id: int, milestone: int,
    statuses: tuple[str, ...], *, bug: bool, private: bool = False,
) -> int:  # fmt: skip
    story = factory.story(user, is_bug=bug, private=private)
    for status in statuses:
        task = factory.task(user, story_id=story["id"], project_id=project_id)
        response = client.put(
            f"/v1/tasks/{task['id']}",
            json={"milestone_id": milestone, "status": status},
            headers=user.headers,
        )
        assert response.status_code == 200, response.text
    return int(story["id"])


def test_status_counts_states_by_type_and_slipping_from_the_day_after(
    client: TestClient, factory: Factory, container: Container
) -> None:
    w = _world(factory, container)
    user = factory.user()
    done = _story_with(factory, client, user, w.nova, w.nova_first, ("merged", "merged"), bug=False)
    started = _story_with(factory, client, user, w.nova, w.nova_first, ("todo", "review"), bug=True)
    waiting = _story_with(factory, client, user, w.nova, w.nova_first, ("todo",), bug=False)
    # Dropped work: its only targeted task is invalid.
    _story_with(factory, client, user, w.nova, w.nova_first, ("invalid",), bug=False)
    # Merged plus invalid is done.
    closed = _story_with(
        factory, client, user, w.nova, w.nova_first, ("merged", "invalid"), bug=True
    )

    actor = Actor(user_id=user.id, can_write=True)
    with container.db.read() as session:
        cycle = cycles.get_cycle(session, w.cycle_id)
        entry = cycles.get_entry(session, w.cycle_id, w.first)

        def status(today: dt.date) -> targeting.MilestoneStatus:
            return targeting.milestone_status(
                session, actor=actor, cycle=cycle, entry=entry,
                scope=Scope(project_id=w.nova), today=today,
            )  # fmt: skip

        on_the_day = status(_first())
        counts = on_the_day.counts
        assert counts["targeted"] == {"feature": 2, "bug": 2, "total": 4}
        assert counts["done"] == {"feature": 1, "bug": 1, "total": 2}
        assert counts["in_progress"] == {"feature": 0, "bug": 1, "total": 1}
        assert counts["not_started"] == {"feature": 1, "bug": 0, "total": 1}
        assert counts["slipping"]["total"] == 0
        states = {s.story_id: s.state for s in on_the_day.stories}
        assert states == {done: "done", started: "in_progress", waiting: "not_started",
                          closed: "done"}  # fmt: skip

        day_after = status(_first() + dt.timedelta(days=1))
        assert day_after.counts["slipping"] == {"feature": 1, "bug": 1, "total": 2}
        assert [s.story_id for s in day_after.stories[:2]] == [waiting, started]
        assert all(s.slipping for s in day_after.stories[:2])

    response = client.get(
        f"/v1/cycles/{w.cycle_id}/milestones/{w.first}/status",
        params={"project_id": w.nova, "state": "done", "limit": 1},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == 2
    assert response.headers["X-Total"] == "2"
    assert [s["story_id"] for s in body["stories"]] == [done]
    assert body["counts"]["targeted"]["total"] == 4
    bad = client.get(
        f"/v1/cycles/{w.cycle_id}/milestones/{w.first}/status", params={"state": "late"}
    )
    assert bad.status_code == 400
    assert client.get(f"/v1/cycles/{w.cycle_id}/milestones/{w.freeze}/status").status_code == 404


def test_private_stories_are_neither_listed_nor_counted_for_outsiders(
    client: TestClient, factory: Factory, container: Container
) -> None:
    w = _world(factory, container)
    owner = factory.user()
    outsider = factory.user()
    _story_with(factory, client, owner, w.nova, w.nova_first, ("todo",), bug=False)
    secret = _story_with(
        factory, client, owner, w.nova, w.nova_first, ("todo",), bug=False, private=True
    )
    url = f"/v1/cycles/{w.cycle_id}/milestones/{w.first}/status"
    for who, expected in ((owner.headers, 2), (outsider.headers, 1), ({}, 1)):
        body = client.get(url, params={"project_id": w.nova}, headers=who).json()
        assert body["counts"]["targeted"]["total"] == expected
        assert (secret in [s["story_id"] for s in body["stories"]]) == (expected == 2)


def test_a_group_adds_up_its_projects_and_a_project_only_its_own(
    client: TestClient, factory: Factory, container: Container
) -> None:
    w = _world(factory, container)
    user = factory.user()
    group = client.post(
        "/v1/project_groups", json={"name": "nova-and-glance"}, headers=w.admin.headers
    ).json()
    for project in (w.nova, w.glance):
        client.put(f"/v1/project_groups/{group['id']}/projects/{project}", headers=w.admin.headers)
    with container.db.read() as session:
        glance_first = next(
            m for m in cycles.tracker_milestones(session, [w.first])[w.first] if m != w.nova_first
        )
    _story_with(factory, client, user, w.nova, w.nova_first, ("todo",), bug=False)
    _story_with(factory, client, user, w.glance, glance_first, ("merged",), bug=True)
    url = f"/v1/cycles/{w.cycle_id}/milestones/{w.first}/status"

    def targeted(**params: Any) -> dict[str, int]:
        response = client.get(url, params=params)
        assert response.status_code == 200, response.text
        return dict(response.json()["counts"]["targeted"])

    assert targeted(project_group_id=group["id"]) == {"feature": 1, "bug": 1, "total": 2}
    assert targeted(project_id=w.nova) == {"feature": 1, "bug": 0, "total": 1}
    assert targeted() == {"feature": 1, "bug": 1, "total": 2}
    both = client.get(url, params={"project_id": w.nova, "project_group_id": group["id"]})
    assert both.status_code == 400
    stranger = factory.project(w.admin)["id"]
    assert client.get(url, params={"project_id": stranger}).status_code == 400


def test_status_costs_the_same_queries_for_one_story_or_many(
    client: TestClient, factory: Factory, container: Container
) -> None:
    w = _world(factory, container)
    user = factory.user()
    url = f"/v1/cycles/{w.cycle_id}/milestones/{w.first}/status"
    _story_with(factory, client, user, w.nova, w.nova_first, ("todo",), bug=False)
    with count_queries(container.db.engine) as few:
        assert client.get(url, headers=user.headers).status_code == 200
    for n in range(8):
        _story_with(factory, client, user, w.nova, w.nova_first, ("todo", "merged"), bug=n % 2 == 0)
    with count_queries(container.db.engine) as many:
        body = client.get(url, headers=user.headers).json()
    assert body["counts"]["targeted"]["total"] == 9
    assert len(many) == len(few) <= 8


@pytest.mark.parametrize("params", [{"project_group_id": 999999}, {"limit": 0}])
def test_status_refuses_bad_parameters(
    client: TestClient, factory: Factory, container: Container, params: dict[str, int]
) -> None:
    w = _world(factory, container)
    url = f"/v1/cycles/{w.cycle_id}/milestones/{w.first}/status"
    assert client.get(url, params=params).status_code == 400
