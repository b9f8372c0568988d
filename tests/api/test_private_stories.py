"""Every branch of the visibility gate, through every resource that reaches a
story: a private story is shown to its ACL users, to members of its ACL
teams and to administrators; everyone else gets a 404, as if it did not
exist."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from storyline.accounts import auth
from storyline.accounts.models import Team, TeamMembership
from tests.factories import Factory, TestUser


def _team(factory: Factory, *members: TestUser) -> int:
    with factory.container.db.write() as session:
        team = Team(name=f"team-{members[0].id}-{len(members)}")
        session.add(team)
        session.flush()
        session.add_all(TeamMembership(team_id=team.id, user_id=m.id) for m in members)
        return team.id


@dataclass
class World:
    admin: TestUser
    creator: TestUser
    shared: TestUser
    member: TestUser
    stranger: TestUser
    team_id: int
    project: dict[str, Any]
    private: dict[str, Any]
    public: dict[str, Any]
    private_task: dict[str, Any]
    public_task: dict[str, Any]

    def headers(self, who: str) -> dict[str, str]:
        if who == "anonymous":
            return {}
        user: TestUser = getattr(self, who)
        return user.headers


@pytest.fixture
def world(factory: Factory) -> World:
    admin = factory.admin()
    creator = factory.user()
    shared = factory.user()
    member = factory.user()
    stranger = factory.user()
    team_id = _team(factory, member)
    project = factory.project(admin)
    private = factory.story(
        creator, title="Secret hole", private=True, users=[shared.id], teams=[team_id], tags=["sec"]
    )
    public = factory.story(creator, title="Public bug", tags=["sec"])
    private_task = factory.task(creator, story_id=private["id"], project_id=project["id"])
    public_task = factory.task(creator, story_id=public["id"], project_id=project["id"])
    return World(
        admin,
        creator,
        shared,
        member,
        stranger,
        team_id,
        project,
        private,
        public,
        private_task,
        public_task,
    )


SEES = ["creator", "shared", "member", "admin"]
BLIND = ["anonymous", "stranger"]


def test_private_story_acl_is_returned(world: World) -> None:
    story = world.private
    assert story["private"] is True
    # The creator is always on the ACL of a private story they create.
    assert {u["id"] for u in story["users"]} == {world.creator.id, world.shared.id}
    assert [t["id"] for t in story["teams"]] == [world.team_id]
    assert "email" not in story["users"][0]


@pytest.mark.parametrize("who", SEES)
def test_those_on_the_acl_see_everything(client: TestClient, world: World, who: str) -> None:
    headers = world.headers(who)
    sid, tid = world.private["id"], world.private_task["id"]
    assert client.get(f"/v1/stories/{sid}", headers=headers).status_code == 200
    listed = client.get("/v1/stories", headers=headers)
    assert {s["id"] for s in listed.json()} == {sid, world.public["id"]}
    assert listed.headers["X-Total"] == "2"
    assert client.get(f"/v1/tasks/{tid}", headers=headers).status_code == 200
    assert client.get(f"/v1/stories/{sid}/tasks/{tid}", headers=headers).status_code == 200
    assert len(client.get(f"/v1/stories/{sid}/tasks", headers=headers).json()) == 1
    tasks = client.get("/v1/tasks", headers=headers)
    assert tasks.headers["X-Total"] == "2"
    events = client.get(f"/v1/stories/{sid}/events", headers=headers)
    assert events.status_code == 200
    assert len(events.json()) == 2
    event_id = events.json()[0]["id"]
    assert client.get(f"/v1/events/{event_id}", headers=headers).status_code == 200
    assert client.get(f"/v1/stories/{sid}/events/{event_id}", headers=headers).status_code == 200
    assert len(client.get("/v1/events", params={"story_id": sid}, headers=headers).json()) == 2
    assert client.get(f"/v1/stories/{sid}/users", headers=headers).status_code == 200
    assert client.get(f"/v1/stories/{sid}/teams", headers=headers).status_code == 200


@pytest.mark.parametrize("who", BLIND)
def test_everyone_else_gets_404_and_smaller_counts(
    client: TestClient, world: World, who: str
) -> None:
    headers = world.headers(who)
    sid, tid = world.private["id"], world.private_task["id"]
    missing = client.get("/v1/stories/999999", headers=headers).json()
    hidden = client.get(f"/v1/stories/{sid}", headers=headers)
    assert hidden.status_code == 404
    # Indistinguishable from a story that does not exist (apart from the id).
    assert hidden.json()["code"] == missing["code"] == "not_found"

    listed = client.get("/v1/stories", headers=headers)
    assert [s["id"] for s in listed.json()] == [world.public["id"]]
    assert listed.headers["X-Total"] == "1"
    for params in (
        {"tags": "sec"},
        {"creator_id": world.creator.id},
        {"project_id": world.project["id"]},
        {"status": "active"},
        {"title": "Secret"},
    ):
        found = client.get("/v1/stories", params=params, headers=headers)
        assert sid not in [s["id"] for s in found.json()], params

    assert client.get(f"/v1/tasks/{tid}", headers=headers).status_code == 404
    assert client.get(f"/v1/stories/{sid}/tasks", headers=headers).status_code == 404
    assert client.get(f"/v1/stories/{sid}/tasks/{tid}", headers=headers).status_code == 404
    tasks = client.get("/v1/tasks", headers=headers)
    assert [t["id"] for t in tasks.json()] == [world.public_task["id"]]
    assert tasks.headers["X-Total"] == "1"
    assert client.get("/v1/tasks", params={"story_id": sid}, headers=headers).json() == []

    assert client.get(f"/v1/stories/{sid}/events", headers=headers).status_code == 404
    assert client.get("/v1/events", params={"story_id": sid}, headers=headers).json() == []
    everything = client.get("/v1/events", headers=headers)
    assert {e["story_id"] for e in everything.json()} == {world.public["id"]}
    private_event = client.get(f"/v1/stories/{sid}/events", headers=world.creator.headers)
    event_id = private_event.json()[0]["id"]
    assert client.get(f"/v1/events/{event_id}", headers=headers).status_code == 404
    assert client.get(f"/v1/stories/{sid}/events/{event_id}", headers=headers).status_code == 404

    assert client.get(f"/v1/stories/{sid}/users", headers=headers).status_code == 404
    assert client.get(f"/v1/stories/{sid}/teams", headers=headers).status_code == 404


def test_strangers_cannot_write_to_a_private_story(client: TestClient, world: World) -> None:
    headers = world.stranger.headers
    sid, tid = world.private["id"], world.private_task["id"]
    assert client.put(f"/v1/stories/{sid}", json={"title": "x"}, headers=headers).status_code == 404
    url = f"/v1/stories/{sid}/tasks"
    body = {"title": "x", "project_id": world.project["id"]}
    assert client.post(url, json=body, headers=headers).status_code == 404
    top = client.post("/v1/tasks", json={**body, "story_id": sid}, headers=headers)
    assert top.status_code == 400
    assert top.json()["details"][0]["field"] == "story_id"
    assert client.put(f"/v1/tasks/{tid}", json={"title": "x"}, headers=headers).status_code == 404
    assert client.delete(f"/v1/tasks/{tid}", headers=headers).status_code == 404
    # Moving one's own task into a story one cannot see is refused.
    moved = client.put(
        f"/v1/tasks/{world.public_task['id']}", json={"story_id": sid}, headers=headers
    )
    assert moved.status_code == 400
    assert moved.json()["details"][0]["field"] == "story_id"
    for path in (f"/v1/stories/{sid}/users/{world.stranger.id}", f"/v1/stories/{sid}/teams/1"):
        assert client.put(path, headers=headers).status_code == 404
        assert client.delete(path, headers=headers).status_code == 404
    assert client.get(f"/v1/stories/{sid}", headers=world.creator.headers).json() == {
        **world.private,
        "status": "active",
        "lifecycle": "active",
        "task_statuses": client.get(f"/v1/stories/{sid}", headers=world.admin.headers).json()[
            "task_statuses"
        ],
        "updated_at": client.get(f"/v1/stories/{sid}", headers=world.admin.headers).json()[
            "updated_at"
        ],
    }


def test_read_only_tokens_cannot_write(client: TestClient, factory: Factory, world: World) -> None:
    with factory.container.db.write() as session:
        _token, secret = auth.mint_token(session, user_id=world.creator.id, scope="read")
    headers = {"Authorization": f"Bearer {secret}"}
    sid, tid = world.private["id"], world.private_task["id"]
    # Reading works, the private story included.
    assert client.get(f"/v1/stories/{sid}", headers=headers).status_code == 200
    writes = [
        client.post("/v1/stories", json={"title": "x"}, headers=headers),
        client.put(f"/v1/stories/{sid}", json={"title": "x"}, headers=headers),
        client.post(
            f"/v1/stories/{sid}/tasks",
            json={"title": "x", "project_id": world.project["id"]},
            headers=headers,
        ),
        client.put(f"/v1/tasks/{tid}", json={"status": "merged"}, headers=headers),
        client.delete(f"/v1/tasks/{tid}", headers=headers),
        client.put(f"/v1/stories/{sid}/users/{world.stranger.id}", headers=headers),
        client.delete(f"/v1/stories/{sid}/users/{world.shared.id}", headers=headers),
    ]
    assert [r.status_code for r in writes] == [403] * len(writes)
    assert client.get(f"/v1/stories/{sid}/users", headers=headers).json()[0]["id"] in {
        world.creator.id,
        world.shared.id,
    }


def test_acl_endpoints_grant_and_revoke(client: TestClient, world: World) -> None:
    sid = world.private["id"]
    stranger = world.stranger
    url = f"/v1/stories/{sid}/users/{stranger.id}"
    added = client.put(url, headers=world.shared.headers)
    assert added.status_code == 200
    assert added.json()["id"] == stranger.id
    assert client.get(f"/v1/stories/{sid}", headers=stranger.headers).status_code == 200
    users = client.get(f"/v1/stories/{sid}/users", headers=stranger.headers).json()
    assert stranger.id in [u["id"] for u in users]
    assert client.delete(url, headers=world.creator.headers).status_code == 204
    assert client.get(f"/v1/stories/{sid}", headers=stranger.headers).status_code == 404
    assert client.delete(url, headers=world.creator.headers).status_code == 404
    assert (
        client.put(f"/v1/stories/{sid}/users/999999", headers=world.creator.headers).status_code
        == 404
    )

    team_url = f"/v1/stories/{sid}/teams/{world.team_id}"
    assert client.delete(team_url, headers=world.creator.headers).status_code == 204
    assert client.get(f"/v1/stories/{sid}", headers=world.member.headers).status_code == 404
    assert client.put(team_url, headers=world.creator.headers).status_code == 200
    assert client.get(f"/v1/stories/{sid}", headers=world.member.headers).status_code == 200
    teams = client.get(f"/v1/stories/{sid}/teams", headers=world.member.headers).json()
    assert [t["id"] for t in teams] == [world.team_id]
    events = client.get(
        f"/v1/stories/{sid}/events",
        params={"event_type": "story_privacy_changed"},
        headers=world.creator.headers,
    ).json()
    assert len(events) == 4


def _acl(client: TestClient, world: World, sid: int) -> set[int]:
    story = client.get(f"/v1/stories/{sid}", headers=world.admin.headers).json()
    return {u["id"] for u in story["users"]}


def test_making_a_story_private_keeps_its_creator_and_the_actor_in(
    client: TestClient, world: World
) -> None:
    sid = world.public["id"]
    # Someone else (not the creator) makes the public story private: the
    # creator must not lose it, nor the person who did it.
    response = client.put(
        f"/v1/stories/{sid}", json={"private": True}, headers=world.stranger.headers
    )
    assert response.status_code == 200, response.text
    assert {u["id"] for u in response.json()["users"]} == {world.creator.id, world.stranger.id}
    assert client.get(f"/v1/stories/{sid}", headers=world.stranger.headers).status_code == 200
    assert client.get(f"/v1/stories/{sid}", headers=world.creator.headers).status_code == 200
    assert client.get(f"/v1/stories/{sid}").status_code == 404
    assert client.get(f"/v1/tasks/{world.public_task['id']}").status_code == 404
    # The whole ACL can be replaced in one PUT; whoever does it stays on it.
    replaced = client.put(
        f"/v1/stories/{sid}",
        json={"users": [{"id": world.shared.id}], "teams": []},
        headers=world.stranger.headers,
    )
    assert replaced.status_code == 200, replaced.text
    assert _acl(client, world, sid) == {world.shared.id, world.stranger.id}
    assert client.get(f"/v1/stories/{sid}", headers=world.creator.headers).status_code == 404
    unknown = client.put(
        f"/v1/stories/{sid}", json={"users": [999999]}, headers=world.stranger.headers
    )
    assert unknown.status_code == 400
    assert unknown.json()["details"][0]["field"] == "users"
    # Making it public again shows it to everyone.
    client.put(f"/v1/stories/{sid}", json={"private": False}, headers=world.shared.headers)
    assert client.get(f"/v1/stories/{sid}").status_code == 200


def test_a_team_member_making_a_story_private_keeps_the_creator(
    client: TestClient, factory: Factory, world: World
) -> None:
    story = factory.story(world.stranger)
    made = client.put(
        f"/v1/stories/{story['id']}",
        json={"private": True, "teams": [world.team_id]},
        headers=world.member.headers,
    )
    assert made.status_code == 200, made.text
    # The member is let in by the team; the creator is put on by name.
    assert _acl(client, world, story["id"]) == {world.stranger.id}
    assert (
        client.get(f"/v1/stories/{story['id']}", headers=world.stranger.headers).status_code == 200
    )


def _public_with_acl(client: TestClient, factory: Factory, world: World) -> int:
    """A public story whose list still names the creator and `shared`: it was
    private once, and the list is kept for when it is private again."""
    story = factory.story(world.creator, private=True, users=[world.shared.id])
    sid: int = story["id"]
    response = client.put(
        f"/v1/stories/{sid}", json={"private": False}, headers=world.creator.headers
    )
    assert response.status_code == 200, response.text
    return sid


def test_only_those_entitled_may_take_anyone_off_the_list(
    client: TestClient, factory: Factory, world: World
) -> None:
    sid = _public_with_acl(client, factory, world)
    before = _acl(client, world, sid)
    assert before == {world.creator.id, world.shared.id}
    # A stranger may see the public story but not take people off its list,
    # neither by replacing it nor one entry at a time.
    replaced = client.put(
        f"/v1/stories/{sid}",
        json={"private": True, "users": [world.stranger.id]},
        headers=world.stranger.headers,
    )
    assert replaced.status_code == 403, replaced.text
    assert replaced.json()["code"] == "forbidden"
    one = client.delete(
        f"/v1/stories/{sid}/users/{world.shared.id}", headers=world.stranger.headers
    )
    assert one.status_code == 403
    after = client.get(f"/v1/stories/{sid}", headers=world.admin.headers).json()
    assert after["private"] is False  # the refused PUT changed nothing at all
    assert _acl(client, world, sid) == before
    # Adding is open to anyone who can see the story; making it private
    # keeps everyone who was on the list.
    assert (
        client.put(f"/v1/stories/{sid}", json={"private": True}, headers=world.stranger.headers)
    ).status_code == 200
    assert _acl(client, world, sid) == {world.creator.id, world.shared.id, world.stranger.id}
    # Those on the list may take others off it, the creator included.
    removed = client.delete(
        f"/v1/stories/{sid}/users/{world.creator.id}", headers=world.shared.headers
    )
    assert removed.status_code == 204
    assert client.get(f"/v1/stories/{sid}", headers=world.creator.headers).status_code == 404


def test_a_private_story_stays_shared_with_someone(
    client: TestClient, factory: Factory, world: World
) -> None:
    story = factory.story(world.creator, private=True)
    sid = story["id"]
    assert _acl(client, world, sid) == {world.creator.id}
    last = client.delete(
        f"/v1/stories/{sid}/users/{world.creator.id}", headers=world.creator.headers
    )
    assert last.status_code == 409, last.text
    assert "stay shared" in last.json()["message"]
    assert client.get(f"/v1/stories/{sid}", headers=world.creator.headers).status_code == 200


def test_a_team_on_the_acl_counts_for_the_author(
    client: TestClient, factory: Factory, world: World
) -> None:
    # A member of an ACL team who files a private story isn't added by name.
    story = factory.story(world.member, private=True, teams=[world.team_id])
    assert story["users"] == []
    assert client.get(f"/v1/stories/{story['id']}", headers=world.member.headers).status_code == 200
    assert client.get(f"/v1/stories/{story['id']}", headers=world.shared.headers).status_code == 404


def test_superuser_can_delete_a_private_story(client: TestClient, world: World) -> None:
    sid = world.private["id"]
    assert client.delete(f"/v1/stories/{sid}", headers=world.creator.headers).status_code == 403
    assert client.delete(f"/v1/stories/{sid}", headers=world.admin.headers).status_code == 204
    assert client.get(f"/v1/stories/{sid}", headers=world.admin.headers).status_code == 404
