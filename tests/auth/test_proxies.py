"""Client addresses behind proxies: forwarded headers count only from the
operator's trusted proxies, for login throttling, the audit log and HTTPS."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from storyline.accounts.models import AuditEvent
from storyline.bootstrap import Container
from tests.auth.conftest import Browser

MakeClient = Callable[..., TestClient]
PROXY = "10.0.0.2"
STRANGER = "203.0.113.5"


def _browser_from(make_client: MakeClient, peer: str) -> Browser:
    app = make_client(
        trusted_proxies=(ipaddress.ip_network("10.0.0.0/8"),), login_attempts_limit=1
    ).app
    return Browser(TestClient(app, client=(peer, 40000)))


def _fail(browser: Browser, account: str, forwarded_for: str) -> int:
    response = browser.post(
        "/login",
        {"email": account, "password": "wrong"},
        headers={"X-Forwarded-For": forwarded_for},
    )
    return response.status_code


def _audited_addresses(container: Container) -> list[str | None]:
    with container.db.read() as session:
        return list(
            session.scalars(
                select(AuditEvent.ip)
                .where(AuditEvent.event_type == "login_failed")
                .order_by(AuditEvent.id)
            )
        )


def test_a_stranger_cannot_choose_its_address_with_x_forwarded_for(
    make_client: MakeClient, container: Container
) -> None:
    browser = _browser_from(make_client, STRANGER)
    # The address may fail four times the account limit (here 1), whatever
    # address each attempt claims to come from.
    for n in range(4):
        assert _fail(browser, f"nobody{n}@example.org", f"198.51.100.{n}") == 401
    assert _fail(browser, "nobody9@example.org", "198.51.100.99") == 429
    assert set(_audited_addresses(container)) == {STRANGER}


def test_a_trusted_proxy_names_the_client(make_client: MakeClient, container: Container) -> None:
    browser = _browser_from(make_client, PROXY)
    # Throttled per client behind the proxy, not all of them as one address.
    for n in range(6):
        # The leftmost hop is the client's own claim; the proxy appended the rest.
        chain = f"1.1.1.1, 198.51.100.{n}"
        assert _fail(browser, f"nobody{n}@example.org", chain) == 401
    assert _audited_addresses(container) == [f"198.51.100.{n}" for n in range(6)]


def test_https_only_when_a_trusted_proxy_says_so(make_client: MakeClient) -> None:
    https = {"X-Forwarded-For": "198.51.100.1", "X-Forwarded-Proto": "https"}
    trusted = _browser_from(make_client, PROXY).client.get("/login", headers=https)
    assert "Secure" in trusted.headers["set-cookie"]
    assert trusted.headers["strict-transport-security"].startswith("max-age=")
    stranger = _browser_from(make_client, STRANGER).client.get("/login", headers=https)
    assert "Secure" not in stranger.headers["set-cookie"]
    assert "strict-transport-security" not in stranger.headers
