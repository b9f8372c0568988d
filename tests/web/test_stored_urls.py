"""Stored URLs never become `javascript:` links, on write or on render."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import update

from storyline.bootstrap import Container
from storyline.tracker.models import Project
from tests.factories import Factory
from tests.web.signin import admin_browser


def test_a_repository_url_must_be_a_web_url(client: TestClient, factory: Factory) -> None:
    admin = factory.admin()
    for bad in ("javascript:alert(1)", " JavaScript:alert(1)", "data:text/html,x", "nova.git"):
        response = client.post(
            "/v1/projects", json={"name": "org/bad", "repo_url": bad}, headers=admin.headers
        )
        assert response.status_code == 400, bad
        body = response.json()
        assert body["code"] == "invalid_input"
        assert body["details"] == [
            {"field": "repo_url", "message": "must be an http:// or https:// URL"}
        ]
    project = factory.project(admin, repo_url="https://opendev.org/openstack/nova")
    changed = client.put(
        f"/v1/projects/{project['id']}",
        json={"repo_url": "javascript:alert(document.cookie)"},
        headers=admin.headers,
    )
    assert changed.status_code == 400
    assert changed.json()["details"][0]["field"] == "repo_url"


def test_the_project_form_refuses_a_javascript_url(factory: Factory) -> None:
    admin = admin_browser(factory)
    response = admin.post(
        "/admin/projects",
        {"name": "org/nova", "description": "", "repo_url": "javascript:alert(1)"},
        page="/admin/projects",
    )
    assert response.status_code == 400
    assert "must be an http:// or https:// URL" in response.text


def test_a_stored_javascript_url_is_shown_as_text(
    client: TestClient, factory: Factory, container: Container
) -> None:
    admin = factory.admin()
    good = factory.project(admin, name="org/good", repo_url="https://opendev.org/org/good")
    old = factory.project(admin, name="org/old")
    # Written before URLs were checked.
    with container.db.write() as session:
        session.execute(
            update(Project)
            .where(Project.id == old["id"])
            .values(repo_url="javascript:alert(document.cookie)")
        )
    page = client.get(f"/projects/{old['id']}").text
    assert "javascript:alert(document.cookie)" in page
    assert 'href="javascript:' not in page
    linked = client.get(f"/projects/{good['id']}").text
    assert '<a href="https://opendev.org/org/good" rel="nofollow noopener noreferrer">' in linked
