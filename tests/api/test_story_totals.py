"""X-Total is computed as (all matches) - (hidden private matches) and the page
query switches between IN and EXISTS by density; both must agree with simply
listing everything the reader can see."""

from __future__ import annotations

import itertools
import random
from typing import Any

import pytest
from fastapi.testclient import TestClient

from storyline.tracker import search, stories
from tests.factories import Factory, TestUser


def _everything(
    client: TestClient, who: TestUser | None, params: dict[str, Any], path: str = "/v1/stories"
) -> list[int]:
    headers = who.headers if who else {}
    ids: list[int] = []
    marker = None
    while True:
        page_params = {**params, "limit": 7, **({"marker": marker} if marker else {})}
        response = client.get(path, params=page_params, headers=headers)
        assert response.status_code == 200, response.text
        page = [story["id"] for story in response.json()]
        ids.extend(page)
        if len(page) < 7:
            return ids
        marker = page[-1]


@pytest.mark.parametrize("stories_counted_in_full", [True, False])
def test_totals_and_pages_agree_with_what_each_reader_sees(
    client: TestClient,
    factory: Factory,
    monkeypatch: pytest.MonkeyPatch,
    stories_counted_in_full: bool,
) -> None:
    # Two ways to an exact total: counting every match (a small stories
    # table), or reading the first matches, all of them when under the cap.
    if not stories_counted_in_full:
        monkeypatch.setattr(stories, "COUNT_ALL_UP_TO", 0)
    rng = random.Random(7)
    admin = factory.admin()
    alice, bob = factory.user(), factory.user()
    big = factory.project(admin)
    small = factory.project(admin)
    titles: dict[int, str] = {}
    for i in range(40):
        private = rng.random() < 0.3
        acl = [bob.id] if private and rng.random() < 0.5 else []
        title = f"{'network' if i % 2 else 'storage'} story {i}"
        story = factory.story(alice if i % 3 else bob, title=title, private=private, users=acl)
        titles[story["id"]] = title
        # Most stories have a task in the big project, few in the small one,
        # so both plans (IN list and EXISTS probe) are exercised.
        if rng.random() < 0.8:
            factory.task(admin, story_id=story["id"], project_id=big["id"], assignee_id=bob.id)
        if rng.random() < 0.1:
            factory.task(admin, story_id=story["id"], project_id=small["id"])
    filters: list[dict[str, Any]] = [
        {},
        {"project_id": big["id"]},
        {"project_id": small["id"]},
        {"assignee_id": bob.id},
        {"project_id": big["id"], "status": "active"},
        {"creator_id": bob.id},
    ]
    for who, params in itertools.product((None, alice, bob, admin), filters):
        headers = who.headers if who else {}
        seen = _everything(client, who, params)
        assert seen == sorted(seen)
        first = client.get("/v1/stories", params={**params, "limit": 5}, headers=headers)
        assert first.headers["X-Total"] == str(len(seen)), (who, params)
        assert [s["id"] for s in first.json()] == seen[:5]
        descending = client.get(
            "/v1/stories", params={**params, "limit": 5, "sort_dir": "desc"}, headers=headers
        )
        assert [s["id"] for s in descending.json()] == sorted(seen, reverse=True)[:5]

        # Search walks the full-text index in id order and counts hidden
        # private matches from the index; it must agree with the list too.
        if not params:
            for q, wanted in (
                ("network", lambda title: "network" in title),
                ("stor", lambda title: True),
                ("story -storage", lambda title: "storage" not in title),
            ):
                found = _everything(client, who, {"q": q}, path="/v1/stories/search")
                assert found == [i for i in seen if wanted(titles[i])], (who, q)
                searched = client.get(
                    "/v1/stories/search", params={"q": q, "limit": 3}, headers=headers
                )
                assert searched.headers["X-Total"] == str(len(found)), (who, q)


def test_totals_past_the_cap_are_estimated_in_a_large_table_only(
    client: TestClient, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Counting stops after COUNT_CAP visible matches (1M stories at tier L
    # would cost a pass per request); a small cap puts these lists past it.
    monkeypatch.setattr(stories, "COUNT_CAP", 6)
    monkeypatch.setattr(search, "COUNT_CAP", 6)
    admin, alice = factory.admin(), factory.user()
    project = factory.project(admin)
    secrets = []
    public: list[int] = []
    for i in range(30):
        if i % 4 == 1:
            secret = factory.story(admin, title="network secret", private=True)
            factory.task(admin, story_id=secret["id"], project_id=project["id"])
            secrets.append(secret["id"])
        story = factory.story(alice, title=f"network story {i}")
        public.append(story["id"])
        if i % 3 == 0:
            factory.task(admin, story_id=story["id"], project_id=project["id"])

    def total(path: str, params: dict[str, Any], who: TestUser | None = None) -> tuple[int, bool]:
        response = client.get(path, params=params, headers=who.headers if who else {})
        assert response.status_code == 200, response.text
        return int(response.headers["X-Total"]), "X-Total-Estimated" in response.headers

    past_the_cap = (
        ("/v1/stories", {}),
        ("/v1/stories", {"project_id": project["id"]}),
        ("/v1/stories/search", {"q": "netw"}),
        ("/v1/stories/search", {"q": "netw", "sort_dir": "desc"}),
    )
    # While the stories table is small, every total is exact however far
    # past the cap: counting all matches costs less there than reading the
    # first ones through the visibility gate.
    for (path, params), who in itertools.product(past_the_cap, (None, alice, admin)):
        seen = len(_everything(client, who, params, path=path))
        assert total(path, params, who) == (seen, False), (path, params, who)

    # Past COUNT_ALL_UP_TO stories (here: any), only the first are read.
    monkeypatch.setattr(stories, "COUNT_ALL_UP_TO", 0)
    for path, params in past_the_cap:
        seen = len(_everything(client, None, params, path=path))
        estimate, estimated = total(path, params)
        # Evenly spread matches: the estimate is close, and says it is one.
        assert estimated, (path, params)
        assert seen * 0.8 <= estimate <= seen * 1.2, (path, params, estimate)

    # Pages stay exact, on either side of the matches counted.
    assert _everything(client, None, {"q": "netw"}, path="/v1/stories/search") == public
    for offset in (0, 4, 12):
        response = client.get(
            "/v1/stories/search", params={"q": "netw", "limit": 5, "offset": offset}
        )
        assert [s["id"] for s in response.json()] == public[offset : offset + 5]
        response = client.get(
            "/v1/stories/search",
            params={"q": "netw", "limit": 5, "offset": offset, "sort_dir": "desc"},
        )
        assert [s["id"] for s in response.json()] == public[::-1][offset : offset + 5]

    # Private stories the reader may not see change nothing: the estimate is
    # made of visible stories only, whatever hides between them.
    lists = [
        ("/v1/stories", {}),
        ("/v1/stories", {"project_id": project["id"]}),
        ("/v1/stories/search", {"q": "netw"}),
    ]
    before = [total(path, params, alice) for path, params in lists]
    for story_id in secrets:
        deleted = client.delete(f"/v1/stories/{story_id}", headers=admin.headers)
        assert deleted.status_code == 204, deleted.text
    assert [total(path, params, alice) for path, params in lists] == before

    # Up to the cap, totals are exact and not marked.
    small = factory.project(admin)
    for i in range(4):
        story = factory.story(alice, title=f"storage story {i}")
        factory.task(admin, story_id=story["id"], project_id=small["id"])
    assert total("/v1/stories", {"project_id": small["id"]}) == (4, False)
    assert total("/v1/stories/search", {"q": "storage"}) == (4, False)
