from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from fastapi.testclient import TestClient

from storyline.bootstrap import Container
from storyline.notifications.worker import Worker
from tests.factories import Factory, TestUser
from tests.notifications.conftest import Inbox


def _prefs(client: TestClient, user: TestUser, **values: object) -> None:
    response = client.post(f"/v1/users/{user.id}/preferences", json=values, headers=user.headers)
    assert response.status_code == 200, response.text


def _subscribe(client: TestClient, user: TestUser, target_type: str, target_id: int) -> int:
    response = client.post(
        "/v1/subscriptions",
        json={"target_type": target_type, "target_id": target_id},
        headers=user.headers,
    )
    assert response.status_code == 200, response.text
    return int(response.json()["id"])


def test_email_per_change_threaded_with_unsubscribe(
    client: TestClient, factory: Factory, container: Container, inbox: tuple[Inbox, int]
) -> None:
    mails, _ = inbox
    admin = factory.admin()
    project = factory.project(admin)
    author, reader, quiet, legacy = factory.user(), factory.user(), factory.user(), factory.user()
    # A JSON boolean (which StoryBoard ignored) and StoryBoard's string both count.
    _prefs(client, reader, plugin_email_enable=True)
    _prefs(client, legacy, plugin_email_enable="true")
    _prefs(client, author, plugin_email_enable=True)
    story = factory.story(author, title="Frobnicator crashes")
    _subscribe(client, reader, "story", story["id"])
    _subscribe(client, quiet, "story", story["id"])
    _subscribe(client, legacy, "project", project["id"])
    task = factory.task(author, story_id=story["id"], project_id=project["id"])
    client.put(f"/v1/tasks/{task['id']}", json={"status": "inprogress"}, headers=author.headers)
    comment = client.post(
        f"/v1/stories/{story['id']}/comments",
        json={"content": "Reproduced on <b>main</b>."},
        headers=reader.headers,
    )
    assert comment.status_code == 200, comment.text

    assert Worker(container).run_once() >= 3
    # The author of a change is never told about it; quiet readers get no email.
    assert mails.to(quiet.email) == []
    reader_mails = mails.to(reader.email)
    assert len(reader_mails) == 2  # task created, status changed (the comment is their own)
    author_mails = mails.to(author.email)
    assert len(author_mails) == 1  # only the reader's comment
    assert (
        len(mails.to(legacy.email)) == 3
    )  # project subscription: both task events and the comment
    roots = {m["In-Reply-To"] for m in mails.messages}
    assert len(roots) == 1
    assert roots == {m["References"] for m in mails.messages}
    assert len({m["Message-ID"] for m in mails.messages}) == len(mails.messages)
    first = reader_mails[0]
    assert first["Subject"] == f"[Storyline] Frobnicator crashes (story #{story['id']})"
    assert first["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert first.get_content_type() == "multipart/alternative"
    text = first.get_body(preferencelist=("plain",))
    html = first.get_body(preferencelist=("html",))
    assert text is not None
    assert html is not None
    assert f"https://tracker.example.org/stories/{story['id']}" in text.get_content()
    assert "<a href=" in html.get_content()
    comment_mail = author_mails[0]
    assert "Reproduced on <b>main</b>." in comment_mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "&lt;b&gt;main&lt;/b&gt;" in comment_mail.get_body(("html",)).get_content()  # type: ignore[union-attr]

    # The feed: the reader's own comment is not in it.
    feed = client.get("/v1/subscription_events", headers=reader.headers).json()
    assert [e["event_type"] for e in feed] == ["task_created", "task_status_changed"]
    assert client.get("/v1/subscription_events", headers=quiet.headers).json() != []
    other = client.get(
        "/v1/subscription_events", params={"subscriber_id": reader.id}, headers=quiet.headers
    )
    assert other.status_code == 403

    # One-click unsubscribe: POST to the header's link, no sign-in needed.
    link = first["List-Unsubscribe"].strip("<>")
    assert client.get(urlsplit(link).path).status_code == 200  # a page, nothing changes yet
    assert client.get("/v1/subscriptions", headers=reader.headers).json() != []
    done = client.post(urlsplit(link).path, content=b"List-Unsubscribe=One-Click")
    assert done.status_code == 200
    assert done.json() == {"target_type": "story", "target_id": story["id"]}
    assert client.get("/v1/subscriptions", headers=reader.headers).json() == []
    client.put(f"/v1/tasks/{task['id']}", json={"status": "merged"}, headers=author.headers)
    Worker(container).run_once()
    assert len(mails.to(reader.email)) == 2
    # Redelivery keeps the idempotency key and Message-ID: the outbox decides them.
    keys = [m["X-Storyline-Idempotency-Key"] for m in mails.messages]
    assert len(keys) == len(set(keys))


def test_private_story_notifies_only_those_who_may_see_it(
    client: TestClient, factory: Factory, container: Container, inbox: tuple[Inbox, int]
) -> None:
    mails, _ = inbox
    admin = factory.admin()
    project = factory.project(admin)
    author, insider, outsider = factory.user(), factory.user(), factory.user()
    for user in (insider, outsider):
        _prefs(client, user, plugin_email_enable=True)
        _subscribe(client, user, "project", project["id"])
    story = factory.story(author, private=True, users=[insider.id])
    factory.task(author, story_id=story["id"], project_id=project["id"])
    Worker(container).run_once()
    assert len(mails.to(insider.email)) == 1
    assert mails.to(outsider.email) == []
    assert client.get("/v1/subscription_events", headers=outsider.headers).json() == []
    # Nor can the outsider subscribe to it directly: it doesn't exist for them.
    response = client.post(
        "/v1/subscriptions",
        json={"target_type": "story", "target_id": story["id"]},
        headers=outsider.headers,
    )
    assert response.status_code == 400


def test_daily_digest_gathers_changes_once_a_day(
    client: TestClient, factory: Factory, container: Container, inbox: tuple[Inbox, int]
) -> None:
    mails, _ = inbox
    admin = factory.admin()
    project = factory.project(admin)
    author, reader = factory.user(), factory.user()
    _prefs(
        client,
        reader,
        plugin_email_enable=True,
        plugin_email_digest=True,
        plugin_email_digest_time="08:30",
    )
    _subscribe(client, reader, "project", project["id"])
    first = factory.story(author, title="First story")
    second = factory.story(author, title="Second story")
    factory.task(author, story_id=first["id"], project_id=project["id"])
    factory.task(author, story_id=second["id"], project_id=project["id"])
    task = factory.task(author, story_id=second["id"], project_id=project["id"])
    client.put(f"/v1/tasks/{task['id']}", json={"priority": "high"}, headers=author.headers)

    morning = dt.datetime(2030, 5, 6, 7, 0, tzinfo=dt.UTC)
    clock = [morning]
    worker = Worker(container, clock=lambda: clock[0])
    worker.run_once()
    assert mails.to(reader.email) == []  # no email per change, and not digest time yet
    clock[0] = morning.replace(hour=9)
    worker.run_once()
    digests = mails.to(reader.email)
    assert len(digests) == 1
    digest = digests[0]
    assert digest["Subject"] == "[Storyline] Daily digest for 2030-05-06: 4 changes"
    body = digest.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert f"First story (story #{first['id']})" in body
    assert f"Second story (story #{second['id']})" in body
    assert "changed the priority of" in body
    assert "from medium to high" in body
    assert digest["List-Unsubscribe"]
    # Later the same day: nothing new is sent, even with new changes.
    factory.task(author, story_id=first["id"], project_id=project["id"])
    clock[0] = morning.replace(hour=20)
    worker.run_once()
    assert len(mails.to(reader.email)) == 1
    # Next morning: the new change only.
    clock[0] = morning + dt.timedelta(days=1, hours=2)
    worker.run_once()
    assert len(mails.to(reader.email)) == 2
    assert "1 change" in mails.to(reader.email)[1]["Subject"]
    # The digest's link turns email off.
    link = mails.to(reader.email)[1]["List-Unsubscribe"].strip("<>")
    assert client.post(urlsplit(link).path).status_code == 200
    prefs = client.get(f"/v1/users/{reader.id}/preferences", headers=reader.headers).json()
    assert prefs["plugin_email_enable"] is False
