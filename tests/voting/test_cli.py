"""`storyline elections create|list|open|close|results|electorate`, the way
an official runs them, against the test database."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from storyline.cli.main import app
from storyline.config import Settings
from tests.factories import Factory, TestUser


@pytest.fixture
def env(settings: Settings) -> dict[str, str]:
    return {
        "STORYLINE_DATABASE_URL": settings.database_url,
        "STORYLINE_DATA_DIR": str(settings.data_dir),
        "COLUMNS": "200",
    }


def _run(env: dict[str, str], *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == code, (result.output, result.exception)
    # Errors are told, never shown as a traceback.
    assert "Traceback" not in result.output
    return result.output


def _spec(tmp_path: Path, voters: list[TestUser], *, seats: int = 1) -> Path:
    opens = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    closes = opens + dt.timedelta(days=7)
    ids = ", ".join(str(v.id) for v in voters)
    path = tmp_path / "tc.toml"
    path.write_text(
        f"""
title = "Technical Committee"
seats = {seats}
opens_at = {opens:%Y-%m-%dT%H:%M:%SZ}
closes_at = {closes:%Y-%m-%dT%H:%M:%SZ}

[[candidates]]
name = "Alice"
[[candidates]]
name = "Bob"
[[candidates]]
name = "Carol"

[electorate]
type = "users"
user_ids = [{ids}]
""",
        encoding="utf-8",
    )
    return path


def _created_id(output: str) -> int:
    # "Created election 7: Technical Committee (draft)."
    return int(output.split(":")[0].split()[-1])


def test_an_official_runs_an_election_from_the_command_line(
    env: dict[str, str], factory: Factory, client: TestClient, tmp_path: Path
) -> None:
    admin = factory.admin()
    voters = [factory.user() for _ in range(3)]
    created = _run(env, "elections", "create", str(_spec(tmp_path, voters)), "--as", admin.email)
    assert "(draft)" in created
    eid = _created_id(created)
    listing = _run(env, "elections", "list")
    assert "Technical Committee" in listing
    assert "draft" in listing

    # While a draft, the electorate is who it would be now.
    draft = _run(env, "elections", "electorate", str(eid), "--as", admin.email)
    assert "3 voters (a draft" in draft
    # Results wait for the close.
    early = CliRunner().invoke(app, ["elections", "results", str(eid)], env=env)
    assert early.exit_code == 2
    assert "results_not_published" in early.output

    opened = _run(env, "elections", "open", str(eid), "--as", admin.email)
    assert "for 3 voters" in opened
    rows = list(
        csv.reader(io.StringIO(_run(env, "elections", "electorate", str(eid), "--csv",
                                    "--as", admin.email)))
    )  # fmt: skip
    assert rows[0] == ["user_id", "full_name", "email"]
    assert sorted(int(r[0]) for r in rows[1:]) == sorted(v.id for v in voters)
    assert {r[2] for r in rows[1:]} == {v.email for v in voters}

    ids = {c["name"]: c["id"] for c in client.get(f"/v1/elections/{eid}").json()["candidates"]}
    for voter, ranking in zip(
        voters,
        [[["Alice"], ["Bob"]], [["Alice"], ["Carol"]], [["Bob"], ["Alice"]]],
        strict=True,
    ):
        body = {"ranking": [[ids[name] for name in tier] for tier in ranking]}
        cast = client.post(f"/v1/elections/{eid}/ballots", json=body, headers=voter.headers)
        assert cast.status_code == 201, cast.text
    assert "3 of 3" in _run(env, "elections", "list", "--state", "open")

    closed = _run(env, "elections", "close", str(eid), "--as", admin.email)
    assert "3 ballots counted" in closed
    document = json.loads(_run(env, "elections", "results", str(eid), "--json"))
    assert document == client.get(f"/v1/elections/{eid}/results").json()
    assert document["winners"] == ["Alice"]
    text = _run(env, "elections", "results", str(eid))
    assert "3 ballots." in text
    assert "1. Alice" in text
    assert "Winners (1 seat): Alice" in text
    assert "Pairwise matrix (row over column):" in text


def test_errors_are_told_without_a_traceback(
    env: dict[str, str], factory: Factory, tmp_path: Path
) -> None:
    admin, member = factory.admin(), factory.user()
    spec = _spec(tmp_path, [member])

    def refused(*args: str) -> str:
        result = CliRunner().invoke(app, list(args), env=env)
        assert result.exit_code == 2, (result.output, result.exception)
        assert result.exception is None or isinstance(result.exception, SystemExit)
        return result.output

    # Only administrators create elections.
    assert "administrators" in refused("elections", "create", str(spec), "--as", member.email)
    assert "No user has the email address" in refused(
        "elections", "create", str(spec), "--as", "nobody@example.org"
    )
    broken = tmp_path / "broken.toml"
    broken.write_text("title = \n", encoding="utf-8")
    assert "is not valid TOML" in refused("elections", "create", str(broken), "--as", admin.email)
    incomplete = tmp_path / "incomplete.json"
    incomplete.write_text(json.dumps({"title": "No candidates"}), encoding="utf-8")
    assert "candidates" in refused("elections", "create", str(incomplete), "--as", admin.email)
    assert "election 999 not found" in refused("elections", "open", "999", "--as", admin.email)

    eid = _created_id(_run(env, "elections", "create", str(spec), "--as", admin.email))
    # A member is no official: they can neither see the draft nor open it.
    assert "not_found" in refused("elections", "open", str(eid), "--as", member.email)
    assert "voting_not_open" in refused("elections", "close", str(eid), "--as", admin.email)
