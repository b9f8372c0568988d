"""A provider under the tests' control, for the id_tokens no honest provider
sends: wrong issuer, audience, nonce, signature, expiry, rotated keys.

It serves discovery, its keys and a token endpoint (which checks PKCE) on a
loopback port, from a thread; the tests play the browser's part themselves.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey


@dataclass
class Grant:
    nonce: str
    code_challenge: str
    used: bool = False


@dataclass
class RogueIdP:
    client_id: str = "storyline-test"
    client_secret: str = "rogue-secret"
    port: int = 0
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "k1"}))
    # Claims to override in the next id_tokens (None deletes a claim).
    overrides: dict[str, Any] = field(default_factory=dict)
    # A key to sign with instead of the published one (a forgery).
    sign_with: RSAKey | None = None
    subject: str = "rogue-user-1"
    email: str | None = "rogue@example.org"
    name: str = "Rogue User"
    grants: dict[str, Grant] = field(default_factory=dict)
    jwks_fetches: int = 0

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rotate(self, kid: str) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": kid})

    def grant(self, nonce: str, code_challenge: str) -> str:
        """What the provider does when the person approves: a fresh code."""
        code = secrets.token_urlsafe(16)
        self.grants[code] = Grant(nonce=nonce, code_challenge=code_challenge)
        return code

    def id_token(self, nonce: str) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": self.subject,
            "aud": self.client_id,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce,
            "name": self.name,
        }
        if self.email is not None:
            claims.update(email=self.email, email_verified=True)
        for key, value in self.overrides.items():
            if value is None:
                claims.pop(key, None)
            else:
                claims[key] = value
        signer = self.sign_with or self.key
        header = {"alg": "RS256", "kid": signer.kid}
        return jwt.encode(header, claims, signer)

    def metadata(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
        }

    def jwks(self) -> dict[str, Any]:
        self.jwks_fetches += 1
        return KeySet([self.key]).as_dict(private=False)

    def exchange(self, form: dict[str, str], auth: str | None) -> tuple[int, dict[str, Any]]:
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        if auth != f"Basic {expected}":
            return 401, {"error": "invalid_client"}
        grant = self.grants.get(form.get("code", ""))
        if grant is None or grant.used:
            return 400, {"error": "invalid_grant", "error_description": "code unknown or used"}
        grant.used = True
        verifier = form.get("code_verifier", "")
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        if challenge != grant.code_challenge:
            return 400, {"error": "invalid_grant", "error_description": "PKCE check failed"}
        return 200, {
            "access_token": secrets.token_urlsafe(16),
            "token_type": "Bearer",
            "expires_in": 300,
            "id_token": self.id_token(grant.nonce),
        }


def _handler(idp: RogueIdP) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _json(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path == "/.well-known/openid-configuration":
                self._json(200, idp.metadata())
            elif self.path == "/jwks":
                self._json(200, idp.jwks())
            else:
                self._json(404, {"error": "not_found"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            if self.path != "/token":
                self._json(404, {"error": "not_found"})
                return
            status, body = idp.exchange(form, self.headers.get("Authorization"))
            self._json(status, body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


class RunningIdP:
    def __init__(self, idp: RogueIdP) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(idp))
        idp.port = self.server.server_address[1]
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
