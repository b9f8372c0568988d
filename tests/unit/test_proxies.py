"""Whom the forwarded headers are believed from, and which hop is the client."""

from __future__ import annotations

import ipaddress

import pytest
from starlette.datastructures import Headers

from storyline.config import Settings
from storyline.errors import ConfigurationError
from storyline.http.proxies import Hop, client_hop

PROXIES = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("::1/128"))


def _hop(peer: str, header: str = "x-forwarded-for", **headers: str) -> Hop | None:
    raw = Headers({k.replace("_", "-"): v for k, v in headers.items()})
    return client_hop(peer, raw, networks=PROXIES, header=header)


def test_headers_from_a_peer_that_is_no_trusted_proxy_are_ignored() -> None:
    assert _hop("203.0.113.9", x_forwarded_for="198.51.100.1") is None
    assert _hop("127.0.0.1", x_forwarded_for="198.51.100.1") is None
    assert (
        client_hop(
            "10.0.0.1",
            Headers({"x-forwarded-for": "198.51.100.1"}),
            networks=(),
            header="x-forwarded-for",
        )
        is None
    )


def test_the_client_is_the_rightmost_hop_that_is_no_trusted_proxy() -> None:
    # The leftmost entries came from the client itself: anyone can write them.
    chain = "1.1.1.1, 198.51.100.7, 10.0.0.3"
    assert _hop("10.0.0.2", x_forwarded_for=chain) == Hop("198.51.100.7")
    assert _hop("10.0.0.2", x_forwarded_for="10.0.0.9, 10.0.0.3") == Hop("10.0.0.9")
    assert _hop("::1", x_forwarded_for="[2001:db8::5]:4711") == Hop("2001:db8::5")
    assert _hop("10.0.0.2", x_forwarded_for="198.51.100.7:5000") == Hop("198.51.100.7")


def test_a_hop_that_names_no_address_stops_the_walk() -> None:
    assert _hop("10.0.0.2", x_forwarded_for="198.51.100.7, unknown, 10.0.0.3") == Hop("10.0.0.3")
    assert _hop("10.0.0.2", x_forwarded_for="garbage") is None


def test_the_scheme_comes_with_the_client_hop() -> None:
    assert _hop("10.0.0.2", x_forwarded_for="198.51.100.7", x_forwarded_proto="https") == Hop(
        "198.51.100.7", "https"
    )
    assert _hop(
        "10.0.0.2", x_forwarded_for="198.51.100.7, 10.0.0.3", x_forwarded_proto="https, http"
    ) == Hop("198.51.100.7", "https")
    assert _hop("10.0.0.2", x_forwarded_for="198.51.100.7", x_forwarded_proto="gopher") == Hop(
        "198.51.100.7", None
    )


def test_the_standard_forwarded_header_when_configured() -> None:
    value = 'for=1.1.1.1;proto=http, for="[2001:db8::5]:80";proto=https, for=10.0.0.3'
    assert _hop("10.0.0.2", "forwarded", forwarded=value) == Hop("2001:db8::5", "https")
    # Whichever header the proxies do not set, a client could: it is ignored.
    assert _hop("10.0.0.2", "forwarded", x_forwarded_for="198.51.100.7") is None
    assert _hop("10.0.0.2", forwarded="for=198.51.100.7") is None


def test_settings_read_trusted_proxies_and_refuse_nonsense() -> None:
    settings = Settings.from_env(
        {
            "STORYLINE_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.1,::1",
            "STORYLINE_FORWARDED_HEADER": "Forwarded",
        }
    )
    assert settings.trusted_proxies == (
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("192.0.2.1/32"),
        ipaddress.ip_network("::1/128"),
    )
    assert settings.forwarded_header == "forwarded"
    assert Settings.from_env({}).trusted_proxies == ()
    with pytest.raises(ConfigurationError, match="STORYLINE_TRUSTED_PROXIES"):
        Settings.from_env({"STORYLINE_TRUSTED_PROXIES": "proxy.example.org"})
    with pytest.raises(ConfigurationError, match="STORYLINE_FORWARDED_HEADER"):
        Settings.from_env({"STORYLINE_FORWARDED_HEADER": "X-Real-IP"})
    with pytest.raises(ConfigurationError, match="STORYLINE_CSP_FORM_ACTION"):
        Settings.from_env({"STORYLINE_CSP_FORM_ACTION": "https://a.example.org;script-src *"})
