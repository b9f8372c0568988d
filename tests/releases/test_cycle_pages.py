"""The cycle pages over HTTP: opening a cycle, the cycle page, the week
table and its forms, the support table."""

from __future__ import annotations

import datetime as dt
import re

from storyline.bootstrap import Container
from tests.factories import Factory
from tests.web.signin import HTML, new_browser, sign_in

D = dt.date


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
