from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from storyline.kernel.models import Event
from tests.factories import Factory
from tests.queries import count_queries
from tests.sbclient import storyboard_client

if TYPE_CHECKING:
    # Imported for annotations only: pytest would try to collect a Test* class.
    from tests.factories import TestUser


def _story(factory: Factory, creator: TestUser, **fields: Any) -> int:
    story_id: int = factory.story(creator, **fields)["id"]
    return story_id


def _tag_events(factory: Factory, story_id: int) -> list[tuple[str, dict[str, Any]]]:
    with factory.container.db.read() as session:
        rows = session.execute(
            select(Event.event_type, Event.event_info)
            .where(Event.story_id == story_id, Event.event_type.in_(["tags_added", "tags_deleted"]))
            .order_by(Event.id)
        ).all()
        return [(kind, json.loads(info or "{}")) for kind, info in rows]


def test_tagging_a_story_answers_the_story_and_records_events(
    client: TestClient, factory: Factory
) -> None:
    user = factory.user()
    story_id = _story(factory, user, title="Flaky gate")
    url = f"/v1/stories/{story_id}/tags"
    added = client.put(url, json=["low-hanging-fruit", "gate"], headers=user.headers)
    assert added.status_code == 200
    story = added.json()
    assert story["id"] == story_id
    assert story["title"] == "Flaky gate"
    assert story["tags"] == ["gate", "low-hanging-fruit"]

    listed = client.get(url)
    assert listed.status_code == 200
    assert [(t["name"], t["popularity"]) for t in listed.json()] == [
        ("low-hanging-fruit", 1),
        ("gate", 1),
    ]
    assert listed.headers["X-Total"] == "2"
    # Adding tags the story has (in any case) changes nothing and records nothing.
    again = client.put(url, json=["GATE", " gate "], headers=user.headers)
    assert again.json()["tags"] == ["gate", "low-hanging-fruit"]

    removed = client.request("DELETE", url, json=["gate", "not-there"], headers=user.headers)
    assert removed.status_code == 204
    assert client.get(f"/v1/stories/{story_id}").json()["tags"] == ["low-hanging-fruit"]
    assert _tag_events(factory, story_id) == [
        ("tags_added", {"story_title": "Flaky gate", "tags": ["low-hanging-fruit", "gate"]}),
        ("tags_deleted", {"story_title": "Flaky gate", "tags": ["gate"]}),
    ]
    # The tag itself stays, for other stories.
    assert [t["name"] for t in client.get("/v1/tags").json()] == ["low-hanging-fruit", "gate"]


def test_tag_names_match_ignoring_case(client: TestClient, factory: Factory) -> None:
    user = factory.user()
    first, second = _story(factory, user), _story(factory, user)
    client.put(f"/v1/stories/{first}/tags", json=["Documentation"], headers=user.headers)
    tagged = client.put(f"/v1/stories/{second}/tags", json=["documentation"], headers=user.headers)
    assert tagged.json()["tags"] == ["Documentation"]
    tags = client.get("/v1/tags").json()
    assert [(t["name"], t["popularity"]) for t in tags] == [("Documentation", 2)]
    untag = client.request(
        "DELETE", f"/v1/stories/{first}/tags", json=["DOCUMENTATION"], headers=user.headers
    )
    assert untag.status_code == 204
    assert client.get(f"/v1/stories/{first}").json()["tags"] == []


def test_storyboard_tags_by_story_id_paths(client: TestClient, factory: Factory) -> None:
    user = factory.user()
    story_id = _story(factory, user)
    # StoryBoard's TagsController took a story id on PUT and DELETE.
    put = client.put(f"/v1/tags/{story_id}", json=["a", "b"], headers=user.headers)
    assert put.status_code == 200
    assert put.json()["tags"] == ["a", "b"]
    query = client.put(f"/v1/tags/{story_id}", params={"tags": ["c"]}, headers=user.headers)
    assert query.json()["tags"] == ["a", "b", "c"]
    deleted = client.request("DELETE", f"/v1/tags/{story_id}", json=["a"], headers=user.headers)
    assert deleted.status_code == 204
    assert client.get(f"/v1/stories/{story_id}").json()["tags"] == ["b", "c"]


