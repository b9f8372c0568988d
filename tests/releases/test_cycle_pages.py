"""The cycle pages over HTTP: opening a cycle, the cycle page (with its
freeze exceptions, this week's reports and its velocity), the week table and
its forms, the support table."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event

from storyline.bootstrap import Container
from storyline.releases import cycles
from storyline.releases.reports import monday_of
from tests.factories import Factory, TestUser
from tests.web.signin import HTML, new_browser, sign_in

D = dt.date
DAY = dt.timedelta(days=1)


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def test_superusers_open_a_cycle_from_the_list(factory: Factory, container: Container) -> None:
    admin = factory.admin()
    browser = sign_in(factory.client, container, admin)
    listing = browser.get("/cycles")
    assert 'id="new-cycle"' in listing.text
    assert '<a href="/cycles"' in listing.text  # the site navigation
    bad = browser.post(
        "/cycles",
        {"name": "x y", "starts_on": "2026-01-05", "releases_on": "2026-06-29"},
        page="/cycles",
    )
    assert bad.status_code == 400
    assert 'aria-invalid="true"' in bad.text
    assert 'value="x y"' in bad.text
    made = browser.post(
        "/cycles",
        {
            "name": "2026.1",
            "title": "Spring",
            "starts_on": "2026-01-05",
            "releases_on": "2026-06-29",
        },
        page="/cycles",
    )
    assert made.status_code == 303
    assert made.headers["location"] == "/cycles/2026.1"
    assert 'data-cycle="2026.1"' in browser.get("/cycles").text
    anonymous = new_browser(container)
    assert 'id="new-cycle"' not in anonymous.get("/cycles").text
    member = new_browser(container, factory.user())
    refused = member.post(
        "/cycles",
        {"name": "other", "starts_on": "2026-01-05", "releases_on": "2026-06-29"},
        page="/cycles",
    )
    assert refused.status_code == 403


def test_the_cycle_page_links_every_part_and_shows_series_phases(factory: Factory) -> None:
    admin = factory.admin()
    today = _today()
    cycle_id = factory.cycle(
        admin,
        "now",
        starts_on=today - dt.timedelta(days=30),
        releases_on=today + dt.timedelta(days=40),
        entries=({"kind": "milestone", "number": 1, "starts_on": today + dt.timedelta(days=3)},),
    )
    nova = factory.project(admin, "openstack/nova")
    factory.series(admin, cycle_id=cycle_id, project_id=nova["id"])
    page = factory.client.get("/cycles/now", headers=HTML)
    assert page.status_code == 200
    for link in ("schedule", "exceptions", "reports", "velocity", "milestones/1", "calendar.ics"):
        assert f'href="/cycles/now/{link}"' in page.text, link
    assert 'data-days-to-release="40"' in page.text
    assert "openstack/nova" in page.text
    assert "phase-development" in page.text
    assert factory.client.get("/cycles/nope", headers=HTML).status_code == 404


@dataclass
class Cycles:
    admin: TestUser
    dev: TestUser
    # The cycle under way and the one before it, each with a milestone 1
    # that has passed: (cycle id, its milestone 1's schedule entry id).
    during: tuple[int, int]
    before: tuple[int, int]


def _cycles(factory: Factory) -> Cycles:
    admin, dev = factory.admin(), factory.user()
    today = _today()
    ids = []
    for name, starts in (("before", today - 400 * DAY), ("during", today - 100 * DAY)):
        cycle_id = factory.cycle(
            admin,
            name,
            starts_on=starts,
            releases_on=starts + 180 * DAY,
            entries=({"kind": "milestone", "number": 1, "starts_on": starts + 70 * DAY},),
        )
        with factory.container.db.read() as session:
            entry = cycles.entry_of(session, cycle_id, "milestone", 1)
            assert entry is not None
            ids.append((cycle_id, entry.id))
    return Cycles(admin, dev, during=ids[1], before=ids[0])


def _take_part(
    factory: Factory, w: Cycles, name: str, *, before_done: int, during_done: int
) -> int:
    """A project in both cycles with features done in each milestone 1, a
    freeze exception request and this week's report; the project's id."""
    project = factory.project(w.admin, name)["id"]
    for (cycle_id, entry_id), done in ((w.before, before_done), (w.during, during_done)):
        series = factory.series(w.admin, cycle_id=cycle_id, project_id=project)
        with factory.container.db.read() as session:
            milestone = next(
                m.milestone_id
                for m in cycles.series_milestones(session, [series])[series]
                if m.entry_id == entry_id
            )
        for _ in range(done):
            story = factory.story(w.admin, is_bug=False)["id"]
            factory.task(
                w.admin, story_id=story, project_id=project, milestone_id=milestone,
                status="merged",
            )  # fmt: skip
    _request(factory, w, project, f"Feature of {name}")
    week = monday_of(_today()).isoformat()
    written = factory.client.put(
        f"/v1/cycles/{w.during[0]}/reports/{project}/{week}",
        json={"content": f"*{name} is on track*"},
        headers=w.admin.headers,
    )
    assert written.status_code == 200, written.text
    return project


def _request(factory: Factory, w: Cycles, project: int, title: str, **story: Any) -> int:
    """A freeze exception request, by `w.dev`, for a new feature of `project`."""
    story_id = factory.story(w.dev, title, is_bug=False, **story)["id"]
    factory.task(w.dev, story_id=story_id, project_id=project)
    requested = factory.client.post(
        "/v1/freeze_exceptions",
        json={
            "story_id": story_id, "project_id": project, "cycle_id": w.during[0],
            "rationale": "Ready in days.", "self_contained": True, "days_to_merge": 3,
            "risk": "low",
        },
        headers=w.dev.headers,
    )  # fmt: skip
    assert requested.status_code == 200, requested.text
    exception_id: int = requested.json()["id"]
    return exception_id


def test_the_cycle_page_shows_exceptions_reports_and_velocity(
    factory: Factory, container: Container
) -> None:
    w = _cycles(factory)
    nova = _take_part(factory, w, "openstack/nova", before_done=2, during_done=1)
    swift = factory.project(w.admin, "openstack/swift")["id"]
    factory.series(w.admin, cycle_id=w.during[0], project_id=swift)
    hidden = _request(factory, w, nova, "Embargoed feature", private=True, users=[w.dev.id])

    outsider = new_browser(container, factory.user())
    page = outsider.get("/cycles/during", headers=HTML)
    assert page.status_code == 200, page.text
    html = page.text
    exceptions = html.split('id="freeze-exceptions"')[1].split("</section>")[0]
    assert "Feature of openstack/nova" in exceptions
    assert "Requested" in exceptions
    assert "Embargoed feature" not in html
    assert f'data-exception-id="{hidden}"' not in html
    assert 'href="/cycles/during/exceptions"' in exceptions
    # The requester sees the private story's request too.
    mine = new_browser(container, w.dev).get("/cycles/during", headers=HTML).text
    assert f'data-exception-id="{hidden}"' in mine

    reports = html.split('id="status-reports"')[1].split('id="velocity"')[0]
    assert f'week of <time datetime="{monday_of(_today()).isoformat()}">' in reports
    assert "<em>openstack/nova is on track</em>" in reports
    assert "No report yet from openstack/swift." in reports
    assert f'href="/cycles/during/reports?week={monday_of(_today()).isoformat()}"' in reports

    velocity = html.split('id="velocity"')[1].split("</section>")[0]
    assert "Velocity against before" in velocity
    # Features of milestone 1: 2 in the cycle before, 1 in this one.
    assert "<tr><td>1</td><td>2</td><td>1</td><td>-</td><td>-</td></tr>" in velocity
    assert velocity.count("<svg ") == 2
    assert 'href="/cycles/during/velocity"' in velocity
    # The first cycle has nothing to compare with.
    assert 'id="velocity"' not in factory.client.get("/cycles/before", headers=HTML).text


def test_the_cycle_page_costs_the_same_queries_for_one_project_or_many(
    factory: Factory, container: Container
) -> None:
    w = _cycles(factory)
    _take_part(factory, w, "org/one", before_done=1, during_done=1)

    def statements() -> int:
        seen: list[str] = []

        def record(*args: Any) -> None:
            seen.append(args[2])

        event.listen(container.db.engine, "before_cursor_execute", record)
        try:
            page = factory.client.get("/cycles/during", headers=HTML)
        finally:
            event.remove(container.db.engine, "before_cursor_execute", record)
        assert page.status_code == 200, page.text
        return len(seen)

    one = statements()
    for n in range(3):
        _take_part(factory, w, f"org/more-{n}", before_done=2, during_done=1)
    assert statements() == one


def test_the_week_table_marks_the_current_week(factory: Factory, container: Container) -> None:
    admin = factory.admin()
    today = _today()
    monday = today - dt.timedelta(days=today.weekday())
    factory.cycle(
        admin,
        "weeks",
        starts_on=monday - dt.timedelta(days=14),
        releases_on=monday + dt.timedelta(days=20),
        entries=(
            {"kind": "feature_freeze", "starts_on": today},
            {"kind": "event", "name": "Summit", "starts_on": monday - dt.timedelta(days=8),
             "ends_on": monday - dt.timedelta(days=5)},
        ),
    )  # fmt: skip
    page = factory.client.get("/cycles/weeks/schedule", headers=HTML).text
    rows = re.findall(r'<tr data-week="([0-9-]+)"([^>]*)>', page)
    assert [week for week, _ in rows] == [
        (monday + dt.timedelta(days=7 * n)).isoformat() for n in range(-2, 3)
    ]
    current = [week for week, attrs in rows if 'aria-current="date"' in attrs]
    assert current == [monday.isoformat()]
    assert 'class="current"' in page
    this_week = page.split(f'data-week="{monday.isoformat()}"')[1].split("</tr>")[0]
    assert "Feature freeze" in this_week
    # The summit spans two weeks: it is in both.
    assert page.count("</span> Summit ") == 2
    assert 'id="add-entry"' not in page
    browser = sign_in(factory.client, container, admin)
    assert 'id="add-entry"' in browser.get("/cycles/weeks/schedule").text
    added = browser.post(
        "/cycles/weeks/schedule",
        {"kind": "milestone", "number": "1", "starts_on": today.isoformat()},
        page="/cycles/weeks/schedule",
    )
    assert added.status_code == 303
    page = browser.get("/cycles/weeks/schedule").text
    assert "weeks-1" in page.split(f'data-week="{monday.isoformat()}"')[1].split("</tr>")[0]
    outside = browser.post(
        "/cycles/weeks/schedule",
        {"kind": "event", "entry_name": "Later", "starts_on": "2999-01-01"},
        page="/cycles/weeks/schedule",
    )
    assert outside.status_code == 400
    assert "must fall within the cycle" in outside.text
    factory.project(admin, "openstack/swift")
    joined = browser.post(
        "/cycles/weeks/series",
        {"project": "openstack/swift", "branch": "master"},
        page="/cycles/weeks/schedule",
    )
    assert joined.status_code == 303
    assert "openstack/swift" in browser.get("/cycles/weeks").text
    unknown = browser.post(
        "/cycles/weeks/series", {"project": "nope", "branch": "master"},
        page="/cycles/weeks/schedule",
    )  # fmt: skip
    assert unknown.status_code == 400
    assert "there is no project" in unknown.text


def test_the_support_table(factory: Factory) -> None:
    admin = factory.admin()
    nova = factory.project(admin, "openstack/nova")
    old = factory.cycle(admin, "old", starts_on=D(2020, 1, 6), releases_on=D(2020, 6, 1))
    factory.series(admin, cycle_id=old, project_id=nova["id"])
    page = factory.client.get("/support", headers=HTML)
    assert page.status_code == 200
    assert 'data-phase="maintained"' in page.text
    assert "openstack/nova" in page.text
    assert "openstack/nova" not in factory.client.get("/support?phase=eol", headers=HTML).text
    assert factory.client.get("/support?phase=nope", headers=HTML).status_code == 400
