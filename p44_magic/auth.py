"""Masked secrets and the token holder: an ``httpx.Auth`` flow for project44's OAuth 2.0 tokens.

Nothing here knows of IPython. The holder follows project44's advice: fetch a token once, reuse it
for every request, and only when the API answers 401 fetch one new token and resend the request
once. ``expires_in`` is deliberately not used to decide when to renew.
"""

from __future__ import annotations

import base64
import hmac
import os
import re
import threading
import time
from collections.abc import Generator
from typing import Any, Literal

import httpx
import msgspec

from .answers import decoded_chunks
from .errors import P44AuthError
from .retries import parse_retry_after
from .scrub import MASK, remember

AuthStyle = Literal["basic", "form"]
AUTH_STYLES: tuple[str, ...] = ("basic", "form")


def _xor(data: bytes, pad: bytes) -> bytes:
    return (int.from_bytes(data, "big") ^ int.from_bytes(pad, "big")).to_bytes(len(data), "big")


class Secret:
    """A string that never shows itself: repr/str are masked and it refuses to be pickled.

    It does not even hold the string: only the UTF-8 bytes XOR-ed with a random pad of the same
    length, so nothing that walks objects (a debugger's locals, a serialiser, a traceback
    printer) finds the value in it. ``reveal()`` rebuilds it where it goes onto the wire.
    """

    __slots__ = ("_masked", "_pad")

    def __init__(self, value: str | Secret) -> None:
        data = (value.reveal() if isinstance(value, Secret) else str(value)).encode("utf-8")
        self._pad = os.urandom(len(data))
        self._masked = _xor(data, self._pad)

    def reveal(self) -> str:
        """The real value: call only where it goes onto the wire."""
        return _xor(self._masked, self._pad).decode("utf-8")

    def __bool__(self) -> bool:
        return bool(self._masked)

    def __repr__(self) -> str:
        return f"Secret('{MASK}')"

    def __str__(self) -> str:
        return MASK

    def __format__(self, spec: str) -> str:
        return MASK

    def __reduce__(self):
        raise TypeError("Secret values cannot be pickled")

    def __getstate__(self):  # serialisers that skip __reduce__ (jsonpickle) ask for this
        raise TypeError("Secret values cannot be serialised")


