"""Sign-in with OpenID Connect providers (authorization code flow, PKCE).

Authlib builds the authorization request and exchanges the code; joserfc
checks the id_token's signature against the provider's published keys, and
Authlib's `CodeIDToken` checks its claims (issuer, audience, expiry, nonce,
at_hash, azp).

What is kept where: the state, nonce and PKCE verifier stay on the server in
`oidc_logins`, keyed by a hash of the state and bound to the browser that
started the sign-in (a hash of its CSRF cookie). The row is deleted when the
provider sends the browser back, so a callback URL works once. Provider
metadata and keys are cached per process; an id_token signed with a key we
have not seen makes us fetch the keys again once (key rotation).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx2
from authlib.integrations.base_client import OAuthError
from authlib.integrations.httpx_client import OAuth2Client
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry
from sqlalchemy import delete
from sqlalchemy.orm import Session

from storyline.accounts.models import OidcLogin
from storyline.config import OidcProvider, Settings
from storyline.errors import NotAuthenticated, NotFound, ServiceUnavailable
from storyline.kernel.schema import utcnow

# How long a person may take at the provider before coming back.
LOGIN_TTL = dt.timedelta(minutes=10)
# Metadata (endpoints) are re-read after this long.
METADATA_TTL = 3600.0
# Allowed clock difference with the provider when checking exp/iat.
LEEWAY_SECONDS = 60
HTTP_TIMEOUT = 10.0


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True)
class VerifiedClaims:
    """Who the provider says signed in, after every check passed."""

    provider: str
    issuer: str
    subject: str
    email: str | None
    email_verified: bool | None
    name: str | None


@dataclass(frozen=True)
class CompletedLogin:
    claims: VerifiedClaims
    link_user_id: int | None
    invitation: str | None
    next_url: str | None


@dataclass
class _ProviderCache:
    metadata: dict[str, Any] | None = None
    fetched_at: float = 0.0
    jwks: dict[str, Any] | None = None


class OidcClient:
    """The relying party for every configured provider. One per process: it
    caches provider metadata and keys, never anything about a person."""

    def __init__(self, settings: Settings, *, timeout: float = HTTP_TIMEOUT) -> None:
        self.settings = settings
        self.timeout = timeout
        self._cache: dict[str, _ProviderCache] = {}
        self._lock = threading.Lock()

    # Configuration and metadata.

    def provider(self, name: str) -> OidcProvider:
        provider = self.settings.oidc_provider(name)
        if provider is None:
            raise NotFound.of("sign-in provider", name)
        return provider

    def _get_json(self, provider: OidcProvider, url: str) -> dict[str, Any]:
        try:
            with httpx2.Client(timeout=self.timeout) as http:
                response = http.get(url, headers={"Accept": "application/json"})
        except httpx2.TransportError as error:
            raise _unreachable(provider, error) from error
        if response.status_code != 200:
            raise ServiceUnavailable(
                f"The sign-in provider {provider.display_name} answered "
                f"{response.status_code} for {url}.",
                code="oidc_provider_unreachable",
                details={"provider": provider.name, "status": response.status_code},
            )
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise ServiceUnavailable(
                f"The sign-in provider {provider.display_name} did not answer with JSON at {url}.",
                code="oidc_provider_unreachable",
                details={"provider": provider.name},
            )
        return body

    def metadata(self, provider: OidcProvider) -> dict[str, Any]:
        with self._lock:
            cache = self._cache.setdefault(provider.name, _ProviderCache())
            if cache.metadata is not None and time.monotonic() - cache.fetched_at < METADATA_TTL:
                return cache.metadata
        url = provider.issuer.rstrip("/") + "/.well-known/openid-configuration"
        metadata = self._get_json(provider, url)
        issuer = metadata.get("issuer")
        # OpenID Connect Discovery 1.0, section 4.3: the issuer in the document
        # must be the one we asked; otherwise anyone able to serve that URL
        # could speak for another issuer.
        if not isinstance(issuer, str) or issuer.rstrip("/") != provider.issuer.rstrip("/"):
            raise ServiceUnavailable(
                f"The sign-in provider {provider.display_name} describes itself as issuer "
                f"{issuer!r}, not {provider.issuer!r}; check STORYLINE_OIDC settings.",
                code="oidc_provider_misconfigured",
                details={"provider": provider.name},
            )
        for key in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            if not isinstance(metadata.get(key), str):
                raise ServiceUnavailable(
                    f"The sign-in provider {provider.display_name} publishes no {key}.",
                    code="oidc_provider_misconfigured",
                    details={"provider": provider.name},
                )
        with self._lock:
            cache.metadata = metadata
            cache.fetched_at = time.monotonic()
        return metadata

    def _key_set(self, provider: OidcProvider, *, refresh: bool) -> KeySet:
        with self._lock:
            cache = self._cache.setdefault(provider.name, _ProviderCache())
            jwks = None if refresh else cache.jwks
        if jwks is None:
            jwks = self._get_json(provider, self.metadata(provider)["jwks_uri"])
            with self._lock:
                cache.jwks = jwks
        try:
            return KeySet.import_key_set(jwks)  # type: ignore[arg-type]
        except (JoseError, ValueError, KeyError, TypeError) as error:
            raise ServiceUnavailable(
                f"The sign-in provider {provider.display_name} publishes unusable keys.",
                code="oidc_provider_misconfigured",
                details={"provider": provider.name},
            ) from error

    def _client(self, provider: OidcProvider, redirect_uri: str) -> OAuth2Client:
        return OAuth2Client(
            client_id=provider.client_id,
            client_secret=provider.client_secret,
            scope=provider.scopes,
            redirect_uri=redirect_uri,
            code_challenge_method="S256",
            timeout=self.timeout,
        )

    # The two halves of a sign-in.

    def begin(
        self,
        session: Session,
        *,
        provider_name: str,
        redirect_uri: str,
        browser_secret: str,
        link_user_id: int | None = None,
        invitation: str | None = None,
        next_url: str | None = None,
    ) -> str:
        """Record a pending sign-in and return the provider URL to send the browser to."""
        provider = self.provider(provider_name)
        metadata = self.metadata(provider)
        state = secrets.token_urlsafe(32)
        nonce = secrets.token_urlsafe(32)
        verifier = secrets.token_urlsafe(64)
        now = utcnow()
        # Old pending sign-ins are dead weight; clearing them here bounds the table.
        session.execute(delete(OidcLogin).where(OidcLogin.expires_at < now))
        session.add(
            OidcLogin(
                state_hash=_sha256(state),
                provider=provider.name,
                nonce=nonce,
                code_verifier=verifier,
                browser_hash=_sha256(browser_secret),
                redirect_uri=redirect_uri,
                link_user_id=link_user_id,
                invitation=invitation,
                next_url=next_url,
                created_at=now,
                expires_at=now + LOGIN_TTL,
            )
        )
        session.flush()
        with self._client(provider, redirect_uri) as client:
            url, _state = client.create_authorization_url(
                metadata["authorization_endpoint"],
                state=state,
                code_verifier=verifier,
                nonce=nonce,
            )
        return str(url)

    def claim_pending(
        self, session: Session, *, provider_name: str, state: str | None, browser_secret: str | None
    ) -> OidcLogin:
        """Take (and delete) the pending sign-in that `state` names.

        Run in a unit of work of its own that commits even when the sign-in
        then fails, so that a callback URL can never be used twice.
        """
        if not state:
            raise NotAuthenticated(
                "The sign-in response carries no state; start the sign-in again.",
                code="oidc_state_invalid",
            )
        pending = session.get(OidcLogin, _sha256(state))
        if pending is None or pending.provider != provider_name:
            raise NotAuthenticated(
                "This sign-in response is unknown, was already used, or belongs to another "
                "provider; start the sign-in again.",
                code="oidc_state_invalid",
            )
        session.delete(pending)
        session.flush()
        if browser_secret is None or not secrets.compare_digest(
            pending.browser_hash, _sha256(browser_secret)
        ):
            raise NotAuthenticated(
                "This sign-in was started in another browser; start it again here.",
                code="oidc_state_invalid",
            )
        if pending.expires_at <= utcnow():
            raise NotAuthenticated(
                "The sign-in took too long; start it again.", code="oidc_state_invalid"
            )
        return pending

    def complete(
        self,
        pending: OidcLogin,
        *,
        code: str | None,
        error: str | None = None,
        error_description: str | None = None,
        iss: str | None = None,
    ) -> CompletedLogin:
        """Exchange the code and check the id_token. Talks only to the provider."""
        provider = self.provider(pending.provider)
        if error:
            raise NotAuthenticated(
                f"{provider.display_name} did not sign you in: {error_description or error}.",
                code="oidc_provider_error",
                details={"provider": provider.name, "error": error},
            )
        if not code:
            raise NotAuthenticated(
                f"{provider.display_name} sent no authorization code.",
                code="oidc_provider_error",
                details={"provider": provider.name},
            )
        metadata = self.metadata(provider)
        # RFC 9207: when the provider names itself in the response, it must be
        # the provider this sign-in was started with (mix-up defence).
        if iss is not None and iss != metadata["issuer"]:
            raise NotAuthenticated(
                "The sign-in response comes from another issuer.",
                code="oidc_token_invalid",
                details={"provider": provider.name, "claim": "iss"},
            )
        try:
            with self._client(provider, pending.redirect_uri) as client:
                token = client.fetch_token(
                    metadata["token_endpoint"],
                    grant_type="authorization_code",
                    code=code,
                    code_verifier=pending.code_verifier,
                    redirect_uri=pending.redirect_uri,
                )
        except httpx2.TransportError as failure:
            raise _unreachable(provider, failure) from failure
        except OAuthError as failure:
            raise NotAuthenticated(
                f"{provider.display_name} refused the sign-in ({failure.error}); "
                "start the sign-in again.",
                code="oidc_provider_error",
                details={"provider": provider.name, "error": failure.error},
            ) from failure
        claims = self.verify_id_token(
            provider,
            id_token=token.get("id_token"),
            nonce=pending.nonce,
            access_token=token.get("access_token"),
        )
        access_token = token.get("access_token")
        if (claims.email is None or claims.name is None) and isinstance(access_token, str):
            claims = self._with_userinfo(provider, claims, access_token)
        return CompletedLogin(
            claims=claims,
            link_user_id=pending.link_user_id,
            invitation=pending.invitation,
            next_url=pending.next_url,
        )

    def _with_userinfo(
        self, provider: OidcProvider, claims: VerifiedClaims, access_token: str
    ) -> VerifiedClaims:
        """Fill in the profile from the UserInfo endpoint. Many providers
        (the certified Node one among them) put only `sub` in the id_token
        of the code flow and the rest behind UserInfo."""
        endpoint = self.metadata(provider).get("userinfo_endpoint")
        if not isinstance(endpoint, str):
            return claims
        try:
            with httpx2.Client(timeout=self.timeout) as http:
                response = http.get(
                    endpoint,
                    headers={
                        "Authorization": f"Bearer {access_token}",
                        "Accept": "application/json",
                    },
                )
        except httpx2.TransportError as error:
            raise _unreachable(provider, error) from error
        try:
            info = response.json() if response.status_code == 200 else None
        except ValueError:
            info = None
        # OpenID Connect Core 5.3.2: UserInfo about another subject is ignored.
        if not isinstance(info, dict) or info.get("sub") != claims.subject:
            return claims
        email = info.get("email") if claims.email is None else claims.email
        verified = info.get("email_verified") if claims.email is None else claims.email_verified
        name = claims.name or info.get("name") or info.get("preferred_username")
        return dataclasses.replace(
            claims,
            email=email.strip() if isinstance(email, str) and email.strip() else None,
            email_verified=verified if isinstance(verified, bool) else None,
            name=name.strip() if isinstance(name, str) and name.strip() else None,
        )

    def verify_id_token(
        self,
        provider: OidcProvider,
        *,
        id_token: object,
        nonce: str,
        access_token: object = None,
    ) -> VerifiedClaims:
        if not isinstance(id_token, str) or not id_token:
            raise _invalid(provider, "id_token", "The provider sent no id_token.")
        metadata = self.metadata(provider)
        algorithms = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
        # "none" would make the signature check a no-op.
        algorithms = [a for a in algorithms if isinstance(a, str) and a.lower() != "none"]
        registry = JWSRegistry(algorithms=algorithms)
        try:
            try:
                decoded = jwt.decode(
                    id_token, self._key_set(provider, refresh=False), registry=registry
                )
            except InvalidKeyIdError:
                # Signed with a key we have not seen: the provider rotated its
                # keys. Fetch them once more; a second miss is a forgery.
                decoded = jwt.decode(
                    id_token, self._key_set(provider, refresh=True), registry=registry
                )
        except JoseError as error:
            raise _invalid(
                provider, "signature", f"The id_token's signature is not valid ({error.error})."
            ) from error
        except ValueError as error:
            raise _invalid(provider, "signature", "The id_token is malformed.") from error
        params: dict[str, Any] = {"nonce": nonce, "client_id": provider.client_id}
        if isinstance(access_token, str):
            params["access_token"] = access_token
        options = {
            "iss": {"essential": True, "value": metadata["issuer"]},
            "aud": {"essential": True, "value": provider.client_id},
            "sub": {"essential": True},
            "exp": {"essential": True},
            "nonce": {"essential": True, "value": nonce},
        }
        checked = CodeIDToken(decoded.claims, decoded.header, options, params)
        try:
            checked.validate(leeway=LEEWAY_SECONDS)
        except JoseError as error:
            claim = getattr(error, "claim", None) or error.error
            raise _invalid(
                provider,
                str(claim),
                f"The id_token was refused: {error.description or error.error}.",
            ) from error
        email = checked.get("email")
        name = checked.get("name") or checked.get("preferred_username")
        verified = checked.get("email_verified")
        return VerifiedClaims(
            provider=provider.name,
            issuer=str(checked["iss"]),
            subject=str(checked["sub"]),
            email=email.strip() if isinstance(email, str) and email.strip() else None,
            email_verified=verified if isinstance(verified, bool) else None,
            name=name.strip() if isinstance(name, str) and name.strip() else None,
        )


def _unreachable(provider: OidcProvider, error: Exception) -> ServiceUnavailable:
    host = urlsplit(provider.issuer).netloc
    return ServiceUnavailable(
        f"The sign-in provider {provider.display_name} ({host}) cannot be reached right now; "
        "try again later or choose another way to sign in.",
        code="oidc_provider_unreachable",
        details={"provider": provider.name, "reason": type(error).__name__},
    )


def _invalid(provider: OidcProvider, claim: str, message: str) -> NotAuthenticated:
    return NotAuthenticated(
        message + " Nobody was signed in.",
        code="oidc_token_invalid",
        details={"provider": provider.name, "claim": claim},
    )
