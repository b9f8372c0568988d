from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from storyline.tracker.models import Branch, Milestone
from tests.factories import Factory
from tests.queries import count_queries

if TYPE_CHECKING:
    from tests.factories import TestUser

TASK_KEYS = {
    "id",
    "created_at",
    "updated_at",
    "title",
    "status",
    "priority",
    "creator_id",
    "story_id",
    "link",
    "project_id",
    "assignee_id",
    "branch_id",
    "milestone_id",
    "due_dates",
}


def _setup(factory: Factory) -> tuple[TestUser, TestUser, dict[str, Any], dict[str, Any]]:
    admin = factory.admin()
    user = factory.user()
    project = factory.project(admin)
    story = factory.story(user)
    return admin, user, project, story


def _branch(factory: Factory, project_id: int, name: str) -> int:
    with factory.container.db.write() as session:
        branch = Branch(name=name, project_id=project_id)
        session.add(branch)
        session.flush()
        return branch.id


def _milestone(factory: Factory, branch_id: int, name: str) -> int:
    with factory.container.db.write() as session:
        milestone = Milestone(name=name, branch_id=branch_id)
        session.add(milestone)
        session.flush()
        return milestone.id


def _master(factory: Factory, project_id: int) -> int:
    with factory.container.db.read() as session:
        branch_id = session.scalar(
            select(Branch.id).where(Branch.project_id == project_id, Branch.name == "master")
        )
    assert branch_id is not None
    return branch_id


def _events(client: TestClient, story_id: int, **params: Any) -> list[dict[str, Any]]:
    response = client.get(f"/v1/stories/{story_id}/events", params=params)
    assert response.status_code == 200, response.text
    events: list[dict[str, Any]] = response.json()
    return events


def test_create_task_shape_defaults_and_master_branch(client: TestClient, factory: Factory) -> None:
    _admin, user, project, story = _setup(factory)
    task = factory.task(user, story_id=story["id"], project_id=project["id"], title="Fix it")
    assert set(task) == TASK_KEYS
    assert task["title"] == "Fix it"
    assert task["status"] == "todo"
    assert task["priority"] == "medium"
    assert task["creator_id"] == user.id
    assert task["branch_id"] == _master(factory, project["id"])
    assert task["milestone_id"] is None
    assert task["due_dates"] == []
    assert client.get(f"/v1/tasks/{task['id']}").json() == task
    created = _events(client, story["id"], event_type="task_created")
    assert len(created) == 1
    assert json.loads(created[0]["event_info"])["task_id"] == task["id"]


def test_create_validates_references_field_by_field(client: TestClient, factory: Factory) -> None:
    admin, user, project, story = _setup(factory)
    other = factory.project(admin)
    foreign_branch = _branch(factory, other["id"], "stable")
    branch = _branch(factory, project["id"], "stable")
    foreign_milestone = _milestone(factory, foreign_branch, "m1")
    base = {"title": "t", "story_id": story["id"], "project_id": project["id"]}
    cases = [
        ({"project_id": 999999}, "project_id"),
        ({"project_id": None}, "project_id"),
        ({"story_id": 999999}, "story_id"),
        ({"branch_id": foreign_branch}, "branch_id"),
        ({"branch_id": 999999}, "branch_id"),
        ({"branch_id": branch, "milestone_id": foreign_milestone}, "milestone_id"),
        ({"milestone_id": 999999}, "milestone_id"),
        ({"assignee_id": 999999}, "assignee_id"),
        ({"status": "done"}, "status"),
        ({"priority": "urgent"}, "priority"),
        ({"title": ""}, "title"),
    ]
    for change, field in cases:
        response = client.post("/v1/tasks", json={**base, **change}, headers=user.headers)
        assert response.status_code == 400, (change, response.text)
        assert response.json()["details"][0]["field"] == field, change
    assert client.get("/v1/tasks").headers["X-Total"] == "0"
    good_milestone = _milestone(factory, branch, "m2")
    ok = client.post(
        "/v1/tasks",
        json={**base, "branch_id": branch, "milestone_id": good_milestone, "priority": "high"},
        headers=user.headers,
    )
    assert ok.status_code == 200, ok.text
    assert (ok.json()["branch_id"], ok.json()["milestone_id"]) == (branch, good_milestone)


def test_writes_need_a_signed_in_writer(client: TestClient, factory: Factory) -> None:
    _admin, user, project, story = _setup(factory)
    body = {"title": "t", "story_id": story["id"], "project_id": project["id"]}
    assert client.post("/v1/tasks", json=body).status_code == 401
    task = factory.task(user, story_id=story["id"], project_id=project["id"])
    assert client.put(f"/v1/tasks/{task['id']}", json={"title": "x"}).status_code == 401
    assert client.delete(f"/v1/tasks/{task['id']}").status_code == 401


