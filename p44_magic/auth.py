"""Masked secrets and the token holder: an ``httpx.Auth`` flow for project44's OAuth 2.0 tokens.

Nothing here knows of IPython. The holder follows project44's advice: fetch a token once, reuse it
for every request, and only when the API answers 401 fetch one new token and resend the request
once. ``expires_in`` is deliberately not used to decide when to renew.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Generator
from typing import Literal

import httpx

from .errors import P44AuthError

AuthStyle = Literal["basic", "form"]
AUTH_STYLES: tuple[str, ...] = ("basic", "form")
MASK = "********"


class Secret:
    """A string that never shows itself: repr/str are masked and it refuses to be pickled."""

    __slots__ = ("_value",)

    def __init__(self, value: str | Secret) -> None:
        self._value = value.reveal() if isinstance(value, Secret) else str(value)

    def reveal(self) -> str:
        """The real value: call only where it goes onto the wire."""
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return f"Secret('{MASK}')"

    def __str__(self) -> str:
        return MASK

    def __format__(self, spec: str) -> str:
        return MASK

    def __reduce__(self):
        raise TypeError("Secret values cannot be pickled")


class TokenHolder(httpx.Auth):
    """Keeps one access token in memory and puts ``Authorization: Bearer …`` on every request.

    On a 401 it fetches one new token and resends the request once; a second 401 is returned to
    the caller (never a loop). Token fetches are single-flight across threads: when many threads
    meet a 401 together, one of them fetches and the others reuse the result.
    """

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str | Secret,
        style: AuthStyle = "basic",
        timeout: httpx.Timeout | float = 30.0,
    ) -> None:
        if style not in AUTH_STYLES:
            raise ValueError(f"auth style must be one of {AUTH_STYLES}, not {style!r}")
        self.token_url = token_url
        self.client_id = client_id
        self.style = style
        # Requests made here do not pass through the client's build_request, so they carry
        # the client's timeouts themselves (else a silent token endpoint would hang forever).
        self.timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self._secret = Secret(client_secret)
        self._lock = threading.Lock()
        self._token: Secret | None = None
        self._generation = 0  # bumps on every new token; tells threads whether someone renewed
        # The generation a 401 was seen for: when it is the current one, nobody reuses the
        # token. A number, not a flag, so a late mark for an old token changes nothing.
        self._rejected = -1
        self._mark_lock = threading.Lock()  # tiny, unlike _lock, which is held while fetching
        self._fetched_at: float | None = None
        self.token_fetches = 0

    def __repr__(self) -> str:
        state = "token held" if self._token else "no token"
        return (
            f"<TokenHolder client_id={self.client_id!r} style={self.style!r} "
            f"secret={MASK} {state}, {self.token_fetches} fetches>"
        )

    def _reject(self, generation: int) -> None:
        """Mark a token generation as rejected; the mark only ever moves forward."""
        with self._mark_lock:
            self._rejected = max(self._rejected, generation)

    @property
    def _stale(self) -> bool:
        return self._rejected == self._generation

    @property
    def has_token(self) -> bool:
        return self._token is not None and not self._stale

    @property
    def token_age(self) -> float | None:
        """Seconds since the current token was issued, or None without one."""
        return None if self._fetched_at is None else time.monotonic() - self._fetched_at

    def invalidate(self) -> None:
        """Treat the current token as rejected: the next request fetches a new one."""
        self._reject(self._generation)

    def forget(self) -> None:
        """Drop the token and the secret (logout)."""
        with self._lock:
            self._token = None
            self._secret = Secret("")
            self._fetched_at = None
            self._rejected = -1

    def token_request(self) -> httpx.Request:
        """The documented token request, with the credentials in exactly one place."""
        form = {"grant_type": "client_credentials"}
        headers = {"Accept": "application/json"}
        if self.style == "basic":
            pair = f"{self.client_id}:{self._secret.reveal()}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode("ascii")
        else:
            form |= {"client_id": self.client_id, "client_secret": self._secret.reveal()}
        return httpx.Request(
            "POST",
            self.token_url,
            data=form,
            headers=headers,
            extensions={"timeout": self.timeout.as_dict()},
        )

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        token, generation = self._token, self._generation
        if token is None or self._stale:
            with self._lock:  # single flight: re-check once we hold the lock
                if self._token is None or self._stale:
                    yield from self._fetch()
                token, generation = self._token, self._generation
        request.headers["Authorization"] = f"Bearer {token.reveal()}"
        response = yield request
        if response.status_code != 401:
            return
        # Give the connection back before waiting for the lock: the thread that renews needs
        # one, and threads holding theirs while they wait would starve it.
        response.read()
        response.close()
        self._reject(generation)
        with self._lock:
            if generation == self._generation:  # nobody renewed since we sent it
                yield from self._fetch()
            token = self._token
        request.headers["Authorization"] = f"Bearer {token.reveal()}"
        yield request

    async def async_auth_flow(self, request: httpx.Request):  # pragma: no cover - sync only
        raise NotImplementedError("p44_magic uses a synchronous httpx.Client")
        yield request

    def fetch_flow(self) -> Generator[httpx.Request, httpx.Response, None]:
        """Fetch a new token now (login): yields the token request, takes its response."""
        with self._lock:
            yield from self._fetch()

    def _fetch(self) -> Generator[httpx.Request, httpx.Response, None]:
        """Send the token request (caller holds the lock) and keep the token it returns."""
        response = yield self.token_request()
        response.read()
        self.token_fetches += 1
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200:
            raise P44AuthError.from_token_response(response.status_code, body, self.token_url)
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise P44AuthError(
                f"Login failed: the token endpoint at {self.token_url} answered 200 "
                "without an access_token.",
                status_code=response.status_code,
                hint="The URL may not be a project44 API; check --env / --base-url.",
            )
        self._token = Secret(token)
        self._fetched_at = time.monotonic()
        self._generation += 1
