from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event

from storyline.tracker import stories
from tests.factories import Factory, TestUser


def _ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()]


# Projects


@pytest.fixture
def projects(factory: Factory) -> dict[str, int]:
    admin = factory.admin()
    specs = {
        "nova": ("openstack/nova", "Compute service with the frobnicator"),
        "neutron": ("openstack/neutron", "Networking: frobnicates packets"),
        "swift": ("openstack/swift", "Object storage, no red button"),
        "storyline": ("storyline/core", "The big red button tracker"),
    }
    return {
        key: factory.project(admin, name=name, description=description)["id"]
        for key, (name, description) in specs.items()
    }


def test_project_search_matches_prefixes_of_name_and_description(
    client: TestClient, projects: dict[str, int]
) -> None:
    found = client.get("/v1/projects/search", params={"q": "frob"})
    assert _ids(found) == [projects["nova"], projects["neutron"]]
    assert found.headers["X-Total"] == "2"
    # Parts of a slashed name are words of their own.
    assert _ids(client.get("/v1/projects/search", params={"q": "swi"})) == [projects["swift"]]
    assert _ids(client.get("/v1/projects/search", params={"q": "openstack/neu"})) == [
        projects["neutron"]
    ]
    assert _ids(client.get("/v1/projects/search", params={"q": "FROBNICATOR"})) == [
        projects["nova"]
    ]


def test_project_search_phrases_negation_and_and(
    client: TestClient, projects: dict[str, int]
) -> None:
    def search(q: str) -> list[int]:
        return _ids(client.get("/v1/projects/search", params={"q": q}))

    assert search('"red button"') == [projects["swift"], projects["storyline"]]
    assert search('"big red button"') == [projects["storyline"]]
    assert search('"button red"') == []
    assert search("openstack -frob") == [projects["swift"]]
    assert search('button -"no red"') == [projects["storyline"]]
    assert search("openstack compute") == [projects["nova"]]


def test_project_search_filters_paging_and_sort(
    client: TestClient, factory: Factory, projects: dict[str, int]
) -> None:
    q = {"q": "openstack"}
    first = client.get("/v1/projects/search", params={**q, "limit": 2})
    assert _ids(first) == [projects["nova"], projects["neutron"]]
    assert first.headers["X-Total"] == "3"
    assert first.headers["X-Limit"] == "2"
    after = client.get(
        "/v1/projects/search", params={**q, "limit": 2, "marker": projects["neutron"]}
    )
    assert _ids(after) == [projects["swift"]]
    offset = client.get("/v1/projects/search", params={**q, "limit": 2, "offset": 2})
    assert _ids(offset) == [projects["swift"]]
    by_name = client.get(
        "/v1/projects/search", params={**q, "sort_field": "name", "sort_dir": "desc"}
    )
    assert _ids(by_name) == [projects["swift"], projects["nova"], projects["neutron"]]
    admin = factory.admin()
    group = client.post("/v1/project_groups", json={"name": "compute"}, headers=admin.headers)
    assert group.status_code == 200, group.text
    group_id = group.json()["id"]
    for key in ("nova", "storyline"):
        added = client.put(
            f"/v1/project_groups/{group_id}/projects/{projects[key]}", headers=admin.headers
        )
        assert added.status_code == 200, added.text
    filtered = client.get("/v1/projects/search", params={**q, "project_group_id": group_id})
    assert _ids(filtered) == [projects["nova"]]
    assert filtered.headers["X-Total"] == "1"


