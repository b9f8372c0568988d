"""`storyline serve` with several processes on SQLite still delivers: the
outbox worker runs once, in the supervising process, and sends what any
server process committed."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from storyline.bench import running_server
from storyline.config import Settings
from tests.factories import Factory
from tests.notifications.conftest import Inbox
from tests.notifications.test_email import _prefs, _subscribe


@pytest.mark.slow
def test_two_server_processes_deliver_each_email_once(
    client: TestClient,
    factory: Factory,
    settings: Settings,
    inbox: tuple[Inbox, int],
    tmp_path: Path,
) -> None:
    if not settings.database_url.startswith("sqlite"):
        pytest.skip("the embedded setup: SQLite with the worker inside `storyline serve`")
    mails, port = inbox
    admin = factory.admin()
    project = factory.project(admin)
    author, reader = factory.user(), factory.user()
    _prefs(client, reader, plugin_email_enable=True)
    _subscribe(client, reader, "project", project["id"])
    environment = {
        "STORYLINE_DATA_DIR": str(settings.data_dir),
        "STORYLINE_SMTP_HOST": "127.0.0.1",
        "STORYLINE_SMTP_PORT": str(port),
        "STORYLINE_SMTP_FROM": "Storyline <storyline@tracker.example.org>",
        "STORYLINE_PUBLIC_URL": "https://tracker.example.org",
    }
    with (
        running_server(
            settings.database_url,
            workers=2,
            log_path=tmp_path / "server.log",
            environment=environment,
        ) as base,
        httpx.Client(base_url=base, headers=author.headers, timeout=30) as http,
    ):
        titles = [f"Delivered {n}" for n in range(6)]
        for title in titles:
            story = http.post("/v1/stories", json={"title": title})
            assert story.status_code == 200, story.text
            task = http.post(
                "/v1/tasks",
                json={"title": "Fix", "story_id": story.json()["id"], "project_id": project["id"]},
            )
            assert task.status_code == 200, task.text
        deadline = time.monotonic() + 30
        while len(mails.to(reader.email)) < len(titles) and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.0)  # a second sender would have sent its copies by now
    subjects = sorted(str(m["Subject"]) for m in mails.to(reader.email))
    assert len(subjects) == len(titles)
    assert all(any(title in subject for subject in subjects) for title in titles)