class TokenHolder(httpx.Auth):
    """Keeps one access token in memory and puts ``Authorization: Bearer …`` on every request.

    On a 401 it fetches one new token and resends the request once; a second 401 is returned to
    the caller (never a loop). Token fetches are single-flight across threads: when many threads
    meet a 401 together, one of them fetches and the others reuse the result.

    The invariant about rejected tokens, exactly: **once the holder has seen a 401 for a token,
    it never attaches that token to a request again** (neither a new request nor a resend).
    A request that had the token attached before that 401 was seen may still be on its way, so
    at most one request per concurrent sender can reach the server with a token after its
    first 401 was answered; none of them is sent again with it.

    How: the token and its generation live in one tuple (one atomic read: a thread never pairs
    an old token with a newer generation, which once let a rejected token look current), and
    "is it rejected?" and "attach it" happen under one small lock that also guards the marking.
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
        if self._secret:
            remember(self._secret.reveal(), client_id)  # masked wherever a server echoes it
        self._refusal: P44AuthError | None = None  # the endpoint refused these credentials
        self._lock = threading.Lock()  # held while fetching: single flight
        # (token, generation) as one value; the generation bumps on every new token and tells
        # threads whether someone renewed since they read it.
        self._current: tuple[Secret | None, int] = (None, 0)
        # The newest generation a 401 was seen for. A number, not a flag, so a late mark for
        # an old token changes nothing.
        self._rejected = -1
        self._mark_lock = threading.Lock()  # tiny: guards marking, and checking-then-attaching
        self._fetched_at: float | None = None
        self.token_fetches = 0

    def __repr__(self) -> str:
        state = "token held" if self._current[0] else "no token"
        return (
            f"<TokenHolder client_id={self.client_id!r} style={self.style!r} "
            f"secret={MASK} {state}, {self.token_fetches} fetches>"
        )

    def __getstate__(self):
        raise TypeError("a TokenHolder holds credentials and cannot be serialised")

    def __reduce__(self):
        raise TypeError("a TokenHolder holds credentials and cannot be pickled")

    def _reject(self, generation: int) -> None:
        """Mark a token generation as rejected; the mark only ever moves forward."""
        with self._mark_lock:
            self._rejected = max(self._rejected, generation)

    def _usable(self) -> tuple[Secret, int] | None:
        """The current token and its generation, unless there is none or a 401 was seen for it."""
        token, generation = self._current
        return None if token is None or self._rejected >= generation else (token, generation)

    def _attach(self, request: httpx.Request) -> int | None:
        """Put the current token on ``request`` unless it is known to be rejected.

        Returns the token's generation, or None (nothing attached: fetch first). Checking and
        attaching under the mark lock is what makes the class invariant exact.
        """
        with self._mark_lock:
            usable = self._usable()
            if usable is None:
                return None
            token, generation = usable
            request.headers["Authorization"] = f"Bearer {token.reveal()}"
            return generation

    @property
    def has_token(self) -> bool:
        return self._usable() is not None

    @property
    def token_age(self) -> float | None:
        """Seconds since the current token was issued, or None without one."""
        return None if self._fetched_at is None else time.monotonic() - self._fetched_at

    def holds_secret(self, secret: str | Secret) -> bool:
        """Whether ``secret`` is the secret this holder sends (compared, never shown)."""
        given = secret.reveal() if isinstance(secret, Secret) else str(secret)
        return hmac.compare_digest(given.encode(), self._secret.reveal().encode())

    def invalidate(self) -> None:
        """Treat the current token as rejected: the next request fetches a new one."""
        self._reject(self._current[1])

    def forget(self) -> None:
        """Drop the token and the secret (logout)."""
        with self._lock:
            with self._mark_lock:
                self._current = (None, self._current[1])
            self._secret = Secret("")
            self._fetched_at = None

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
        generation = self._attach(request)
        if generation is None:
            generation = yield from self._renewed(request)
        response = yield request
        if response.status_code != 401:
            return
        # Give the connection back before waiting for the lock: the thread that renews needs
        # one, and threads holding theirs while they wait would starve it. The 401's body is
        # not needed: read only while small (so the connection can be reused), never whole.
        read_capped(response, _REJECTION_READ_LIMIT)
        self._reject(generation)
        generation = yield from self._renewed(request)
        response = yield request
        if response.status_code == 401:  # the 401 stands; the next request fetches anew
            self._reject(generation)

    def _renewed(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, int]:
        """Attach a token not known to be rejected, fetching one (single flight) if needed."""
        with self._lock:  # one thread fetches; the others wait here and reuse its token
            generation = self._attach(request)
            for _ in range(2):  # a token rejected the moment it was issued gets one more try
                if generation is not None:
                    break
                yield from self._fetch()
                generation = self._attach(request)
        if generation is None:
            raise P44AuthError(
                "The API rejected a freshly issued token at once.",
                hint="Check the client application's roles in project44's user management, "
                "or log in again with %p44_login.",
            )
        return generation

    async def async_auth_flow(self, request: httpx.Request):  # pragma: no cover - sync only
        raise NotImplementedError("p44_magic uses a synchronous httpx.Client")
        yield request

    def fetch_flow(self) -> Generator[httpx.Request, httpx.Response, None]:
        """Fetch a new token now (login): yields the token request, takes its response. A
        login tries credentials the endpoint refused before once more."""
        with self._lock:
            self._refusal = None
            yield from self._fetch()

    def _fetch(self) -> Generator[httpx.Request, httpx.Response, None]:
        """Send the token request (caller holds the lock) and keep the token it returns.

        Once the endpoint has refused the credentials (400, 401, 403), they are not sent again
        until a new login: every request fails at once with that refusal, so a run of many
        requests cannot lock the client application out by resending a rotated secret."""
        if self._refusal is not None:
            raise self._refusal
        response = yield self.token_request()
        content = read_capped(response, _TOKEN_ANSWER_LIMIT)
        self.token_fetches += 1
        if content is None:
            raise P44AuthError(
                f"Login failed: the token endpoint at {self.token_url} answered more than "
                f"{_TOKEN_ANSWER_LIMIT >> 20} MB (or a body that does not decode), so it was "
                "cut off.",
                status_code=response.status_code,
                hint="The URL may not be a project44 API; check --env / --base-url.",
            )
        body = _json_or_none(content)
        if response.status_code != 200:
            error = P44AuthError.from_token_response(response.status_code, body, self.token_url)
            error.retry_after = retry_after_seconds(response)
            if error.refused:
                self._refusal = P44AuthError(
                    error.message,
                    status_code=error.status_code,
                    error=error.error,
                    error_description=error.error_description,
                    hint="These credentials were refused; they are not sent again until you "
                    "log in again (%p44_login, or P44Client.login()).",
                )
            raise error
        token = body.get("access_token") if isinstance(body, dict) else None
        if isinstance(token, str) and token and not _HEADER_SAFE.fullmatch(token):
            raise P44AuthError(
                f"Login failed: the token endpoint at {self.token_url} answered an access_token "
                "that cannot be sent in a header (not printable ASCII).",
                status_code=response.status_code,
                hint="The URL may not be a project44 API; check --env / --base-url.",
            )
        if not isinstance(token, str) or not token:
            raise P44AuthError(
                f"Login failed: the token endpoint at {self.token_url} answered 200 "
                "without an access_token.",
                status_code=response.status_code,
                hint="The URL may not be a project44 API; check --env / --base-url.",
            )
        remember(token)
        with self._mark_lock:
            self._current = (Secret(token), self._current[1] + 1)
        self._fetched_at = time.monotonic()


_HEADER_SAFE = re.compile(r"[\x21-\x7e]+")  # printable ASCII, no spaces: a Bearer token
_TOKEN_ANSWER_LIMIT = 1 << 20  # a token answer is a few hundred bytes
_REJECTION_READ_LIMIT = 64 << 10  # of a 401's body, read only to reuse the connection


def read_capped(response: httpx.Response, limit: int) -> bytes | None:
    """A token-flow answer's body, decoded a megabyte at a time and cut off past ``limit``
    bytes (None then, and the connection closed): a gzip bomb or an endless stream from the
    token endpoint, or under a 401, ends here instead of filling memory or holding the login.
    """
    if response.is_stream_consumed:  # read already (an answer made in memory)
        content = response.content
        return None if len(content) > limit else content
    chunks, size = [], 0
    try:
        for chunk in decoded_chunks(response):
            size += len(chunk)
            if size > limit:
                break
            chunks.append(chunk)
    except httpx.DecodingError:
        chunks, size = [], limit + 1  # not readable: no body
    content = None if size > limit else b"".join(chunks)
    # httpx reads an answer the flow has seen once more when it keeps it in the history: give
    # it what was read (httpx keeps a read body there), never the rest of the stream.
    response._content = content or b""
    response.close()
    return content


def retry_after_seconds(response: httpx.Response) -> float | None:
    """A 429's or 503's ``Retry-After``, in seconds."""
    if response.status_code not in (429, 503):
        return None
    value = response.headers.get("Retry-After")
    return parse_retry_after(value) if value else None


def _json_or_none(raw: bytes) -> Any:
    """The token endpoint's JSON answer, or None when it is not JSON (or absurd)."""
    if not raw or len(raw) > _TOKEN_ANSWER_LIMIT:
        return None
    try:
        return msgspec.json.decode(raw)
    except (msgspec.DecodeError, msgspec.ValidationError, RecursionError):
        return None