def test_project_search_sees_updates(
    client: TestClient, factory: Factory, projects: dict[str, int]
) -> None:
    admin = factory.admin()
    changed = client.put(
        f"/v1/projects/{projects['swift']}",
        json={"description": "Blob store"},
        headers=admin.headers,
    )
    assert changed.status_code == 200
    assert _ids(client.get("/v1/projects/search", params={"q": "blob"})) == [projects["swift"]]
    assert _ids(client.get("/v1/projects/search", params={"q": "storage"})) == []


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({}, "must not be empty"),
        ({"q": ""}, "must not be empty"),
        ({"q": "   "}, "must not be empty"),
        ({"q": 'red "button'}, "never closed"),
        ({"q": "-red"}, "only excludes"),
    ],
)
@pytest.mark.parametrize("resource", ["projects", "stories", "tasks", "users"])
def test_unsearchable_q_is_a_clear_400(
    client: TestClient, resource: str, params: dict[str, str], fragment: str
) -> None:
    response = client.get(f"/v1/{resource}/search", params=params)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_input"
    assert body["details"][0]["field"] == "q"
    assert fragment in body["message"]


def test_unknown_sort_field_and_argument_are_refused(
    client: TestClient, projects: dict[str, int]
) -> None:
    bad_sort = client.get("/v1/projects/search", params={"q": "nova", "sort_field": "secret"})
    assert bad_sort.status_code == 400
    unknown = client.get("/v1/projects/search", params={"q": "nova", "title": "x"})
    assert unknown.status_code == 400


# Stories and tasks


@pytest.fixture
def tracker(factory: Factory) -> dict[str, Any]:
    admin = factory.admin()
    alice = factory.user(name="Alice Frobisher")
    bob = factory.user(name="Bob Widget")
    nova = factory.project(admin, name="openstack/nova")
    swift = factory.project(admin, name="openstack/swift")
    crash = factory.story(
        alice, title="Frobnicator crashes on start", description="Stack trace attached"
    )
    leak = factory.story(alice, title="Memory leak", description="The frobnicator leaks memory")
    button = factory.story(bob, title="Big red button does nothing", tags=["ui"])
    secret = factory.story(
        alice, title="Frobnicator secret key disclosure", private=True, users=[alice.id]
    )
    tasks = {
        "crash_nova": factory.task(
            alice, story_id=crash["id"], project_id=nova["id"], title="Fix frobnicator startup"
        ),
        "crash_swift": factory.task(
            alice, story_id=crash["id"], project_id=swift["id"], title="Backport frobnicator fix"
        ),
        "button": factory.task(
            bob, story_id=button["id"], project_id=swift["id"], title="Wire the red button"
        ),
        "secret": factory.task(
            alice, story_id=secret["id"], project_id=nova["id"], title="Rotate frobnicator keys"
        ),
    }
    return {
        "admin": admin,
        "alice": alice,
        "bob": bob,
        "nova": nova["id"],
        "swift": swift["id"],
        "crash": crash["id"],
        "leak": leak["id"],
        "button": button["id"],
        "secret": secret["id"],
        "tasks": {key: task["id"] for key, task in tasks.items()},
    }


def _stories(client: TestClient, user: TestUser | None = None, **params: Any) -> Any:
    headers = user.headers if user else {}
    return client.get("/v1/stories/search", params=params, headers=headers)


def test_story_search_title_and_description_prefixes(
    client: TestClient, tracker: dict[str, Any]
) -> None:
    found = _stories(client, q="frob")
    assert _ids(found) == [tracker["crash"], tracker["leak"]]
    assert found.headers["X-Total"] == "2"
    body = found.json()[0]
    assert body["title"] == "Frobnicator crashes on start"
    assert body["status"] == "active"
    assert {"key": "todo", "count": 2} in body["task_statuses"]
    assert _ids(_stories(client, q='"red button"')) == [tracker["button"]]
    assert _ids(_stories(client, q="frob -leak")) == [tracker["crash"]]
    assert _ids(_stories(client, q="frob memory")) == [tracker["leak"]]
    assert _ids(_stories(client, q='"frobnicator leaks memory"')) == [tracker["leak"]]


