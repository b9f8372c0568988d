"""Electorates: who may vote, as each kind defines it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient

from tests.factories import Factory, TestUser
from tests.voting.test_elections_api import make_election


def _task(client: TestClient, who: TestUser, project_id: int, assignee: TestUser | None) -> int:
    story = client.post("/v1/stories", json={"title": "Work"}, headers=who.headers)
    assert story.status_code == 200, story.text
    body: dict[str, Any] = {
        "title": "Do it",
        "story_id": story.json()["id"],
        "project_id": project_id,
    }
    if assignee is not None:
        body["assignee_id"] = assignee.id
    task = client.post("/v1/tasks", json=body, headers=who.headers)
    assert task.status_code == 200, task.text
    return int(task.json()["id"])


def _status(client: TestClient, who: TestUser, task_id: int, status: str) -> None:
    changed = client.put(f"/v1/tasks/{task_id}", json={"status": status}, headers=who.headers)
    assert changed.status_code == 200, changed.text


def _members(client: TestClient, admin: TestUser, electorate: dict[str, Any]) -> list[int]:
    election = make_election(client, admin, [admin], electorate=electorate)
    found = client.get(f"/v1/elections/{election['id']}/electorate", headers=admin.headers)
    assert found.status_code == 200, found.text
    return list(found.json()["user_ids"])


def test_contributors_are_who_had_a_task_merged_in_the_projects_and_period(
    client: TestClient, factory: Factory
) -> None:
    admin = factory.admin()
    nova, swift, other = (factory.project(admin)["id"] for _ in range(3))
    group = client.post("/v1/project_groups", json={"name": "g-compute"}, headers=admin.headers)
    gid = group.json()["id"]
    client.put(f"/v1/project_groups/{gid}/projects/{nova}", headers=admin.headers)
    assigned, merger, reviewer, elsewhere, extra = (factory.user() for _ in range(5))

    # Assigned and merged in nova: the assignee counts, not who merged it.
    _status(client, merger, _task(client, admin, nova, assigned), "merged")
    # Nobody assigned: whoever merged it counts.
    _status(client, merger, _task(client, admin, swift, None), "merged")
    # In review only, and merged in another project: neither counts.
    _status(client, reviewer, _task(client, admin, nova, reviewer), "review")
    _status(client, elsewhere, _task(client, admin, other, elsewhere), "merged")

    today = dt.datetime.now(dt.UTC).date()
    period = {"since": str(today - dt.timedelta(days=30)), "until": str(today)}
    by_projects = {"type": "contributors", "project_ids": [nova, swift], **period}
    assert _members(client, admin, by_projects) == sorted([assigned.id, merger.id])
    by_group = {"type": "contributors", "project_group_id": gid, **period}
    assert _members(client, admin, by_group) == [assigned.id]
    # Officials' additions join; a period before the merges finds nobody else.
    before = {
        "type": "contributors",
        "project_ids": [nova, swift],
        "since": str(today - dt.timedelta(days=30)),
        "until": str(today - dt.timedelta(days=1)),
        "extra_user_ids": [extra.id],
    }
    assert _members(client, admin, before) == [extra.id]


def test_the_electorate_is_frozen_when_voting_opens(client: TestClient, factory: Factory) -> None:
    admin = factory.admin()
    first, late = factory.user(), factory.user()
    team = client.post("/v1/teams", json={"name": "tc-voters"}, headers=admin.headers)
    tid = team.json()["id"]
    client.put(f"/v1/teams/{tid}/users", json={"user_id": first.id}, headers=admin.headers)
    election = make_election(client, admin, [], electorate={"type": "team", "team_id": tid})
    eid = election["id"]
    opened = client.post(f"/v1/elections/{eid}/open", headers=admin.headers)
    assert opened.json()["electorate_size"] == 1
    # Joining the team after the opening does not make a voter.
    client.put(f"/v1/teams/{tid}/users", json={"user_id": late.id}, headers=admin.headers)
    members = client.get(f"/v1/elections/{eid}/electorate", headers=admin.headers).json()
    assert members == {"size": 1, "frozen": True, "user_ids": [first.id]}
    me = client.get(f"/v1/elections/{eid}/electorate/me", headers=late.headers).json()
    assert me == {"eligible": False, "voted": False}
    csv = client.get(f"/v1/elections/{eid}/electorate.csv", headers=admin.headers)
    assert csv.text.splitlines() == [
        "user_id,full_name,email",
        f"{first.id},{first_name(client, first)},{first.email}",
    ]
    # Only officials see or export it.
    for path in ("electorate", "electorate.csv"):
        assert client.get(f"/v1/elections/{eid}/{path}", headers=first.headers).status_code == 403


def first_name(client: TestClient, user: TestUser) -> str:
    return str(client.get(f"/v1/users/{user.id}", headers=user.headers).json()["full_name"])


def test_an_empty_electorate_cannot_open(client: TestClient, factory: Factory) -> None:
    admin = factory.admin()
    gone = factory.user()
    election = make_election(client, admin, [gone])
    client.put(f"/v1/users/{gone.id}", json={"is_active": False}, headers=admin.headers)
    refused = client.post(f"/v1/elections/{election['id']}/open", headers=admin.headers)
    assert refused.status_code == 409
    assert refused.json()["code"] == "electorate_empty"
    assert (
        client.get(f"/v1/elections/{election['id']}", headers=admin.headers).json()["state"]
        == "draft"
    )
