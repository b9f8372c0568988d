"""Every page in Chromium, light and dark: axe-core finds no serious or
critical accessibility violations, nothing overflows a phone's width, and a
screenshot of each is saved to test-artifacts/screenshots/."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import (
    LiveServer,
    Person,
    check_accessibility,
    new_page,
    screenshot,
    sign_in,
)

pytestmark = pytest.mark.slow


@dataclasses.dataclass(frozen=True)
class Site:
    admin: Person
    member: Person
    project: dict[str, Any]
    group: dict[str, Any]
    story: dict[str, Any]
    team: dict[str, Any]
    election: dict[str, Any]


@pytest.fixture(scope="module")
def site(live: LiveServer) -> Site:
    admin = live.person("Ada Admin", superuser=True)
    member = live.person("Max Member")
    token = admin.token
    nova = live.api(
        "POST",
        "/v1/projects",
        token=token,
        json={"name": "demo/nova", "description": "Compute service"},
    )
    swift = live.api("POST", "/v1/projects", token=token, json={"name": "demo/swift"})
    group = live.api(
        "POST", "/v1/project_groups", token=token, json={"name": "demo", "title": "Demo projects"}
    )
    for project in (nova, swift):
        live.api("PUT", f"/v1/project_groups/{group['id']}/projects/{project['id']}", token=token)
    story = live.api(
        "POST",
        "/v1/stories",
        token=member.token,
        json={
            "title": "Instances fail to boot on ARM hosts",
            "description": "Booting an **ARM** image fails with `exec format error`.",
            "tags": ["arm", "boot"],
        },
    )
    for project, title in ((nova, "Fix the image check"), (swift, "Store ARM images")):
        live.api(
            "POST",
            "/v1/tasks",
            token=member.token,
            json={
                "story_id": story["id"],
                "project_id": project["id"],
                "title": title,
                "assignee_id": member.id,
            },
        )
    live.api(
        "POST",
        f"/v1/stories/{story['id']}/comments",
        token=member.token,
        json={"content": "Seen on two clusters."},
    )
    team = live.api("POST", "/v1/teams", token=token, json={"name": "nova-core"})
    live.api("PUT", f"/v1/teams/{team['id']}/users", token=token, json={"user_id": member.id})
    now = dt.datetime.now(dt.UTC)
    election = live.api(
        "POST",
        "/v1/elections",
        token=token,
        json={
            "title": "Technical Committee",
            "description": "Two seats. Read the **statements**.",
            "seats": 2,
            "candidates": [
                {"name": "Alice", "statement": "I will keep the gate working."},
                {"name": "Bob"},
                {"name": "Carol"},
            ],
            "electorate": {"type": "users", "user_ids": [member.id]},
            "opens_at": (now + dt.timedelta(hours=1)).isoformat(),
            "closes_at": (now + dt.timedelta(days=7)).isoformat(),
            "timezone": "Europe/Paris",
        },
    )
    live.api("POST", f"/v1/elections/{election['id']}/open", token=token)
    return Site(admin, member, nova, group, story, team, election)


def _pages(site: Site) -> list[tuple[str, str, str]]:
    """(name, who, path) for every page; who is anonymous, member or admin."""
    story = site.story["id"]
    return [
        ("login", "anonymous", "/login"),
        ("not-found", "anonymous", "/no/such/page"),
        ("dashboard", "member", "/"),
        ("projects", "member", "/projects"),
        ("project", "member", f"/projects/{site.project['name']}"),
        ("project-groups", "member", "/project_groups"),
        ("project-group", "member", f"/project_groups/{site.group['name']}"),
        ("story", "member", f"/stories/{story}"),
        ("new-story", "member", "/stories/new"),
        ("search", "member", "/search?q=boot"),
        ("settings-profile", "member", "/settings/profile"),
        ("settings-preferences", "member", "/settings/preferences"),
        ("settings-identities", "member", "/settings/identities"),
        ("settings-tokens", "member", "/settings/tokens"),
        ("settings-sessions", "member", "/account"),
        ("shortcuts", "member", "/shortcuts"),
        ("forbidden", "member", "/admin/users"),
        ("admin", "admin", "/admin"),
        ("admin-projects", "admin", "/admin/projects"),
        ("admin-project", "admin", f"/admin/projects/{site.project['id']}"),
        ("admin-project-groups", "admin", "/admin/project-groups"),
        ("admin-project-group", "admin", f"/admin/project-groups/{site.group['id']}"),
        ("admin-teams", "admin", "/admin/teams"),
        ("admin-team", "admin", f"/admin/teams/{site.team['id']}"),
        ("admin-users", "admin", "/admin/users"),
        ("admin-user", "admin", f"/admin/users/{site.member.id}"),
        ("admin-audit", "admin", "/admin/audit"),
        ("elections", "member", "/elections"),
        ("election", "member", f"/elections/{site.election['id']}"),
        ("election-official", "admin", f"/elections/{site.election['id']}"),
        ("new-election", "admin", "/elections/new"),
        ("edit-election", "admin", f"/elections/{site.election['id']}/edit"),
        ("close-election", "admin", f"/elections/{site.election['id']}/close"),
    ]


@pytest.fixture(scope="module", params=["light", "dark"])
def signed_in_pages(
    request: pytest.FixtureRequest, chromium: Any, live: LiveServer, site: Site
) -> Iterator[dict[str, Any]]:
    """One tab per kind of visitor, in the colour scheme of the parameter."""
    scheme = request.param
    tabs = {who: new_page(chromium, scheme=scheme) for who in ("anonymous", "member", "admin")}
    sign_in(tabs["member"], live, site.member)
    sign_in(tabs["admin"], live, site.admin)
    try:
        yield {"scheme": scheme, **tabs}
    finally:
        for tab in tabs.values():
            tab.context.close()


EXPECTED_STATUS = {"not-found": 404, "forbidden": 403}


def test_every_page_is_accessible_in_both_themes(
    signed_in_pages: dict[str, Any], live: LiveServer, site: Site
) -> None:
    scheme = signed_in_pages["scheme"]
    failures: list[str] = []
    for name, who, path in _pages(site):
        tab = signed_in_pages[who]
        response = tab.goto(live.url + path)
        assert response is not None
        assert response.status == EXPECTED_STATUS.get(name, 200), f"{name}: {path}"
        # The theme follows the system (the context's colour scheme).
        assert tab.evaluate("matchMedia('(prefers-color-scheme: dark)').matches") is (
            scheme == "dark"
        )
        try:
            check_accessibility(tab, f"{name} ({scheme})")
        except AssertionError as error:
            failures.append(str(error))
        screenshot(tab, f"{name}-{scheme}")
    assert not failures, "\n".join(failures)


def test_pages_fit_a_phone(chromium: Any, live: LiveServer, site: Site) -> None:
    phone = new_page(chromium, width=375)
    try:
        sign_in(phone, live, site.member)
        for name, path in (
            ("dashboard", "/"),
            ("story", f"/stories/{site.story['id']}"),
            ("settings-preferences", "/settings/preferences"),
            ("search", "/search?q=boot"),
            ("election", f"/elections/{site.election['id']}"),
        ):
            phone.goto(live.url + path)
            overflow = phone.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 1, f"{name} is {overflow}px wider than a phone"
            screenshot(phone, f"phone-{name}")
        check_accessibility(phone, "dashboard on a phone")
    finally:
        phone.context.close()
