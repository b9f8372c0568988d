"""`storyline cycles` against a real SQLite file, the way a release manager runs it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from storyline.cli.main import app


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "STORYLINE_DATABASE_URL": f"sqlite:///{tmp_path / 'cycles.db'}",
        "STORYLINE_DATA_DIR": str(tmp_path),
        "COLUMNS": "200",
    }


def _run(env: dict[str, str], *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == code, (result.output, result.exception)
    return result.output


def test_open_add_join_and_print_the_schedule(env: dict[str, str]) -> None:
    _run(env, "admin", "create-user", "--name", "Rel", "--email", "rel@example.org", "--superuser")
    _run(env, "admin", "create-user", "--name", "Dev", "--email", "dev@example.org")
    opened = _run(
        env, "cycles", "open", "juno", "--starts", "2014-04-17", "--releases", "2014-10-16",
        "--as", "rel@example.org",
    )  # fmt: skip
    assert "Opened cycle juno" in opened
    added = _run(
        env, "cycles", "add", "juno", "milestone", "--number", "1", "--on", "2014-06-12",
        "--as", "rel@example.org",
    )  # fmt: skip
    assert "Added juno-1" in added
    _run(
        env, "cycles", "add", "juno", "event", "--name", "Summit", "--on", "2014-05-12",
        "--until", "2014-05-16", "--as", "rel@example.org",
    )  # fmt: skip
    # Only release managers change the schedule; the services say so.
    refused = CliRunner().invoke(
        app,
        [
            "cycles",
            "add",
            "juno",
            "feature_freeze",
            "--on",
            "2014-09-04",
            "--as",
            "dev@example.org",
        ],
        env=env,
    )
    assert refused.exit_code != 0
    assert "managers" in str(refused.exception)
    listing = _run(env, "cycles", "list")
    assert "juno" in listing
    assert "2014-10-16" in listing
    table = _run(env, "cycles", "schedule", "juno", "--today", "2014-06-12")
    assert "juno-1 (2014-06-12)" in table
    assert "▶" in table
    data = json.loads(_run(env, "cycles", "schedule", "juno", "--json", "--today", "2014-06-12"))
    assert data["cycle"] == "juno"
    weeks = data["weeks"]
    # Monday 2014-04-14 (the week of the start) to Monday 2014-10-13 (the release's).
    assert (weeks[0]["monday"], weeks[-1]["monday"]) == ("2014-04-14", "2014-10-13")
    assert [w["monday"] for w in weeks if w["current"]] == ["2014-06-09"]
    current = next(w for w in weeks if w["current"])
    assert [e["name"] for e in current["entries"]] == ["juno-1"]
    summit = [w["monday"] for w in weeks if any(e["name"] == "Summit" for e in w["entries"])]
    assert summit == ["2014-05-12"]


def test_join_a_project_on_its_branch(env: dict[str, str], tmp_path: Path) -> None:
    from storyline.bootstrap import build
    from storyline.config import Settings
    from storyline.tracker.models import Branch, Milestone, Project

    _run(env, "admin", "create-user", "--name", "Rel", "--email", "rel@example.org", "--superuser")
    _run(
        env, "cycles", "open", "juno", "--starts", "2014-04-17", "--releases", "2014-10-16",
        "--as", "rel@example.org",
    )  # fmt: skip
    _run(
        env, "cycles", "add", "juno", "milestone", "--number", "1", "--on", "2014-06-12",
        "--as", "rel@example.org",
    )  # fmt: skip
    container = build(Settings(database_url=env["STORYLINE_DATABASE_URL"], data_dir=tmp_path))
    with container.db.write() as session:
        project = Project(name="openstack/nova")
        session.add(project)
        session.flush()
        session.add(Branch(name="master", project_id=project.id))
    joined = _run(env, "cycles", "join", "juno", "openstack/nova", "--as", "rel@example.org")
    assert "takes part in juno on master" in joined
    with container.db.read() as session:
        assert session.query(Milestone.name).all() == [("juno-1",)]
    container.db.dispose()
    missing = CliRunner().invoke(
        app, ["cycles", "join", "juno", "openstack/nova", "--branch", "stable/x",
              "--as", "rel@example.org"], env=env,
    )  # fmt: skip
    assert missing.exit_code != 0
    assert "no branch" in str(missing.exception)