def test_update_records_one_event_per_kind_of_change(client: TestClient, factory: Factory) -> None:
    _admin, user, project, story = _setup(factory)
    assignee = factory.user()
    task = factory.task(user, story_id=story["id"], project_id=project["id"])
    response = client.put(
        f"/v1/tasks/{task['id']}",
        json={
            "status": "inprogress",
            "assignee_id": assignee.id,
            "priority": "high",
            "title": "Renamed",
            "link": "https://review.example.org/1",
        },
        headers=user.headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["status"], body["assignee_id"], body["priority"], body["title"]) == (
        "inprogress",
        assignee.id,
        "high",
        "Renamed",
    )
    by_type = {e["event_type"]: json.loads(e["event_info"]) for e in _events(client, story["id"])}
    assert by_type["task_status_changed"]["old_status"] == "todo"
    assert by_type["task_status_changed"]["new_status"] == "inprogress"
    assert by_type["task_assignee_changed"]["new_assignee_id"] == assignee.id
    assert by_type["task_priority_changed"] == {
        "task_id": task["id"],
        "task_title": "Renamed",
        "old_priority": "medium",
        "new_priority": "high",
    }
    assert by_type["task_details_changed"]["old"] == {"title": task["title"], "link": None}
    # Sending the object back unchanged records nothing.
    before = len(_events(client, story["id"]))
    again = client.put(f"/v1/tasks/{task['id']}", json=body, headers=user.headers)
    assert again.status_code == 200
    assert len(_events(client, story["id"])) == before


def test_update_validation(client: TestClient, factory: Factory) -> None:
    admin, user, project, story = _setup(factory)
    task = factory.task(user, story_id=story["id"], project_id=project["id"])
    url = f"/v1/tasks/{task['id']}"
    for change, field in [
        ({"status": "done"}, "status"),
        ({"priority": "urgent"}, "priority"),
        ({"assignee_id": 999999}, "assignee_id"),
        ({"project_id": 999999}, "project_id"),
        ({"story_id": 999999}, "story_id"),
        ({"title": ""}, "title"),
    ]:
        response = client.put(url, json=change, headers=user.headers)
        assert response.status_code == 400, change
        assert response.json()["details"][0]["field"] == field
    assert (
        client.put("/v1/tasks/999999", json={"title": "x"}, headers=user.headers).status_code == 404
    )
    # Moving to another project follows to that project's master branch.
    other = factory.project(admin)
    moved = client.put(url, json={"project_id": other["id"]}, headers=user.headers).json()
    assert moved["branch_id"] == _master(factory, other["id"])


def test_moving_a_task_recounts_both_stories(client: TestClient, factory: Factory) -> None:
    _admin, user, project, story = _setup(factory)
    target = factory.story(user)
    task = factory.task(user, story_id=story["id"], project_id=project["id"])
    response = client.put(
        f"/v1/tasks/{task['id']}", json={"story_id": target["id"]}, headers=user.headers
    )
    assert response.status_code == 200, response.text
    source = client.get(f"/v1/stories/{story['id']}").json()
    moved_to = client.get(f"/v1/stories/{target['id']}").json()
    assert (source["status"], source["lifecycle"]) == ("invalid", "new")
    assert (moved_to["status"], moved_to["task_statuses"][0]) == (
        "active",
        {"key": "todo", "count": 1},
    )
    # Both timelines say where the task went.
    assert "task_details_changed" in [e["event_type"] for e in _events(client, story["id"])]
    assert "task_details_changed" in [e["event_type"] for e in _events(client, target["id"])]


def test_delete_records_an_event(client: TestClient, factory: Factory) -> None:
    _admin, user, project, story = _setup(factory)
    task = factory.task(user, story_id=story["id"], project_id=project["id"])
    assert client.delete(f"/v1/tasks/{task['id']}", headers=user.headers).status_code == 204
    assert client.get(f"/v1/tasks/{task['id']}").status_code == 404
    deleted = _events(client, story["id"], event_type="task_deleted")
    assert json.loads(deleted[0]["event_info"])["task_id"] == task["id"]
    assert client.delete(f"/v1/tasks/{task['id']}", headers=user.headers).status_code == 404


