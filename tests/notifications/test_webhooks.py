from __future__ import annotations

import datetime as dt

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from storyline.bootstrap import Container
from storyline.notifications.webhook_sender import WebhookSender
from storyline.notifications.worker import Worker
from tests.factories import Factory
from tests.notifications.conftest import Receiver, free_port


def test_webhook_signed_retried_with_backoff_and_logged(
    client: TestClient, factory: Factory, container: Container, receiver: tuple[Receiver, str]
) -> None:
    state, url = receiver
    admin = factory.admin()
    group = client.post("/v1/project_groups", json={"name": "grp"}, headers=admin.headers).json()
    project = factory.project(admin)
    client.put(f"/v1/project_groups/{group['id']}/projects/{project['id']}", headers=admin.headers)
    # Webhooks are an administrator's to add; whoever added one owns it.
    owner, other = factory.user(superuser=True, name="Hook owner"), factory.user()
    created = client.post(
        "/v1/webhooks",
        json={
            "url": url,
            "project_group_id": group["id"],
            "event_types": ["task_created", "task_status_changed"],
        },
        headers=owner.headers,
    )
    assert created.status_code == 200, created.text
    hook = created.json()
    state.secret = hook["secret"]
    state.failures_left = 2
    story = factory.story(admin)
    task = factory.task(admin, story_id=story["id"], project_id=project["id"])

    start = dt.datetime(2030, 1, 1, 12, 0, tzinfo=dt.UTC)
    clock = [start]
    worker = Worker(container, clock=lambda: clock[0])
    worker.run_once()
    assert [c["answered"] for c in state.calls] == [503]
    worker.run_once()  # not due yet: backoff
    assert len(state.calls) == 1
    clock[0] = start + dt.timedelta(seconds=10)
    worker.run_once()
    assert len(state.calls) == 2
    clock[0] = start + dt.timedelta(seconds=29)
    worker.run_once()
    assert len(state.calls) == 2  # the second delay is twice the first
    clock[0] = start + dt.timedelta(seconds=30)
    worker.run_once()
    assert [c["answered"] for c in state.calls] == [503, 503, 200]
    assert all(c["signature_ok"] for c in state.calls)
    deliveries = {c["headers"]["X-Storyline-Delivery"] for c in state.calls}
    assert len(deliveries) == 1  # one delivery id over all attempts
    body = state.calls[-1]["body"]
    assert body["event_type"] == "task_created"
    assert body["story_id"] == story["id"]
    assert body["event_info"]["task_id"] == task["id"]
    assert state.calls[-1]["headers"]["X-Storyline-Event"] == "task_created"

    log = client.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=owner.headers)
    assert log.status_code == 200
    assert [d["status_code"] for d in log.json()] == [200, 503, 503]
    assert [d["attempt"] for d in log.json()] == [3, 2, 1]
    # Only the owner (and admins) see the hook and its log.
    assert client.get(f"/v1/webhooks/{hook['id']}", headers=other.headers).status_code == 404
    assert (
        client.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=other.headers).status_code
        == 404
    )
    # Events the hook didn't ask for are not sent; a private story never is.
    client.put(f"/v1/stories/{story['id']}", json={"title": "Renamed"}, headers=admin.headers)
    secret = factory.story(admin, private=True)
    factory.task(admin, story_id=secret["id"], project_id=project["id"])
    worker.run_once()
    assert len(state.calls) == 3

    # The test button queues a ping.
    ping = client.post(f"/v1/webhooks/{hook['id']}/test", headers=owner.headers)
    assert ping.status_code == 200, ping.text
    worker.run_once()
    assert state.calls[-1]["body"]["event_type"] == "ping"
    assert state.calls[-1]["signature_ok"]


def test_failures_are_visible_to_admins_and_retried(
    client: TestClient, factory: Factory, container: Container, monkeypatch: object
) -> None:
    admin = factory.admin()
    user = factory.user()
    project = factory.project(admin)
    dead_url = f"http://127.0.0.1:{free_port()}/nobody-listens"
    hook = client.post(
        "/v1/webhooks", json={"url": dead_url, "project_id": project["id"]}, headers=admin.headers
    ).json()
    client.post(f"/v1/webhooks/{hook['id']}/test", headers=admin.headers)
    start = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    clock = [start]
    worker = Worker(container, clock=lambda: clock[0])
    for step in range(6):
        clock[0] = start + dt.timedelta(hours=step)
        worker.run_once()
    failed = client.get("/v1/outbox", params={"status": "failed"}, headers=admin.headers)
    assert failed.status_code == 200
    rows = failed.json()
    assert len(rows) == 1
    assert rows[0]["attempts"] == 4
    assert "ConnectError" in rows[0]["last_error"]
    assert client.get("/v1/outbox", headers=user.headers).status_code == 403

    from storyline.cli.main import app

    env = {"STORYLINE_DATABASE_URL": container.settings.database_url}
    runner = CliRunner()
    listed = runner.invoke(app, ["outbox", "failures"], env=env)
    assert listed.exit_code == 0, listed.output
    assert "1 failed message." in listed.output
    retried = runner.invoke(app, ["outbox", "retry"], env=env)
    assert retried.exit_code == 0
    assert "Queued 1 message again." in retried.output
    assert client.get("/v1/outbox", params={"status": "failed"}, headers=admin.headers).json() == []
    again = client.post(f"/v1/outbox/{rows[0]['id']}/retry", headers=admin.headers)
    assert again.status_code == 200


