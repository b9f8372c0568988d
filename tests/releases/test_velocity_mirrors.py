"""The clones of remote repositories: made and refreshed by the worker's job
from a real `git daemon`, counted by velocity, and refused for transports
other than http, https and git."""

from __future__ import annotations

import datetime as dt
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from storyline.bootstrap import Container
from storyline.cli.main import app as cli_app
from storyline.config import Settings
from storyline.kernel.schema import utcnow
from storyline.notifications.worker import Worker
from storyline.releases import jobs
from storyline.releases.models import ProjectRepository, ScheduleEntry, SeriesMilestone
from storyline.releases.velocity import mirrors
from tests.releases import test_velocity_server as server
from tests.releases.gitrepo import Repo
from tests.releases.test_velocity_server import World, _row, _velocity

# Project A's history (tmp_path/a) and the cycles around it.
world = server.world


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[str]:
    """`git daemon` serving every repository under tmp_path on 127.0.0.1;
    answers the URL prefix."""
    port = _free_port()
    process = subprocess.Popen(
        [
            "git",
            "daemon",
            "--export-all",
            f"--base-path={tmp_path}",
            "--listen=127.0.0.1",
            f"--port={port}",
            "--reuseaddr",
            "--informative-errors",
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("git daemon did not start") from None
                time.sleep(0.05)
        yield f"git://127.0.0.1:{port}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _set(client: TestClient, world: World, project: int, location: str) -> None:
    saved = client.put(
        f"/v1/project_repositories/{project}",
        json={"location": location},
        headers=world.admin.headers,
    )
    assert saved.status_code == 200, saved.text


def _repository(client: TestClient, world: World, project: int) -> dict[str, str | None]:
    got = client.get(f"/v1/project_repositories/{project}", headers=world.admin.headers)
    assert got.status_code == 200, got.text
    body: dict[str, str | None] = got.json()
    return body


def _refs(mirror: Path) -> set[str]:
    done = subprocess.run(
        ["git", "-C", str(mirror), "for-each-ref", "--format=%(refname)"],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(done.stdout.split())


def test_the_worker_clones_and_velocity_counts_in_the_clone(
    container: Container, client: TestClient, world: World, daemon: str
) -> None:
    _set(client, world, world.project_a, f"{daemon}/a")
    waiting = _row(_velocity(client, world, project_id=world.project_a), world.project_a)
    assert waiting["commits"] is None
    assert waiting["commits_note"] == "the repository has not been cloned yet"

    Worker(container).run_once()
    # The clone is made beside the pass, which does not wait for it.
    assert jobs.wait_for_mirrors(timeout=60)

    mirror = mirrors.mirror_path(container.settings.data_dir, world.project_a)
    assert mirror == container.settings.data_dir / "repositories" / f"{world.project_a}.git"
    # Branches and tags, as in the origin; a bare repository.
    assert {"refs/heads/master", "refs/heads/topic", "refs/tags/2013.1.g1"} <= _refs(mirror)
    assert (mirror / "HEAD").is_file()
    assert not (mirror / ".git").exists()
    stored = _repository(client, world, world.project_a)
    assert stored["fetched_at"] is not None
    assert stored["last_error"] is None
    row = _row(_velocity(client, world, project_id=world.project_a), world.project_a)
    # The same counts as from the local checkout (test_velocity_server).
    assert row["commits"]["milestones"] == [
        {"milestone": 1, "baseline": 6, "current": 3},
        {"milestone": 2, "baseline": 5, "current": 2, "expected": 2.5, "score": 80.0},
    ]
    assert row["commits_note"] is None
    assert row["commits_fetched_at"] == stored["fetched_at"]
    page = client.get("/cycles/icehouse/velocity", params={"project_id": world.project_a})
    assert "Repository fetched" in page.text


def test_new_commits_appear_after_the_refresh_interval(
    container: Container, client: TestClient, world: World, daemon: str, tmp_path: Path
) -> None:
    _set(client, world, world.project_a, f"{daemon}/a")
    # Icehouse-2 is tagged in the tracker before the tag exists upstream.
    with container.db.write() as session:
        entry = session.scalars(
            select(ScheduleEntry).where(
                ScheduleEntry.cycle_id == world.cycles["icehouse"], ScheduleEntry.number == 2
            )
        ).one()
        series_milestone = session.scalars(
            select(SeriesMilestone).where(
                SeriesMilestone.entry_id == entry.id,
                SeriesMilestone.milestone_id == world.milestones[("icehouse", 2, world.project_a)],
            )
        ).one()
        series_milestone.tag = "2014.1.b2"
    start = utcnow()
    assert mirrors.sync(container.db, container.settings, start) == [(world.project_a, None)]
    before = _row(_velocity(client, world, project_id=world.project_a), world.project_a)
    assert before["commits"] is None
    assert "2014.1.b2" in before["commits_note"]

    origin = Repo(tmp_path / "a")
    origin.day = "2014-02-10"
    origin.commit("i2 late", 4)
    origin.tag("2014.1.b2")
    origin.git("branch", "-D", "topic")

    # Within the interval nothing is fetched.
    assert mirrors.sync(container.db, container.settings, start + dt.timedelta(minutes=9)) == []
    mirror = mirrors.mirror_path(container.settings.data_dir, world.project_a)
    assert "refs/tags/2014.1.b2" not in _refs(mirror)

    later = start + mirrors.REFRESH_INTERVAL + dt.timedelta(seconds=1)
    assert mirrors.sync(container.db, container.settings, later) == [(world.project_a, None)]
    refs = _refs(mirror)
    assert "refs/tags/2014.1.b2" in refs
    # Pruned: a branch deleted upstream is gone.
    assert "refs/heads/topic" not in refs
    after = _row(_velocity(client, world, project_id=world.project_a), world.project_a)
    # From icehouse-1's tag: 2 + 7 commits already there, 4 new.
    assert [m["current"] for m in after["commits"]["milestones"]] == [3, 13]
    fetched = dt.datetime.fromisoformat(str(after["commits_fetched_at"]).replace("Z", "+00:00"))
    assert abs(fetched - later) < dt.timedelta(seconds=1)


def test_a_failure_is_recorded_and_the_others_carry_on(
    container: Container, client: TestClient, world: World, daemon: str
) -> None:
    # Project A (the lower id, tried first) on a port nobody listens on,
    # with credentials in its URL; project B served.
    closed = f"http://robot:s3cret@127.0.0.1:{_free_port()}/a"
    _set(client, world, world.project_a, closed)
    _set(client, world, world.project_b, f"{daemon}/a")

    outcomes = mirrors.sync(container.db, container.settings, utcnow())

    assert [project for project, _ in outcomes] == [world.project_a, world.project_b]
    a = _repository(client, world, world.project_a)
    assert a["fetched_at"] is not None
    assert a["last_error"] is not None
    assert "127.0.0.1" in a["last_error"]
    assert "s3cret" not in a["last_error"]
    assert len(a["last_error"]) <= mirrors.MAX_ERROR_LENGTH
    assert not mirrors.mirror_path(container.settings.data_dir, world.project_a).exists()
    # No half-made clone is left beside the mirrors either.
    assert [p.name for p in (container.settings.data_dir / "repositories").iterdir()] == [
        f"{world.project_b}.git"
    ]
    assert _repository(client, world, world.project_b)["last_error"] is None

    # Velocity says why to administrators, and only that it failed to others.
    admin = _row(
        _velocity(client, world, world.admin.headers, project_id=world.project_a),
        world.project_a,
    )
    assert admin["commits"] is None
    assert admin["commits_note"] == f"cloning failed: {a['last_error']}"
    anonymous = _row(_velocity(client, world, project_id=world.project_a), world.project_a)
    assert anonymous["commits_note"] == "cloning failed"
    b = _row(_velocity(client, world, project_id=world.project_b), world.project_b)
    assert b["commits"] is not None

    # Changing the location starts over: the next pass clones the new one.
    _set(client, world, world.project_a, f"{daemon}/a")
    assert _repository(client, world, world.project_a)["fetched_at"] is None
    assert mirrors.sync(container.db, container.settings, utcnow()) == [(world.project_a, None)]


@pytest.mark.parametrize("location", ["file:///srv/git/nova", "ext::sh -c touch% /tmp/x"])
def test_other_transports_are_refused_when_set(
    client: TestClient, world: World, location: str
) -> None:
    response = client.put(
        f"/v1/project_repositories/{world.project_a}",
        json={"location": location},
        headers=world.admin.headers,
    )
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "invalid_input"


def test_git_refuses_other_transports_whatever_is_stored(
    container: Container, world: World, tmp_path: Path
) -> None:
    # Rows written past the API's check (an older version, a restore):
    # git itself must refuse them.
    marker = tmp_path / "ran"
    locations = {
        world.project_a: f"file://{tmp_path / 'a'}",
        # Shaped to pass for a URL; git's ext transport would run it.
        world.project_b: f"ext::sh -c touch% {marker} #://x",
    }
    with container.db.write() as session:
        for project, location in locations.items():
            repository = session.get(ProjectRepository, project)
            if repository is None:
                session.add(ProjectRepository(project_id=project, location=location))
            else:
                repository.location = location

    outcomes = dict(mirrors.sync(container.db, container.settings, utcnow()))

    assert outcomes[world.project_a] is not None
    assert "'file' not allowed" in outcomes[world.project_a]
    assert outcomes[world.project_b] is not None
    assert "'ext' not allowed" in outcomes[world.project_b]
    assert not marker.exists()
    for project in locations:
        assert not mirrors.mirror_path(container.settings.data_dir, project).exists()


def test_git_runs_outside_any_transaction(
    container: Container,
    client: TestClient,
    world: World,
    daemon: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _set(client, world, world.project_a, f"{daemon}/a")
    checked_out: list[int] = []
    run = mirrors._git

    def spy(*args: str) -> None:
        checked_out.append(container.db.engine.pool.checkedout())
        run(*args)

    monkeypatch.setattr(mirrors, "_git", spy)
    assert mirrors.sync(container.db, container.settings, utcnow()) == [(world.project_a, None)]
    assert checked_out
    assert set(checked_out) == {0}


def test_the_command_line_fetches_now(
    container: Container, client: TestClient, world: World, daemon: str, settings: Settings
) -> None:
    _set(client, world, world.project_a, f"{daemon}/a")
    _set(client, world, world.project_b, f"{daemon}/missing")
    # Fetched a minute ago: the worker would wait, the command does not.
    mirrors.sync(container.db, container.settings, utcnow())
    env = {
        "STORYLINE_DATABASE_URL": settings.database_url,
        "STORYLINE_DATA_DIR": str(settings.data_dir),
        "COLUMNS": "200",
    }
    result = CliRunner().invoke(cli_app, ["velocity", "fetch"], env=env)
    assert result.exit_code == 1, (result.output, result.exception)
    assert f"project {world.project_a}: fetched" in result.output
    assert f"project {world.project_b}: " in result.output
    assert f"project {world.project_b}: fetched" not in result.output


def test_the_worker_delivers_while_a_clone_is_still_running(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    started, release = threading.Event(), threading.Event()
    passes: list[dt.datetime] = []

    def slow_sync(db: object, settings: object, now: dt.datetime) -> list[object]:
        passes.append(now)
        started.set()
        release.wait(30)
        return []

    monkeypatch.setattr(mirrors, "sync", slow_sync)
    worker = Worker(container)
    try:
        worker.run_once()
        assert started.wait(10)
        # A second pass comes back while the first sync still waits on git,
        # and starts no second sync beside it.
        worker.run_once()
        assert not jobs.wait_for_mirrors(timeout=0.1)
        assert len(passes) == 1
    finally:
        release.set()
    assert jobs.wait_for_mirrors(timeout=10)
