"""The milestone, project-in-cycle and reports pages, and the story page's
targets panel, over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from storyline.app import create_app
from storyline.bootstrap import Container
from storyline.kernel import roles
from storyline.releases import cycles
from storyline.releases.models import PROJECT_LEAD, PROJECT_ROLES
from tests.factories import Factory, TestUser
from tests.releases.test_targeting import _world
from tests.web.tracker_browser import Browser, browser

HTML = {"accept": "text/html"}


@pytest.fixture
def app(container: Container) -> FastAPI:
    return create_app(container)


@pytest.fixture
def opened(app: FastAPI, container: Container) -> Iterator[list[Browser]]:
    made: list[Browser] = []
    yield made
    for each in made:
        each.client.__exit__(None, None, None)


def _as(app: FastAPI, container: Container, opened: list[Browser], user: TestUser) -> Browser:
    made = browser(app, container, user)
    opened.append(made)
    return made


def test_target_a_story_from_its_page_and_find_it_on_the_milestone_page(
    app: FastAPI,
    container: Container,
    factory: Factory,
    client: TestClient,
    opened: list[Browser],
) -> None:
    w = _world(factory, container)
    with container.db.read() as session:
        cycle = cycles.get_cycle(session, w.cycle_id)
    user = factory.user()
    outsider = factory.user()
    story = factory.story(user, title="Live migration", is_bug=False)
    factory.task(user, story_id=story["id"], project_id=w.nova)
    secret = factory.story(user, title="Embargoed fix", private=True)
    factory.task(user, story_id=secret["id"], project_id=w.nova)
    page = _as(app, container, opened, user)

    story_page = page.get(f"/stories/{story['id']}")
    assert story_page.status_code == 200
    assert 'id="targets-heading"' in story_page.text
    assert f'value="{w.second}:{w.nova}"' in story_page.text
    for story_id in (story["id"], secret["id"]):
        done = page.post(f"/stories/{story_id}/targets", {"choice": f"{w.second}:{w.nova}"})
        assert done.status_code == 303, done.text
    assert f"/cycles/{cycle.name}/milestones/2" in page.get(f"/stories/{story['id']}").text

    url = f"/cycles/{cycle.name}/milestones/2?project={w.nova}"
    mine = page.get(url)
    assert mine.status_code == 200, mine.text
    assert "Live migration" in mine.text
    assert "Embargoed fix" in mine.text
    theirs = _as(app, container, opened, outsider).get(url)
    assert "Live migration" in theirs.text
    assert "Embargoed fix" not in theirs.text
    overview = page.get(f"/cycles/{cycle.name}/projects/{w.nova}")
    assert overview.status_code == 200
    assert f"{cycle.name}-2" in overview.text

    # A malformed choice is a 400 page, not a crash.
    bad = page.post(f"/stories/{story['id']}/targets", {"choice": "x"}, headers=HTML)
    assert bad.status_code == 400
    assert client.get(f"/cycles/{cycle.name}/milestones/9", headers=HTML).status_code == 404


def test_leads_write_the_weeks_report_on_the_reports_page(
    app: FastAPI, container: Container, factory: Factory, opened: list[Browser]
) -> None:
    admin = factory.admin()
    lead = factory.user()
    someone = factory.user()
    cycle_id = factory.cycle(admin, "reporting")
    alpha = factory.project(admin, "org/alpha-reports")["id"]
    beta = factory.project(admin, "org/beta-reports")["id"]
    for project in (alpha, beta):
        factory.series(admin, cycle_id=cycle_id, project_id=project)
    with container.db.write() as session:
        roles.update(
            session, PROJECT_ROLES, object_id=alpha, role=PROJECT_LEAD, author_id=admin.id,
            add=[lead.id], field="leads",
        )  # fmt: skip
    page = _as(app, container, opened, lead)
    week = "/cycles/reporting/reports?week=2026-02-02"
    before = page.get(week)
    assert before.status_code == 200
    assert before.text.count("No report.") == 2
    assert f'action="/cycles/reporting/reports/{alpha}/2026-02-02"' in before.text
    assert f'action="/cycles/reporting/reports/{beta}/2026-02-02"' not in before.text
    assert "?week=2026-01-26" in before.text
    assert "?week=2026-02-09" in before.text

    written = page.post(f"/cycles/reporting/reports/{alpha}/2026-02-02", {"content": "*On track*"})
    assert written.status_code == 303, written.text
    after = page.get(week)
    assert "<em>On track</em>" in after.text
    assert after.text.count("No report.") == 1

    empty = page.post(f"/cycles/reporting/reports/{alpha}/2026-02-02", {"content": ""})
    assert empty.status_code == 400
    assert "aria-invalid" in empty.text
    other = _as(app, container, opened, someone)
    assert f'action="/cycles/reporting/reports/{alpha}' not in other.get(week).text
    refused = other.post(f"/cycles/reporting/reports/{alpha}/2026-02-02", {"content": "Mine"})
    assert refused.status_code == 403
    assert page.get("/cycles/reporting/reports?week=2026-02-03").status_code == 400