def test_private_addresses_are_refused_unless_allowed(
    client: TestClient, factory: Factory, container: Container, receiver: tuple[Receiver, str]
) -> None:
    import dataclasses

    state, url = receiver
    admin = factory.admin()
    project = factory.project(admin)
    hook = client.post(
        "/v1/webhooks", json={"url": url, "project_id": project["id"]}, headers=admin.headers
    ).json()
    client.post(f"/v1/webhooks/{hook['id']}/test", headers=admin.headers)
    settings = dataclasses.replace(container.settings, webhook_allow_private=False)
    strict = dataclasses.replace(container, settings=settings, webhooks=WebhookSender(settings))
    Worker(strict).run_once()
    assert state.calls == []
    rows = client.get("/v1/outbox", params={"status": "failed"}, headers=admin.headers).json()
    assert "private or loopback" in rows[0]["last_error"]


def test_only_administrators_add_webhooks_and_each_project_holds_a_few(
    client: TestClient, factory: Factory, container: Container
) -> None:
    admin, user = factory.admin(), factory.user()
    project, other = factory.project(admin), factory.project(admin)
    body = {"url": "http://127.0.0.1:9/hook", "project_id": project["id"]}
    refused = client.post("/v1/webhooks", json=body, headers=user.headers)
    assert refused.status_code == 403, refused.text
    assert client.get("/v1/webhooks", headers=admin.headers).json() == []
    limit = container.settings.webhooks_per_scope
    made = [client.post("/v1/webhooks", json=body, headers=admin.headers) for _ in range(limit)]
    assert [r.status_code for r in made] == [200] * limit
    full = client.post("/v1/webhooks", json=body, headers=admin.headers)
    assert full.status_code == 409
    assert full.json()["code"] == "conflict"
    assert f"already has {limit} webhooks" in full.json()["message"]
    # Moving one elsewhere is adding one there: room is checked, and the
    # hook being moved doesn't count against its own project.
    hook_id = made[0].json()["id"]
    moved = client.put(
        f"/v1/webhooks/{hook_id}", json={"project_id": other["id"]}, headers=admin.headers
    )
    assert moved.status_code == 200, moved.text
    assert client.post("/v1/webhooks", json=body, headers=admin.headers).status_code == 200


def test_calls_to_one_host_are_spread_out_without_counting_as_failures(
    client: TestClient, factory: Factory, container: Container, receiver: tuple[Receiver, str]
) -> None:
    import dataclasses

    state, url = receiver
    admin = factory.admin()
    project = factory.project(admin)
    hook = client.post(
        "/v1/webhooks", json={"url": url, "project_id": project["id"]}, headers=admin.headers
    ).json()
    state.secret = hook["secret"]
    for _ in range(5):
        assert (
            client.post(f"/v1/webhooks/{hook['id']}/test", headers=admin.headers).status_code == 200
        )
    settings = dataclasses.replace(container.settings, webhook_calls_per_minute=2)
    runtime = dataclasses.replace(container, settings=settings)
    start = dt.datetime(2030, 1, 1, 12, 0, tzinfo=dt.UTC)
    clock = [start]
    worker = Worker(runtime, clock=lambda: clock[0])
    worker.run_once()
    assert len(state.calls) == 2
    clock[0] = start + dt.timedelta(seconds=59)
    worker.run_once()
    assert len(state.calls) == 2
    clock[0] = start + dt.timedelta(seconds=60)
    worker.run_once()
    assert len(state.calls) == 4
    clock[0] = start + dt.timedelta(seconds=120)
    worker.run_once()
    assert len(state.calls) == 5
    # Waiting for a turn is not a failed attempt: each was sent on its first.
    log = client.get(f"/v1/webhooks/{hook['id']}/deliveries", headers=admin.headers).json()
    assert sorted(d["attempt"] for d in log) == [1] * 5