def test_list_filters(client: TestClient, factory: Factory) -> None:
    admin, user, project, story = _setup(factory)
    other = factory.project(admin)
    assignee = factory.user()
    branch = _branch(factory, project["id"], "stable")
    milestone = _milestone(factory, branch, "m1")
    a = factory.task(
        user, story_id=story["id"], project_id=project["id"], title="Port to py3", link="gerrit/1"
    )
    b = factory.task(
        user,
        story_id=story["id"],
        project_id=project["id"],
        branch_id=branch,
        milestone_id=milestone,
        assignee_id=assignee.id,
        status="review",
        priority="high",
    )
    second_story = factory.story(user)
    c = factory.task(user, story_id=second_story["id"], project_id=other["id"], priority="low")
    group = client.post("/v1/project_groups", json={"name": "g"}, headers=admin.headers).json()
    client.put(f"/v1/project_groups/{group['id']}/projects/{other['id']}", headers=admin.headers)

    def ids(**params: Any) -> list[int]:
        response = client.get("/v1/tasks", params=params)
        assert response.status_code == 200, response.text
        return [t["id"] for t in response.json()]

    assert ids() == [a["id"], b["id"], c["id"]]
    assert ids(title="PY3") == [a["id"]]
    assert ids(link="gerrit") == [a["id"]]
    assert ids(story_id=story["id"]) == [a["id"], b["id"]]
    assert ids(assignee_id=assignee.id) == [b["id"]]
    assert ids(project_id=other["id"]) == [c["id"]]
    assert ids(project_group_id=group["id"]) == [c["id"]]
    assert ids(branch_id=branch) == [b["id"]]
    assert ids(milestone_id=milestone) == [b["id"]]
    assert ids(status=["review", "todo"]) == [a["id"], b["id"], c["id"]]
    assert ids(status="review") == [b["id"]]
    assert ids(priority=["low", "high"]) == [b["id"], c["id"]]
    assert ids(sort_field="priority", sort_dir="asc") == [b["id"], c["id"], a["id"]]
    assert client.get("/v1/tasks", params={"status": "done"}).status_code == 400
    assert client.get("/v1/tasks", params={"priority": "urgent"}).status_code == 400
    assert client.get("/v1/tasks", params={"bogus": "1"}).status_code == 400
    page = client.get("/v1/tasks", params={"limit": 1, "marker": a["id"]})
    assert [t["id"] for t in page.json()] == [b["id"]]
    assert page.headers["X-Total"] == "3"


def test_nested_routes(client: TestClient, factory: Factory) -> None:
    _admin, user, project, story = _setup(factory)
    other_story = factory.story(user)
    url = f"/v1/stories/{story['id']}/tasks"
    created = client.post(
        url, json={"title": "nested", "project_id": project["id"]}, headers=user.headers
    )
    assert created.status_code == 200, created.text
    task = created.json()
    assert task["story_id"] == story["id"]
    factory.task(user, story_id=other_story["id"], project_id=project["id"])
    listed = client.get(url)
    assert [t["id"] for t in listed.json()] == [task["id"]]
    # StoryBoard sent "X-Limit: None" here.
    assert listed.headers["X-Limit"].isdigit()
    assert listed.headers["X-Total"] == "1"
    assert client.get(url, params={"status": "merged"}).json() == []
    assert client.get(url, params={"story_id": 1}).status_code == 400
    assert client.get(f"{url}/{task['id']}").json() == task
    wrong_story = f"/v1/stories/{other_story['id']}/tasks/{task['id']}"
    assert client.get(wrong_story).status_code == 404
    assert client.put(wrong_story, json={"title": "x"}, headers=user.headers).status_code == 404
    assert client.delete(wrong_story, headers=user.headers).status_code == 404
    updated = client.put(f"{url}/{task['id']}", json={"status": "merged"}, headers=user.headers)
    assert updated.json()["status"] == "merged"
    assert client.get(f"/v1/stories/{story['id']}").json()["status"] == "merged"
    assert client.delete(f"{url}/{task['id']}", headers=user.headers).status_code == 204
    assert client.get("/v1/stories/999999/tasks").status_code == 404
    bad = client.post(url, json={"title": "x"}, headers=user.headers)
    assert bad.status_code == 400
    assert bad.json()["details"][0]["field"] == "project_id"


def test_a_storys_task_list_counts_and_gates_like_the_full_list(
    client: TestClient, factory: Factory
) -> None:
    admin, user, project, _story = _setup(factory)
    outsider = factory.user()
    story = factory.story(user, private=True, users=[user.id])
    tasks = [factory.task(user, story_id=story["id"], project_id=project["id"]) for _ in range(4)]
    for task, status in zip(tasks, ("merged", "review", "invalid"), strict=False):
        answer = client.put(
            f"/v1/tasks/{task['id']}", json={"status": status}, headers=user.headers
        )
        assert answer.status_code == 200, answer.text
    url = f"/v1/stories/{story['id']}/tasks"

    engine = factory.container.db.engine
    with count_queries(engine) as statements:
        listed = client.get(url, params={"limit": 3}, headers=user.headers)
    assert listed.status_code == 200, listed.text
    # The total comes with the story the access gate reads: one statement
    # for the story (and the token), one for the tasks, no count.
    assert listed.headers["X-Total"] == "4"
    assert [t["id"] for t in listed.json()] == [t["id"] for t in tasks[:3]]
    assert not any("count(" in statement.lower() for statement in statements)
    # The full list agrees, filtered or not.
    for params in ({}, {"status": ["merged", "todo"]}, {"title": "Task"}):
        nested = client.get(url, params=params, headers=user.headers)
        full = client.get(
            "/v1/tasks", params={**params, "story_id": story["id"]}, headers=user.headers
        )
        assert nested.json() == full.json()
        assert nested.headers["X-Total"] == full.headers["X-Total"]
    assert (
        client.get(url, params={"status": "merged"}, headers=user.headers).headers["X-Total"] == "1"
    )
    # A private story's tasks are a 404 to anyone off its ACL, as the story is.
    assert client.get(url, headers=outsider.headers).status_code == 404
    assert client.get(url).status_code == 404
    assert client.get(url, headers=admin.headers).headers["X-Total"] == "4"
