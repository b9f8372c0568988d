"""Settings, built once from the environment by the composition root.

Nothing here is read at import time: `Settings.from_env()` is called by the
server, the worker and the CLI when they start, and tests build their own.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from storyline.errors import ConfigurationError


def _bool(value: str, name: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigurationError(f"{name} must be true or false, not {value!r}")


def _int(value: str, name: str, minimum: int) -> int:
    try:
        number = int(value)
    except ValueError:
        raise ConfigurationError(f"{name} must be a whole number, not {value!r}") from None
    if number < minimum:
        raise ConfigurationError(f"{name} must be at least {minimum}, not {number}")
    return number


def _list(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())


IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def _networks(value: str, name: str) -> tuple[IpNetwork, ...]:
    networks = []
    for item in _list(value):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ConfigurationError(
                f"{name} must list IP addresses or networks (10.0.0.0/8), not {item!r}"
            ) from None
    return tuple(networks)


_FORWARDED_HEADERS = ("x-forwarded-for", "forwarded")


def _forwarded_header(value: str) -> str:
    lowered = value.strip().lower() or "x-forwarded-for"
    if lowered not in _FORWARDED_HEADERS:
        raise ConfigurationError(
            f"STORYLINE_FORWARDED_HEADER must be X-Forwarded-For or Forwarded, not {value!r}"
        )
    return lowered


def _sources(value: str, name: str) -> tuple[str, ...]:
    """Content-Security-Policy sources: origins such as https://sso.example.org."""
    sources = _list(value.replace(" ", ","))
    for source in sources:
        # A quote or semicolon would let a value escape its directive.
        if any(c in source for c in ";'\"\\") or not source.isascii():
            raise ConfigurationError(f"{name}: {source!r} is not an origin")
    return sources


@dataclass(frozen=True, kw_only=True)
class OidcProvider:
    """One OpenID Connect provider that people may sign in with."""

    # The short name in URLs (/login/oidc/NAME, /auth/callback/NAME).
    name: str
    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    display_name: str
    scopes: str = "openid email profile"


_PROVIDER_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
_PROVIDER_ENV = re.compile(r"^STORYLINE_OIDC_([A-Z0-9_]+)_ISSUER$")


def _provider(raw: Mapping[str, object], source: str) -> OidcProvider:
    def text(key: str, default: str | None = None) -> str:
        value = raw.get(key, default)
        if not isinstance(value, str) or not value.strip():
            raise ConfigurationError(f"{source}: {key} must be a non-empty string")
        return value.strip()

    name = text("name").lower()
    if not _PROVIDER_NAME.match(name):
        raise ConfigurationError(
            f"{source}: name {name!r} must be lower-case letters, digits, '-' or '_'"
        )
    # Kept as written: the id_token's `iss` must match the provider's own
    # spelling, trailing slash included (Auth0 has one, Keycloak doesn't).
    issuer = text("issuer")
    if not issuer.startswith(("https://", "http://")):
        raise ConfigurationError(f"{source}: issuer must be an http(s) URL, not {issuer!r}")
    return OidcProvider(
        name=name,
        issuer=issuer,
        client_id=text("client_id"),
        client_secret=text("client_secret"),
        display_name=text("display_name", name),
        scopes=text("scopes", "openid email profile"),
    )