def test_create_and_get_tags(client: TestClient, factory: Factory) -> None:
    user = factory.user()
    by_storyboard_field = client.post("/v1/tags", json={"tag_name": "ux"}, headers=user.headers)
    assert by_storyboard_field.status_code == 200
    tag = by_storyboard_field.json()
    assert tag["name"] == "ux"
    assert tag["popularity"] == 0
    assert tag["created_at"].endswith("+00:00")
    by_client_field = client.post("/v1/tags", json={"name": "api"}, headers=user.headers)
    assert by_client_field.json()["name"] == "api"
    by_query = client.post("/v1/tags", params={"tag_name": "docs"}, headers=user.headers)
    assert by_query.json()["name"] == "docs"
    assert client.get(f"/v1/tags/{tag['id']}").json() == tag
    assert client.get("/v1/tags/999999").status_code == 404

    duplicate = client.post("/v1/tags", json={"tag_name": "UX"}, headers=user.headers)
    assert duplicate.status_code == 409
    assert duplicate.json()["details"] == {"field": "name"}
    assert client.post("/v1/tags", json={"tag_name": "x"}).status_code == 401


def test_tag_names_are_validated_with_the_field_named(client: TestClient, factory: Factory) -> None:
    user = factory.user()
    story_id = _story(factory, user)
    bad_names = ["", "   ", "a,b", "x" * 256]
    for name in bad_names:
        created = client.post("/v1/tags", json={"tag_name": name}, headers=user.headers)
        assert created.status_code == 400, name
        assert created.json()["details"][0]["field"] == "tag_name"
        tagged = client.put(
            f"/v1/stories/{story_id}/tags", json=["fine", name], headers=user.headers
        )
        assert tagged.status_code == 400, name
        assert tagged.json()["details"][0]["field"] == "tags"
    missing = client.post("/v1/tags", json={}, headers=user.headers)
    assert missing.status_code == 400
    assert missing.json()["details"][0]["field"] == "tag_name"
    not_a_list = client.put(f"/v1/stories/{story_id}/tags", json="a", headers=user.headers)
    assert not_a_list.status_code == 400
    # Nothing of the refused requests was written.
    assert client.get("/v1/tags").json() == []
    assert _tag_events(factory, story_id) == []
    longest = client.post("/v1/tags", json={"tag_name": "x" * 255}, headers=user.headers)
    assert longest.status_code == 200


def test_list_filters_and_paging(client: TestClient, factory: Factory) -> None:
    user = factory.user()
    ids = [
        client.post("/v1/tags", json={"tag_name": f"team-{i}"}, headers=user.headers).json()["id"]
        for i in range(5)
    ]
    client.post("/v1/tags", json={"tag_name": "other"}, headers=user.headers)
    page = client.get("/v1/tags", params={"name": "TEAM", "limit": 2})
    assert [t["id"] for t in page.json()] == ids[:2]
    assert page.headers["X-Total"] == "5"
    assert page.headers["X-Limit"] == "2"
    after = client.get("/v1/tags", params={"name": "team", "limit": 2, "marker": ids[1]})
    assert [t["id"] for t in after.json()] == ids[2:4]
    assert after.headers["X-Marker"] == str(ids[1])
    offset = client.get("/v1/tags", params={"name": "team", "offset": 4})
    assert [t["id"] for t in offset.json()] == ids[4:]
    by_name = client.get("/v1/tags", params={"sort_field": "name", "sort_dir": "desc", "limit": 1})
    assert [t["name"] for t in by_name.json()] == ["team-4"]
    assert client.get("/v1/tags", params={"tag": "x"}).status_code == 400

    story_id = _story(factory, user)
    client.put(f"/v1/stories/{story_id}/tags", json=["team-3", "other"], headers=user.headers)
    of_story = client.get("/v1/tags", params={"story_id": story_id})
    assert sorted(t["name"] for t in of_story.json()) == ["other", "team-3"]
    assert client.get("/v1/tags", params={"story_id": 999999}).status_code == 404


