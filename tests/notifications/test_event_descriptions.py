"""Every kind of event is told in words everywhere it reaches a person: the
story timeline (or a worklist's or board's history, or the dashboard for
comments), an email per change, the daily digest and a webhook's
`summary`, with the sentence of its own kind, never a generic text."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from markupsafe import escape

from storyline.app import create_app
from storyline.bootstrap import Container
from storyline.domain import events as ev
from storyline.kernel import timeline
from storyline.notifications.worker import Worker
from tests.event_samples import World, samples
from tests.factories import Factory, TestUser
from tests.notifications.conftest import Inbox, Receiver
from tests.web.tracker_browser import browser


def _ok(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def _follow(client: TestClient, user: TestUser, *targets: tuple[str, int]) -> None:
    for target_type, target_id in targets:
        _ok(
            client.post(
                "/v1/subscriptions",
                json={"target_type": target_type, "target_id": target_id},
                headers=user.headers,
            )
        )


def test_every_kind_is_told_on_pages_in_email_digests_and_webhooks(
    client: TestClient,
    factory: Factory,
    container: Container,
    inbox: tuple[Inbox, int],
    receiver: tuple[Receiver, str],
) -> None:
    mails, _ = inbox
    hooks, url = receiver
    admin = factory.admin()
    project = factory.project(admin)
    author = factory.user(name="Grace Hopper")
    named = factory.user(name="Ada Lovelace")
    reader, digester = factory.user(), factory.user()
    for user, prefs in (
        (reader, {"plugin_email_enable": True}),
        (digester, {"plugin_email_enable": True, "plugin_email_digest": True,
                    "plugin_email_digest_time": "00:00"}),
    ):  # fmt: skip
        _ok(client.post(f"/v1/users/{user.id}/preferences", json=prefs, headers=user.headers))
    story = factory.story(author, title="Frobnicator crashes")
    other = factory.story(author, title="Frobnicator leaks")
    task = factory.task(author, story_id=story["id"], project_id=project["id"], title="Fix boot")
    comment = _ok(
        client.post(
            f"/v1/stories/{story['id']}/comments", json={"content": "Seen."}, headers=author.headers
        )
    )
    worklist = _ok(
        client.post(
            "/v1/worklists",
            json={"title": "Triage", "project_id": project["id"]},
            headers=author.headers,
        )
    )
    board = _ok(
        client.post(
            "/v1/boards", json={"title": "Release", "project_id": project["id"]},
            headers=author.headers,
        )
    )  # fmt: skip
    for user in (reader, digester):
        _follow(
            client, user, ("story", story["id"]), ("worklist", worklist["id"]),
            ("board", board["id"]),
        )  # fmt: skip
    hook = _ok(
        client.post("/v1/webhooks", json={"url": url, "project_id": project["id"]},
                    headers=admin.headers)
    )  # fmt: skip
    hooks.secret = hook["secret"]

    world = World(
        story_id=story["id"], story_title=story["title"],
        other_story_id=other["id"], other_story_title=other["title"],
        task_id=task["id"], task_title=task["title"], project_id=project["id"],
        comment_id=comment["comment"]["id"],
        worklist_id=worklist["id"], worklist_title=worklist["title"],
        board_id=board["id"], board_title=board["title"],
        user_id=named.id, user_name="Ada Lovelace",
    )  # fmt: skip
    every = samples(world)
    with container.db.write() as session:
        for sample in every:
            timeline.record(
                session,
                event_type=sample.event_type,
                author_id=author.id,
                story_id=sample.story_id,
                worklist_id=sample.worklist_id,
                board_id=sample.board_id,
                comment_id=sample.comment_id,
                info=sample.info,
            )
    Worker(container).run_once()

    emails = [m.get_body(("plain",)).get_content() for m in mails.to(reader.email)]  # type: ignore[union-attr]
    [digest] = [m.get_body(("plain",)).get_content() for m in mails.to(digester.email)]  # type: ignore[union-attr]
    summaries = [(c["body"]["event_type"], c["body"]["summary"]) for c in hooks.calls]
    app = create_app(container)
    signed_in = browser(app, container, author)
    anyone = browser(app, container, None)
    try:
        story_page = anyone.get(f"/stories/{story['id']}").text.split('id="timeline-heading"')[1]
        dashboard = signed_in.get("/").text.split('id="activity-heading"')[1]
        histories = {
            ev.WORKLIST: anyone.get(f"/worklists/{worklist['id']}").text,
            ev.BOARD: anyone.get(f"/boards/{board['id']}").text,
        }
    finally:
        signed_in.client.__exit__(None, None, None)
        anyone.client.__exit__(None, None, None)

    missing = []
    for sample in every:
        name = sample.event_type
        sentence = sample.sentence(world)
        assert sample.says in sentence
        line = f"Grace Hopper {sentence}"
        kind = ev.REGISTRY[name]
        if kind.subject == ev.STORY:
            page = story_page if name in ev.STORY_TIMELINE else dashboard
        else:
            page = histories[kind.subject].split('id="history-heading"')[1]
        places = {
            "page": str(escape(sentence)) in page,
            "email": any(f"{line}." in body for body in emails),
            "digest": f"{line}." in digest,
            "webhook": any(t == name and s.endswith(f": {line}") for t, s in summaries),
        }
        missing += [f"{name} in the {place}" for place, found in places.items() if not found]
    assert missing == []
    # The subject of a webhook's summary is what an email is threaded under.
    assert any(s.startswith(f"Frobnicator crashes (story #{story['id']}): ") for _, s in summaries)
    assert any(s.startswith(f"Triage (worklist #{worklist['id']}): ") for _, s in summaries)
