"""/v1/cycles and /v1/support over HTTP: cycles, schedules, series, release
managers, the iCalendar feed, and the support phases on their exact dates."""

from __future__ import annotations

import datetime as dt
from typing import Any

import icalendar
from fastapi.testclient import TestClient
from sqlalchemy import event, select

from storyline.accounts.models import AuditEvent
from tests.factories import Factory

D = dt.date
JUNO = {"name": "juno", "starts_on": "2014-04-17", "releases_on": "2014-10-16"}


def _open(client: TestClient, admin_headers: dict[str, str], **fields: object) -> dict:
    response = client.post("/v1/cycles", json={**JUNO, **fields}, headers=admin_headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_superusers_open_cycles_and_everyone_reads_them(
    client: TestClient, factory: Factory
) -> None:
    admin, user = factory.admin(), factory.user()
    refused = client.post("/v1/cycles", json=JUNO, headers=user.headers)
    assert refused.status_code == 403
    cycle = _open(client, admin.headers, title="Juno")
    assert cycle["managers"] == [admin.id]
    assert client.get("/v1/cycles/juno").json()["id"] == cycle["id"]
    assert client.get(f"/v1/cycles/{cycle['id']}").json()["title"] == "Juno"
    assert [c["name"] for c in client.get("/v1/cycles").json()] == ["juno"]
    again = client.post("/v1/cycles", json=JUNO, headers=admin.headers)
    assert again.status_code == 409
    digits = client.post("/v1/cycles", json={**JUNO, "name": "2014"}, headers=admin.headers)
    assert digits.status_code == 400
    backwards = client.post(
        "/v1/cycles",
        json={**JUNO, "name": "k", "releases_on": "2014-04-01"},
        headers=admin.headers,
    )
    assert backwards.status_code == 400
    assert client.get("/v1/cycles/kilo").status_code == 404


def test_release_managers_change_dates_that_keep_the_schedule_inside(
    client: TestClient, factory: Factory
) -> None:
    admin, manager, other = factory.admin(), factory.user(), factory.user()
    cycle = _open(client, admin.headers, managers=[manager.id])
    added = client.post(
        "/v1/cycles/juno/schedule",
        json={"kind": "milestone", "number": 1, "starts_on": "2014-06-12"},
        headers=manager.headers,
    )
    assert added.status_code == 200, added.text
    assert added.json()["name"] == "juno-1"
    outside = client.post(
        "/v1/cycles/juno/schedule",
        json={"kind": "event", "name": "Late", "starts_on": "2014-11-01"},
        headers=manager.headers,
    )
    assert outside.status_code == 400
    assert (
        client.put("/v1/cycles/juno", json={"title": "X"}, headers=other.headers).status_code == 403
    )
    shrunk = client.put(
        "/v1/cycles/juno", json={"releases_on": "2014-06-01"}, headers=manager.headers
    )
    assert shrunk.status_code == 400
    assert "juno-1" in shrunk.json()["message"]
    moved = client.put(
        f"/v1/cycles/{cycle['id']}",
        json={"title": "Juno", "releases_on": "2014-10-23"},
        headers=manager.headers,
    )
    assert moved.status_code == 200
    assert (moved.json()["title"], moved.json()["releases_on"]) == ("Juno", "2014-10-23")
    stale = client.put(
        "/v1/cycles/juno",
        json={"title": "Y"},
        headers={**manager.headers, "If-Match": '"stale"'},
    )
    assert stale.status_code == 412


def test_renaming_a_milestone_renames_its_tracker_milestones_and_targets_block_deletion(
    client: TestClient, factory: Factory
) -> None:
    admin = factory.admin()
    cycle = _open(client, admin.headers)
    nova = factory.project(admin, "openstack/nova")
    entry = client.post(
        "/v1/cycles/juno/schedule",
        json={"kind": "milestone", "number": 1, "starts_on": "2014-06-12"},
        headers=admin.headers,
    ).json()
    branch = next(
        b
        for b in client.get("/v1/branches", params={"project_id": nova["id"]}).json()
        if b["name"] == "master"
    )
    series = client.post(
        "/v1/cycles/juno/series",
        json={
            "project_id": nova["id"],
            "branch_id": branch["id"],
            "tags": {entry["id"]: "2014.2.b1"},
        },
        headers=admin.headers,
    )
    assert series.status_code == 200, series.text
    (milestone,) = series.json()["milestones"]
    assert milestone["tag"] == "2014.2.b1"
    # Released in 2014, with no later cycle scheduled: still maintained.
    assert series.json()["phase"] == "maintained"
    renamed = client.put(
        f"/v1/cycles/juno/schedule/{entry['id']}",
        json={"kind": "milestone", "number": 1, "name": "juno-one", "starts_on": "2014-06-13"},
        headers=admin.headers,
    )
    assert renamed.status_code == 200, renamed.text
    tracker = client.get(f"/v1/milestones/{milestone['milestone_id']}").json()
    assert tracker["name"] == "juno-one"
    rekind = client.put(
        f"/v1/cycles/juno/schedule/{entry['id']}",
        json={"kind": "rc", "number": 1, "starts_on": "2014-06-13"},
        headers=admin.headers,
    )
    assert rekind.status_code == 400
    story = factory.story(admin)
    task = factory.task(admin, story_id=story["id"], project_id=nova["id"])
    client.put(
        f"/v1/tasks/{task['id']}",
        json={"milestone_id": milestone["milestone_id"]},
        headers=admin.headers,
    )
    blocked = client.delete(f"/v1/cycles/juno/schedule/{entry['id']}", headers=admin.headers)
    assert blocked.status_code == 409
    assert (
        client.delete(
            f"/v1/cycles/juno/series/{series.json()['id']}", headers=admin.headers
        ).status_code
        == 409
    )
    assert client.delete("/v1/cycles/juno", headers=admin.headers).status_code == 409
    client.put(f"/v1/tasks/{task['id']}", json={"milestone_id": None}, headers=admin.headers)
    assert (
        client.delete(f"/v1/cycles/juno/schedule/{entry['id']}", headers=admin.headers).status_code
        == 204
    )
    assert client.get(f"/v1/milestones/{milestone['milestone_id']}").status_code == 404
    changed = client.put(
        f"/v1/cycles/juno/series/{series.json()['id']}",
        json={"release_tag": "2014.2", "support_override": "eol"},
        headers=admin.headers,
    )
    assert changed.status_code == 200
    assert (changed.json()["release_tag"], changed.json()["phase"]) == ("2014.2", "eol")
    bad = client.put(
        f"/v1/cycles/juno/series/{series.json()['id']}",
        json={"support_override": "forever"},
        headers=admin.headers,
    )
    assert bad.status_code == 400
    assert (
        client.delete(
            f"/v1/cycles/juno/series/{series.json()['id']}", headers=admin.headers
        ).status_code
        == 204
    )
    assert client.delete(f"/v1/cycles/{cycle['id']}", headers=admin.headers).status_code == 204
    assert client.get("/v1/cycles/juno").status_code == 404


def test_release_managers_through_permissions(client: TestClient, factory: Factory) -> None:
    admin, manager = factory.admin(), factory.user()
    cycle = _open(client, admin.headers)
    path = f"/v1/cycles/{cycle['id']}/permissions"
    assert client.get(path, headers=manager.headers).json() == []
    added = client.put(
        path,
        json={"codename": "manage_cycle", "users": [admin.id, manager.id]},
        headers=admin.headers,
    )
    assert added.status_code == 200, added.text
    assert client.get(path, headers=manager.headers).json() == ["manage_cycle"]
    assert client.get("/v1/cycles/juno").json()["managers"] == sorted([admin.id, manager.id])


def test_the_calendar_feed_parses_back_with_one_all_day_event_per_entry(
    client: TestClient, factory: Factory
) -> None:
    admin = factory.admin()
    _open(client, admin.headers, title="Juno cycle")
    for entry in (
        {"kind": "milestone", "number": 1, "starts_on": "2014-06-12"},
        {
            "kind": "event",
            "name": "Summit",
            "starts_on": "2014-05-12",
            "ends_on": "2014-05-16",
            "description": "Atlanta",
        },
        {"kind": "final_release", "starts_on": "2014-10-16"},
    ):
        client.post("/v1/cycles/juno/schedule", json=entry, headers=admin.headers)
    response = client.get("/v1/cycles/juno/calendar.ics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    assert client.get("/cycles/juno/calendar.ics").content == response.content
    parsed = icalendar.Calendar.from_ical(response.content)
    assert str(parsed["X-WR-CALNAME"]) == "Juno cycle"
    events = {str(e["SUMMARY"]): e for e in parsed.walk("VEVENT")}
    assert sorted(events) == ["Summit", "juno release", "juno-1"]
    summit = events["Summit"]
    assert summit.decoded("DTSTART") == D(2014, 5, 12)
    # DTEND is exclusive: the summit's last day is the 16th.
    assert summit.decoded("DTEND") == D(2014, 5, 17)
    assert str(summit["DESCRIPTION"]) == "Atlanta"
    assert events["juno-1"].decoded("DTEND") == D(2014, 6, 13)
    uids = {str(e["UID"]) for e in events.values()}
    assert len(uids) == 3
    # Stable: the same feed until the schedule changes.
    again = icalendar.Calendar.from_ical(client.get("/v1/cycles/juno/calendar.ics").content)
    assert {str(e["UID"]) for e in again.walk("VEVENT")} == uids
    assert client.get("/v1/cycles/nope/calendar.ics").status_code == 404


def _support(client: TestClient, day: str, **params: str) -> dict[str, str]:
    response = client.get("/v1/support", params={"date": day, **params})
    assert response.status_code == 200, response.text
    return {row["cycle_name"]: row["phase"] for row in response.json()}


def test_support_phases_change_on_the_exact_dates(client: TestClient, factory: Factory) -> None:
    admin = factory.admin()
    nova = factory.project(admin)
    # Three cycles: icehouse releases 2014-04-17; juno releases 2014-10-16;
    # kilo's feature freeze is 2015-03-19.
    spans = {
        "icehouse": ("2013-10-17", "2014-04-17", None),
        "juno": ("2014-04-17", "2014-10-16", None),
        "kilo": ("2014-10-16", "2015-04-30", "2015-03-19"),
    }
    for name, (starts, releases, freeze) in spans.items():
        cycle = _open(client, admin.headers, name=name, starts_on=starts, releases_on=releases)
        if freeze:
            client.post(
                f"/v1/cycles/{name}/schedule",
                json={"kind": "feature_freeze", "starts_on": freeze},
                headers=admin.headers,
            )
        factory.series(admin, cycle_id=cycle["id"], project_id=nova["id"])
    phases = lambda day: _support(client, day)["icehouse"]  # noqa: E731
    assert phases("2014-04-16") == "development"
    assert phases("2014-04-17") == "maintained"
    assert phases("2014-10-15") == "maintained"
    assert phases("2014-10-16") == "security"
    assert phases("2015-03-18") == "security"
    assert phases("2015-03-19") == "eol"
    # Juno is in security from kilo's release on.
    assert _support(client, "2015-03-19") == {
        "icehouse": "eol",
        "juno": "maintained",
        "kilo": "development",
    }
    assert _support(client, "2015-03-18", phase="security") == {"icehouse": "security"}
    assert _support(client, "2015-04-30")["juno"] == "security"
    assert client.get("/v1/support", params={"phase": "forever"}).status_code == 400
    # A cycle whose date is not scheduled yet: juno stays in security.
    assert _support(client, "2016-01-01")["juno"] == "security"


def test_the_policy_is_a_setting_for_superusers(client: TestClient, factory: Factory) -> None:
    admin, user = factory.admin(), factory.user()
    read = client.get("/v1/support/policy")
    policy, policy_etag = read.json(), read.headers["ETag"]
    assert policy["default"] is True
    assert [r["phase"] for r in policy["rules"]] == ["maintained", "security", "eol"]
    rules = {"rules": [{"phase": "eol", "cycles_later": 1, "at_kind": "milestone", "at_number": 2}]}
    assert client.put("/v1/support/policy", json=rules, headers=user.headers).status_code == 403
    changed = client.put("/v1/support/policy", json=rules, headers=admin.headers)
    assert changed.status_code == 200
    assert changed.json()["default"] is False
    with factory.container.db.read() as session:
        logged = session.scalars(
            select(AuditEvent.user_id).where(AuditEvent.event_type == "support_policy_changed")
        ).all()
    assert logged == [admin.id]
    nova = factory.project(admin)
    first = _open(
        client, admin.headers, name="a1", starts_on="2020-01-01", releases_on="2020-06-01"
    )
    _open(client, admin.headers, name="a2", starts_on="2020-06-01", releases_on="2020-12-01")
    client.post(
        "/v1/cycles/a2/schedule",
        json={"kind": "milestone", "number": 2, "starts_on": "2020-09-01"},
        headers=admin.headers,
    )
    factory.series(admin, cycle_id=first["id"], project_id=nova["id"])
    assert _support(client, "2020-08-31") == {"a1": "maintained"}
    assert _support(client, "2020-09-01") == {"a1": "eol"}
    twice = {"rules": [rules["rules"][0], rules["rules"][0]]}
    assert client.put("/v1/support/policy", json=twice, headers=admin.headers).status_code == 400
    stale = client.put(
        "/v1/support/policy",
        json={"rules": []},
        headers={**admin.headers, "If-Match": policy_etag},
    )
    assert stale.status_code == 412
    reset = client.put("/v1/support/policy", json={"rules": []}, headers=admin.headers)
    assert reset.json()["default"] is True


def test_lists_cost_the_same_number_of_queries_for_one_row_or_many(
    client: TestClient, factory: Factory
) -> None:
    admin = factory.admin()
    few = _open(client, admin.headers, name="few")
    many = _open(
        client, admin.headers, name="many", starts_on="2014-10-16", releases_on="2015-04-30"
    )
    for name in ("few", "many"):
        client.post(
            f"/v1/cycles/{name}/schedule",
            json={"kind": "milestone", "number": 1, "starts_on": "2014-10-16"},
            headers=admin.headers,
        )
    factory.series(admin, cycle_id=few["id"], project_id=factory.project(admin)["id"])
    for _ in range(5):
        factory.series(admin, cycle_id=many["id"], project_id=factory.project(admin)["id"])
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    def queries(path: str, params: dict[str, Any], expected: int) -> int:
        statements.clear()
        event.listen(factory.container.db.engine, "before_cursor_execute", count)
        try:
            assert len(client.get(path, params=params).json()) == expected
        finally:
            event.remove(factory.container.db.engine, "before_cursor_execute", count)
        return len(statements)

    assert queries("/v1/cycles/few/series", {}, 1) == queries("/v1/cycles/many/series", {}, 5)
    assert queries("/v1/support", {"cycle_id": few["id"]}, 1) == queries(
        "/v1/support", {"cycle_id": many["id"]}, 5
    )
    one = queries("/v1/cycles", {}, 2)
    _open(client, admin.headers, name="more", starts_on="2015-04-30", releases_on="2015-10-15")
    assert queries("/v1/cycles", {}, 3) == one
