"""The demo's client applications, the tokens it has issued, and the OAuth token endpoint."""

from __future__ import annotations

import base64
import binascii
import secrets
import threading
import time
from dataclasses import dataclass
from urllib.parse import parse_qs, unquote_plus

from .responses import Answer, ApiError, oauth_error

DEMO_CLIENT_ID = "demo-client"
DEMO_CLIENT_SECRET = "demo-secret-do-not-use-in-production"
#: A client application lacking the roles the data endpoints need: every data call answers 403.
LIMITED_CLIENT_ID = "demo-limited"
LIMITED_CLIENT_SECRET = "demo-limited-secret"

#: The second tenant's client application: its own shipments and orders (``--tenant 2``).
SECOND_CLIENT_ID = "demo-client-2"
SECOND_CLIENT_SECRET = "demo-secret-2-do-not-use-in-production"

#: client id → (secret, may read data)
CLIENTS: dict[str, tuple[str, bool]] = {
    DEMO_CLIENT_ID: (DEMO_CLIENT_SECRET, True),
    LIMITED_CLIENT_ID: (LIMITED_CLIENT_SECRET, False),
    SECOND_CLIENT_ID: (SECOND_CLIENT_SECRET, True),
}
#: tenant number → its client application (id, secret)
TENANTS: dict[int, tuple[str, str]] = {
    1: (DEMO_CLIENT_ID, DEMO_CLIENT_SECRET),
    2: (SECOND_CLIENT_ID, SECOND_CLIENT_SECRET),
}
#: client id → the tenant whose data it reads
TENANT_OF: dict[str, int] = {DEMO_CLIENT_ID: 1, LIMITED_CLIENT_ID: 1, SECOND_CLIENT_ID: 2}


@dataclass(frozen=True)
class _Grant:
    client_id: str
    issued_at: float  # time.monotonic()


class TokenStore:
    """Issued access tokens; a token is good for ``lifetime`` seconds or until invalidated."""

    def __init__(self, lifetime: float) -> None:
        self.lifetime = lifetime
        self.issued = 0
        self._grants: dict[str, _Grant] = {}
        self._lock = threading.Lock()

    def issue(self, client_id: str) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._grants[token] = _Grant(client_id, time.monotonic())
            self.issued += 1
        return token

    def invalidate(self) -> None:
        with self._lock:
            self._grants.clear()

    def authorize(self, authorization: str | None) -> str:
        """Check a data request's ``Authorization`` header; its client id, else ApiError 401 or
        403."""
        scheme, _, token = (authorization or "").strip().partition(" ")
        challenge = {"WWW-Authenticate": 'Bearer realm="project44"'}
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(
                401,
                "Full authentication is required to access this resource",
                diagnostic="Send 'Authorization: Bearer <access token>'.",
                source="Authorization",
                headers=challenge,
            )
        with self._lock:
            grant = self._grants.get(token.strip())
            if grant and time.monotonic() - grant.issued_at >= self.lifetime:
                del self._grants[token.strip()]
                grant = None
                reason = "The access token has expired."
            else:
                reason = "The access token is unknown or was revoked."
        if grant is None:
            raise ApiError(
                401,
                "Invalid access token",
                diagnostic=reason,
                source="Authorization",
                headers=challenge,
            )
        if not CLIENTS[grant.client_id][1]:
            raise ApiError(
                403,
                "Access is denied",
                diagnostic=(
                    f"The client application app-{grant.client_id}"
                    "@client-applications.project44.com lacks a role this resource "
                    "needs; grant it in project44's user management."
                ),
                source="Authorization",
            )
        return grant.client_id


def _basic_credentials(authorization: str) -> tuple[str, str] | None:
    """(id, secret) from a Basic header; per RFC 6749 both parts may be form-encoded."""
    scheme, _, encoded = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return ("", "")
    client_id, _, secret = decoded.partition(":")
    return unquote_plus(client_id), unquote_plus(secret)


def token_endpoint(store: TokenStore, method: str, headers: dict[str, str], body: bytes) -> Answer:
    """Answer ``POST /api/v4/oauth2/token`` (client credentials grant) as project44 does."""
    if method != "POST":
        return oauth_error(
            405, "invalid_request", "The token endpoint only accepts POST.", {"Allow": "POST"}
        )
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        return oauth_error(
            400,
            "invalid_request",
            "Send the form with Content-Type: application/x-www-form-urlencoded.",
        )
    try:
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8"), keep_blank_values=True).items()}
    except UnicodeDecodeError:
        return oauth_error(400, "invalid_request", "The form body is not valid UTF-8.")
    grant_type = form.get("grant_type")
    if not grant_type:
        return oauth_error(400, "invalid_request", "Missing grant_type parameter value")
    if grant_type != "client_credentials":
        return oauth_error(
            400,
            "unsupported_grant_type",
            f"Unsupported grant type: {grant_type}; use client_credentials.",
        )

    basic = _basic_credentials(headers.get("authorization", ""))
    in_form = "client_id" in form or "client_secret" in form
    if basic and in_form:
        return oauth_error(
            400,
            "invalid_request",
            "Send client credentials either by HTTP Basic or as form fields, not both.",
        )
    if not basic and not in_form:
        return oauth_error(
            400,
            "invalid_request",
            "Missing client credentials: send them by HTTP Basic or as client_id/client_secret.",
        )
    client_id, secret = basic or (form.get("client_id", ""), form.get("client_secret", ""))
    challenge = {"WWW-Authenticate": 'Basic realm="project44"'}
    known = CLIENTS.get(client_id)
    if known is None:
        return oauth_error(401, "invalid_client", "Client authentication failed", challenge)
    if not secrets.compare_digest(known[0].encode(), secret.encode()):
        return oauth_error(
            401,
            "invalid_client",
            "The client secret supplied for a confidential client is invalid",
            challenge,
        )
    token = store.issue(client_id)
    return Answer(
        200,
        {"access_token": token, "expires_in": max(0, int(store.lifetime)), "token_type": "BEARER"},
        {"Cache-Control": "no-store", "Pragma": "no-cache"},
    )
