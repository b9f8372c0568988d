"""Defects the gate's property test found, one focused test each."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from storyline.bootstrap import Container
from storyline.domain import events
from storyline.kernel.models import OUTBOX_SENT, OutboxMessage
from storyline.notifications import email
from storyline.notifications.models import SubscriptionEvent, WebhookDelivery
from storyline.notifications.worker import Worker
from tests.factories import Factory, TestUser


def _ok(response: Any) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


def _post(client: TestClient, path: str, user: TestUser, body: Any = None, **params: Any) -> Any:
    return _ok(client.post(path, json=body, params=params or None, headers=user.headers))


def _ids(client: TestClient, path: str, user: TestUser | None, **params: Any) -> set[int]:
    response = client.get(path, params=params, headers=user.headers if user else None)
    body = _ok(response)
    assert int(response.headers["X-Total"]) == len(body)
    return {row["id"] for row in body}


def test_making_a_story_private_does_not_tell_those_who_lose_access(
    client: TestClient, factory: Factory, container: Container
) -> None:
    admin, owner, follower = factory.admin(), factory.user(), factory.user()
    project = factory.project(admin)
    hook = {"url": "http://127.0.0.1:9/hook", "project_id": project["id"]}
    _post(client, "/v1/webhooks", admin, hook)
    story = factory.story(owner)
    factory.task(owner, story_id=story["id"], project_id=project["id"])
    _post(client, "/v1/subscriptions", follower, {"target_type": "story", "target_id": story["id"]})

    _ok(client.put(f"/v1/stories/{story['id']}", json={"private": True}, headers=owner.headers))

    with container.db.read() as session:
        told = session.scalars(
            select(SubscriptionEvent.event_type).where(
                SubscriptionEvent.subscriber_id == follower.id
            )
        ).all()
        hooks = [
            json.loads(m.payload)["event_type"]
            for m in session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "webhook"))
        ]
    # The follower and the public webhook heard of the task, not of the
    # story turning private (nor of what it then said).
    assert events.STORY_PRIVACY_CHANGED not in told
    assert events.STORY_DETAILS_CHANGED not in told
    assert events.STORY_PRIVACY_CHANGED not in hooks
    assert events.TASK_CREATED in hooks


def _board(client: TestClient, owner: TestUser, **fields: Any) -> dict[str, Any]:
    body = {"title": "Board", "lanes": [{"worklist": {"title": "Open lane"}}], **fields}
    result: dict[str, Any] = _post(client, "/v1/boards", owner, body)
    return result


def test_a_public_board_hides_private_lanes_and_due_dates(
    client: TestClient, factory: Factory
) -> None:
    owner, stranger = factory.user(), factory.user()
    hidden = _post(client, "/v1/worklists", owner, {"title": "Hidden", "private": True})
    board = _board(
        client,
        owner,
        lanes=[{"worklist": {"title": "Open lane"}}, {"list_id": hidden["id"]}],
    )
    secret = {"name": "Embargo", "date": "2030-01-01T00:00:00Z", "private": True}
    public = {"name": "Release", "date": "2030-02-01T00:00:00Z"}
    secret_date = _post(client, "/v1/due_dates", owner, {**secret, "board_id": board["id"]})
    public_date = _post(client, "/v1/due_dates", owner, {**public, "board_id": board["id"]})

    def shown(user: TestUser | None) -> tuple[set[int], set[int]]:
        headers = user.headers if user else None
        body = _ok(client.get(f"/v1/boards/{board['id']}", headers=headers))
        return {lane["list_id"] for lane in body["lanes"]}, {d["id"] for d in body["due_dates"]}

    lanes, dates = shown(owner)
    assert hidden["id"] in lanes
    assert dates == {secret_date["id"], public_date["id"]}
    for user in (stranger, None):
        lanes, dates = shown(user)
        assert hidden["id"] not in lanes
        assert len(lanes) == 1
        assert dates == {public_date["id"]}


@pytest.mark.parametrize("kind", ["story", "task"])
def test_item_filters_on_an_invisible_story_or_task_match_nothing(
    client: TestClient, factory: Factory, kind: str
) -> None:
    admin, owner, stranger = factory.admin(), factory.user(), factory.user()
    project = factory.project(admin)
    story = factory.story(owner, private=True)
    task = factory.task(owner, story_id=story["id"], project_id=project["id"])
    target = story["id"] if kind == "story" else task["id"]
    worklist = _post(client, "/v1/worklists", owner, {"title": "Public list"})
    board = _board(client, owner)
    for list_id in (worklist["id"], board["lanes"][0]["list_id"]):
        _post(client, f"/v1/worklists/{list_id}/items", owner, item_id=target, item_type=kind)

    key = f"{kind}_id"
    assert _ids(client, "/v1/worklists", owner, **{key: target}) == {
        worklist["id"],
        board["lanes"][0]["list_id"],
    }
    assert _ids(client, "/v1/boards", owner, **{key: target}) == {board["id"]}
    for user in (stranger, None):
        assert _ids(client, "/v1/worklists", user, **{key: target}) == set()
        assert _ids(client, "/v1/boards", user, **{key: target}) == set()
        assert _ids(client, "/v1/worklists", user, item_type=kind) == set()


def test_board_and_worklist_filters_do_not_reveal_private_ones(
    client: TestClient, factory: Factory
) -> None:
    owner, stranger = factory.user(), factory.user()
    hidden = _post(client, "/v1/worklists", owner, {"title": "Hidden", "private": True})
    # A public lane on a private board: the lane is public, the board is not.
    board = _board(client, owner, private=True)
    lane = board["lanes"][0]["list_id"]
    _ok(client.put(f"/v1/worklists/{lane}", json={"private": False}, headers=owner.headers))
    date = {"name": "Open", "date": "2030-01-01T00:00:00Z"}
    on_board = _post(client, "/v1/due_dates", owner, {**date, "board_id": board["id"]})
    on_list = _post(client, "/v1/due_dates", owner, {**date, "worklist_id": hidden["id"]})

    assert _ids(client, "/v1/worklists", owner, board_id=board["id"]) == {lane}
    assert _ids(client, "/v1/due_dates", owner, board_id=board["id"]) == {on_board["id"]}
    assert _ids(client, "/v1/due_dates", owner, worklist_id=hidden["id"]) == {on_list["id"]}
    for user in (stranger, None):
        assert lane in _ids(client, "/v1/worklists", user)
        assert _ids(client, "/v1/worklists", user, board_id=board["id"]) == set()
        assert _ids(client, "/v1/due_dates", user, board_id=board["id"]) == set()
        assert _ids(client, "/v1/due_dates", user, worklist_id=hidden["id"]) == set()


def test_due_date_counts_leave_out_cards_the_reader_may_not_see(
    client: TestClient, factory: Factory
) -> None:
    owner, stranger = factory.user(), factory.user()
    date = _post(client, "/v1/due_dates", owner, {"name": "D", "date": "2030-01-01T00:00:00Z"})
    worklist = _post(client, "/v1/worklists", owner, {"title": "List"})
    for private in (False, True):
        story = factory.story(owner, private=private)
        _post(
            client,
            f"/v1/worklists/{worklist['id']}/items",
            owner,
            item_id=story["id"],
            item_type="story",
            display_due_date=date["id"],
        )

    def count(user: TestUser) -> int:
        body = _ok(client.get(f"/v1/due_dates/{date['id']}", headers=user.headers))
        return int(body["count"])

    assert count(owner) == 2
    assert count(stranger) == 1


def test_feed_and_email_re_check_what_the_subscriber_may_see(
    client: TestClient, factory: Factory, container: Container
) -> None:
    owner, follower = factory.user(), factory.user()
    story = factory.story(owner)
    _post(client, "/v1/subscriptions", follower, {"target_type": "story", "target_id": story["id"]})
    _post(client, f"/v1/stories/{story['id']}/comments", owner, {"content": "Before"})
    feed = _ids(client, "/v1/subscription_events", follower)
    assert len(feed) == 1
    (row_id,) = feed

    _ok(client.put(f"/v1/stories/{story['id']}", json={"private": True}, headers=owner.headers))

    assert _ids(client, "/v1/subscription_events", follower) == set()
    gone = client.get(f"/v1/subscription_events/{row_id}", headers=follower.headers)
    assert gone.status_code == 404
    with container.db.read() as session, pytest.raises(email.Undeliverable):
        email.render_event(
            session,
            container.settings,
            key="k",
            recipient_id=follower.id,
            payload={"subscription_event_id": row_id},
        )
    # Back on the ACL, the row is there again.
    _ok(client.put(f"/v1/stories/{story['id']}/users/{follower.id}", headers=owner.headers))
    assert row_id in _ids(client, "/v1/subscription_events", follower)


def test_feed_follows_worklist_privacy_too(client: TestClient, factory: Factory) -> None:
    owner, follower = factory.user(), factory.user()
    worklist = _post(client, "/v1/worklists", owner, {"title": "List"})
    body = {"target_type": "worklist", "target_id": worklist["id"]}
    _post(client, "/v1/subscriptions", follower, body)
    story = factory.story(owner)
    _post(
        client,
        f"/v1/worklists/{worklist['id']}/items",
        owner,
        item_id=story["id"],
        item_type="story",
    )
    assert _ids(client, "/v1/subscription_events", follower)
    change = {"private": True}
    _ok(client.put(f"/v1/worklists/{worklist['id']}", json=change, headers=owner.headers))
    assert _ids(client, "/v1/subscription_events", follower) == set()


def test_a_queued_webhook_is_not_sent_once_its_story_turned_private(
    client: TestClient, factory: Factory, container: Container
) -> None:
    admin, owner = factory.admin(), factory.user()
    project = factory.project(admin)
    hook = {"url": "http://127.0.0.1:9/hook", "project_id": project["id"]}
    _post(client, "/v1/webhooks", admin, hook)
    story = factory.story(owner)
    factory.task(owner, story_id=story["id"], project_id=project["id"])
    # The story turns private before the worker gets to the queued message.
    _ok(client.put(f"/v1/stories/{story['id']}", json={"private": True}, headers=owner.headers))

    Worker(container).run_once()

    with container.db.read() as session:
        assert session.scalars(select(WebhookDelivery)).all() == []
        queued = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "webhook"))
        # Finished without a call, like a message whose hook was removed.
        assert [m.status for m in queued] == [OUTBOX_SENT]


def test_readers_answer_from_the_unit_of_work_as_a_query_would(
    factory: Factory, container: Container
) -> None:
    # The gate reads a story's privacy and an event through the unit of
    # work's own objects (no statement); what it has changed or deleted but
    # not yet flushed counts, as a query (which flushes first) would see it.
    from storyline.kernel.access import readers
    from storyline.tracker.models import Story

    author, reader = factory.user(), factory.user()
    story_id = factory.story(author)["id"]
    with container.db.write() as session:
        story = session.get(Story, story_id)
        assert story is not None
        assert readers(session, kind="story", object_id=story_id, users={reader.id}) == {reader.id}
        story.private = True
        assert readers(session, kind="story", object_id=story_id, users={reader.id}) == set()
        session.delete(story)
        assert readers(session, kind="story", object_id=story_id, users={author.id}) == set()
