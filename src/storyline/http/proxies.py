"""Who the client is, and whether it came over HTTPS, behind trusted proxies.

A proxy in front of the server (nginx, a load balancer) connects to it
itself, so the peer's address is the proxy's and the connection is plain
HTTP; the proxy says who the client was in X-Forwarded-For (and which scheme
it used in X-Forwarded-Proto) or in the standard Forwarded header. Anyone can
send those headers, so they are believed only when the peer is one of the
operator's `STORYLINE_TRUSTED_PROXIES` (none by default), and then only as
far as the chain of trusted proxies reaches: the client is the rightmost hop
that is not a trusted proxy, because every hop to its left was written by
someone we do not trust.

`TrustedProxies` rewrites the ASGI scope's `client` and `scheme` once, at the
edge, so that everything after it (login throttling, the audit log, Secure
cookies, HSTS) reads `request.client` and `request.url.scheme` and agrees.
The server's own proxy handling is off (`storyline serve` runs uvicorn with
`proxy_headers=False`): this is the one rule.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from storyline.config import IpNetwork

_SCHEMES = frozenset({"http", "https"})


@dataclass(frozen=True)
class Hop:
    """One hop a proxy reported: the address it saw, and the scheme it was spoken to in."""

    address: str | None
    proto: str | None = None


def _address(value: str) -> str | None:
    """The IP address in a forwarded hop (`1.2.3.4`, `1.2.3.4:80`, `[::1]:80`,
    `::1`), normalised; None for anything else (`unknown`, `_hidden`, junk)."""
    value = value.strip().strip('"')
    if value.startswith("["):
        value = value[1:].partition("]")[0]
    elif value.count(":") == 1:
        value = value.partition(":")[0]
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def _x_forwarded(headers: Headers) -> list[Hop]:
    addresses = [a for v in headers.getlist("x-forwarded-for") for a in v.split(",")]
    protos = [p.strip().lower() for v in headers.getlist("x-forwarded-proto") for p in v.split(",")]
    hops = [Hop(_address(a)) for a in addresses if a.strip()]
    if protos and len(protos) == len(hops):
        return [Hop(h.address, p) for h, p in zip(hops, protos, strict=True)]
    if protos:
        # Proxies that overwrite X-Forwarded-Proto instead of appending to it
        # leave one value, the scheme the client reached them with.
        return [Hop(h.address, protos[-1]) for h in hops]
    return hops


def _forwarded(headers: Headers) -> list[Hop]:
    hops = []
    for value in headers.getlist("forwarded"):
        for element in value.split(","):
            params = {}
            for pair in element.split(";"):
                key, _, raw = pair.partition("=")
                params[key.strip().lower()] = raw.strip().strip('"')
            if "for" in params:
                proto = params.get("proto", "").lower() or None
                hops.append(Hop(_address(params["for"]), proto))
    return hops


def _trusted(address: str | None, networks: Sequence[IpNetwork]) -> bool:
    if address is None:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_hop(
    peer: str | None, headers: Headers, *, networks: Sequence[IpNetwork], header: str
) -> Hop | None:
    """The client's address and scheme as the trusted proxies report them, or
    None when the peer is not a trusted proxy (or sent nothing to believe)."""
    if not networks or not _trusted(_address(peer or ""), networks):
        return None
    hops = _forwarded(headers) if header == "forwarded" else _x_forwarded(headers)
    if not hops:
        return None
    chosen = None
    for hop in reversed(hops):
        if hop.address is None:
            # A hop that names no address cannot be checked or throttled:
            # stop at the last proxy that reported something believable.
            break
        chosen = hop
        if not _trusted(hop.address, networks):
            break
    if chosen is None:
        return None
    proto = chosen.proto if chosen.proto in _SCHEMES else None
    return Hop(chosen.address, proto)


class TrustedProxies:
    """ASGI middleware: the client and scheme behind the operator's trusted proxies."""

    def __init__(self, app: ASGIApp, *, networks: Sequence[IpNetwork], header: str) -> None:
        self.app = app
        self.networks = tuple(networks)
        self.header = header

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in {"http", "websocket"} and self.networks:
            client = scope.get("client")
            hop = client_hop(
                client[0] if client else None,
                Headers(scope=scope),
                networks=self.networks,
                header=self.header,
            )
            if hop is not None:
                scope = dict(scope)
                scope["client"] = (hop.address, 0)
                if hop.proto is not None:
                    secure = hop.proto == "https"
                    if scope["type"] == "websocket":
                        scope["scheme"] = "wss" if secure else "ws"
                    else:
                        scope["scheme"] = hop.proto
        await self.app(scope, receive, send)