def test_tags_of_private_stories_are_invisible(client: TestClient, factory: Factory) -> None:
    owner, friend, outsider = factory.user(), factory.user(), factory.user()
    public_id = _story(factory, owner)
    private_id = _story(factory, owner, private=True, users=[friend.id])
    client.put(f"/v1/stories/{public_id}/tags", json=["shared"], headers=owner.headers)
    tagged = client.put(
        f"/v1/stories/{private_id}/tags", json=["shared", "cve-secret"], headers=friend.headers
    )
    assert tagged.status_code == 200
    for headers in ({}, outsider.headers):
        for path, params in (
            ("/v1/tags", {"story_id": private_id}),
            (f"/v1/stories/{private_id}/tags", {}),
        ):
            response = client.get(path, params=params, headers=headers)
            assert response.status_code == 404
            assert "cve-secret" not in response.text
        # The count of stories carrying a tag does not reveal private ones.
        shared = client.get("/v1/tags", params={"name": "shared"}, headers=headers).json()
        assert [t["popularity"] for t in shared] == [1]
    for method in ("PUT", "DELETE"):
        response = client.request(
            method, f"/v1/stories/{private_id}/tags", json=["x"], headers=outsider.headers
        )
        assert response.status_code == 404
    visible = client.get(f"/v1/stories/{private_id}/tags", headers=friend.headers)
    assert sorted(t["name"] for t in visible.json()) == ["cve-secret", "shared"]
    shared = client.get("/v1/tags", params={"name": "shared"}, headers=friend.headers).json()
    assert [t["popularity"] for t in shared] == [2]


def test_tags_only_private_stories_carry_are_hidden(client: TestClient, factory: Factory) -> None:
    admin, owner, outsider = factory.admin(), factory.user(), factory.user()
    public_id = _story(factory, owner)
    private_id = _story(factory, owner, private=True)
    client.put(f"/v1/stories/{public_id}/tags", json=["shared"], headers=owner.headers)
    client.put(
        f"/v1/stories/{private_id}/tags", json=["cve-secret", "shared"], headers=owner.headers
    )
    unused = client.post("/v1/tags", json={"tag_name": "for-later"}, headers=owner.headers).json()
    secret_id = next(
        t["id"]
        for t in client.get("/v1/tags", headers=owner.headers).json()
        if t["name"] == "cve-secret"
    )
    shared_id = next(
        t["id"]
        for t in client.get("/v1/tags", headers=owner.headers).json()
        if t["name"] == "shared"
    )
    for headers in ({}, outsider.headers):
        listed = client.get("/v1/tags", headers=headers)
        assert sorted(t["name"] for t in listed.json()) == ["for-later", "shared"]
        assert listed.headers["X-Total"] == "2"
        assert client.get(f"/v1/tags/{secret_id}", headers=headers).status_code == 404
        assert (
            "cve-secret" not in client.get("/v1/tags", params={"name": "cve"}, headers=headers).text
        )
        assert client.get(f"/v1/tags/{unused['id']}", headers=headers).status_code == 200
        # A story's tag answers only for the tags the story carries.
        carried = client.get(f"/v1/stories/{public_id}/tags/{shared_id}", headers=headers)
        assert carried.status_code == 200
        not_carried = client.get(f"/v1/stories/{public_id}/tags/{secret_id}", headers=headers)
        assert not_carried.status_code == 404
        assert "cve-secret" not in not_carried.text
    for headers in (owner.headers, admin.headers):
        assert client.get(f"/v1/tags/{secret_id}", headers=headers).status_code == 200
    # A tag that leaves the last (private) story carrying it is gone, rather
    # than listed to everyone under its telling name.
    removed = client.request(
        "DELETE", f"/v1/stories/{private_id}/tags", json=["cve-secret"], headers=owner.headers
    )
    assert removed.status_code == 204
    assert client.get(f"/v1/tags/{secret_id}", headers=admin.headers).status_code == 404
    assert "shared" in [t["name"] for t in client.get("/v1/tags").json()]


