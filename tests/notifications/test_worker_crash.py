"""SIGKILL the worker in the middle of a batch, restart it: every message is
delivered, and a message delivered twice carries the same idempotency key."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from storyline.bootstrap import Container
from storyline.kernel.models import OutboxMessage
from tests.factories import Factory
from tests.notifications.conftest import Inbox

BIN = Path(sys.executable).parent


@pytest.mark.slow
def test_killed_worker_loses_nothing_and_keeps_keys(
    client: TestClient, factory: Factory, container: Container, inbox: tuple[Inbox, int]
) -> None:
    mails, port = inbox
    admin = factory.admin()
    project = factory.project(admin)
    readers = [factory.user() for _ in range(24)]
    for reader in readers:
        client.post(
            f"/v1/users/{reader.id}/preferences",
            json={"plugin_email_enable": True},
            headers=reader.headers,
        )
        client.post(
            "/v1/subscriptions",
            json={"target_type": "project", "target_id": project["id"]},
            headers=reader.headers,
        )
    story = factory.story(admin)
    factory.task(admin, story_id=story["id"], project_id=project["id"])
    with container.db.read() as session:
        expected = set(session.scalars(select(OutboxMessage.idempotency_key)))
    assert len(expected) == 24

    settings = container.settings
    env = {
        **os.environ,
        "STORYLINE_DATABASE_URL": settings.database_url,
        "STORYLINE_DATA_DIR": str(settings.data_dir),
        "STORYLINE_SMTP_HOST": "127.0.0.1",
        "STORYLINE_SMTP_PORT": str(port),
        "STORYLINE_OUTBOX_LEASE_SECONDS": "2",
    }
    # Slow delivery, so that the kill lands in the middle of the first batch.
    mails.delay = 0.2
    worker = subprocess.Popen(
        [str(BIN / "storyline"), "worker", "--batch", "20"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 180
        while len(mails.messages) < 5 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(mails.messages) >= 5
    finally:
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=30)
    killed_after = len(mails.messages)
    assert killed_after < 24
    time.sleep(2.5)  # the dead worker's lease runs out
    mails.delay = 0.0
    again = subprocess.run(
        [str(BIN / "storyline"), "worker", "--once"],
        env=env,
        capture_output=True,
        timeout=300,
        check=False,
    )
    assert again.returncode == 0, again.stderr.decode()

    by_key: dict[str, set[str]] = defaultdict(set)
    for message in mails.messages:
        by_key[message["X-Storyline-Idempotency-Key"]].add(message["Message-ID"])
    assert set(by_key) == expected  # every message arrived
    # Duplicates (at least once) reuse the key and the Message-ID.
    assert all(len(ids) == 1 for ids in by_key.values())
    with container.db.read() as session:
        statuses = set(session.scalars(select(OutboxMessage.status)))
    assert statuses == {"sent"}
