"""The main flows end to end in Chromium against a real server process:
sign in, create a story with tasks in two projects, edit a task in place,
comment, search, make the story private and check that someone else gets a
404 page for it."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import LiveServer, new_page, screenshot, sign_in

pytestmark = pytest.mark.slow


def test_story_lifecycle_from_sign_in_to_private(chromium: Any, live: LiveServer) -> None:
    admin = live.person("Ada Admin", superuser=True)
    alice = live.person("Alice Author")
    bob = live.person("Bob Bystander")
    for name in ("flow/nova", "flow/swift"):
        live.api("POST", "/v1/projects", token=admin.token, json={"name": name})
    page = new_page(chromium)
    other = new_page(chromium)
    try:
        # Sign in through the login page.
        sign_in(page, live, alice)
        assert page.get_by_role("link", name="Alice Author").is_visible()

        # "c" opens the new-story form; a story with tasks in two projects.
        page.keyboard.press("c")
        page.wait_for_url(live.url + "/stories/new")
        page.locator("#story-title").fill("Volumes detach during live migration")
        page.locator("#story-description").fill("Seen with **ceph** backends.")
        page.locator("#task-title-0").fill("Keep the attachment in nova")
        page.locator("#task-project-0").fill("flow/nova")
        page.locator("#task-title-1").fill("Document the swift side")
        page.locator("#task-project-1").fill("flow/swift")
        page.get_by_role("button", name="Create story").click()
        page.wait_for_url(re.compile(r".*/stories/\d+$"))
        story_id = int(page.url.rsplit("/", 1)[1])
        rows = page.locator("tr[data-task-id]")
        assert rows.count() == 2
        assert page.locator("h1").inner_text() == "Volumes detach during live migration"

        # Edit a task in place: htmx posts the row on change and swaps it.
        first = rows.first
        task_id = int(first.get_attribute("data-task-id") or 0)
        with page.expect_response(
            lambda r: (
                r.url.endswith(f"/stories/{story_id}/tasks/{task_id}")
                and r.request.method == "POST"
            )
        ) as answer:
            first.locator("select[name=status]").select_option("inprogress")
        assert answer.value.ok
        page.locator(f"#task-{task_id}").wait_for()
        task = live.api("GET", f"/v1/tasks/{task_id}", token=alice.token)
        assert task["status"] == "inprogress"
        assert page.url.endswith(f"/stories/{story_id}")  # no page load
        page.reload()
        assert page.locator(f"#t{task_id}-status").input_value() == "inprogress"

        # Comment.
        page.locator("#c-new-content").fill("Reproduced on the **staging** cloud.")
        page.get_by_role("button", name="Comment", exact=True).click()
        page.locator("article.comment", has_text="Reproduced on the staging cloud.").wait_for()

        # Search: "/" goes to the search box.
        page.keyboard.press("/")
        assert page.evaluate("document.activeElement.type") == "search"
        page.keyboard.type("migration")
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r".*/search\?.*q=migration.*"))
        result = page.locator(f"a[href='/stories/{story_id}']").first
        result.wait_for()
        screenshot(page, "flow-search-results")

        # Bob sees the story while it is public.
        sign_in(other, live, bob)
        assert other.goto(f"{live.url}/stories/{story_id}").status == 200

        # Make it private: Bob gets the friendly 404 page, and search hides it.
        page.goto(f"{live.url}/stories/{story_id}")
        page.locator("#private-flag").check()
        page.get_by_role("button", name="Save visibility").click()
        page.wait_for_load_state()
        assert page.locator("#private-flag").is_checked()
        screenshot(page, "flow-private-story")
        response = other.goto(f"{live.url}/stories/{story_id}")
        assert response is not None
        assert response.status == 404
        assert other.locator("h1").inner_text() == "Not found"
        screenshot(other, "flow-private-story-404-for-others")
        other.goto(f"{live.url}/search?q=migration")
        assert other.locator(f"a[href='/stories/{story_id}']").count() == 0
        # Its author still sees it.
        assert page.goto(f"{live.url}/stories/{story_id}").status == 200
    finally:
        page.context.close()
        other.context.close()