def test_tagging_needs_a_signed_in_user(client: TestClient, factory: Factory) -> None:
    user = factory.user()
    story_id = _story(factory, user)
    assert client.put(f"/v1/stories/{story_id}/tags", json=["a"]).status_code == 401
    assert client.request("DELETE", f"/v1/stories/{story_id}/tags", json=["a"]).status_code == 401
    assert client.put("/v1/stories/999999/tags", json=["a"], headers=user.headers).status_code == (
        404
    )


def test_listing_costs_the_same_number_of_queries_for_any_page_size(
    client: TestClient, factory: Factory
) -> None:
    user = factory.user()
    small, large = _story(factory, user), _story(factory, user)
    client.put(f"/v1/stories/{small}/tags", json=["one"], headers=user.headers)
    names = [f"tag-{i}" for i in range(30)]
    client.put(f"/v1/stories/{large}/tags", json=names, headers=user.headers)
    engine = factory.container.db.engine
    with count_queries(engine) as few:
        assert len(client.get("/v1/tags", params={"story_id": small}).json()) == 1
    with count_queries(engine) as many:
        assert len(client.get("/v1/tags", params={"story_id": large}).json()) == 30
    assert len(few) == len(many) <= 5


def test_python_storyboardclient_tags_and_comments(client: TestClient, factory: Factory) -> None:
    user = factory.user()
    # Ids that differ between stories, tags, comments and events, so that no
    # answer works only because some id happens to name another object.
    for _ in range(3):
        _story(factory, user)
    story_id = _story(factory, user)
    sb = storyboard_client(client, user.token)
    story = sb.stories.get(story_id)
    # The client maps the returned Story onto a Tag; what matters is that the
    # tags are saved.
    story.tags_manager.update(["from-client", "second"])
    assert sorted(t.name for t in story.tags_manager.get_all()) == ["from-client", "second"]
    story.tags_manager.delete(["second"])
    assert [t.name for t in story.tags_manager.get_all()] == ["from-client"]
    created = sb.tags.create(name="standalone")
    assert created.name == "standalone"
    assert [t.name for t in sb.tags.get_all(name="stand")] == ["standalone"]

    created_comment = story.comments.create(content="Hello from the client")
    # The client maps the TimeLineEvent onto a Comment: `.id` is the event's.
    with factory.container.db.read() as session:
        event_ids = session.scalars(
            select(Event.id).where(Event.story_id == story_id, Event.event_type == "user_comment")
        ).all()
    assert event_ids == [created_comment.id]
    listed = story.comments.get_all()
    assert [c.content for c in listed] == ["Hello from the client"]
    fetched = story.comments.get(listed[0].id)
    assert fetched.content == "Hello from the client"
    story.comments.update(id=listed[0].id, content="Edited from the client")
    assert story.comments.get(listed[0].id).content == "Edited from the client"


def test_story_creation_and_tag_filter_follow_the_tag_rules(
    client: TestClient, factory: Factory
) -> None:
    user = factory.user()
    story = factory.story(user, tags=["Security"])
    refused = client.post("/v1/stories", json={"title": "x", "tags": ["a,b"]}, headers=user.headers)
    assert refused.status_code == 400
    assert refused.json()["details"][0]["field"].startswith("tags")
    again = factory.story(user, tags=["security"])
    assert again["tags"] == ["Security"]
    found = client.get("/v1/stories", params={"tags": "SECURITY"}).json()
    assert {s["id"] for s in found} == {story["id"], again["id"]}
