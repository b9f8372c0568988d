"""A feature freeze exception end to end in Chromium: a developer asks for
one from the story page after the freeze, and the project's lead grants it
on the decision page, after which the feature may merge."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from storyline.bootstrap import build
from storyline.config import Settings
from storyline.kernel.access import Actor
from storyline.releases import cycles, leads
from tests.browser.conftest import LiveServer, Person, new_page, sign_in

pytestmark = pytest.mark.slow


def _today() -> dt.date:
    # Read at each use, not at import: a run that crosses midnight (UTC)
    # must not hold yesterday's date against the server's.
    return dt.datetime.now(dt.UTC).date()


DAY = dt.timedelta(days=1)


def _frozen_cycle(live: LiveServer, admin: Person, project_id: int, lead_id: int) -> int:
    """A cycle whose feature freeze began yesterday, with the project in it;
    its second milestone's tracker milestone. Set up through the services,
    as a release manager would through the cycle pages."""
    branches = live.api("GET", "/v1/branches", token=admin.token, params={"project_id": project_id})
    branch = next(b["id"] for b in branches if b["name"] == "master")
    container = build(Settings.from_env(live.env))
    actor = Actor(user_id=admin.id, is_superuser=True, can_write=True)
    try:
        with container.db.write() as session:
            cycle = cycles.create_cycle(
                session,
                actor=actor,
                data=cycles.CycleIn(
                    name=f"ffe{_today():%Y%m%d}",
                    starts_on=_today() - 90 * DAY,
                    releases_on=_today() + 60 * DAY,
                ),
            )
            for entry in (
                {"kind": "milestone", "number": 1, "starts_on": _today() - 30 * DAY},
                {"kind": "feature_freeze", "starts_on": _today() - DAY},
                {"kind": "milestone", "number": 2, "starts_on": _today() + 20 * DAY},
            ):
                cycles.add_entry(
                    session, actor=actor, cycle=cycle, data=cycles.EntryIn.model_validate(entry)
                )
            cycles.join(
                session,
                actor=actor,
                cycle=cycle,
                data=cycles.SeriesIn(project_id=project_id, branch_id=branch),
            )
            leads.set_leads(
                session, actor=actor, kind="project", object_id=project_id, user_ids=[lead_id]
            )
            second = cycles.entry_of(session, cycle.id, "milestone", 2)
            assert second is not None
            (milestone_id,) = cycles.tracker_milestones(session, [second.id])[second.id]
            return milestone_id
    finally:
        container.db.dispose()


def test_request_an_exception_and_the_lead_grants_it(chromium: Any, live: LiveServer) -> None:
    admin = live.person("Ada Admin", superuser=True)
    dev = live.person("Dana Developer")
    lead = live.person("Lee Lead")
    project = live.api("POST", "/v1/projects", token=admin.token, json={"name": "ffe/nova"})
    milestone_id = _frozen_cycle(live, admin, project["id"], lead.id)
    story = live.api(
        "POST", "/v1/stories", token=dev.token, json={"title": "Live resize", "is_bug": False}
    )
    task = live.api(
        "POST",
        "/v1/tasks",
        token=dev.token,
        json={"title": "Resize in nova", "story_id": story["id"], "project_id": project["id"]},
    )
    page = new_page(chromium)
    try:
        sign_in(page, live, dev)
        page.goto(f"{live.url}/stories/{story['id']}")
        page.get_by_role("link", name="Request a feature freeze exception").click()
        page.wait_for_url(re.compile(r".*/exceptions/new\?story_id=\d+$"))
        page.locator("#ffe-rationale").fill("Self-contained; the driver side is done.")
        page.locator("#ffe-self-contained").check()
        page.locator("#ffe-days").fill("4")
        page.locator("#ffe-risk").select_option("low")
        page.get_by_role("button", name="Request the exception").click()
        page.wait_for_url(re.compile(r".*/exceptions/\d+$"))
        exception_id = int(page.url.rsplit("/", 1)[1])
        assert page.locator("[data-state]").first.inner_text() == "Requested"
        assert page.locator("[data-fact=days-into-freeze]").inner_text() == "1"
        # The developer may neither decide nor advise.
        assert page.locator("#decision-reason").count() == 0

        page.context.clear_cookies()
        sign_in(page, live, lead)
        page.goto(f"{live.url}/exceptions/{exception_id}")
        assert page.locator("[data-fact=project-granted]").inner_text() == "0"
        page.locator("#decision-grant").check()
        page.locator("#decision-reason").fill("Small and tested.")
        page.locator("#decision-deadline").fill((_today() + 5 * DAY).isoformat())
        page.get_by_role("button", name="Record the decision").click()
        page.wait_for_url(re.compile(rf".*/exceptions/{exception_id}$"))
        assert page.locator("[data-state]").first.inner_text() == "Granted"
        assert page.locator("[data-fact=project-granted]").inner_text() == "1"
    finally:
        page.context.close()
    # The granted exception lets the feature into the frozen cycle.
    moved = live.api(
        "PUT", f"/v1/tasks/{task['id']}", token=dev.token, json={"milestone_id": milestone_id}
    )
    assert moved["milestone_id"] == milestone_id
