"""Who the fan-out tells about a change, and what it costs a write."""

from __future__ import annotations

from fastapi.testclient import TestClient

from storyline.accounts.models import User
from storyline.bootstrap import Container
from tests.factories import Factory, TestUser
from tests.queries import count_queries


def _feed(client: TestClient, user: TestUser) -> list[str]:
    return [
        row["event_type"]
        for row in client.get("/v1/subscription_events", headers=user.headers).json()
    ]


def test_a_task_reaches_active_subscribers_of_its_story_project_and_group(
    client: TestClient, factory: Factory, container: Container
) -> None:
    admin = factory.admin()
    author, by_story, by_project, by_group, disabled, bystander = factory.users(6)
    group = client.post("/v1/project_groups", json={"name": "grp"}, headers=admin.headers).json()
    project, other = factory.project(admin), factory.project(admin)
    client.put(f"/v1/project_groups/{group['id']}/projects/{project['id']}", headers=admin.headers)
    story = factory.story(author)
    factory.task(author, story_id=story["id"], project_id=other["id"])
    follows = (
        (by_story, "story", story["id"]),
        (by_project, "project", project["id"]),
        (by_group, "project_group", group["id"]),
        (disabled, "project", project["id"]),
        (author, "project", project["id"]),
    )
    for user, kind, target in follows:
        answer = client.post(
            "/v1/subscriptions",
            json={"target_type": kind, "target_id": target},
            headers=user.headers,
        )
        assert answer.status_code == 200, answer.text
    with container.db.write() as session:
        account = session.get(User, disabled.id)
        assert account is not None
        account.is_active = False

    engine = container.db.engine
    with count_queries(engine) as statements:
        factory.task(author, story_id=story["id"], project_id=project["id"])

    # The story's projects come with their groups in one statement; the
    # subscribers, active ones only, in one more; the event and the story's
    # privacy are the ones the write holds, so no statement reads them.
    lowered = [" ".join(statement.lower().split()) for statement in statements]
    assert sum("project_group_mapping" in s for s in lowered) == 1
    assert sum("from subscriptions" in s for s in lowered) == 1
    assert not any(s.startswith("select") and "from users" in s for s in lowered)
    assert not any(s.startswith("select") and "from events" in s for s in lowered)
    assert not any(s.startswith("select stories.private") for s in lowered)

    # Each subscriber is told once, by whichever subscription matched; the
    # author, a disabled user and anyone else are not.
    for user in (by_story, by_project, by_group):
        assert _feed(client, user) == ["task_created"], user
    assert _feed(client, author) == []
    assert _feed(client, bystander) == []
    with container.db.write() as session:
        account = session.get(User, disabled.id)
        assert account is not None
        account.is_active = True
    assert _feed(client, disabled) == []


def test_a_private_story_is_told_only_to_subscribers_who_may_see_it(
    client: TestClient, factory: Factory
) -> None:
    admin = factory.admin()
    author, insider, outsider = factory.users(3)
    project = factory.project(admin)
    story = factory.story(author, private=True, users=[insider.id])
    factory.task(author, story_id=story["id"], project_id=project["id"])
    for user in (insider, outsider):
        client.post(
            "/v1/subscriptions",
            json={"target_type": "project", "target_id": project["id"]},
            headers=user.headers,
        )
    factory.task(author, story_id=story["id"], project_id=project["id"])
    assert _feed(client, insider) == ["task_created"]
    assert _feed(client, outsider) == []
