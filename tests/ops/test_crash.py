"""The backup drill, with a crash: a real server and a real worker under
write load, backups taken meanwhile, then both killed with SIGKILL.

The restored backup (the last of two) must hold every write acknowledged
before it started, pass `db check` and serve requests; the original database must
come through the crash consistent, with every acknowledged write, and serve
again. The writers are a few threads on 127.0.0.1, each bounded by a count
of writes, that stop at their first failure (the kill).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from storyline.accounts import users
from storyline.bench.server import start_server, stop_process
from storyline.bootstrap import build
from storyline.cli.main import app
from storyline.config import Settings
from storyline.kernel import migrate
from storyline.kernel.db import make_engine
from storyline.tracker.models import Story, Task
from tests.ops.conftest import NewDatabase

WRITERS = 4
# Iterations per writer (three writes each): the upper bound of the load,
# far above what the drill takes (the kill ends the writers). At 150 the
# writers of a fast server finished all 1,800 writes while the backups ran,
# leaving none to be written after the last one.
ROUNDS = 2000
# Backups taken under load; the last one is restored.
BACKUPS = 2
# How many writes to see acknowledged before each backup, and after the
# last one before the kill.
BEFORE_BACKUP = 30
AFTER_BACKUP = 30
# Safety nets only: the drill normally ends long before.
PHASE_SECONDS = 120.0
STATUSES = ("todo", "inprogress", "review", "merged", "invalid")


@dataclass
class Acknowledged:
    """Writes the server answered 200 to, in the order they were answered."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    stories: dict[int, str] = field(default_factory=dict)
    tasks: dict[int, int] = field(default_factory=dict)
    statuses: dict[int, str] = field(default_factory=dict)
    count: int = 0
    # Answers other than 200 before the kill: each one fails the test.
    failures: list[str] = field(default_factory=list)

    def copy(self) -> Acknowledged:
        with self.lock:
            return Acknowledged(
                stories=dict(self.stories),
                tasks=dict(self.tasks),
                statuses=dict(self.statuses),
                count=self.count,
            )


def _environment(settings: Settings) -> dict[str, str]:
    return {
        "STORYLINE_DATABASE_URL": settings.database_url,
        "STORYLINE_DATA_DIR": str(settings.data_dir),
        # The worker runs as its own process, to be killed as well.
        "STORYLINE_WORKER_IN_PROCESS": "false",
    }


def _token(settings: Settings) -> str:
    container = build(settings)
    try:
        migrate.upgrade(container.db.engine)
        with container.db.write() as session:
            _, secret = users.admin_create_user(
                session,
                full_name="Writer",
                email="writer@example.org",
                superuser=True,
                with_token=True,
            )
    finally:
        container.db.dispose()
    assert secret is not None
    return secret


def _kill(process: subprocess.Popen[bytes]) -> None:
    # The whole process group: uvicorn's supervisor and its worker processes.
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(30)


def _writer(
    number: int, base: str, token: str, project: int, done: Acknowledged, stop: threading.Event
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        for n in range(ROUNDS):
            if stop.is_set():
                return
            title = f"Written by {number} in round {n}"
            status = STATUSES[(number + n) % len(STATUSES)]
            try:
                story = client.post("/v1/stories", json={"title": title})
                if story.status_code != 200:
                    done.failures.append(f"story: {story.status_code} {story.text}")
                    return
                story_id = story.json()["id"]
                with done.lock:
                    done.stories[story_id] = title
                    done.count += 1
                task = client.post(
                    "/v1/tasks", json={"title": title, "story_id": story_id, "project_id": project}
                )
                if task.status_code != 200:
                    done.failures.append(f"task: {task.status_code} {task.text}")
                    return
                task_id = task.json()["id"]
                with done.lock:
                    done.tasks[task_id] = story_id
                    done.count += 1
                changed = client.put(f"/v1/tasks/{task_id}", json={"status": status})
                if changed.status_code != 200:
                    done.failures.append(f"status: {changed.status_code} {changed.text}")
                    return
                with done.lock:
                    done.statuses[task_id] = status
                    done.count += 1
            except httpx.TransportError:
                # The server is gone: this writer's work is over.
                return


def _wait_for(condition: object, what: str) -> None:
    deadline = time.monotonic() + PHASE_SECONDS
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def _run_cli(settings: Settings, *args: str) -> str:
    result = CliRunner().invoke(app, list(args), env={**_environment(settings), "COLUMNS": "200"})
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


@contextmanager
def _engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings)
    try:
        yield engine
    finally:
        engine.dispose()