def test_private_stories_are_found_only_by_those_who_may_see_them(
    client: TestClient, factory: Factory, tracker: dict[str, Any]
) -> None:
    expected_public = [tracker["crash"], tracker["leak"]]
    anonymous = _stories(client, q="frob")
    assert _ids(anonymous) == expected_public
    assert anonymous.headers["X-Total"] == "2"
    stranger = _stories(client, factory.user(), q="frob")
    assert _ids(stranger) == expected_public
    assert stranger.headers["X-Total"] == "2"
    for who in ("alice", "admin"):
        seen = _stories(client, tracker[who], q="frob")
        assert _ids(seen) == [*expected_public, tracker["secret"]]
        assert seen.headers["X-Total"] == "3"
    assert _ids(_stories(client, q="secret")) == []
    # Its tasks too.
    tasks = client.get("/v1/tasks/search", params={"q": "rotate"})
    assert _ids(tasks) == []
    assert tasks.headers["X-Total"] == "0"
    own = client.get("/v1/tasks/search", params={"q": "rotate"}, headers=tracker["alice"].headers)
    assert _ids(own) == [tracker["tasks"]["secret"]]


def test_story_search_combines_q_with_the_list_filters(
    client: TestClient, tracker: dict[str, Any]
) -> None:
    alice = tracker["alice"]
    assert _ids(_stories(client, q="frob", project_id=tracker["swift"])) == [tracker["crash"]]
    assert _ids(_stories(client, q="button", project_id=tracker["nova"])) == []
    assert _ids(_stories(client, q="big", tags=["ui"])) == [tracker["button"]]
    assert _ids(_stories(client, q="frob", tags=["ui"])) == []
    assert _ids(_stories(client, q="frob", status=["invalid"])) == [tracker["leak"]]
    assert _ids(_stories(client, q="frob", creator_id=tracker["bob"].id)) == []
    assert _ids(_stories(client, alice, q="frob", project_id=tracker["nova"])) == [
        tracker["crash"],
        tracker["secret"],
    ]
    refused = _stories(client, q="frob", title="x")
    assert refused.status_code == 400
    assert "title" in refused.json()["message"]
    bad_status = _stories(client, q="frob", status=["open"])
    assert bad_status.status_code == 400


def test_story_search_paging_and_sort(client: TestClient, tracker: dict[str, Any]) -> None:
    admin = tracker["admin"]
    everything = [tracker["crash"], tracker["leak"], tracker["secret"]]
    first = _stories(client, admin, q="frob", limit=2)
    assert _ids(first) == everything[:2]
    assert first.headers["X-Total"] == "3"
    assert first.headers["X-Limit"] == "2"
    rest = _stories(client, admin, q="frob", limit=2, marker=everything[1])
    assert _ids(rest) == everything[2:]
    assert rest.headers["X-Total"] == "3"
    assert _ids(_stories(client, admin, q="frob", offset=1)) == everything[1:]
    by_title = _stories(client, admin, q="frob", sort_field="title", sort_dir="asc")
    assert _ids(by_title) == [tracker["crash"], tracker["secret"], tracker["leak"]]
    newest = _stories(client, admin, q="frob", sort_dir="desc", limit=1)
    assert _ids(newest) == [tracker["secret"]]
    assert _stories(client, q="frob", sort_field="nope").status_code == 400


def test_story_search_follows_edits_and_deletes(
    client: TestClient, tracker: dict[str, Any]
) -> None:
    alice, admin = tracker["alice"], tracker["admin"]
    changed = client.put(
        f"/v1/stories/{tracker['leak']}", json={"title": "Quux overflow"}, headers=alice.headers
    )
    assert changed.status_code == 200, changed.text
    assert _ids(_stories(client, q="quux")) == [tracker["leak"]]
    assert _ids(_stories(client, q="memory")) == [tracker["leak"]]
    assert _ids(_stories(client, q="leak")) == [tracker["leak"]]  # "leaks" in the description
    assert _ids(_stories(client, q='"memory leak"')) == []
    deleted = client.delete(f"/v1/stories/{tracker['crash']}", headers=admin.headers)
    assert deleted.status_code == 204
    assert _ids(_stories(client, q="stack")) == []


