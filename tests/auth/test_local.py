"""Local accounts, web sessions, CSRF, personal access tokens and the audit log."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from storyline.accounts import local_accounts
from storyline.accounts.models import AccessToken, AuditEvent, LocalCredential, User, WebSession
from storyline.bootstrap import Container
from tests.auth.conftest import Browser
from tests.factories import Factory, TestUser

BrowserFor = Callable[..., Browser]
PASSWORD = "a long enough password"


def _with_password(container: Container, user: TestUser, password: str = PASSWORD) -> None:
    with container.db.write() as session:
        local_accounts.set_password(session, user_id=user.id, password=password)


def test_password_sign_in_sets_a_hardened_session_cookie(
    client: TestClient, factory: Factory, container: Container
) -> None:
    user = factory.user()
    _with_password(container, user)
    with container.db.read() as session:
        stored = session.get(LocalCredential, user.id)
        assert stored is not None
        assert stored.password_hash.startswith("$argon2id$")
        assert PASSWORD not in stored.password_hash
    browser = Browser(client)
    response = browser.login_local(user.email.upper(), PASSWORD)
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "storyline_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Max-Age=" in cookie
    assert user.email in browser.get("/account").text


def test_secure_cookies_over_https_or_when_configured(
    browser_for: BrowserFor, factory: Factory, container: Container
) -> None:
    user = factory.user()
    _with_password(container, user)
    browser = browser_for(secure_cookies=True)
    assert "Secure" in browser.login_local(user.email, PASSWORD).headers["set-cookie"]
    https = Browser(TestClient(browser.client.app, base_url="https://testserver"))
    assert "Secure" in https.login_local(user.email, PASSWORD).headers["set-cookie"]


def test_wrong_password_is_refused_logged_and_throttled(
    client: TestClient, factory: Factory, container: Container
) -> None:
    user = factory.user()
    _with_password(container, user)
    browser = Browser(client)
    for _ in range(5):
        wrong = browser.login_local(user.email, "not the password")
        assert wrong.status_code == 401
        assert "Wrong email address or password." in wrong.text
        assert "storyline_session=" not in wrong.headers.get("set-cookie", "")
    # The sixth try is refused before the password is looked at, right one included.
    throttled = browser.login_local(user.email, PASSWORD)
    assert throttled.status_code == 429
    assert "Too many failed sign-in attempts" in throttled.text
    unknown = browser.login_local("nobody@example.org", "whatever")
    assert unknown.status_code == 401
    with container.db.read() as session:
        kinds = session.scalars(select(AuditEvent.event_type).order_by(AuditEvent.id)).all()
    assert kinds.count("login_failed") == 6
    assert "login_throttled" in kinds


def test_local_accounts_turned_off(
    browser_for: BrowserFor, factory: Factory, container: Container
) -> None:
    user = factory.user()
    _with_password(container, user)
    browser = browser_for(local_accounts=False)
    page = browser.get("/login")
    assert 'name="password"' not in page.text
    response = browser.login_local(user.email, PASSWORD)
    assert response.status_code == 403
    assert "Local accounts are turned off" in response.text
    assert "storyline_session=" not in response.headers.get("set-cookie", "")
    signup = browser.get("/signup")
    assert signup.status_code == 403


def test_sign_up_is_off_by_default_and_can_be_turned_on(
    client: TestClient, browser_for: BrowserFor, container: Container
) -> None:
    closed = Browser(client)
    assert closed.get("/signup").status_code == 403
    form = {"full_name": "New Person", "email": "new@example.org", "password": PASSWORD}
    refused = closed.post("/signup", form)
    assert refused.status_code == 403
    with container.db.read() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 0
    open_ = browser_for(local_signup=True)
    short = open_.post("/signup", {**form, "password": "short"})
    assert short.status_code == 400
    assert "at least 10 characters" in short.text
    created = open_.post("/signup", form)
    assert created.status_code == 303
    assert "new@example.org" in open_.get("/account").text
    domain = browser_for(local_signup=True, signup_email_domains=("example.com",))
    other = domain.post("/signup", {**form, "email": "x@example.org"})
    assert other.status_code == 403


def test_sign_out_ends_the_session_on_the_server(
    client: TestClient, factory: Factory, container: Container
) -> None:
    user = factory.user()
    _with_password(container, user)
    browser = Browser(client)
    browser.login_local(user.email, PASSWORD)
    stolen = client.cookies.get("storyline_session")
    assert stolen
    assert browser.post("/logout", page="/account").status_code == 303
    # A copy of the cookie is worth nothing after sign-out.
    replay = TestClient(client.app, cookies={"storyline_session": stolen})
    assert replay.get("/account", follow_redirects=False).status_code == 303


def test_sign_out_everywhere(
    browser_for: BrowserFor, factory: Factory, container: Container
) -> None:
    user = factory.user()
    _with_password(container, user)
    laptop, phone = browser_for(), browser_for()
    laptop.login_local(user.email, PASSWORD)
    phone.login_local(user.email, PASSWORD)
    assert 'id="session-count">2<' in laptop.get("/account").text
    assert laptop.post("/logout/all", page="/account").status_code == 303
    assert phone.get("/account").status_code == 303
    assert laptop.get("/account").status_code == 303
    with container.db.read() as session:
        assert session.scalar(select(func.count()).select_from(WebSession)) == 0


def test_expired_session_is_refused(
    client: TestClient, factory: Factory, container: Container
) -> None:
    user = factory.user()
    _with_password(container, user)
    browser = Browser(client)
    browser.login_local(user.email, PASSWORD)
    with container.db.write() as session:
        session.execute(
            update(WebSession).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
    response = browser.get("/account")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=")


def test_csrf_refuses_forms_without_a_valid_token_or_from_another_origin(
    client: TestClient, factory: Factory, container: Container
) -> None:
    user = factory.user()
    _with_password(container, user)
    browser = Browser(client)
    browser.login_local(user.email, PASSWORD)
    missing = client.post("/logout/all", data={}, follow_redirects=False)
    wrong = client.post("/logout/all", data={"csrf_token": "0" * 64}, follow_redirects=False)
    token = browser.token("/account")
    foreign = client.post(
        "/logout/all",
        data={"csrf_token": token},
        headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )
    cross_site = client.post(
        "/settings/tokens",
        data={"csrf_token": token, "name": "x"},
        headers={"Sec-Fetch-Site": "cross-site"},
        follow_redirects=False,
    )
    for response in (missing, wrong, foreign, cross_site):
        assert response.status_code == 403
        assert "csrf_failed" in response.text
    # Still signed in, and no token was made.
    assert client.get("/account", follow_redirects=False).status_code == 200
    with container.db.read() as session:
        names = session.scalars(select(AccessToken.name)).all()
    assert "x" not in names
    # A token for another browser's cookie does not work here either.
    other = TestClient(client.app)
    assert other.post("/login", data={"csrf_token": token}).status_code == 403
    # The same token from our own origin does.
    same = client.post(
        "/logout/all",
        data={"csrf_token": token},
        headers={"Origin": "http://testserver"},
        follow_redirects=False,
    )
    assert same.status_code == 303


def test_next_is_only_ever_a_local_path(
    client: TestClient, factory: Factory, container: Container
) -> None:
    user = factory.user()
    _with_password(container, user)
    browser = Browser(client)
    response = browser.post(
        "/login", {"email": user.email, "password": PASSWORD, "next": "//evil.example/x"}
    )
    assert response.headers["location"] == "/account"
    browser.post("/logout", page="/account")
    ok = browser.post(
        "/login", {"email": user.email, "password": PASSWORD, "next": "/settings/tokens"}
    )
    assert ok.headers["location"] == "/settings/tokens"


def test_tokens_page_creates_read_only_tokens_that_cannot_write(
    client: TestClient, factory: Factory, container: Container
) -> None:
    admin = factory.admin()
    _with_password(container, admin)
    browser = Browser(client)
    browser.login_local(admin.email, PASSWORD)
    page = browser.post(
        "/settings/tokens",
        {"name": "reader", "scope": "read", "expires_in_days": "30"},
        page="/settings/tokens",
    )
    assert page.status_code == 200
    secret = page.text.split('id="new-token">', 1)[1].split("<", 1)[0]
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/v1/users/self", headers=headers).status_code == 200
    write = client.post("/v1/projects", json={"name": "ro/write"}, headers=headers)
    assert write.status_code == 403
    assert "read-only" in write.json()["message"]
    with container.db.read() as session:
        token = session.scalars(select(AccessToken).where(AccessToken.name == "reader")).one()
        assert secret not in token.token_hash
        assert token.scope == "read"
        assert token.expires_at is not None
    # Last used is shown on the page.
    listing = browser.get("/settings/tokens").text
    row = listing.split(f'data-token-id="{token.id}"', 1)[1].split("</tr>", 1)[0]
    assert "never" not in row.split('class="last-used">', 1)[1].split("<", 1)[0]
    # Revoked from the page: refused from then on.
    revoked = browser.post(f"/settings/tokens/{token.id}/revoke", page="/settings/tokens")
    assert revoked.status_code == 303
    refused = client.get("/v1/users/self", headers=headers)
    assert refused.status_code == 401
    with container.db.read() as session:
        kinds = set(session.scalars(select(AuditEvent.event_type)).all())
    assert {"token_created", "token_used", "token_revoked"} <= kinds


def test_expired_token_is_refused(
    client: TestClient, factory: Factory, container: Container
) -> None:
    user = factory.user()
    with container.db.write() as session:
        session.execute(
            update(AccessToken)
            .where(AccessToken.user_id == user.id)
            .values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
        )
    response = client.get("/v1/users/self", headers=user.headers)
    assert response.status_code == 401
    assert "expired" in response.json()["message"]


def test_audit_log_is_for_administrators(
    client: TestClient, browser_for: BrowserFor, factory: Factory, container: Container
) -> None:
    admin, user = factory.admin(), factory.user()
    _with_password(container, admin)
    _with_password(container, user)
    ordinary = browser_for()
    ordinary.login_local(user.email, PASSWORD)
    assert ordinary.get("/admin/audit").status_code == 403
    browser = Browser(client)
    browser.login_local(admin.email, "wrong password!")
    browser.login_local(admin.email, PASSWORD)
    page = browser.get("/admin/audit")
    assert page.status_code == 200
    assert 'data-event-type="login_failed"' in page.text
    assert 'data-event-type="login"' in page.text
    only = browser.get("/admin/audit", params={"event_type": "login_failed"}).text
    assert 'data-event-type="login"' not in only
    anonymous = TestClient(client.app).get("/admin/audit", follow_redirects=False)
    assert anonymous.status_code == 303
