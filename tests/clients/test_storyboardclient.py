"""python-storyboardclient 0.2.0, StoryBoard's official client, against a real
server process: what it supports must work unchanged."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from tests.clients.conftest import LiveServer

_names = itertools.count(1)


def _client(server: LiveServer, token: str | None = None) -> Any:
    # PBR_VERSION is set by the conftest before this import.
    from storyboardclient.v1 import client

    return client.Client(api_url=server.api_url, access_token=token)


@pytest.fixture
def admin(live_server: LiveServer) -> Any:
    return _client(live_server, live_server.admin_token)


@pytest.fixture
def anonymous(live_server: LiveServer) -> Any:
    return _client(live_server)


def _unique(prefix: str) -> str:
    return f"{prefix}-{next(_names)}"


@pytest.fixture
def project(admin: Any) -> Any:
    return admin.projects.create(name=f"openstack/{_unique('client')}", description="A project")


def test_system_info(anonymous: Any) -> None:
    info = anonymous.system_info.get(None)
    assert info.version


def test_projects(admin: Any, anonymous: Any, project: Any) -> None:
    assert project.id
    fetched = anonymous.projects.get(project.id)
    assert fetched.name == project.name
    assert fetched.description == "A project"
    names = [p.name for p in anonymous.projects.get_all(limit=500)]
    assert project.name in names
    updated = admin.projects.update(id=project.id, description="Changed")
    assert updated.description == "Changed"


def test_project_groups(admin: Any, anonymous: Any, project: Any) -> None:
    group = admin.project_groups.create(name=_unique("group"), title="A group")
    group.projects.add(project)
    fetched = anonymous.project_groups.get(group.id)
    assert fetched.title == "A group"
    assert [p.id for p in fetched.projects.get_all()] == [project.id]
    assert group.name in [g.name for g in anonymous.project_groups.get_all()]
    group.projects.remove(project.id)
    assert anonymous.project_groups.get(group.id).projects.get_all() == []


def test_stories_create_get_list_and_filter(admin: Any, anonymous: Any, project: Any) -> None:
    title = _unique("Client story")
    story = admin.stories.create(title=title, description="Made by the client")
    assert story.id
    fetched = anonymous.stories.get(story.id)
    assert fetched.title == title
    assert fetched.description == "Made by the client"
    assert fetched.status == "invalid"  # no tasks yet, as in StoryBoard
    assert story.id in [s.id for s in anonymous.stories.get_all(limit=500)]
    assert [s.id for s in anonymous.stories.get_all(title=title)] == [story.id]
    admin.tasks.create(title="Work", story_id=story.id, project_id=project.id)
    by_project = anonymous.stories.get_all(project_id=project.id)
    assert [s.id for s in by_project] == [story.id]
    assert story.id in [s.id for s in anonymous.stories.get_all(status="active", limit=500)]


def test_nested_tasks_and_task_status_drive_the_story(
    admin: Any, anonymous: Any, project: Any
) -> None:
    story = admin.stories.create(title=_unique("Tasks story"))
    task = story.tasks.create(title="Nested task", project_id=project.id, status="merged")
    assert task.story_id == story.id
    assert anonymous.stories.get(story.id).status == "merged"
    other = admin.tasks.create(title="Second", story_id=story.id, project_id=project.id)
    listed = anonymous.tasks.get_all(story_id=story.id)
    assert sorted(t.id for t in listed) == sorted([task.id, other.id])
    assert sorted(t.id for t in story.tasks.get_all()) == sorted([task.id, other.id])
    admin.tasks.update(id=other.id, status="inprogress")
    assert anonymous.tasks.get(other.id).status == "inprogress"
    assert anonymous.stories.get(story.id).status == "active"


def test_comments(admin: Any, anonymous: Any) -> None:
    story = admin.stories.create(title=_unique("Comment story"))
    story.comments.create(content="First comment")
    story.comments.create(content="Second comment")
    fetched = anonymous.stories.get(story.id)
    contents = [c.content for c in fetched.comments.get_all()]
    assert contents == ["First comment", "Second comment"]
    event_types = [e.event_type for e in fetched.events.get_all()]
    assert event_types[0] == "story_created"
    assert event_types.count("user_comment") == 2


def test_users_and_teams(admin: Any, anonymous: Any) -> None:
    users = anonymous.users.get_all()
    assert users
    me = admin.users.get(users[0].id)
    assert me.full_name
    team = admin.teams.create(name=_unique("team"))
    team.users.add(me.id)
    assert [u.id for u in admin.teams.get(team.id).users.get_all()] == [me.id]
    assert team.name in [t.name for t in anonymous.teams.get_all()]
    team.users.remove(me.id)
    assert admin.teams.get(team.id).users.get_all() == []


def test_tags(admin: Any, anonymous: Any) -> None:
    story = admin.stories.create(title=_unique("Tag story"))
    tag = _unique("tag")
    # The client maps the returned story onto a Tag; only the effect counts.
    story.tags_manager.update([tag, "docs"])
    assert sorted(anonymous.stories.get(story.id).tags) == sorted([tag, "docs"])
    assert tag in [t.name for t in anonymous.tags.get_all()]


def test_branches_and_milestones(admin: Any, anonymous: Any, project: Any) -> None:
    branches = anonymous.branches.get_all(project_id=project.id)
    assert [b.name for b in branches] == ["master"]
    stable = admin.branches.create(name="stable/zed", project_id=project.id)
    assert stable.project_id == project.id
    milestone = admin.milestones.create(name="zed-1", branch_id=branches[0].id)
    listed = anonymous.milestones.get_all(branch_id=branches[0].id)
    assert [m.id for m in listed] == [milestone.id]
    assert anonymous.milestones.get(milestone.id).name == "zed-1"