def _oidc_providers(env: Mapping[str, str]) -> tuple[OidcProvider, ...]:
    """Providers from STORYLINE_OIDC_PROVIDERS (a JSON list) and from
    STORYLINE_OIDC_<NAME>_ISSUER/_CLIENT_ID/_CLIENT_SECRET/_DISPLAY_NAME."""
    providers: list[OidcProvider] = []
    raw = env.get("STORYLINE_OIDC_PROVIDERS", "").strip()
    if raw:
        try:
            items = json.loads(raw)
        except ValueError as error:
            raise ConfigurationError(f"STORYLINE_OIDC_PROVIDERS is not JSON: {error}") from None
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise ConfigurationError("STORYLINE_OIDC_PROVIDERS must be a JSON list of objects")
        providers.extend(_provider(item, "STORYLINE_OIDC_PROVIDERS") for item in items)
    for key in sorted(env):
        match = _PROVIDER_ENV.match(key)
        if match is None:
            continue
        prefix = f"STORYLINE_OIDC_{match.group(1)}_"
        fields = {
            "name": match.group(1).lower().replace("_", "-"),
            "issuer": env[key],
            "client_id": env.get(prefix + "CLIENT_ID", ""),
            "client_secret": env.get(prefix + "CLIENT_SECRET", ""),
        }
        for optional in ("display_name", "scopes"):
            if env.get(prefix + optional.upper()):
                fields[optional] = env[prefix + optional.upper()]
        providers.append(_provider(fields, prefix + "*"))
    names = [p.name for p in providers]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigurationError(f"OpenID Connect provider names must be unique: {duplicates}")
    return tuple(providers)


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything the server, the worker and the CLI need to know."""

    database_url: str
    data_dir: Path = Path("var")
    # Paging mirrors StoryBoard's defaults so that clients that never send a
    # limit get the page size they were written against.
    page_size_default: int = 100
    page_size_maximum: int = 500
    enable_editable_comments: bool = True
    # The largest request body read (API and page forms alike); larger ones
    # get a 413 before they are read. A description or comment at its
    # longest (65,535 characters) fits even with every character escaped.
    max_body_bytes: int = 1024 * 1024
    # SQLAlchemy echo, for debugging only.
    echo_sql: bool = False
    # Sign-in. With no provider and local accounts on, a fresh install works
    # out of the box: `storyline admin create-user --password` makes the first admin.
    oidc_providers: tuple[OidcProvider, ...] = ()
    local_accounts: bool = True
    # Whether anyone may create a local account from the sign-in page.
    local_signup: bool = False
    # Sign-up through a provider: limited to these issuers (empty: every
    # configured provider), these email domains (empty: any), or invitations.
    signup_allowed_issuers: tuple[str, ...] = ()
    signup_email_domains: tuple[str, ...] = ()
    signup_invite_only: bool = False
    # Signs CSRF tokens; None means "generate once and keep in data_dir",
    # which suits the embedded default. Processes behind one load balancer
    # must share it.
    session_secret: str | None = field(default=None, repr=False)
    session_lifetime: dt.timedelta = dt.timedelta(days=14)
    # None: Secure cookies when the request came over HTTPS.
    secure_cookies: bool | None = None
    # The address people reach the server at (for redirect URIs behind a proxy);
    # None: taken from each request.
    public_url: str | None = None
    # Proxies whose forwarded headers are believed (none by default: a
    # client's address is the peer's, and a request is HTTPS only when it
    # came to this server over TLS). Which header they set: X-Forwarded-For
    # (with X-Forwarded-Proto) or the standard Forwarded.
    trusted_proxies: tuple[IpNetwork, ...] = ()
    forwarded_header: str = "x-forwarded-for"
    # Origins, besides this server and the sign-in providers' issuers, that
    # pages' forms may lead to (a provider whose sign-in page lives on
    # another origin than its issuer).
    csp_form_action: tuple[str, ...] = ()
    # Strict-Transport-Security on HTTPS responses; 0 leaves the header out.
    hsts_seconds: int = 31_536_000
    # Failed sign-ins allowed per account (and 4x per address) in the window.
    login_attempts_limit: int = 5
    login_attempts_window: dt.timedelta = dt.timedelta(minutes=15)
    # Outgoing email. No host: emails stay in the outbox as failures an
    # administrator can see and retry once SMTP is configured.
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_from: str = "Storyline <storyline@localhost>"
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_timeout: float = 10.0
    # Webhook calls: how long to wait for the receiver, and whether loopback
    # and private addresses may be called (off: a webhook must not become a
    # way to probe the server's own network).
    webhook_timeout: float = 10.0
    webhook_allow_private: bool = False
    # At most this many webhooks per project or project group, and this
    # many calls a minute to one receiving host (more wait their turn).
    webhooks_per_scope: int = 10
    webhook_calls_per_minute: int = 60
    # Delivery: attempts before a message counts as failed, the first retry
    # delay (doubled each time, up to the maximum), and how long a worker
    # holds a claimed message before another worker may take it over.
    outbox_max_attempts: int = 8
    outbox_retry_base: dt.timedelta = dt.timedelta(seconds=30)
    outbox_retry_max: dt.timedelta = dt.timedelta(hours=6)
    outbox_lease: dt.timedelta = dt.timedelta(minutes=2)
    # On SQLite, `storyline serve` delivers the outbox in a thread of its own
    # so that one process is the whole installation.
    worker_in_process: bool = True
    worker_poll_interval: float = 2.0
    extra: Mapping[str, str] = field(default_factory=dict)

    def oidc_provider(self, name: str) -> OidcProvider | None:
        return next((p for p in self.oidc_providers if p.name == name), None)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        data_dir = Path(env.get("STORYLINE_DATA_DIR", "var"))
        default_url = f"sqlite:///{data_dir / 'storyline.db'}"
        url = env.get("STORYLINE_DATABASE_URL", "").strip() or default_url
        if url.startswith("postgresql://"):
            # psycopg 3 is the only PostgreSQL driver we ship.
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        if not (url.startswith(("sqlite", "postgresql+psycopg"))):
            raise ConfigurationError(
                "STORYLINE_DATABASE_URL must be a sqlite:/// or postgresql:// URL, "
                f"not {url.split(':', 1)[0]!r}"
            )
        return cls(
            database_url=url,
            data_dir=data_dir,
            page_size_default=_int(
                env.get("STORYLINE_PAGE_SIZE_DEFAULT", "100"), "STORYLINE_PAGE_SIZE_DEFAULT", 1
            ),
            page_size_maximum=_int(
                env.get("STORYLINE_PAGE_SIZE_MAXIMUM", "500"), "STORYLINE_PAGE_SIZE_MAXIMUM", 1
            ),
            max_body_bytes=_int(
                env.get("STORYLINE_MAX_BODY_BYTES", str(1024 * 1024)),
                "STORYLINE_MAX_BODY_BYTES",
                1024,
            ),
            enable_editable_comments=_bool(
                env.get("STORYLINE_EDITABLE_COMMENTS", "true"), "STORYLINE_EDITABLE_COMMENTS"
            ),
            echo_sql=_bool(env.get("STORYLINE_ECHO_SQL", "false"), "STORYLINE_ECHO_SQL"),
            oidc_providers=_oidc_providers(env),
            local_accounts=_bool(
                env.get("STORYLINE_LOCAL_ACCOUNTS", "true"), "STORYLINE_LOCAL_ACCOUNTS"
            ),
            local_signup=_bool(
                env.get("STORYLINE_LOCAL_SIGNUP", "false"), "STORYLINE_LOCAL_SIGNUP"
            ),
            signup_allowed_issuers=tuple(
                i.rstrip("/") for i in _list(env.get("STORYLINE_SIGNUP_ALLOWED_ISSUERS", ""))
            ),
            signup_email_domains=tuple(
                d.lower().lstrip("@") for d in _list(env.get("STORYLINE_SIGNUP_EMAIL_DOMAINS", ""))
            ),
            signup_invite_only=_bool(
                env.get("STORYLINE_SIGNUP_INVITE_ONLY", "false"), "STORYLINE_SIGNUP_INVITE_ONLY"
            ),
            session_secret=env.get("STORYLINE_SESSION_SECRET", "").strip() or None,
            session_lifetime=dt.timedelta(
                hours=_int(env.get("STORYLINE_SESSION_HOURS", "336"), "STORYLINE_SESSION_HOURS", 1)
            ),
            secure_cookies=_secure(env.get("STORYLINE_SECURE_COOKIES", "auto")),
            public_url=env.get("STORYLINE_PUBLIC_URL", "").strip().rstrip("/") or None,
            trusted_proxies=_networks(
                env.get("STORYLINE_TRUSTED_PROXIES", ""), "STORYLINE_TRUSTED_PROXIES"
            ),
            forwarded_header=_forwarded_header(env.get("STORYLINE_FORWARDED_HEADER", "")),
            csp_form_action=_sources(
                env.get("STORYLINE_CSP_FORM_ACTION", ""), "STORYLINE_CSP_FORM_ACTION"
            ),
            hsts_seconds=_int(
                env.get("STORYLINE_HSTS_SECONDS", "31536000"), "STORYLINE_HSTS_SECONDS", 0
            ),
            login_attempts_limit=_int(
                env.get("STORYLINE_LOGIN_ATTEMPTS", "5"), "STORYLINE_LOGIN_ATTEMPTS", 1
            ),
            smtp_host=env.get("STORYLINE_SMTP_HOST", "").strip() or None,
            smtp_port=_int(env.get("STORYLINE_SMTP_PORT", "25"), "STORYLINE_SMTP_PORT", 1),
            smtp_from=env.get("STORYLINE_SMTP_FROM", "").strip()
            or "Storyline <storyline@localhost>",
            smtp_starttls=_bool(
                env.get("STORYLINE_SMTP_STARTTLS", "false"), "STORYLINE_SMTP_STARTTLS"
            ),
            smtp_username=env.get("STORYLINE_SMTP_USERNAME", "").strip() or None,
            smtp_password=env.get("STORYLINE_SMTP_PASSWORD") or None,
            webhook_timeout=float(
                _int(env.get("STORYLINE_WEBHOOK_TIMEOUT", "10"), "STORYLINE_WEBHOOK_TIMEOUT", 1)
            ),
            webhook_allow_private=_bool(
                env.get("STORYLINE_WEBHOOK_ALLOW_PRIVATE", "false"),
                "STORYLINE_WEBHOOK_ALLOW_PRIVATE",
            ),
            webhooks_per_scope=_int(
                env.get("STORYLINE_WEBHOOKS_PER_SCOPE", "10"), "STORYLINE_WEBHOOKS_PER_SCOPE", 1
            ),
            webhook_calls_per_minute=_int(
                env.get("STORYLINE_WEBHOOK_CALLS_PER_MINUTE", "60"),
                "STORYLINE_WEBHOOK_CALLS_PER_MINUTE",
                1,
            ),
            outbox_max_attempts=_int(
                env.get("STORYLINE_OUTBOX_MAX_ATTEMPTS", "8"), "STORYLINE_OUTBOX_MAX_ATTEMPTS", 1
            ),
            outbox_retry_base=dt.timedelta(
                seconds=_int(
                    env.get("STORYLINE_OUTBOX_RETRY_SECONDS", "30"),
                    "STORYLINE_OUTBOX_RETRY_SECONDS",
                    0,
                )
            ),
            outbox_lease=dt.timedelta(
                seconds=_int(
                    env.get("STORYLINE_OUTBOX_LEASE_SECONDS", "120"),
                    "STORYLINE_OUTBOX_LEASE_SECONDS",
                    1,
                )
            ),
            worker_in_process=_bool(
                env.get("STORYLINE_WORKER_IN_PROCESS", "true"), "STORYLINE_WORKER_IN_PROCESS"
            ),
        )


def _secure(value: str) -> bool | None:
    if value.strip().lower() == "auto":
        return None
    return _bool(value, "STORYLINE_SECURE_COOKIES")


def default_processes() -> int:
    """One server process per core the process may use, at most 8.

    Handlers are synchronous Python, so one process serves one request at a
    time per core whatever its threads; a second process on 2 cores took
    reads at 8 clients from about 330 to 530 requests per second on SQLite
    (WAL lets readers of all processes run at once; writers queue, see
    `storyline.kernel.db.SqliteWriters`) and on PostgreSQL alike."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(8, cores))
