"""A release cycle in Chromium: a project lead targets a story to a cycle
milestone from the story page and finds it on the milestone page, then
writes the week's status report and reads it on the reports page."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import pytest
from playwright.sync_api import expect

from storyline.config import Settings
from storyline.kernel import roles
from storyline.kernel.access import Actor
from storyline.kernel.db import Database, make_engine
from storyline.releases import cycles
from storyline.releases.models import PROJECT_LEAD, PROJECT_ROLES
from tests.browser.conftest import LiveServer, check_accessibility, new_page, screenshot, sign_in

pytestmark = pytest.mark.slow


def _open_cycle(
    live: LiveServer, admin_id: int, project_id: int, branch_id: int, lead_id: int
) -> str:
    """A cycle running now with one milestone ahead, the project in it and
    `lead_id` its lead, written through the services into the server's
    database (as the release team's commands would)."""
    today = dt.datetime.now(dt.UTC).date()
    name = f"flow{os.getpid()}"
    actor = Actor(user_id=admin_id, is_superuser=True, can_write=True)
    engine = make_engine(Settings.from_env(live.env))
    try:
        with Database(engine).write() as session:
            cycle = cycles.create_cycle(
                session,
                actor=actor,
                data=cycles.CycleIn(
                    name=name,
                    starts_on=today - dt.timedelta(days=14),
                    releases_on=today + dt.timedelta(days=180),
                ),
            )
            cycles.add_entry(
                session,
                actor=actor,
                cycle=cycle,
                data=cycles.EntryIn(
                    kind="milestone", number=1, starts_on=today + dt.timedelta(days=30)
                ),
            )
            cycles.join(
                session,
                actor=actor,
                cycle=cycle,
                data=cycles.SeriesIn(project_id=project_id, branch_id=branch_id),
            )
            roles.update(
                session, PROJECT_ROLES, object_id=project_id, role=PROJECT_LEAD,
                author_id=admin_id, add=[lead_id], field="leads",
            )  # fmt: skip
    finally:
        engine.dispose()
    return name


def test_target_a_story_then_report_on_the_week(chromium: Any, live: LiveServer) -> None:
    admin = live.person("Rita Release", superuser=True)
    lead = live.person("Lena Lead")
    project = live.api(
        "POST", "/v1/projects", token=admin.token, json={"name": f"org/flow-{os.getpid()}"}
    )
    branches = live.api(
        "GET", "/v1/branches", token=admin.token, params={"project_id": project["id"]}
    )
    master = next(b["id"] for b in branches if b["name"] == "master")
    name = _open_cycle(live, admin.id, project["id"], master, lead.id)
    story = live.api(
        "POST", "/v1/stories", token=lead.token, json={"title": "Live migration", "is_bug": False}
    )
    live.api(
        "POST",
        "/v1/tasks",
        token=lead.token,
        json={"title": "Implement it", "story_id": story["id"], "project_id": project["id"]},
    )

    page = new_page(chromium)
    try:
        sign_in(page, live, lead)
        page.goto(f"{live.url}/stories/{story['id']}")
        targets = page.locator("#targets")
        expect(targets).to_contain_text("Targeted to no cycle milestone.")
        targets.locator("#target-choice").select_option(index=0)
        targets.get_by_role("button", name="Target").click()
        expect(targets.locator("[data-list=story-targets]")).to_contain_text(f"{name}-1")

        targets.get_by_role("link", name=f"{name}-1").click()
        page.wait_for_url(f"**/cycles/{name}/milestones/1")
        page.get_by_label("Project").select_option(label=project["name"])
        page.get_by_role("button", name="Show").click()
        expect(page.locator("[data-list=not_started]")).to_contain_text("Live migration")
        expect(page.locator("[data-count=targeted]")).to_contain_text("1")
        check_accessibility(page, "milestone page")
        screenshot(page, "milestone")

        page.goto(f"{live.url}/cycles/{name}/reports")
        section = page.locator(f"[data-report-project='{project['name']}']")
        expect(section).to_contain_text("No report.")
        section.locator(f"#report-{project['id']}").fill(
            "Live migration is **on track** for milestone 1."
        )
        section.get_by_role("button", name="Save report").click()
        expect(section.locator(".markdown strong")).to_have_text("on track")
        check_accessibility(page, "reports page")
        screenshot(page, "reports")
    finally:
        page.context.close()
