"""The administrator's sign-in commands, run through the real CLI."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from storyline.bootstrap import Container
from storyline.cli.main import app
from tests.auth.conftest import Browser


@pytest.fixture
def cli_env(container: Container) -> dict[str, str]:
    settings = container.settings
    url = settings.database_url.replace("postgresql+psycopg://", "postgresql://")
    return {"STORYLINE_DATABASE_URL": url, "STORYLINE_DATA_DIR": str(settings.data_dir)}


def test_first_admin_with_a_password_then_a_reset(
    cli_env: dict[str, str], client: TestClient
) -> None:
    runner = CliRunner()
    created = runner.invoke(
        app,
        [
            "admin",
            "create-user",
            "--name",
            "Ada",
            "--email",
            "ada@example.org",
            "--superuser",
            "--password-stdin",
        ],
        input="first password!\n",
        env=cli_env,
    )
    assert created.exit_code == 0, created.output
    browser = Browser(client)
    assert browser.login_local("ada@example.org", "first password!").status_code == 303
    assert browser.get("/admin/audit").status_code == 200
    reset = runner.invoke(
        app,
        ["admin", "set-password", "--email", "ada@example.org", "--password-stdin"],
        input="second password!\n",
        env=cli_env,
    )
    assert reset.exit_code == 0, reset.output
    # The reset ended the session; only the new password works.
    assert browser.get("/account").status_code == 303
    assert browser.login_local("ada@example.org", "first password!").status_code == 401
    assert browser.login_local("ada@example.org", "second password!").status_code == 303
    short = runner.invoke(
        app,
        ["admin", "set-password", "--email", "ada@example.org", "--password-stdin"],
        input="short\n",
        env=cli_env,
    )
    assert short.exit_code != 0
    audit = runner.invoke(app, ["admin", "audit", "--json"], env=cli_env)
    assert audit.exit_code == 0
    assert '"event_type": "password_set"' in audit.output


def test_invitation_link(cli_env: dict[str, str]) -> None:
    runner = CliRunner()
    made = runner.invoke(
        app,
        ["admin", "invite", "--email", "new@example.org", "--url", "https://t.example"],
        env=cli_env,
    )
    assert made.exit_code == 0, made.output
    link = made.output.strip().splitlines()[-1]
    assert link.startswith("https://t.example/login?invite=slinv_")
