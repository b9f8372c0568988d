"""`storyline admin` against a real SQLite file, the way an operator runs it."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from storyline.app import create_app
from storyline.bootstrap import build
from storyline.cli.main import app
from storyline.config import Settings
from storyline.errors import InvalidInput, NotFound


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        "STORYLINE_DATABASE_URL": f"sqlite:///{tmp_path / 'admin.db'}",
        "STORYLINE_DATA_DIR": str(tmp_path),
        # Wide enough that table cells are not cut.
        "COLUMNS": "200",
    }


def _run(env: dict[str, str], *args: str) -> str:
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def _api(env: dict[str, str], tmp_path: Path) -> TestClient:
    settings = Settings(database_url=env["STORYLINE_DATABASE_URL"], data_dir=tmp_path)
    return TestClient(create_app(build(settings)))


def test_create_token_prints_a_working_secret_last(env: dict[str, str], tmp_path: Path) -> None:
    _run(env, "admin", "create-user", "--name", "Ops Bot", "--email", "bot@example.org")
    output = _run(env, "admin", "create-token", "--email", "BOT@example.org", "--name", "deploy")
    secret = output.strip().splitlines()[-1]
    assert secret.startswith("sl_")
    assert "write token" in output
    assert "never expires" in output
    with _api(env, tmp_path) as client:
        me = client.get("/v1/users/self", headers={"Authorization": f"Bearer {secret}"})
        assert me.status_code == 200
        assert me.json()["email"] == "bot@example.org"
        tokens = client.get(
            f"/v1/users/{me.json()['id']}/tokens", headers={"Authorization": f"Bearer {secret}"}
        ).json()
        assert [t["name"] for t in tokens] == ["deploy"]
        assert tokens[0]["expires_at"] is None


def test_read_only_expiring_token(env: dict[str, str], tmp_path: Path) -> None:
    _run(env, "admin", "create-user", "--name", "Reader", "--email", "reader@example.org")
    output = _run(
        env,
        "admin",
        "create-token",
        "--email",
        "reader@example.org",
        "--read-only",
        "--expires-in-days",
        "7",
    )
    assert "read token" in output
    assert "expires 20" in output
    secret = output.strip().splitlines()[-1]
    headers = {"Authorization": f"Bearer {secret}"}
    with _api(env, tmp_path) as client:
        me = client.get("/v1/users/self", headers=headers).json()
        token = client.get(f"/v1/users/{me['id']}/tokens", headers=headers).json()[0]
        assert token["scope"] == "read"
        assert 7 * 86400 - 5 <= token["expires_in"] <= 7 * 86400 + 5
        refused = client.put(f"/v1/users/{me['id']}", json={"full_name": "X"}, headers=headers)
        assert refused.status_code == 403


def test_create_token_errors(env: dict[str, str]) -> None:
    runner = CliRunner()
    unknown = runner.invoke(app, ["admin", "create-token", "--email", "nobody@x.org"], env=env)
    assert isinstance(unknown.exception, NotFound)
    _run(env, "admin", "create-user", "--name", "A", "--email", "a@example.org")
    zero = runner.invoke(
        app,
        ["admin", "create-token", "--email", "a@example.org", "--expires-in-days", "0"],
        env=env,
    )
    assert zero.exit_code == 2
    assert "expires-in-days" in zero.output
    huge = runner.invoke(
        app,
        ["admin", "create-token", "--email", "a@example.org", "--expires-in-days", "99999"],
        env=env,
    )
    assert isinstance(huge.exception, InvalidInput)


def test_revoke_token(env: dict[str, str], tmp_path: Path) -> None:
    output = _run(env, "admin", "create-user", "--name", "A", "--email", "a@example.org", "--token")
    secret = output.strip().splitlines()[-1]
    headers = {"Authorization": f"Bearer {secret}"}
    # The server keeps running while the command revokes the token: it had
    # resolved the token, and forgets it (kernel/credentials.py).
    with _api(env, tmp_path) as client:
        me = client.get("/v1/users/self", headers=headers).json()
        token_id = client.get(f"/v1/users/{me['id']}/tokens", headers=headers).json()[0]["id"]
        revoked = _run(env, "admin", "revoke-token", "--id", str(token_id))
        assert f"Revoked token {token_id}" in revoked
        refused = client.get("/v1/users/self", headers=headers)
        assert refused.status_code == 401
        assert "revoked" in refused.json()["message"]
    again = CliRunner().invoke(app, ["admin", "revoke-token", "--id", str(token_id)], env=env)
    assert isinstance(again.exception, NotFound)


def test_list_users_table(env: dict[str, str]) -> None:
    _run(
        env,
        "admin",
        "create-user",
        "--name",
        "Ada Admin",
        "--email",
        "ada@example.org",
        "--superuser",
        "--token",
    )
    _run(env, "admin", "create-user", "--name", "Bob Builder", "--email", "bob@example.org")
    _run(env, "admin", "create-token", "--email", "ada@example.org")
    output = _run(env, "admin", "list-users")
    assert "Users (2 of 2)" in output
    lines = {line.split("│")[2].strip(): line for line in output.splitlines() if "│" in line}
    assert "ada@example.org" in lines["Ada Admin"]
    assert "yes" in lines["Ada Admin"]
    assert lines["Ada Admin"].split("│")[6].strip() == "2"
    assert lines["Bob Builder"].split("│")[6].strip() == "0"
    filtered = _run(env, "admin", "list-users", "--name", "bob")
    assert "Bob Builder" in filtered
    assert "Ada Admin" not in filtered
    by_email = _run(env, "admin", "list-users", "--email", "ada@")
    assert "Ada Admin" in by_email
    paged = _run(env, "admin", "list-users", "--limit", "1", "--offset", "1")
    assert "Users (1 of 2)" in paged
    assert "Bob Builder" in paged


def test_list_users_on_an_empty_database(env: dict[str, str]) -> None:
    assert "Users (0 of 0)" in _run(env, "admin", "list-users")
