"""Administration pages: projects, project groups, teams and members, users."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from tests.factories import Factory
from tests.web.signin import admin_browser, member_browser


def _id(location: str) -> int:
    match = re.search(r"/(\d+)", location)
    assert match, location
    return int(match.group(1))


def test_admin_pages_need_a_superuser(
    client: TestClient,
    factory: Factory,
) -> None:
    assert client.get("/admin", follow_redirects=True).url.path == "/login"
    member = member_browser(factory, factory.user())
    for path in ("/admin", "/admin/projects", "/admin/teams", "/admin/users"):
        assert member.get(path).status_code == 403, path
    refused = member.post("/admin/projects", {"name": "sneaky"}, page="/settings/profile")
    assert refused.status_code == 403


def test_every_admin_page_renders(factory: Factory) -> None:
    admin = admin_browser(factory)
    for path in (
        "/admin",
        "/admin/projects",
        "/admin/project-groups",
        "/admin/teams",
        "/admin/users",
        "/admin/audit",
    ):
        page = admin.get(path)
        assert page.status_code == 200, path
        assert '<nav aria-label="Administration"' in page.text


def test_create_and_edit_a_project(factory: Factory) -> None:
    admin = admin_browser(factory)
    created = admin.post(
        "/admin/projects",
        {"name": "org/nova", "description": "Compute", "repo_url": "", "is_active": "on"},
        page="/admin/projects",
    )
    assert created.status_code == 303
    project_id = _id(created.headers["location"])
    page = admin.get(f"/admin/projects/{project_id}?saved=true").text
    assert 'value="org/nova"' in page
    assert "Compute</textarea>" in page
    edited = admin.post(
        f"/admin/projects/{project_id}",
        {"name": "org/nova", "description": "Compute service"},
        page="/admin/projects",
    )
    assert edited.status_code == 303
    page = admin.get(f"/admin/projects/{project_id}").text
    assert "Compute service</textarea>" in page
    assert 'name="is_active" value="on">' in page  # unchecked: deactivated
    listing = admin.get("/admin/projects?q=nova").text
    assert "org/nova" in listing
    assert "inactive" in listing


def test_project_errors_show_next_to_the_field_and_keep_the_input(factory: Factory) -> None:
    admin = admin_browser(factory)
    bad = admin.post(
        "/admin/projects",
        {"name": "has spaces", "description": "Typed text", "is_active": "on"},
        page="/admin/projects",
    )
    assert bad.status_code == 400
    assert 'id="f-name-error"' in bad.text
    assert 'value="has spaces"' in bad.text
    assert "Typed text</textarea>" in bad.text
    admin.post("/admin/projects", {"name": "dup"}, page="/admin/projects")
    dup = admin.post("/admin/projects", {"name": "DUP"}, page="/admin/projects")
    assert dup.status_code == 400
    assert "already exists" in dup.text
    assert 'id="f-name-error"' in dup.text


def test_project_groups_and_their_projects(factory: Factory) -> None:
    admin = admin_browser(factory)
    admin.post("/admin/projects", {"name": "org/a"}, page="/admin/projects")
    created = admin.post(
        "/admin/project-groups", {"name": "grp", "title": "Group"}, page="/admin/projects"
    )
    assert created.status_code == 303
    group_id = _id(created.headers["location"])
    added = admin.post(
        f"/admin/project-groups/{group_id}/projects", {"project": "org/a"}, page="/admin"
    )
    assert added.status_code == 303
    page = admin.get(f"/admin/project-groups/{group_id}").text
    assert 'data-project="org/a"' in page
    missing = admin.post(
        f"/admin/project-groups/{group_id}/projects", {"project": "org/none"}, page="/admin"
    )
    assert missing.status_code == 400
    assert 'id="f-project-error"' in missing.text
    assert 'value="org/none"' in missing.text
    project_id = int(re.search(r"/projects/(\d+)/remove", page).group(1))  # type: ignore[union-attr]
    removed = admin.post(
        f"/admin/project-groups/{group_id}/projects/{project_id}/remove", page="/admin"
    )
    assert removed.status_code == 303
    assert 'data-project="org/a"' not in admin.get(f"/admin/project-groups/{group_id}").text
    renamed = admin.post(
        f"/admin/project-groups/{group_id}", {"name": "grp2", "title": ""}, page="/admin"
    )
    assert renamed.status_code == 303
    deleted = admin.post(f"/admin/project-groups/{group_id}/delete", page="/admin")
    assert deleted.status_code == 303
    assert admin.get(f"/admin/project-groups/{group_id}").status_code == 404


def test_teams_and_members(factory: Factory) -> None:
    member = factory.user(name="Mia Member")
    admin = admin_browser(factory)
    created = admin.post(
        "/admin/teams", {"name": "vmt", "description": "", "security": "on"}, page="/admin"
    )
    assert created.status_code == 303
    team_id = _id(created.headers["location"])
    added = admin.post(f"/admin/teams/{team_id}/members", {"member": member.email}, page="/admin")
    assert added.status_code == 303
    page = admin.get(f"/admin/teams/{team_id}").text
    assert f'data-user-id="{member.id}"' in page
    assert "Mia Member" in page
    unknown = admin.post(
        f"/admin/teams/{team_id}/members", {"member": "who@nowhere.test"}, page="/admin"
    )
    assert unknown.status_code == 400
    assert 'value="who@nowhere.test"' in unknown.text
    removed = admin.post(f"/admin/teams/{team_id}/members/{member.id}/remove", page="/admin")
    assert removed.status_code == 303
    assert f'data-user-id="{member.id}"' not in admin.get(f"/admin/teams/{team_id}").text
    bad = admin.post(f"/admin/teams/{team_id}", {"name": "no spaces please"}, page="/admin")
    assert bad.status_code == 400
    assert 'value="no spaces please"' in bad.text
    assert admin.post(f"/admin/teams/{team_id}/delete", page="/admin").status_code == 303
    assert "vmt" not in admin.get("/admin/teams").text


def test_users_create_deactivate_and_promote(factory: Factory) -> None:
    admin = admin_browser(factory)
    created = admin.post(
        "/admin/users", {"full_name": "Uma User", "email": "uma@example.org"}, page="/admin"
    )
    assert created.status_code == 303
    user_id = _id(created.headers["location"])
    listing = admin.get("/admin/users?q=uma@").text
    assert f'data-user-id="{user_id}"' in listing
    changed = admin.post(
        f"/admin/users/{user_id}",
        {"full_name": "Uma User", "email": "uma@example.org", "is_superuser": "on"},
        page="/admin",
    )
    assert changed.status_code == 303
    listing = admin.get("/admin/users?q=Uma").text
    assert "deactivated" in listing
    assert ">admin<" in listing
    dup = admin.post(
        "/admin/users", {"full_name": "Other", "email": "UMA@example.org"}, page="/admin"
    )
    assert dup.status_code == 400
    assert 'id="f-email-error"' in dup.text
    assert 'value="Other"' in dup.text


def test_the_last_administrator_cannot_step_down(
    factory: Factory,
) -> None:
    me = factory.admin()
    browser = member_browser(factory, me)
    response = browser.post(
        f"/admin/users/{me.id}",
        {"full_name": "Admin", "email": me.email, "is_active": "on"},
        page="/admin",
    )
    assert response.status_code == 400
    assert "last active administrator" in response.text
