"""Calling webhooks: a signed JSON POST per event.

Headers: `X-Storyline-Event` (the event type), `X-Storyline-Delivery` (the
idempotency key: the same on every retry of one delivery) and
`X-Storyline-Signature: sha256=<hex>`, the HMAC-SHA256 of the exact body
bytes with the webhook's secret.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import socket
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from storyline import __version__
from storyline.config import Settings


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status_code: int | None
    error: str | None
    duration_ms: int
    # Retrying cannot help (e.g. a refused address).
    permanent: bool = False


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _private_address(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if (
            address.is_private
            or address.is_loopback
            or address.is_link_local
            or address.is_reserved
        ):
            return True
    return False


class WebhookSender:
    """Calls webhooks; built once per process by the composition root."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def deliver(
        self, *, url: str, secret: str, key: str, event_type: str, body: dict[str, Any]
    ) -> Outcome:
        return deliver(
            self.settings, url=url, secret=secret, key=key, event_type=event_type, body=body
        )


def deliver(
    settings: Settings, *, url: str, secret: str, key: str, event_type: str, body: dict[str, Any]
) -> Outcome:
    started = time.monotonic()
    if not settings.webhook_allow_private and _private_address(url):
        return Outcome(
            ok=False,
            status_code=None,
            error="refused: the URL points at a private or loopback address",
            duration_ms=0,
            permanent=True,
        )
    data = json.dumps(body, sort_keys=True).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": f"Storyline/{__version__}",
        "X-Storyline-Event": event_type,
        "X-Storyline-Delivery": key,
        "X-Storyline-Signature": signature(secret, data),
    }
    try:
        with httpx.Client(timeout=settings.webhook_timeout, follow_redirects=False) as client:
            response = client.post(url, content=data, headers=headers)
    except httpx.HTTPError as error:
        elapsed = int((time.monotonic() - started) * 1000)
        return Outcome(
            ok=False,
            status_code=None,
            error=f"{type(error).__name__}: {error}",
            duration_ms=elapsed,
        )
    elapsed = int((time.monotonic() - started) * 1000)
    if 200 <= response.status_code < 300:
        return Outcome(ok=True, status_code=response.status_code, error=None, duration_ms=elapsed)
    return Outcome(
        ok=False,
        status_code=response.status_code,
        error=f"HTTP {response.status_code}: {response.text[:200]}",
        duration_ms=elapsed,
    )
