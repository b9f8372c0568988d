"""Weekly status reports: who may write them, which weeks, and how they read."""

from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient

from storyline.bootstrap import Container
from storyline.kernel import roles
from storyline.kernel.access import Actor
from storyline.releases import cycles, reports
from storyline.releases.models import PROJECT_GROUP_ROLES, PROJECT_LEAD, PROJECT_ROLES
from storyline.releases.reports import MAX_CONTENT
from tests.factories import Factory, TestUser

# The factory's cycle runs from Monday 2026-01-05 to Monday 2026-06-29.
WEEK = "2026-02-02"


def _lead(container: Container, admin: TestUser, user: TestUser, *, project: int = 0,
          group: int = 0) -> None:  # fmt: skip
    spec, object_id = (PROJECT_ROLES, project) if project else (PROJECT_GROUP_ROLES, group)
    with container.db.write() as session:
        roles.update(
            session, spec, object_id=object_id, role=PROJECT_LEAD, author_id=admin.id,
            add=[user.id], field="leads",
        )  # fmt: skip


def _put(client: TestClient, user: TestUser | None, url: str, content: str) -> int:
    headers = user.headers if user is not None else {}
    return client.put(url, json={"content": content}, headers=headers).status_code


def test_leads_managers_and_admins_write_a_projects_report_and_others_may_not(
    client: TestClient, factory: Factory, container: Container
) -> None:
    admin = factory.admin()
    manager = factory.user()
    lead = factory.user()
    group_lead = factory.user()
    outsider = factory.user()
    cycle_id = factory.cycle(admin, managers=(manager.id,))
    nova = factory.project(admin)["id"]
    factory.series(admin, cycle_id=cycle_id, project_id=nova)
    group = client.post("/v1/project_groups", json={"name": "g-nova"}, headers=admin.headers)
    client.put(f"/v1/project_groups/{group.json()['id']}/projects/{nova}", headers=admin.headers)
    _lead(container, admin, lead, project=nova)
    _lead(container, admin, group_lead, group=group.json()["id"])
    url = f"/v1/cycles/{cycle_id}/reports/{nova}/{WEEK}"

    assert _put(client, None, url, "On track.") == 401
    assert _put(client, outsider, url, "On track.") == 403
    assert _put(client, lead, url, "On track.") == 200
    assert _put(client, group_lead, url, "Still on track.") == 200
    assert _put(client, manager, url, "Filled in.") == 200
    assert _put(client, admin, url, "**Blocked** on <script>alert(1)</script>") == 200

    # One report per project and week: each write rewrote it.
    listed = client.get(f"/v1/cycles/{cycle_id}/reports", params={"week": WEEK})
    assert listed.status_code == 200, listed.text
    (report,) = listed.json()
    assert report["author_id"] == admin.id
    assert "<strong>Blocked</strong>" in report["html"]
    assert "<script" not in report["html"]
    assert client.get(f"/v1/cycles/{cycle_id}/reports", params={"week": "2026-02-09"}).json() == []

    assert client.delete(url, headers=outsider.headers).status_code == 403
    assert client.delete(url, headers=lead.headers).status_code == 204
    assert client.get(url).status_code == 404
    assert client.delete(url, headers=lead.headers).status_code == 404


def test_a_report_is_for_a_monday_of_the_cycle_a_project_in_it_and_short(
    client: TestClient, factory: Factory
) -> None:
    admin = factory.admin()
    cycle_id = factory.cycle(admin)
    nova = factory.project(admin)["id"]
    factory.series(admin, cycle_id=cycle_id, project_id=nova)
    stranger = factory.project(admin)["id"]
    base = f"/v1/cycles/{cycle_id}/reports"

    def refused(url: str, content: str = "Fine.") -> str:
        response = client.put(url, json={"content": content}, headers=admin.headers)
        assert response.status_code == 400, response.text
        return str(response.json()["message"])

    assert "Monday (2026-02-02)" in refused(f"{base}/{nova}/2026-02-04")
    assert "runs from the week of 2026-01-05" in refused(f"{base}/{nova}/2026-07-06")
    refused(f"{base}/{nova}/{WEEK}", "x" * (MAX_CONTENT + 1))
    refused(f"{base}/{nova}/{WEEK}", "")
    refused(f"{base}/{nova}/not-a-date")
    # The cycle's first and last weeks are fine.
    assert _put(client, admin, f"{base}/{nova}/2026-01-05", "x" * MAX_CONTENT) == 200
    assert _put(client, admin, f"{base}/{nova}/2026-06-29", "Released.") == 200
    missing = client.put(f"{base}/{stranger}/{WEEK}", json={"content": "?"}, headers=admin.headers)
    assert missing.status_code == 404
    assert client.get("/v1/cycles/999999/reports").status_code == 404


def test_the_week_lists_every_project_of_the_cycle_with_or_without_a_report(
    client: TestClient, factory: Factory, container: Container
) -> None:
    admin = factory.admin()
    lead = factory.user()
    cycle_id = factory.cycle(admin)
    alpha = factory.project(admin, "org/alpha")["id"]
    beta = factory.project(admin, "org/beta")["id"]
    for project in (alpha, beta):
        factory.series(admin, cycle_id=cycle_id, project_id=project)
    _lead(container, admin, lead, project=beta)
    assert _put(client, lead, f"/v1/cycles/{cycle_id}/reports/{beta}/{WEEK}", "Done.") == 200
    week = dt.date(2026, 2, 2)
    with container.db.read() as session:
        cycle = cycles.get_cycle(session, cycle_id)
        actor = Actor(user_id=lead.id, can_write=True)
        rows = reports.week_reports(session, actor=actor, cycle=cycle, week=week)
        assert [(r.project.name, r.report is not None, r.writable) for r in rows] == [
            ("org/alpha", False, False),
            ("org/beta", True, True),
        ]
        assert reports.current_week(cycle, dt.date(2026, 2, 5)) == week
        assert reports.current_week(cycle, dt.date(2025, 1, 1)) == dt.date(2026, 1, 5)
