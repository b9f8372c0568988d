"""Sign-in through OpenID Connect against a provider the tests control:
the happy path, and every way a response can be wrong."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from joserfc.jwk import RSAKey
from sqlalchemy import func, select

from storyline.accounts import identities
from storyline.accounts.models import AuditEvent, User, UserIdentity
from storyline.bootstrap import Container
from tests.auth.conftest import Browser, provider_for
from tests.auth.idp import RogueIdP
from tests.factories import Factory

BrowserFor = Callable[..., Browser]


def _users(container: Container) -> int:
    with container.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(User)) or 0)


def _refused(response: object, code: str, status: int = 401) -> None:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert f'<code id="error-code">{code}</code>' in response.text  # type: ignore[attr-defined]
    assert "storyline_session=" not in response.headers.get("set-cookie", "")  # type: ignore[attr-defined]


def test_first_sign_in_creates_the_account_from_the_claims(
    browser_for: BrowserFor, idp: RogueIdP, container: Container
) -> None:
    browser = browser_for(oidc_providers=(provider_for(idp),))
    params = browser.start_oidc("rogue")
    # PKCE, state and nonce are all sent.
    assert params["code_challenge_method"] == "S256"
    assert params["client_id"] == idp.client_id
    assert params["redirect_uri"] == "http://testserver/auth/callback/rogue"
    assert len(params["state"]) >= 32
    assert len(params["nonce"]) >= 32
    code = idp.grant(params["nonce"], params["code_challenge"])
    done = browser.get("/auth/callback/rogue", params={"state": params["state"], "code": code})
    assert done.status_code == 303
    assert done.headers["location"] == "/account"
    cookie = done.headers["set-cookie"]
    assert "storyline_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http in tests
    account = browser.get("/account")
    assert "Rogue User" in account.text
    assert "rogue@example.org" in account.text
    with container.db.read() as session:
        identity = session.scalars(select(UserIdentity)).one()
        assert (identity.issuer, identity.subject) == (idp.issuer, "rogue-user-1")
        kinds = session.scalars(select(AuditEvent.event_type)).all()
    assert {"signup", "login"} <= set(kinds)
    # Signing in again finds the same account.
    browser.post("/logout", page="/account")
    assert browser.oidc_sign_in(idp).status_code == 303
    assert _users(container) == 1


def test_missing_or_wrong_state_is_refused(
    browser_for: BrowserFor, idp: RogueIdP, container: Container
) -> None:
    browser = browser_for(oidc_providers=(provider_for(idp),))
    params = browser.start_oidc("rogue")
    code = idp.grant(params["nonce"], params["code_challenge"])
    _refused(browser.get("/auth/callback/rogue", params={"code": code}), "oidc_state_invalid")
    _refused(
        browser.get("/auth/callback/rogue", params={"code": code, "state": "forged"}),
        "oidc_state_invalid",
    )
    assert _users(container) == 0
    with container.db.read() as session:
        failures = session.scalars(
            select(AuditEvent).where(AuditEvent.event_type == "login_failed")
        ).all()
    assert len(failures) == 2


def test_state_from_another_browser_is_refused(
    browser_for: BrowserFor, idp: RogueIdP, container: Container
) -> None:
    settings = {"oidc_providers": (provider_for(idp),)}
    victim, attacker = browser_for(**settings), browser_for(**settings)
    params = attacker.start_oidc("rogue")
    code = idp.grant(params["nonce"], params["code_challenge"])
    # The attacker's callback link, opened by someone else, signs nobody in.
    response = victim.get("/auth/callback/rogue", params={"state": params["state"], "code": code})
    _refused(response, "oidc_state_invalid")
    assert _users(container) == 0


def test_a_callback_works_once_and_a_used_code_is_refused(
    browser_for: BrowserFor, idp: RogueIdP, container: Container
) -> None:
    browser = browser_for(oidc_providers=(provider_for(idp),))
    params = browser.start_oidc("rogue")
    code = idp.grant(params["nonce"], params["code_challenge"])
    query = {"state": params["state"], "code": code}
    assert browser.get("/auth/callback/rogue", params=query).status_code == 303
    browser.post("/logout", page="/account")
    _refused(browser.get("/auth/callback/rogue", params=query), "oidc_state_invalid")
    # A used code with a fresh state: the provider refuses the exchange.
    fresh = browser.start_oidc("rogue")
    replay = browser.get("/auth/callback/rogue", params={"state": fresh["state"], "code": code})
    _refused(replay, "oidc_provider_error")
    assert "invalid_grant" in replay.text
    assert _users(container) == 1


@pytest.mark.parametrize(
    ("change", "claim"),
    [
        ({"iss": "http://127.0.0.1:1"}, "iss"),
        ({"aud": "someone-else"}, "aud"),
        ({"aud": ["someone-else", "another"]}, "aud"),
        ({"nonce": "not-the-nonce"}, "nonce"),
        ({"nonce": None}, "nonce"),
        ({"exp": int(time.time()) - 3600}, "exp"),
        ({"sub": None}, "sub"),
    ],
)
def test_id_token_with_a_wrong_claim_is_refused(
    browser_for: BrowserFor,
    idp: RogueIdP,
    container: Container,
    change: dict[str, object],
    claim: str,
) -> None:
    browser = browser_for(oidc_providers=(provider_for(idp),))
    idp.overrides = change
    response = browser.oidc_sign_in(idp)
    _refused(response, "oidc_token_invalid")
    assert _users(container) == 0
    with container.db.read() as session:
        failure = session.scalars(
            select(AuditEvent).where(AuditEvent.event_type == "login_failed")
        ).one()
    assert "oidc_token_invalid" in (failure.details or "")


def test_id_token_with_a_forged_signature_is_refused(
    browser_for: BrowserFor, idp: RogueIdP, container: Container
) -> None:
    browser = browser_for(oidc_providers=(provider_for(idp),))
    # Same key id as the published key, different key: a forgery.
    idp.sign_with = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    response = browser.oidc_sign_in(idp)
    _refused(response, "oidc_token_invalid")
    assert "signature" in response.text
    # An unknown key id is looked up once more (rotation), then refused.
    idp.sign_with = RSAKey.generate_key(2048, parameters={"kid": "unknown"})
    before = idp.jwks_fetches
    _refused(browser.oidc_sign_in(idp), "oidc_token_invalid")
    assert idp.jwks_fetches == before + 1
    assert _users(container) == 0


def test_rotated_provider_keys_are_fetched_again(
    browser_for: BrowserFor, idp: RogueIdP, container: Container
) -> None:
    browser = browser_for(oidc_providers=(provider_for(idp),))
    assert browser.oidc_sign_in(idp).status_code == 303
    assert idp.jwks_fetches == 1
    browser.post("/logout", page="/account")
    idp.rotate("k2")
    assert browser.oidc_sign_in(idp).status_code == 303
    assert idp.jwks_fetches == 2
    browser.post("/logout", page="/account")
    # Keys are cached between sign-ins.
    assert browser.oidc_sign_in(idp).status_code == 303
    assert idp.jwks_fetches == 2
    assert _users(container) == 1


def test_unreachable_provider_gives_a_clear_error(
    browser_for: BrowserFor, idp: RogueIdP, container: Container
) -> None:
    dead = provider_for(idp, "dead")
    dead = type(dead)(
        name="dead",
        issuer="http://127.0.0.1:9",
        client_id="x",
        client_secret="y",
        display_name="Dead IdP",
    )
    browser = browser_for(oidc_providers=(dead,))
    response = browser.post("/login/oidc/dead")
    assert response.status_code == 503
    assert "Dead IdP" in response.text
    assert "cannot be reached" in response.text
    as_json = browser.post("/login/oidc/dead", headers={"Accept": "application/json"})
    assert as_json.status_code == 503
    assert as_json.json()["code"] == "oidc_provider_unreachable"
    unknown = browser.post("/login/oidc/nobody")
    assert unknown.status_code == 404
    assert _users(container) == 0


def test_provider_error_response_is_shown(
    browser_for: BrowserFor, idp: RogueIdP, container: Container
) -> None:
    browser = browser_for(oidc_providers=(provider_for(idp),))
    params = browser.start_oidc("rogue")
    response = browser.get(
        "/auth/callback/rogue",
        params={"state": params["state"], "error": "access_denied", "error_description": "No"},
    )
    _refused(response, "oidc_provider_error")
    assert _users(container) == 0


def test_email_domain_not_allowed(
    browser_for: BrowserFor, idp: RogueIdP, container: Container
) -> None:
    browser = browser_for(
        oidc_providers=(provider_for(idp),), signup_email_domains=("example.com",)
    )
    response = browser.oidc_sign_in(idp)
    _refused(response, "signup_not_allowed", status=403)
    assert "example.com" in response.text
    assert _users(container) == 0
    idp.email = "someone@example.com"
    assert browser.oidc_sign_in(idp).status_code == 303
    assert _users(container) == 1


def test_allowed_issuers(browser_for: BrowserFor, idp: RogueIdP, container: Container) -> None:
    browser = browser_for(
        oidc_providers=(provider_for(idp),), signup_allowed_issuers=("https://elsewhere",)
    )
    _refused(browser.oidc_sign_in(idp), "signup_not_allowed", status=403)
    assert _users(container) == 0


def test_invitation_only(browser_for: BrowserFor, idp: RogueIdP, container: Container) -> None:
    browser = browser_for(oidc_providers=(provider_for(idp),), signup_invite_only=True)
    _refused(browser.oidc_sign_in(idp), "signup_not_allowed", status=403)
    with container.db.write() as session:
        _inv, secret = identities.create_invitation(
            session, created_by=None, email="rogue@example.org"
        )
    params = browser.start_oidc("rogue", invite=secret)
    code = idp.grant(params["nonce"], params["code_challenge"])
    done = browser.get("/auth/callback/rogue", params={"state": params["state"], "code": code})
    assert done.status_code == 303
    assert _users(container) == 1
    # An invitation is used once.
    browser.post("/logout", page="/account")
    idp.subject, idp.email = "second", "second@example.org"
    params = browser.start_oidc("rogue", invite=secret)
    code = idp.grant(params["nonce"], params["code_challenge"])
    again = browser.get("/auth/callback/rogue", params={"state": params["state"], "code": code})
    _refused(again, "signup_not_allowed", status=403)
    assert _users(container) == 1


def test_an_email_match_never_signs_into_an_existing_account(
    browser_for: BrowserFor, idp: RogueIdP, container: Container, factory: Factory
) -> None:
    existing = factory.user()
    idp.email = existing.email
    browser = browser_for(oidc_providers=(provider_for(idp),))
    response = browser.oidc_sign_in(idp)
    _refused(response, "account_exists", status=409)
    assert "link" in response.text
    with container.db.read() as session:
        assert session.scalar(select(func.count()).select_from(UserIdentity)) == 0


def test_linking_a_second_identity_and_unlinking(
    browser_for: BrowserFor, container: Container
) -> None:
    first, second = RogueIdP(subject="a-1", email="a@example.org"), RogueIdP(subject="b-1")
    from tests.auth.idp import RunningIdP

    servers = [RunningIdP(first), RunningIdP(second)]
    try:
        browser = browser_for(
            oidc_providers=(provider_for(first, "first"), provider_for(second, "second"))
        )
        assert browser.oidc_sign_in(first, "first").status_code == 303
        linked = browser.oidc_sign_in(second, "second", start="/settings/identities/link/second")
        assert linked.status_code == 303
        assert linked.headers["location"] == "/settings/identities"
        page = browser.get("/settings/identities").text
        assert "a-1" in page
        assert "b-1" in page
        browser.post("/logout", page="/account")
        # Either identity now signs in to the one account.
        assert browser.oidc_sign_in(second, "second").status_code == 303
        assert "a@example.org" in browser.get("/account").text
        assert _users(container) == 1
        with container.db.read() as session:
            rows = session.scalars(select(UserIdentity).order_by(UserIdentity.id)).all()
        # Unlinking one leaves the other; the last one cannot go.
        assert (
            browser.post(
                f"/settings/identities/{rows[0].id}/unlink", page="/settings/identities"
            ).status_code
            == 303
        )
        last = browser.post(
            f"/settings/identities/{rows[1].id}/unlink", page="/settings/identities"
        )
        assert last.status_code == 409
        assert "only way to sign in" in last.text
    finally:
        for server in servers:
            server.stop()


def test_an_identity_linked_elsewhere_cannot_be_linked_again(
    browser_for: BrowserFor, idp: RogueIdP, container: Container, factory: Factory
) -> None:
    settings = {"oidc_providers": (provider_for(idp),), "local_accounts": True}
    owner = browser_for(**settings)
    assert owner.oidc_sign_in(idp).status_code == 303
    other = factory.user()
    from storyline.accounts import local_accounts

    with container.db.write() as session:
        local_accounts.set_password(session, user_id=other.id, password="correct horse 1")
    browser = browser_for(**settings)
    assert browser.login_local(other.email, "correct horse 1").status_code == 303
    response = browser.oidc_sign_in(idp, start="/settings/identities/link/rogue")
    _refused(response, "identity_taken", status=409)
