"""ETag, If-Match and If-None-Match on /v1: a write based on a stale read is
refused with 412 instead of silently overwriting someone else's change."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from storyline.app import api_routers
from tests.factories import Factory, TestUser

_n = itertools.count(1)


def _ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


@dataclass
class Case:
    """One resource: where to read it, how to change it, and who may."""

    read: str
    write: str
    user: TestUser
    change: Callable[[int], dict[str, Any]]
    # Query parameters for routes that take their input there (StoryBoard's).
    params: Callable[[int], dict[str, Any]] | None = None

    def put(self, client: TestClient, i: int, **headers: str) -> Any:
        return client.put(
            self.write,
            json=self.change(i),
            params=self.params(i) if self.params else None,
            headers={**self.user.headers, **headers},
        )


def _story(client: TestClient, factory: Factory) -> Case:
    user = factory.user()
    story = factory.story(user)
    url = f"/v1/stories/{story['id']}"
    return Case(url, url, user, lambda i: {"title": f"Title {i}"})


def _task(client: TestClient, factory: Factory) -> Case:
    admin = factory.admin()
    story = factory.story(admin)
    task = factory.task(admin, story_id=story["id"], project_id=factory.project(admin)["id"])
    url = f"/v1/stories/{story['id']}/tasks/{task['id']}"
    return Case(url, f"/v1/tasks/{task['id']}", admin, lambda i: {"title": f"Task {i}"})


def _story_tags(client: TestClient, factory: Factory) -> Case:
    user = factory.user()
    story = factory.story(user)
    # Tags are part of the story: If-Match on them is checked against it.
    return Case(
        f"/v1/stories/{story['id']}",
        f"/v1/stories/{story['id']}/tags",
        user,
        lambda i: [f"tag-{i}"],  # type: ignore[arg-type, return-value]
    )


def _comment(client: TestClient, factory: Factory) -> Case:
    user = factory.user()
    story = factory.story(user)
    event = _ok(
        client.post(
            f"/v1/stories/{story['id']}/comments", json={"content": "first"}, headers=user.headers
        )
    )
    url = f"/v1/stories/{story['id']}/comments/{event['comment']['id']}"
    return Case(url, url, user, lambda i: {"content": f"edit {i}"})


def _project(client: TestClient, factory: Factory) -> Case:
    admin = factory.admin()
    project = factory.project(admin)
    url = f"/v1/projects/{project['id']}"
    return Case(url, url, admin, lambda i: {"description": f"about {i}"})


def _project_group(client: TestClient, factory: Factory) -> Case:
    admin = factory.admin()
    group = _ok(
        client.post("/v1/project_groups", json={"name": f"g{next(_n)}"}, headers=admin.headers)
    )
    url = f"/v1/project_groups/{group['id']}"
    return Case(url, url, admin, lambda i: {"title": f"Group {i}"})


def _branch(client: TestClient, factory: Factory) -> Case:
    admin = factory.admin()
    project = factory.project(admin)
    body = {"name": f"stable/{next(_n)}", "project_id": project["id"]}
    branch = _ok(client.post("/v1/branches", json=body, headers=admin.headers))
    url = f"/v1/branches/{branch['id']}"
    return Case(url, url, admin, lambda i: {"restricted": bool(i % 2)})


def _milestone(client: TestClient, factory: Factory) -> Case:
    admin = factory.admin()
    project = factory.project(admin)
    master = client.get("/v1/branches", params={"project_id": project["id"]}).json()[0]
    body = {"name": f"m{next(_n)}", "branch_id": master["id"]}
    milestone = _ok(client.post("/v1/milestones", json=body, headers=admin.headers))
    url = f"/v1/milestones/{milestone['id']}"
    return Case(url, url, admin, lambda i: {"name": f"milestone-{i}"})


def _team(client: TestClient, factory: Factory) -> Case:
    admin = factory.admin()
    team = _ok(client.post("/v1/teams", json={"name": f"t{next(_n)}"}, headers=admin.headers))
    url = f"/v1/teams/{team['id']}"
    return Case(url, url, admin, lambda i: {"description": f"team {i}"})


def _user(client: TestClient, factory: Factory) -> Case:
    user = factory.user()
    url = f"/v1/users/{user.id}"
    return Case(url, url, user, lambda i: {"full_name": f"Name {i}"})


def _webhook(client: TestClient, factory: Factory) -> Case:
    admin = factory.admin()
    project = factory.project(admin)
    body = {"url": "http://127.0.0.1:9/hook", "project_id": project["id"]}
    hook = _ok(client.post("/v1/webhooks", json=body, headers=admin.headers))
    url = f"/v1/webhooks/{hook['id']}"
    return Case(url, url, admin, lambda i: {"description": f"hook {i}"})


def _worklist(client: TestClient, factory: Factory) -> Case:
    user = factory.user()
    worklist = _ok(client.post("/v1/worklists", json={"title": "List"}, headers=user.headers))
    url = f"/v1/worklists/{worklist['id']}"
    return Case(url, url, user, lambda i: {"title": f"List {i}"})


def _worklist_item(client: TestClient, factory: Factory) -> Case:
    user = factory.user()
    wid = _ok(client.post("/v1/worklists", json={"title": "List"}, headers=user.headers))["id"]
    items = [
        _ok(
            client.post(
                f"/v1/worklists/{wid}/items",
                params={"item_id": factory.story(user)["id"], "item_type": "story"},
                headers=user.headers,
            )
        )
        for _ in range(3)
    ]
    url = f"/v1/worklists/{wid}/items/{items[0]['id']}"
    return Case(url, url, user, lambda i: {}, params=lambda i: {"list_position": i % 3})


def _worklist_filter(client: TestClient, factory: Factory) -> Case:
    user = factory.user()
    body = {"title": "Auto", "automatic": True}
    wid = _ok(client.post("/v1/worklists", json=body, headers=user.headers))["id"]
    criteria = {"type": "story", "filter_criteria": [{"field": "title", "value": "a"}]}
    made = _ok(client.post(f"/v1/worklists/{wid}/filters", json=criteria, headers=user.headers))
    url = f"/v1/worklists/{wid}/filters/{made['id']}"
    return Case(
        url,
        url,
        user,
        lambda i: {"type": "story", "filter_criteria": [{"field": "title", "value": f"v{i}"}]},
    )


def _board(client: TestClient, factory: Factory) -> Case:
    user = factory.user()
    body = {"title": "Board", "lanes": [{"worklist": {"title": "Lane"}}]}
    board = _ok(client.post("/v1/boards", json=body, headers=user.headers))
    url = f"/v1/boards/{board['id']}"
    return Case(url, url, user, lambda i: {"description": f"board {i}"})


def _board_permissions(client: TestClient, factory: Factory) -> Case:
    user = factory.user()
    others = [factory.user().id for _ in range(2)]
    body = {"title": "Board", "lanes": [{"worklist": {"title": "Lane"}}]}
    board = _ok(client.post("/v1/boards", json=body, headers=user.headers))
    # The holders are part of the board (`owners`, `users`).
    return Case(
        f"/v1/boards/{board['id']}",
        f"/v1/boards/{board['id']}/permissions",
        user,
        lambda i: {"codename": "move_cards", "users": [others[i % 2]]},
    )


def _due_date(client: TestClient, factory: Factory) -> Case:
    user = factory.user()
    body = {"name": "Release", "date": "2030-01-01T00:00:00Z"}
    due = _ok(client.post("/v1/due_dates", json=body, headers=user.headers))
    url = f"/v1/due_dates/{due['id']}"
    return Case(url, url, user, lambda i: {"name": f"Release {i}"})


CASES = {
    "story": _story,
    "task": _task,
    "story tags": _story_tags,
    "comment": _comment,
    "project": _project,
    "project group": _project_group,
    "branch": _branch,
    "milestone": _milestone,
    "team": _team,
    "user": _user,
    "webhook": _webhook,
    "worklist": _worklist,
    "worklist item": _worklist_item,
    "worklist filter": _worklist_filter,
    "board": _board,
    "board permissions": _board_permissions,
    "due date": _due_date,
}


@pytest.fixture(params=sorted(CASES))
def case(request: pytest.FixtureRequest, client: TestClient, factory: Factory) -> Case:
    return CASES[request.param](client, factory)


def _tag(client: TestClient, case: Case) -> str:
    response = client.get(case.read, headers=case.user.headers)
    assert response.status_code == 200, response.text
    tag: str = response.headers["ETag"]
    return tag


def test_a_fresh_if_match_writes_and_answers_the_new_etag(client: TestClient, case: Case) -> None:
    tag = _tag(client, case)
    assert tag.startswith('"')
    assert tag.endswith('"')
    # Reading again without a change gives the same tag: it is a version.
    assert _tag(client, case) == tag
    response = case.put(client, 1, **{"If-Match": tag})
    assert response.status_code == 200, response.text
    assert _tag(client, case) != tag
    if case.read == case.write:
        # The write's answer is the resource as now stored, tagged as a GET.
        assert response.headers["ETag"] == _tag(client, case)


def test_a_stale_if_match_is_refused_and_changes_nothing(client: TestClient, case: Case) -> None:
    stale = _tag(client, case)
    assert case.put(client, 1, **{"If-Match": stale}).status_code == 200
    current = client.get(case.read, headers=case.user.headers).json()

    response = case.put(client, 2, **{"If-Match": stale})

    assert response.status_code == 412, response.text
    body = response.json()
    assert body["code"] == "precondition_failed"
    assert "changed since you read it" in body["message"]
    assert body["faultstring"] == body["message"]
    assert client.get(case.read, headers=case.user.headers).json() == current


def test_without_if_match_or_with_a_star_writes_as_before(client: TestClient, case: Case) -> None:
    _tag(client, case)
    assert case.put(client, 1).status_code == 200
    assert case.put(client, 2, **{"If-Match": "*"}).status_code == 200
    # Any of several tags may match.
    tag = _tag(client, case)
    assert case.put(client, 3, **{"If-Match": f'"nope", {tag}'}).status_code == 200


def test_two_readers_then_two_writers_exactly_one_wins(client: TestClient, case: Case) -> None:
    first, second = _tag(client, case), _tag(client, case)
    assert case.put(client, 1, **{"If-Match": first}).status_code == 200
    assert case.put(client, 2, **{"If-Match": second}).status_code == 412


def test_concurrent_writers_with_one_version_exactly_one_wins(
    client: TestClient, factory: Factory
) -> None:
    # Whatever the interleaving, the check and the write happen under one
    # lock, so the second writer always sees the first one's change.
    case = _story(client, factory)
    tag = _tag(client, case)
    barrier = threading.Barrier(4)
    statuses: list[int] = []

    def write(i: int) -> None:
        barrier.wait()
        statuses.append(case.put(client, i, **{"If-Match": tag}).status_code)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 412, 412, 412]


def test_delete_honours_if_match(client: TestClient, factory: Factory) -> None:
    case = _worklist(client, factory)
    stale = _tag(client, case)
    assert case.put(client, 1).status_code == 200
    refused = client.delete(case.write, headers={**case.user.headers, "If-Match": stale})
    assert refused.status_code == 412
    assert client.get(case.read).json()["archived"] is False
    fresh = _tag(client, case)
    deleted = client.delete(case.write, headers={**case.user.headers, "If-Match": fresh})
    assert deleted.status_code == 204
    assert client.get(case.read).json()["archived"] is True


def test_if_none_match_answers_304_until_the_resource_changes(
    client: TestClient, factory: Factory
) -> None:
    case = _story(client, factory)
    tag = _tag(client, case)
    cached = client.get(case.read, headers={"If-None-Match": tag})
    assert cached.status_code == 304
    assert cached.headers["ETag"] == tag
    assert cached.content == b""
    assert client.get(case.read, headers={"If-None-Match": '"other"'}).status_code == 200
    case.put(client, 1)
    assert client.get(case.read, headers={"If-None-Match": tag}).status_code == 200


def test_lists_are_not_tagged(client: TestClient, factory: Factory) -> None:
    factory.story(factory.user())
    assert "ETag" not in client.get("/v1/stories").headers


def test_the_etag_depends_on_what_the_reader_sees(client: TestClient, factory: Factory) -> None:
    # A user's email is shown to themself, not to others: two representations.
    user = factory.user()
    own = client.get(f"/v1/users/{user.id}", headers=user.headers).headers["ETag"]
    public = client.get(f"/v1/users/{user.id}").headers["ETag"]
    assert own != public


def test_a_change_outside_the_row_changes_the_etag(client: TestClient, factory: Factory) -> None:
    # Tags live in their own table: a version kept on the story row (or its
    # updated_at) would miss this; the representation's hash does not.
    case = _story(client, factory)
    tag = _tag(client, case)
    added = client.put(f"{case.read}/tags", json=["urgent"], headers=case.user.headers)
    assert added.status_code == 200
    assert _tag(client, case) != tag
    assert case.put(client, 1, **{"If-Match": tag}).status_code == 412


# Writes that do not take If-Match, and why: none of them can overwrite a
# change its client did not see.
WITHOUT_IF_MATCH = {
    # Links and subscriptions are only created and deleted, never changed.
    ("DELETE", "/stories/{story_id}/links/{link_id}"),
    ("DELETE", "/subscriptions/{subscription_id}"),
    ("DELETE", "/subscription_events/{event_id}"),
    # Adding or removing one member of a set: concurrent ones compose.
    ("PUT", "/project_groups/{group_id}/projects/{project_id}"),
    ("DELETE", "/project_groups/{group_id}/projects/{project_id}"),
    ("PUT", "/teams/{team_id:int}/projects"),
    ("PUT", "/teams/{team_id:int}/projects/{project_id:int}"),
    ("DELETE", "/teams/{team_id:int}/projects"),
    ("DELETE", "/teams/{team_id:int}/projects/{project_id:int}"),
    ("PUT", "/teams/{team_id:int}/users"),
    ("PUT", "/teams/{team_id:int}/users/{user_id:int}"),
    ("DELETE", "/teams/{team_id:int}/users"),
    ("DELETE", "/teams/{team_id:int}/users/{user_id:int}"),
    # A token's representation counts down (`expires_in`) and changes each
    # time it is used, so it has no stable version; only its owner writes it.
    ("PUT", "/users/{user_id:int}/tokens/{token_id:int}"),
    ("DELETE", "/users/{user_id:int}/tokens/{token_id:int}"),
    ("DELETE", "/users/{user_id:int}/tokens/delete_all"),
    # Release management: flags and targets are set or cleared, the same
    # request twice gives the same result, and a target's tasks change through
    # the tracker's own task update; leads are a set of people, like a team's.
    ("PUT", "/stories/{story_id}/translatable"),
    ("DELETE", "/stories/{story_id}/translatable"),
    ("PUT", "/stories/{story_id}/targets"),
    ("DELETE", "/stories/{story_id}/targets"),
    ("PUT", "/projects/{project_id}/leads"),
    ("PUT", "/project_groups/{group_id}/leads"),
    # Following an election is one person's flag, set to the value sent.
    ("PUT", "/elections/{election_id}/following"),
}


def _takes_if_match(route: APIRoute) -> bool:
    stack = [route.dependant]
    while stack:
        dependant = stack.pop()
        if any(param.alias == "If-Match" for param in dependant.header_params):
            return True
        stack.extend(dependant.dependencies)
    return False


def test_every_write_route_takes_if_match_or_says_why_not() -> None:
    writes = {
        (method, route.path): route
        for router in api_routers()
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods & {"PUT", "PATCH", "DELETE"}
    }
    missing = sorted(
        key
        for key, route in writes.items()
        if key not in WITHOUT_IF_MATCH and not _takes_if_match(route)
    )
    assert missing == []
    assert set(writes) >= WITHOUT_IF_MATCH, "an exemption names a route that no longer exists"


def test_moving_a_card_does_not_change_its_worklist_or_board_version(
    client: TestClient, factory: Factory
) -> None:
    user = factory.user()
    body = {"title": "Board", "lanes": [{"worklist": {"title": "Lane"}}]}
    board = _ok(client.post("/v1/boards", json=body, headers=user.headers))
    lane = board["lanes"][0]["list_id"]
    cards = [
        _ok(
            client.post(
                f"/v1/worklists/{lane}/items",
                params={"item_id": factory.story(user)["id"], "item_type": "story"},
                headers=user.headers,
            )
        )
        for _ in range(2)
    ]
    board_tag = client.get(f"/v1/boards/{board['id']}").headers["ETag"]
    lane_tag = client.get(f"/v1/worklists/{lane}").headers["ETag"]
    # Whatever part of the cards a GET asks for, the version is the same.
    assert client.get(f"/v1/boards/{board['id']}?lane_items=1").headers["ETag"] == board_tag
    moved = client.put(
        f"/v1/worklists/{lane}/items/{cards[0]['id']}",
        params={"list_position": 1},
        headers=user.headers,
    )
    assert moved.status_code == 200
    assert client.get(f"/v1/boards/{board['id']}").headers["ETag"] == board_tag
    assert client.get(f"/v1/worklists/{lane}").headers["ETag"] == lane_tag
    renamed = client.put(
        f"/v1/boards/{board['id']}",
        json={"title": "Renamed"},
        headers={**user.headers, "If-Match": board_tag},
    )
    assert renamed.status_code == 200
