"""When to send a request again, and how failures of the transport become ``P44Error``s.

:class:`RetryPolicy` is a small immutable value in the style of urllib3's ``Retry``: which
statuses are retried for every method and which only for idempotent requests, which requests
count as idempotent, the backoff, and how a server's ``Retry-After`` is read and capped. The
sending loop (:func:`send_with_retries`) consults it; :func:`transport_error` is the one place
that maps httpx's exceptions to ours.
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from .environments import is_loopback
from .errors import P44AuthError, P44ConnectionError, P44Error, P44TimeoutError
from .pacing import pause

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_ANY_METHOD = frozenset({429})  # the request was not processed
RETRY_IDEMPOTENT = frozenset({500, 502, 503, 504, 520, 521, 522, 523, 524})
SLOW_DOWN = 429  # and a 503 with Retry-After: the wait holds every request of the client


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to wait before sending a request again."""

    retries: int = 3
    backoff: float = 0.5
    max_retry_after: float = 60.0
    any_method: frozenset[int] = RETRY_ANY_METHOD
    idempotent_only: frozenset[int] = RETRY_IDEMPOTENT
    idempotent_methods: frozenset[str] = IDEMPOTENT_METHODS

    def is_idempotent(self, method: str, path: str) -> bool:
        """Safe to resend: the idempotent methods, and POST ``…/search`` (it only reads)."""
        return method.upper() in self.idempotent_methods or path.endswith("/search")

    def retries_status(self, status: int, idempotent: bool) -> bool:
        return status in self.any_method or (idempotent and status in self.idempotent_only)

    def backoff_delay(self, attempt: int) -> float:
        """Exponential backoff with full jitter."""
        return random.uniform(0, self.backoff * 2 ** (attempt - 1))

    def delay(self, response: httpx.Response, attempt: int) -> tuple[float, str | None]:
        """``Retry-After`` (seconds or HTTP date) when given, capped, with a note when capped;
        else backoff."""
        header = response.headers.get("Retry-After")
        asked = parse_retry_after(header) if header else None
        if asked is None:
            return self.backoff_delay(attempt), None
        if asked > self.max_retry_after:
            return self.max_retry_after, (
                f"The server asked to wait {asked:.0f} s (Retry-After); waited "
                f"{self.max_retry_after:.0f} s instead (%config P44Magics.max_retry_after)."
            )
        return asked, None


def parse_retry_after(value: str) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or an HTTP date), or None."""
    value = value.strip()
    if value.isascii() and value.isdigit():  # "²".isdigit() is True too, but float() refuses it
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


@dataclass(frozen=True)
class Target:
    """What a failure message names: the request and the configured host."""

    method: str
    url: str
    host: str
    timeout: float


def send_with_retries(
    policy: RetryPolicy,
    target: Target,
    send: Callable[[], Any],
    idempotent: bool,
    notes: list[str],
    hold: Callable[[float], None] | None = None,
) -> Any:
    """Run ``send`` with bounded retries: 429 always, 5xx and broken connections only when
    ``idempotent``; a failing token endpoint is retried too (the data request was not sent).
    A 429, or a 503 with ``Retry-After``, calls ``hold(wait)`` (the client's shared rate gate).
    Notes for the user (capped waits) are appended to ``notes``."""
    attempt = 0
    while True:
        attempt += 1
        may_retry = attempt <= policy.retries
        try:
            result = send()
        except P44AuthError as error:
            wait = _token_wait(policy, error, attempt, hold)
            if not (may_retry and policy.retries_status(error.status_code or 0, True)):
                raise
            pause(wait)
            continue
        except (httpx.TransportError, httpx.DecodingError) as error:
            failure = transport_error(error, target, idempotent)
            if failure is not None or not may_retry:
                raise failure or broken_connection(error, target, idempotent) from None
            pause(policy.backoff_delay(attempt))
            continue
        if isinstance(result, httpx.Response):
            retry = may_retry and policy.retries_status(result.status_code, idempotent)
            if retry or (hold is not None and _slows_everyone(result)):
                wait, note = policy.delay(result, attempt)
                if hold is not None and _slows_everyone(result):
                    hold(wait)
                if retry:
                    notes.extend([note] if note else [])
                    pause(wait)
                    continue
            result.p44_attempts = attempt
        return result


def _token_wait(
    policy: RetryPolicy, error: P44AuthError, attempt: int, hold: Callable[[float], None] | None
) -> float:
    """How long to wait after the token endpoint failed: its Retry-After (capped) or backoff.
    Its 429 (or 503 with Retry-After) holds every request of the client, as a data one does."""
    asked = error.retry_after
    wait = policy.backoff_delay(attempt) if asked is None else min(asked, policy.max_retry_after)
    slows = error.status_code == SLOW_DOWN or (error.status_code == 503 and asked is not None)
    if hold is not None and slows:
        hold(wait)
    return wait


def _slows_everyone(response: httpx.Response) -> bool:
    status = response.status_code
    return status == SLOW_DOWN or (status == 503 and "Retry-After" in response.headers)


def transport_error(error: Exception, target: Target, idempotent: bool) -> P44Error | None:
    """The P44Error for a failure that is never retried, or None when a retry may help."""
    if isinstance(error, httpx.TimeoutException):
        kind = "connect" if isinstance(error, httpx.ConnectTimeout) else "answer"
        return P44TimeoutError(
            f"No {kind} within {target.timeout:g} s for {target.method} {target.url}.",
            hint="The server is slow or unreachable; raise %config P44Magics.timeout or try again.",
        )
    if isinstance(error, httpx.ConnectError) and "CERTIFICATE_VERIFY_FAILED" in str(error):
        return P44ConnectionError(
            f"The TLS certificate of {target.host} is not trusted, so nothing was sent to it.",
            hint="If your network inspects TLS (a company proxy), point SSL_CERT_FILE at its CA "
            "bundle (a .pem file) and log in again; otherwise check the base URL.",
        )
    if isinstance(error, httpx.ConnectError):
        return P44ConnectionError(
            f"Could not connect to {target.host} for {target.method} {target.url}.",
            hint="Check the base URL and your network"
            + (" (is the server running?)." if _on_loopback(target.host) else "."),
        )
    if not idempotent:
        return broken_connection(error, target, idempotent)
    return None


def _on_loopback(host: str) -> bool:
    """A host on this machine (a local server that may not have been started)."""
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return is_loopback(name)


def broken_connection(error: Exception, target: Target, idempotent: bool) -> P44ConnectionError:
    return P44ConnectionError(
        f"The connection broke during {target.method} {target.url} ({type(error).__name__}).",
        hint="Tried several times; check the network and try again."
        if idempotent
        else "Try again; a request that changes data was not resent automatically.",
    )
