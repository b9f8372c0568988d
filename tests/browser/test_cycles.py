"""A release manager's first steps in Chromium: open a cycle, add a
milestone this week, and find it in the week table with the current week
highlighted."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.browser.conftest import LiveServer, check_accessibility, new_page, screenshot, sign_in

pytestmark = pytest.mark.slow


def test_open_a_cycle_and_see_a_milestone_in_the_current_week(
    chromium: Any, live: LiveServer
) -> None:
    admin = live.person("Rita Release", superuser=True)
    today = dt.datetime.now(dt.UTC).date()
    monday = today - dt.timedelta(days=today.weekday())
    page = new_page(chromium)
    try:
        sign_in(page, live, admin)
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Cycles").click()
        page.wait_for_url(live.url + "/cycles")
        page.locator("#f-name").fill("flow-cycle")
        page.locator("#f-title").fill("The flow cycle")
        page.locator("#f-starts_on").fill((today - dt.timedelta(days=21)).isoformat())
        page.locator("#f-releases_on").fill((today + dt.timedelta(days=60)).isoformat())
        page.get_by_role("button", name="Open cycle").click()
        page.wait_for_url(live.url + "/cycles/flow-cycle")
        assert page.locator("[data-days-to-release]").get_attribute("data-days-to-release") == "60"

        page.get_by_role("navigation", name="This cycle").get_by_role(
            "link", name="Schedule"
        ).click()
        page.wait_for_url(live.url + "/cycles/flow-cycle/schedule")
        page.locator("#entry-kind").select_option("milestone")
        page.locator("#entry-number").fill("1")
        page.locator("#entry-starts").fill(today.isoformat())
        page.get_by_role("button", name="Add", exact=True).click()
        page.wait_for_url(live.url + "/cycles/flow-cycle/schedule")

        current = page.locator('tr[aria-current="date"]')
        assert current.count() == 1
        assert current.get_attribute("data-week") == monday.isoformat()
        assert "current" in (current.get_attribute("class") or "")
        assert "flow-cycle-1" in current.inner_text()
        # The highlight is visible, not only in the markup.
        other = page.locator("tr[data-week]:not(.current)").first
        shadow = current.evaluate("row => getComputedStyle(row).boxShadow")
        assert shadow != other.evaluate("row => getComputedStyle(row).boxShadow")
        check_accessibility(page, "cycle schedule")
        screenshot(page, "cycle-schedule")

        page.goto(live.url + "/cycles/flow-cycle")
        assert page.get_by_role("link", name="flow-cycle-1").get_attribute("href") == (
            "/cycles/flow-cycle/milestones/1"
        )
    finally:
        page.close()
