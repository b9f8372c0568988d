"""/v1/stories/{id}/links: typed links between stories, read from both ends,
hidden when the other end is a private story the reader may not see."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.factories import Factory


def test_a_link_reads_from_both_ends_and_is_recorded(client: TestClient, factory: Factory) -> None:
    user = factory.user()
    a = factory.story(user, "Blocker")
    b = factory.story(user, "Blocked")
    added = client.post(
        f"/v1/stories/{a['id']}/links",
        json={"target_story_id": b["id"], "kind": "blocks"},
        headers=user.headers,
    )
    assert added.status_code == 200, added.text
    link = added.json()
    assert link["label"] == "blocks"
    assert link["direction"] == "outgoing"
    assert link["other_story_title"] == "Blocked"

    from_b = client.get(f"/v1/stories/{b['id']}/links").json()
    assert [(x["label"], x["other_story_id"], x["direction"]) for x in from_b] == [
        ("blocked by", a["id"], "incoming")
    ]
    # Either end can remove it; both timelines have both events.
    gone = client.delete(f"/v1/stories/{b['id']}/links/{link['id']}", headers=user.headers)
    assert gone.status_code == 204
    assert client.get(f"/v1/stories/{a['id']}/links").json() == []
    for story in (a, b):
        kinds = [
            e["event_type"]
            for e in client.get(
                f"/v1/stories/{story['id']}/events",
                params={"event_type": ["story_link_added", "story_link_removed"]},
            ).json()
        ]
        assert kinds == ["story_link_added", "story_link_removed"]


def test_bad_links_are_refused(client: TestClient, factory: Factory) -> None:
    user = factory.user()
    a = factory.story(user)
    b = factory.story(user)
    url = f"/v1/stories/{a['id']}/links"

    def post(body: dict[str, object], headers: dict[str, str] | None = None) -> int:
        return client.post(url, json=body, headers=user.headers if headers is None else headers)

    assert post({"target_story_id": b["id"], "kind": "likes"}).status_code == 400
    assert post({"target_story_id": a["id"], "kind": "relates"}).status_code == 400
    assert post({"target_story_id": 999_999, "kind": "relates"}).status_code == 400
    assert post({"target_story_id": b["id"], "kind": "relates"}, headers={}).status_code == 401
    assert post({"target_story_id": b["id"], "kind": "relates"}).status_code == 200
    # The same link from the other end is the same link.
    again = client.post(
        f"/v1/stories/{b['id']}/links",
        json={"target_story_id": a["id"], "kind": "relates"},
        headers=user.headers,
    )
    assert again.status_code == 409


def test_links_to_invisible_private_stories_are_hidden(
    client: TestClient, factory: Factory
) -> None:
    owner = factory.user()
    stranger = factory.user()
    public = factory.story(owner, "Public")
    private = factory.story(owner, "Secret", private=True)
    link = client.post(
        f"/v1/stories/{public['id']}/links",
        json={"target_story_id": private["id"], "kind": "duplicates"},
        headers=owner.headers,
    ).json()

    assert len(client.get(f"/v1/stories/{public['id']}/links", headers=owner.headers).json()) == 1
    assert client.get(f"/v1/stories/{public['id']}/links", headers=stranger.headers).json() == []
    assert client.get(f"/v1/stories/{public['id']}/links").json() == []
    assert client.get(f"/v1/stories/{private['id']}/links").status_code == 404
    # A stranger can neither link to the private story nor remove its link.
    refused = client.post(
        f"/v1/stories/{public['id']}/links",
        json={"target_story_id": private["id"], "kind": "relates"},
        headers=stranger.headers,
    )
    assert refused.status_code == 400
    assert "no story with id" in refused.json()["message"]
    removed = client.delete(
        f"/v1/stories/{public['id']}/links/{link['id']}", headers=stranger.headers
    )
    assert removed.status_code == 404