def _holds(settings: Settings, done: Acknowledged) -> None:
    """Every acknowledged write is in the database, and every story's task
    counts agree with its tasks."""
    with _engine(settings) as engine, engine.connect() as connection:
        titles = dict(connection.execute(select(Story.id, Story.title)).all())
        tasks = {
            task_id: (story_id, status)
            for task_id, story_id, status in connection.execute(
                select(Task.id, Task.story_id, Task.status)
            )
        }
        for story_id, title in done.stories.items():
            assert titles.get(story_id) == title, f"story {story_id} lost"
        for task_id, story_id in done.tasks.items():
            assert tasks.get(task_id, (None,))[0] == story_id, f"task {task_id} lost"
        for task_id, status in done.statuses.items():
            assert tasks[task_id][1] == status, f"the status of task {task_id} was lost"
        counted = {
            (story_id, status): n
            for story_id, status, n in connection.execute(
                select(Task.story_id, Task.status, func.count()).group_by(
                    Task.story_id, Task.status
                )
            )
        }
        for story in connection.execute(select(Story)).all():
            for status in STATUSES:
                stored = getattr(story, f"{status}_count")
                assert stored == counted.get((story.id, status), 0), (story.id, status)
        if engine.dialect.name == "sqlite":
            assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").all() == []


def _serves(settings: Settings, tmp_path: Path, done: Acknowledged, token: str) -> None:
    server, base = start_server(
        settings.database_url,
        workers=1,
        log_path=tmp_path / f"serve-{os.getpid()}.log",
        environment=_environment(settings),
    )
    try:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
            story_id, title = next(iter(done.stories.items()))
            story = client.get(f"/v1/stories/{story_id}")
            assert story.status_code == 200, story.text
            assert story.json()["title"] == title
            found = client.get("/v1/stories/search", params={"q": "Written"})
            assert found.status_code == 200, found.text
            assert found.json()
            new = client.post("/v1/stories", json={"title": "After the crash"})
            assert new.status_code == 200, new.text
    finally:
        stop_process(server)


@pytest.mark.slow
def test_backup_under_load_then_sigkill(new_database: NewDatabase, tmp_path: Path) -> None:
    original = new_database("original")
    token = _token(original)
    environment = {**os.environ, **_environment(original)}
    server, base = start_server(
        original.database_url,
        workers=2,
        log_path=tmp_path / "server.log",
        environment=_environment(original),
    )
    worker = subprocess.Popen(
        [sys.executable, "-m", "storyline", "worker"],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    project = httpx.post(
        f"{base}/v1/projects",
        json={"name": "ops/crash"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert project.status_code == 200, project.text
    done = Acknowledged()
    stop = threading.Event()
    writers = [
        threading.Thread(
            target=_writer, args=(n, base, token, project.json()["id"], done, stop), daemon=True
        )
        for n in range(WRITERS)
    ]
    file = tmp_path / "backups" / "storyline.backup"
    try:
        for thread in writers:
            thread.start()
        before = Acknowledged()
        # Two backups to the same file, as a nightly job makes them: the
        # second replaces the first, and is the one restored.
        for _ in range(BACKUPS):
            wanted = before.count + BEFORE_BACKUP
            _wait_for(
                lambda wanted=wanted: (
                    done.count >= wanted or not any(t.is_alive() for t in writers)
                ),
                "writes before the backup",
            )
            assert done.failures == []
            before = done.copy()
            # The real command, in a process of its own, while the writers write.
            backup = subprocess.run(
                [sys.executable, "-m", "storyline", "db", "backup", str(file)],
                env=environment,
                capture_output=True,
                text=True,
                timeout=PHASE_SECONDS,
                check=False,
            )
            assert backup.returncode == 0, backup.stderr
        _wait_for(
            lambda: (
                done.count >= before.count + AFTER_BACKUP or not any(t.is_alive() for t in writers)
            ),
            "writes after the backup",
        )
        _kill(server)
        _kill(worker)
    finally:
        stop.set()
        for thread in writers:
            thread.join(60)
        stop_process(server)
        stop_process(worker)
    assert not any(thread.is_alive() for thread in writers)
    assert done.failures == []
    after = done.copy()
    assert before.count >= BACKUPS * BEFORE_BACKUP
    assert after.count > before.count

    restored = new_database("restored")
    assert "Restored" in _run_cli(restored, "db", "restore", str(file))
    _holds(restored, before)
    _run_cli(restored, "db", "check")
    _serves(restored, tmp_path, before, token)

    # The original came through the SIGKILL with every acknowledged write.
    _holds(original, after)
    _run_cli(original, "db", "check")
    _serves(original, tmp_path, after, token)
