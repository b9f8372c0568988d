"""Edit forms carry the version they were rendered from: saving over a change
made meanwhile by someone else shows what changed, and by whom, and keeps
what the person typed, instead of silently overwriting the other change."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from storyline.app import create_app
from storyline.bootstrap import Container
from tests.factories import Factory, TestUser
from tests.web.tracker_browser import Browser, browser

BrowserAs = Callable[[TestUser], Browser]


@pytest.fixture
def browser_as(container: Container) -> Iterator[BrowserAs]:
    app = create_app(container)
    made: list[Browser] = []

    def make(user: TestUser) -> Browser:
        made.append(browser(app, container, user))
        return made[-1]

    yield make
    for each in made:
        each.client.__exit__(None, None, None)


def _version(page: str, action: str) -> str:
    """The version the form posting to `action` was rendered with."""
    form = page.split(f'action="{action}"', 1)[1].split("</form>", 1)[0]
    match = re.search(r'name="version"(?: form="[^"]*")? value="([^"]*)"', form)
    assert match, f"the form posting to {action} has no version"
    return html.unescape(match.group(1))


def _text(response: Any) -> str:
    return html.unescape(response.text)


def test_story_edit_over_a_change_made_meanwhile_is_refused_and_keeps_the_input(
    client: TestClient, factory: Factory, browser_as: BrowserAs
) -> None:
    alice, bob = factory.user(name="Alice Doe"), factory.user(name="Bob Roe")
    story = factory.story(alice, "Boot fails", description="Old text")
    url = f"/stories/{story['id']}"
    bob_browser = browser_as(bob)
    opened = _version(bob_browser.get(url).text, f"{url}/edit")
    # Meanwhile Alice retitles it through the API.
    changed = client.put(f"/v1{url}", json={"title": "Boot fails on ARM"}, headers=alice.headers)
    assert changed.status_code == 200

    mine = {"title": "Bob's title", "description": "Bob's text", "kind": "bug"}
    response = bob_browser.post(f"{url}/edit", {**mine, "version": opened})

    assert response.status_code == 409
    page = _text(response)
    assert "This story was changed by Alice Doe since you opened it: title." in page
    assert "title is now “Boot fails on ARM”" in page
    # Bob's input is still in the form, which now carries the current version.
    assert 'value="Bob\'s title"' in page
    assert "Bob's text</textarea>" in page
    current = _version(response.text, f"{url}/edit")
    assert current != opened
    assert client.get(f"/v1{url}").json()["title"] == "Boot fails on ARM"
    # Saving again, from the form as shown, is a deliberate overwrite.
    again = bob_browser.post(f"{url}/edit", {**mine, "version": current})
    assert again.status_code == 303
    assert client.get(f"/v1{url}").json()["title"] == "Bob's title"


def test_story_edit_after_an_unrelated_change_saves(
    client: TestClient, factory: Factory, browser_as: BrowserAs
) -> None:
    # Only the fields the form shows count: a new tag does not block a title edit.
    alice = factory.user()
    story = factory.story(alice, "Boot fails")
    url = f"/stories/{story['id']}"
    alice_browser = browser_as(alice)
    opened = _version(alice_browser.get(url).text, f"{url}/edit")
    client.put(f"/v1{url}/tags", json=["arm"], headers=alice.headers)
    body = {"title": "Boot fails on ARM", "description": "", "kind": "bug", "version": opened}
    assert alice_browser.post(f"{url}/edit", body).status_code == 303
    # A form without a version (a page from before) saves as it always did.
    body = {"title": "No version", "description": "", "kind": "bug"}
    assert alice_browser.post(f"{url}/edit", body).status_code == 303
    assert client.get(f"/v1{url}").json()["title"] == "No version"


def test_task_row_edit_over_a_change_made_meanwhile_is_refused(
    client: TestClient, factory: Factory, browser_as: BrowserAs
) -> None:
    admin, alice = factory.admin(), factory.user(name="Alice Doe")
    project = factory.project(admin, "openstack/nova")
    story = factory.story(alice, "Boot fails")
    task = factory.task(alice, story_id=story["id"], project_id=project["id"], title="Fix")
    action = f"/stories/{story['id']}/tasks/{task['id']}"
    admin_browser = browser_as(admin)
    opened = _version(admin_browser.get(f"/stories/{story['id']}").text, action)
    moved = client.put(
        f"/v1/tasks/{task['id']}", json={"status": "inprogress"}, headers=alice.headers
    )
    assert moved.status_code == 200

    row = {"title": "Fix boot", "status": "review", "project": "openstack/nova", "assignee": ""}
    response = admin_browser.post(
        action, {**row, "version": opened}, headers={"HX-Request": "true"}
    )

    # The row comes back (200, so that htmx swaps it in) with the message.
    assert response.status_code == 200
    assert 'class="has-error"' in response.text
    text = _text(response)
    assert "This task was changed by Alice Doe since you opened it: status." in text
    assert "status is now “inprogress”" in text
    assert 'value="Fix boot"' in text  # what was typed is kept
    assert client.get(f"/v1/tasks/{task['id']}").json()["status"] == "inprogress"
    again = admin_browser.post(
        action, {**row, "version": _version(response.text, action)}, headers={"HX-Request": "true"}
    )
    assert again.status_code == 200
    assert "has-error" not in again.text
    assert client.get(f"/v1/tasks/{task['id']}").json()["status"] == "review"
    # Without htmx, the story page comes back with the row as typed.
    stale = admin_browser.post(action, {**row, "status": "todo", "version": opened})
    assert stale.status_code == 409
    assert "This task was changed" in _text(stale)


def test_worklist_edit_over_a_change_made_meanwhile_is_refused(
    client: TestClient, factory: Factory, browser_as: BrowserAs
) -> None:
    owner = factory.user(name="Olive Owner")
    made = client.post("/v1/worklists", json={"title": "Blockers"}, headers=owner.headers)
    worklist = made.json()
    url = f"/worklists/{worklist['id']}"
    owner_browser = browser_as(owner)
    opened = _version(owner_browser.get(url).text, f"{url}/edit")
    client.put(f"/v1{url}", json={"private": True}, headers=owner.headers)

    response = owner_browser.post(f"{url}/edit", {"title": "Release blockers", "version": opened})

    assert response.status_code == 409
    text = _text(response)
    assert "This worklist was changed" in text
    assert "since you opened it: privacy." in text
    assert "privacy is now “private”" in text
    assert 'value="Release blockers"' in text
    # The checkbox shows what the person sent (unticked), not the stored value.
    form = response.text.split(f'action="{url}/edit"', 1)[1].split("</form>", 1)[0]
    assert 'name="private" checked' not in form
    assert client.get(f"/v1{url}", headers=owner.headers).json()["title"] == "Blockers"