def test_task_search_with_filters_paging_and_sort(
    client: TestClient, tracker: dict[str, Any]
) -> None:
    tasks = tracker["tasks"]

    def search(**params: Any) -> list[int]:
        return _ids(client.get("/v1/tasks/search", params=params))

    response = client.get("/v1/tasks/search", params={"q": "frob"})
    assert _ids(response) == [tasks["crash_nova"], tasks["crash_swift"]]
    assert response.headers["X-Total"] == "2"
    assert response.json()[0]["title"] == "Fix frobnicator startup"
    assert search(q="frob", project_id=tracker["swift"]) == [tasks["crash_swift"]]
    assert search(q="frob", story_id=tracker["crash"], status=["todo"]) == [
        tasks["crash_nova"],
        tasks["crash_swift"],
    ]
    assert search(q="frob", status=["merged"]) == []
    assert search(q="red -frob") == [tasks["button"]]
    assert search(q="frob", sort_field="title") == [tasks["crash_swift"], tasks["crash_nova"]]
    assert search(q="frob", limit=1, marker=tasks["crash_nova"]) == [tasks["crash_swift"]]
    assert client.get("/v1/tasks/search", params={"q": "x", "title": "x"}).status_code == 400


# Users


def test_user_search_by_name_and_private_email(
    client: TestClient, factory: Factory, tracker: dict[str, Any]
) -> None:
    alice, bob, admin = tracker["alice"], tracker["bob"], tracker["admin"]
    found = client.get("/v1/users/search", params={"q": "frob"})
    assert _ids(found) == [alice.id]
    assert found.headers["X-Total"] == "1"
    assert found.json()[0]["email"] is None
    assert _ids(client.get("/v1/users/search", params={"q": "alice frob"})) == [alice.id]
    assert _ids(client.get("/v1/users/search", params={"q": "user -widget"})) == []
    # Email addresses are private: only administrators find users by them.
    local_part = alice.email.split("@")[0]
    assert _ids(client.get("/v1/users/search", params={"q": local_part})) == []
    by_admin = client.get("/v1/users/search", params={"q": alice.email}, headers=admin.headers)
    assert _ids(by_admin) == [alice.id]
    assert by_admin.json()[0]["email"] == alice.email
    filtered = client.get("/v1/users/search", params={"q": "bob", "email": "example"})
    assert filtered.status_code == 403
    ordered = client.get(
        "/v1/users/search",
        params={"q": "b", "sort_field": "full_name", "sort_dir": "desc"},
    )
    assert _ids(ordered) == [bob.id]


def test_story_search_costs_the_same_number_of_statements_for_any_page_size(
    client: TestClient,
    factory: Factory,
    tracker: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = factory.container.db.engine
    alice = tracker["alice"]
    for n in range(6):
        factory.story(alice, title=f"Frobnicator follow-up {n}", tags=["ui"])

    def statements(limit: int) -> tuple[int, int]:
        seen: list[str] = []

        def record(*args: Any) -> None:
            seen.append(args[2])

        event.listen(engine, "before_cursor_execute", record)
        try:
            response = _stories(client, alice, q="frob", limit=limit)
        finally:
            event.remove(engine, "before_cursor_execute", record)
        assert len(response.json()) == limit
        searching = [sql for sql in seen if "stories_fts" in sql or "search_fts" in sql]
        # The users and teams of story ACLs load in one statement per page,
        # and only when a story on the page has an ACL: which one has
        # depends on the page, not on its size.
        members = [sql for sql in seen if re.search(r"WHERE (users|teams)\.id IN", sql)]
        assert len(members) <= 2
        return len(seen) - len(members), len(searching)

    one, eight = statements(1), statements(8)
    # No statement per story; the full-text condition is in the count and the
    # page only.
    assert one == eight
    assert one[1] == 2
    # Past COUNT_ALL_UP_TO stories likewise: the first statement then only
    # finds the table too large to count in full; on SQLite one pass over
    # the index serves the total and the page, on PostgreSQL the first
    # matches are counted, then the page is read.
    monkeypatch.setattr(stories, "COUNT_ALL_UP_TO", 0)
    one, eight = statements(1), statements(8)
    assert one == eight
    assert one[1] == (2 if engine.dialect.name == "sqlite" else 3)
