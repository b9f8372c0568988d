"""Feature and string freezes on task writes, and freeze exceptions: the
edges of the dates, who may decide, the deadline job, and privacy."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from storyline.accounts.models import AuditEvent
from storyline.bootstrap import Container
from storyline.cli.main import app as cli_app
from storyline.config import Settings
from storyline.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from storyline.kernel.access import Actor
from storyline.kernel.models import Event, Subscription
from storyline.kernel.paging import PageRequest
from storyline.notifications.worker import Worker
from storyline.releases import cycles, exceptions, leads
from storyline.releases.exceptions import CommentIn, DecisionIn, ExceptionFilter, ExceptionIn
from storyline.releases.models import DEFERRED, DENIED, GRANTED, MERGED
from storyline.tracker.models import Task
from tests.factories import Factory, TestUser
from tests.web.signin import HTML, new_browser


def _today() -> dt.date:
    # Read at each use, not at import: a run that crosses midnight (UTC)
    # must not hold yesterday's date against the server's.
    return dt.datetime.now(dt.UTC).date()


DAY = dt.timedelta(days=1)


def _actor(user: TestUser, *, superuser: bool = False) -> Actor:
    return Actor(user_id=user.id, is_superuser=superuser, can_write=True)


@dataclass
class World:
    admin: TestUser
    lead: TestUser
    manager: TestUser
    dev: TestUser
    cycle_id: int
    next_id: int
    project_id: int
    # Tracker milestones: this cycle's 1 and 2, the next cycle's 1.
    m1: int
    m2: int
    next_m1: int
    feature: dict[str, Any]


def _world(factory: Factory, container: Container, *, freeze_on: dt.date) -> World:
    admin = factory.admin()
    lead, manager, dev = factory.user(), factory.user(), factory.user()
    cycle_id = factory.cycle(
        admin,
        starts_on=_today() - 90 * DAY,
        releases_on=_today() + 60 * DAY,
        entries=(
            {"kind": "milestone", "number": 1, "starts_on": _today() - 30 * DAY},
            {"kind": "feature_freeze", "starts_on": freeze_on},
            {"kind": "string_freeze", "starts_on": freeze_on},
            {"kind": "milestone", "number": 2, "starts_on": _today() + 20 * DAY},
        ),
        managers=(manager.id,),
    )
    next_id = factory.cycle(
        admin,
        starts_on=_today() + 60 * DAY,
        releases_on=_today() + 240 * DAY,
        entries=({"kind": "milestone", "number": 1, "starts_on": _today() + 100 * DAY},),
    )
    project = factory.project(admin)
    factory.series(admin, cycle_id=cycle_id, project_id=project["id"])
    factory.series(admin, cycle_id=next_id, project_id=project["id"])
    with container.db.write() as session:
        leads.set_leads(
            session,
            actor=_actor(admin, superuser=True),
            kind="project",
            object_id=project["id"],
            user_ids=[lead.id],
        )
        ids = {}
        for ref, number in (("m1", 1), ("m2", 2)):
            entry = cycles.entry_of(session, cycle_id, "milestone", number)
            assert entry is not None
            (ids[ref],) = cycles.tracker_milestones(session, [entry.id])[entry.id]
        entry = cycles.entry_of(session, next_id, "milestone", 1)
        assert entry is not None
        (ids["next_m1"],) = cycles.tracker_milestones(session, [entry.id])[entry.id]
    feature = factory.story(dev, "Live migration", is_bug=False)
    return World(
        admin=admin,
        lead=lead,
        manager=manager,
        dev=dev,
        cycle_id=cycle_id,
        next_id=next_id,
        project_id=project["id"],
        feature=feature,
        **ids,
    )


def _task(client: TestClient, w: World, user: TestUser, story_id: int, **fields: Any) -> Any:
    return client.post(
        "/v1/tasks",
        json={"title": "Do it", "story_id": story_id, "project_id": w.project_id, **fields},
        headers=user.headers,
    )


def _put(client: TestClient, user: TestUser, task_id: int, **fields: Any) -> Any:
    return client.put(f"/v1/tasks/{task_id}", json=fields, headers=user.headers)


def _request(container: Container, w: World, **fields: Any) -> int:
    body = {
        "story_id": w.feature["id"],
        "project_id": w.project_id,
        "cycle_id": w.cycle_id,
        "rationale": "Self-contained driver; ready in days.",
        "self_contained": True,
        "days_to_merge": 3,
        "risk": "low",
        **fields,
    }
    with container.db.write() as session:
        return exceptions.request(session, actor=_actor(w.dev), data=ExceptionIn(**body)).id


def _decide(container: Container, w: World, exception_id: int, **fields: Any) -> None:
    today = fields.pop("today", None)
    with container.db.write() as session:
        exceptions.decide(
            session,
            actor=_actor(w.lead),
            exception_id=exception_id,
            data=DecisionIn(**{"reason": "Low risk", **fields}),
            today=today,
        )


def _state(container: Container, exception_id: int) -> tuple[str, int | None]:
    with container.db.read() as session:
        found = exceptions.load_exception(
            session, actor=Actor(is_superuser=True), exception_id=exception_id
        )
        return found.state, found.deferred_to_cycle_id


def test_the_freeze_day_itself_refuses_targeting_and_merging_a_feature(
    container: Container, factory: Factory, client: TestClient
) -> None:
    w = _world(factory, container, freeze_on=_today())
    refused = _task(client, w, w.dev, w.feature["id"], milestone_id=w.m2)
    assert refused.status_code == 409
    error = refused.json()
    assert error["code"] == "feature_frozen"
    assert "POST /v1/freeze_exceptions" in error["message"]
    assert error["details"]["freeze_starts"] == _today().isoformat()
    # A feature targeted before the freeze cannot merge during it either,
    # nor move to the cycle from elsewhere; an untargeted one is free.
    task = _task(client, w, w.dev, w.feature["id"]).json()
    assert _put(client, w.dev, task["id"], status="merged").status_code == 200
    with container.db.write() as session:
        session.get(Task, task["id"]).milestone_id = w.m1  # type: ignore[union-attr]
        session.get(Task, task["id"]).status = "review"  # type: ignore[union-attr]
    moving = _put(client, w.dev, task["id"], status="merged")
    assert moving.status_code == 409
    assert "cannot be merged in" in moving.json()["message"]
    # Moving between milestones of the same cycle is not targeting anew.
    assert _put(client, w.dev, task["id"], milestone_id=w.m2).status_code == 200


def test_the_day_before_the_freeze_and_bugs_are_not_held(
    container: Container, factory: Factory, client: TestClient
) -> None:
    w = _world(factory, container, freeze_on=_today() + DAY)
    task = _task(client, w, w.dev, w.feature["id"], milestone_id=w.m2)
    assert task.status_code == 200
    assert _put(client, w.dev, task.json()["id"], status="merged").status_code == 200

    frozen = _world(factory, container, freeze_on=_today())
    bug = factory.story(frozen.dev, "Crash on boot")
    fix = _task(client, frozen, frozen.dev, bug["id"], milestone_id=frozen.m2)
    assert fix.status_code == 200
    assert _put(client, frozen.dev, fix.json()["id"], status="merged").status_code == 200


def test_a_granted_exception_holds_through_its_deadline_day(
    container: Container, factory: Factory, client: TestClient
) -> None:
    w = _world(factory, container, freeze_on=_today() - 5 * DAY)
    task = _task(client, w, w.dev, w.feature["id"]).json()
    exception_id = _request(container, w)
    # Granted yesterday with today as its last day.
    _decide(container, w, exception_id, decision="grant", deadline=_today(), today=_today() - DAY)
    assert _put(client, w.dev, task["id"], milestone_id=w.m2).status_code == 200
    assert _put(client, w.dev, task["id"], status="merged").status_code == 200
    # The story's only task for the project merged: the exception is done.
    assert _state(container, exception_id) == (MERGED, None)


def test_after_its_deadline_an_exception_no_longer_holds_and_the_job_defers_it(
    container: Container, factory: Factory, client: TestClient
) -> None:
    w = _world(factory, container, freeze_on=_today() - 10 * DAY)
    task = _task(client, w, w.dev, w.feature["id"]).json()
    exception_id = _request(container, w)
    deadline = _today() - DAY
    _decide(
        container, w, exception_id, decision="grant", deadline=deadline, today=_today() - 3 * DAY
    )
    # Targeted while in force (the job and the check take their day as given).
    with container.db.write() as session:
        session.get(Task, task["id"]).milestone_id = w.m2  # type: ignore[union-attr]
    refused = _put(client, w.dev, task["id"], status="merged")
    assert refused.status_code == 409
    assert refused.json()["code"] == "feature_frozen"

    with container.db.write() as session:
        assert exceptions.expire(session, today=deadline).deferred == []
    with container.db.write() as session:
        assert exceptions.expire(session, today=_today()).deferred == [exception_id]
    assert _state(container, exception_id) == (DEFERRED, w.next_id)
    with container.db.read() as session:
        moved = session.get(Task, task["id"])
        assert moved is not None
        assert moved.milestone_id == w.next_m1
        kinds = list(
            session.scalars(select(Event.event_type).where(Event.story_id == w.feature["id"]))
        )
    assert "freeze_exception_deferred" in kinds
    assert "task_details_changed" in kinds


def test_a_denied_request_is_deferred_to_the_next_cycle(
    container: Container, factory: Factory, client: TestClient
) -> None:
    w = _world(factory, container, freeze_on=_today())
    _task(client, w, w.dev, w.feature["id"])
    exception_id = _request(container, w)
    _decide(container, w, exception_id, decision="deny", reason="Touches the scheduler core")
    assert _state(container, exception_id) == (DENIED, w.next_id)
    with container.db.read() as session:
        audited = session.scalar(
            select(AuditEvent.event_type).where(AuditEvent.user_id == w.lead.id)
        )
        assert audited == "freeze_exception_decided"
    # Decided is decided; a new request may follow.
    with pytest.raises(Conflict), container.db.write() as session:
        exceptions.decide(
            session,
            actor=_actor(w.lead),
            exception_id=exception_id,
            data=DecisionIn(decision="grant", reason="Changed my mind", deadline=_today() + DAY),
        )
    assert _request(container, w) != exception_id


def test_one_open_request_per_story_project_cycle_and_freeze(
    container: Container, factory: Factory, client: TestClient
) -> None:
    w = _world(factory, container, freeze_on=_today())
    _task(client, w, w.dev, w.feature["id"])
    first = _request(container, w)
    with pytest.raises(Conflict):
        _request(container, w)
    with container.db.write() as session:
        exceptions.withdraw(session, actor=_actor(w.dev), exception_id=first)
    _request(container, w)
    with container.db.read() as session:
        followed = session.scalar(
            select(Subscription.id).where(
                Subscription.user_id == w.dev.id, Subscription.target_id == w.feature["id"]
            )
        )
        assert followed is not None
    # A bug needs no feature freeze exception.
    bug = factory.story(w.dev, "Crash")
    _task(client, w, w.dev, bug["id"])
    with pytest.raises(InvalidInput):
        _request(container, w, story_id=bug["id"])


def test_only_the_lead_decides_and_release_managers_advise(
    container: Container, factory: Factory, client: TestClient
) -> None:
    w = _world(factory, container, freeze_on=_today())
    _task(client, w, w.dev, w.feature["id"])
    exception_id = _request(container, w)
    outsider = factory.user()
    grant = DecisionIn(decision="grant", reason="fine", deadline=_today() + 7 * DAY)
    for who in (w.manager, w.dev, outsider):
        with pytest.raises(PermissionDenied), container.db.write() as session:
            exceptions.decide(session, actor=_actor(who), exception_id=exception_id, data=grant)
    with pytest.raises(PermissionDenied), container.db.write() as session:
        exceptions.comment(
            session, actor=_actor(outsider), exception_id=exception_id, data=CommentIn(content="+1")
        )
    with container.db.write() as session:
        exceptions.comment(
            session,
            actor=_actor(w.manager),
            exception_id=exception_id,
            data=CommentIn(content="Small and tested", advice="grant"),
        )
    # A deadline must come after today.
    with pytest.raises(InvalidInput), container.db.write() as session:
        exceptions.decide(
            session,
            actor=_actor(w.lead),
            exception_id=exception_id,
            data=DecisionIn(decision="grant", reason="ok", deadline=_today()),
        )
    _decide(container, w, exception_id, decision="grant", deadline=_today() + 7 * DAY)
    with container.db.read() as session:
        view = exceptions.get_exception(
            session, actor=_actor(w.dev), exception_id=exception_id, today=_today() + 2 * DAY
        )
    assert view.exception.state == GRANTED
    assert view.context.days_into_freeze == 2
    assert view.context.project_granted == 1
    assert [(c.author_id, c.advice) for c in view.comments] == [(w.manager.id, "grant")]


def test_a_group_lead_leads_its_projects(
    container: Container, factory: Factory, client: TestClient
) -> None:
    w = _world(factory, container, freeze_on=_today())
    group_lead = factory.user()
    group = client.post(
        "/v1/project_groups", json={"name": "compute", "title": "Compute"}, headers=w.admin.headers
    )
    assert group.status_code == 200, group.text
    joined = client.put(
        f"/v1/project_groups/{group.json()['id']}/projects/{w.project_id}", headers=w.admin.headers
    )
    assert joined.status_code == 200, joined.text
    with container.db.write() as session:
        leads.set_leads(
            session,
            actor=_actor(w.admin, superuser=True),
            kind="project_group",
            object_id=group.json()["id"],
            user_ids=[group_lead.id],
        )
    _task(client, w, w.dev, w.feature["id"])
    exception_id = _request(container, w)
    with container.db.write() as session:
        exceptions.decide(
            session,
            actor=_actor(group_lead),
            exception_id=exception_id,
            data=DecisionIn(decision="deny", reason="Next cycle"),
        )


def test_exceptions_on_private_stories_are_hidden_with_their_counts(
    container: Container, factory: Factory, client: TestClient
) -> None:
    w = _world(factory, container, freeze_on=_today())
    secret = factory.story(w.dev, "Embargoed", is_bug=False, private=True, users=[w.lead.id])
    _task(client, w, w.dev, secret["id"])
    _task(client, w, w.dev, w.feature["id"])
    hidden = _request(container, w, story_id=secret["id"])
    shown = _request(container, w)
    _decide(container, w, hidden, decision="grant", deadline=_today() + DAY)
    _decide(container, w, shown, decision="grant", deadline=_today() + DAY)
    outsider = factory.user()
    with container.db.read() as session:
        page = exceptions.list_exceptions(
            session,
            actor=_actor(outsider),
            filters=ExceptionFilter(cycle_id=w.cycle_id),
            page=PageRequest(limit=50),
        )
        assert [e.id for e in page.items] == [shown]
        assert page.total == 1
        with pytest.raises(NotFound):
            exceptions.load_exception(session, actor=_actor(outsider), exception_id=hidden)
        view = exceptions.get_exception(session, actor=_actor(outsider), exception_id=shown)
        assert view.context.project_granted == 1
        view = exceptions.get_exception(session, actor=_actor(w.dev), exception_id=shown)
        assert view.context.project_granted == 2
    listed = client.get(
        "/v1/freeze_exceptions", params={"cycle_id": w.cycle_id}, headers=outsider.headers
    )
    assert [e["id"] for e in listed.json()] == [shown]
    assert listed.headers["X-Total"] == "1"
    one = client.get(f"/v1/freeze_exceptions/{hidden}", headers=outsider.headers)
    assert one.status_code == 404
    events = client.get(f"/v1/stories/{secret['id']}/events", headers=outsider.headers)
    assert events.status_code == 404


def test_the_string_freeze_holds_flagged_stories_bugs_included(
    container: Container, factory: Factory, client: TestClient
) -> None:
    w = _world(factory, container, freeze_on=_today())
    bug = factory.story(w.dev, "Typo in a message")
    assert _task(client, w, w.dev, bug["id"], milestone_id=w.m2).status_code == 200
    flagged = client.put(f"/v1/stories/{bug['id']}/translatable", headers=w.dev.headers)
    assert flagged.status_code == 200
    assert flagged.json() == {"story_id": bug["id"], "translatable": True}
    refused = _task(client, w, w.dev, bug["id"], milestone_id=w.m2)
    assert refused.status_code == 409
    assert refused.json()["code"] == "string_frozen"
    exception_id = _request(container, w, story_id=bug["id"], freeze="string")
    _decide(container, w, exception_id, decision="grant", deadline=_today() + DAY)
    assert _task(client, w, w.dev, bug["id"], milestone_id=w.m2).status_code == 200
    assert (
        client.delete(f"/v1/stories/{bug['id']}/translatable", headers=w.dev.headers).status_code
        == 200
    )


def _expired_grant(container: Container, factory: Factory, client: TestClient) -> World:
    w = _world(factory, container, freeze_on=_today() - 10 * DAY)
    _task(client, w, w.dev, w.feature["id"])
    exception_id = _request(container, w)
    _decide(
        container,
        w,
        exception_id,
        decision="grant",
        deadline=_today() - DAY,
        today=_today() - 3 * DAY,
    )
    return w


def test_the_worker_defers_exceptions_past_their_deadline(
    container: Container, factory: Factory, client: TestClient
) -> None:
    w = _expired_grant(container, factory, client)
    Worker(container).run_once()
    listed = client.get(
        "/v1/freeze_exceptions", params={"cycle_id": w.cycle_id}, headers=w.dev.headers
    ).json()
    assert [(e["state"], e["deferred_to_cycle_id"]) for e in listed] == [(DEFERRED, w.next_id)]


def test_the_command_line_lists_and_expires(
    container: Container, factory: Factory, client: TestClient, settings: Settings
) -> None:
    w = _expired_grant(container, factory, client)
    env = {"STORYLINE_DATABASE_URL": settings.database_url, "COLUMNS": "200"}
    with container.db.read() as session:
        name = cycles.get_cycle(session, w.cycle_id).name

    def run(*args: str) -> str:
        result = CliRunner().invoke(cli_app, list(args), env=env)
        assert result.exit_code == 0, (result.output, result.exception)
        return result.output

    assert "granted" in run("exceptions", "list", name)
    assert "Deferred 0 exceptions" in run(
        "exceptions", "expire", "--today", (_today() - DAY).isoformat()
    )
    assert "Deferred 1 exception;" in run("exceptions", "expire")
    listed = run("exceptions", "list", name, "--state", "deferred")
    assert "deferred" in listed
    assert "1 request." in listed


def test_the_pages_list_and_decide_through_the_gate(
    container: Container, factory: Factory, client: TestClient
) -> None:
    w = _world(factory, container, freeze_on=_today())
    secret = factory.story(w.dev, "Embargoed", is_bug=False, private=True, users=[w.lead.id])
    _task(client, w, w.dev, secret["id"])
    _task(client, w, w.dev, w.feature["id"])
    shown = _request(container, w)
    hidden = _request(container, w, story_id=secret["id"])
    with container.db.read() as session:
        name = cycles.get_cycle(session, w.cycle_id).name
    outsider = new_browser(container, factory.user())
    listing = outsider.get(f"/cycles/{name}/exceptions", headers=HTML)
    assert listing.status_code == 200
    assert f'data-exception-id="{shown}"' in listing.text
    assert f'data-exception-id="{hidden}"' not in listing.text
    assert outsider.get(f"/exceptions/{hidden}", headers=HTML).status_code == 404

    lead = new_browser(container, w.lead)
    page = f"/exceptions/{shown}"
    assert "Record the decision" in lead.get(page, headers=HTML).text
    refused = lead.post(
        f"{page}/decision", {"decision": "grant", "reason": "ok", "deadline": ""}, page=page
    )
    assert refused.status_code == 400
    assert "deadline is required" in refused.text
    granted = lead.post(
        f"{page}/decision",
        {"decision": "grant", "reason": "ok", "deadline": (_today() + DAY).isoformat()},
        page=page,
    )
    assert granted.status_code == 303
    assert _state(container, shown) == (GRANTED, None)
    # Someone who may not decide gets the form refused, not a decision.
    assert "Record the decision" not in outsider.get(page, headers=HTML).text
    assert outsider.post(f"/exceptions/{hidden}/decision", {}, page=page).status_code == 404


def test_the_request_form_proposes_a_cycle_the_story_s_project_takes_part_in(
    container: Container, factory: Factory
) -> None:
    admin = factory.admin()
    today = dt.datetime.now(dt.UTC).date()
    span = {
        "starts_on": today - dt.timedelta(days=30),
        "releases_on": today + dt.timedelta(days=90),
    }
    # The earliest unreleased cycle is another project's.
    factory.cycle(admin, **span)
    later = factory.cycle(admin, **span)
    nova = factory.project(admin)["id"]
    factory.series(admin, cycle_id=later, project_id=nova)
    story = factory.story(admin, is_bug=False)
    factory.task(admin, story_id=story["id"], project_id=nova)
    actor = Actor(user_id=admin.id, is_superuser=True, can_write=True)
    with container.db.read() as session:
        choices = exceptions.request_choices(session, actor=actor, story_id=story["id"])
    assert choices.current_id == later
