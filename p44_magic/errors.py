"""The P44Error family: every failure a user can cause, with a short message and what to do.

Messages never contain a client secret or an access token: they are built only from the
status, method, URL and project44's own error fields.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from .scrub import scrub, scrub_json

_STATUS_HINTS = {
    400: "Check the request body and query parameters against the API reference.",
    401: "The API refused a freshly issued token: check the client application's roles in "
    "project44's user management, or log in again with %p44_login.",
    403: "The client application lacks the role for this request: grant it in project44's "
    "user management.",
    404: "Check the path and the ids in it.",
    405: "Check the HTTP method for this path.",
    409: "The request conflicts with existing data; check the identifiers.",
    429: "project44 is rate limiting this client; wait a little and run the cell again.",
}


class P44Error(Exception):
    """Base of every error p44_magic raises on purpose. ``str()`` is safe to show to a user.

    ``failures``: for an error that ended an ``--each`` run, that run's failures table (the
    failed values and those not tried), else None."""

    failures: Any = None

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n{self.hint}" if self.hint else self.message

    def _render_traceback_(self) -> list[str]:
        """What IPython shows instead of a traceback: the class and the message, no frames.

        A kernel sends these lines as the error output's ``traceback`` (``ename`` the class
        name, ``evalue`` the message), which is what papermill and nbclient report."""
        first, *rest = str(self).splitlines() or [""]
        return [f"{type(self).__name__}: {first}", *rest]


class P44UsageError(P44Error):
    """Bad magic options, request-cell syntax, unknown ``{{name}}`` or refused URL."""


class P44AuthError(P44Error):
    """The token endpoint refused or failed: carries OAuth's ``error`` / ``error_description``."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        error: str | None = None,
        error_description: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.status_code = status_code
        self.error = error
        self.error_description = error_description
        self.retry_after: float | None = None  # a 429's Retry-After, in seconds

    @property
    def refused(self) -> bool:
        """The token endpoint refused the credentials themselves (sending them again cannot
        help; a rotated or mistyped secret)."""
        return self.status_code in REFUSED_CREDENTIALS

    @classmethod
    def from_token_response(cls, status_code: int, body: Any, url: str) -> P44AuthError:
        """Build from the token endpoint's answer (OAuth-style body when there is one)."""
        error = description = None
        if isinstance(body, dict):
            error = server_text(body.get("error"))
            description = server_text(body.get("error_description")) or server_text(
                body.get("errorMessage")
            )
        words = ": ".join(w for w in (error, description) if w)
        message = f"Login failed: token endpoint answered HTTP {status_code}"
        message += f" ({words})" if words else ""
        message += f" at {url}."
        if status_code in (400, 401):
            hint = "Check the client id and secret (and --auth basic|form) and log in again."
        elif status_code == 403:
            hint = "This client application may not request tokens; check it in project44."
        else:
            hint = "The token service had a problem; try again in a moment."
        return cls(
            message,
            status_code=status_code,
            error=error,
            error_description=description,
            hint=hint,
        )


@dataclass(frozen=True)
class ServerMessage:
    """One item of an answer's ``errors[]``: often the specific thing to fix ("Appointment in
    the Past"), with ``diagnostic`` naming the field, while ``errorMessage`` is generic."""

    message: str
    severity: str | None = None
    diagnostic: str | None = None
    source: str | None = None

    def __str__(self) -> str:
        """The message, its severity unless ERROR, and its diagnostic."""
        text = self.message
        if self.severity and self.severity.upper() != "ERROR":
            text = f"{self.severity}: {text}"
        return f"{text} (diagnostic: {self.diagnostic})" if self.diagnostic else text

    @classmethod
    def from_item(cls, item: Any) -> ServerMessage | None:
        message = server_text(item.get("message")) if isinstance(item, dict) else None
        if not message:
            return None
        return cls(
            message=message,
            severity=server_text(item.get("severity"), 20),
            diagnostic=server_text(item.get("diagnostic")),
            source=server_text(item.get("source")),
        )


class P44HTTPError(P44Error):
    """A data endpoint answered 4xx/5xx. Carries project44's error fields for support:
    ``error_message``, ``errors`` (the ``errors[]`` items as :class:`ServerMessage`, with
    severity and diagnostic; ``messages`` holds just their texts) and ``support_reference_id``.
    """

    def __init__(
        self,
        *,
        status_code: int,
        method: str,
        url: str,
        reason: str = "",
        error_message: str | None = None,
        errors: list[ServerMessage] | None = None,
        support_reference_id: str | None = None,
        body: Any = None,
        attempts: int = 1,
        did_you_mean: str | None = None,
        known_path: bool = True,
    ) -> None:
        self.status_code = status_code
        self.method = method
        self.url = url
        self.reason = server_text(reason, REASON_LIMIT) or ""  # server text: scrubbed, bounded
        self.error_message = error_message
        self.errors = list(errors or [])
        self.messages = [item.message for item in self.errors]
        self.support_reference_id = support_reference_id
        self.body = scrub_json(body)
        self.attempts = attempts
        self.did_you_mean = did_you_mean  # "GET /api/v4/…": the known path a 404 most likely meant
        head = f"HTTP {status_code} {self.reason}".rstrip() + f" from {method} {url}"
        if error_message:
            head += f": {error_message}"
        lines = [head]
        shown = list(dict.fromkeys(str(i) for i in self.errors if i.message != error_message))
        lines += [f"  - {m}" for m in shown[:SERVER_ITEMS_SHOWN]]
        if len(shown) > SERVER_ITEMS_SHOWN:
            lines.append(f"  (and {len(shown) - SERVER_ITEMS_SHOWN} more in the answer's errors[])")
        if did_you_mean:
            lines.append(f"Did you mean {did_you_mean}?")
        if support_reference_id and known_path:
            lines.append(
                f"supportReferenceId: {support_reference_id} (quote it to project44 support)"
            )
        elif support_reference_id:
            lines.append(f"supportReferenceId: {support_reference_id}")
        if attempts > 1:
            lines.append(f"Tried {attempts} times.")
        hint = _STATUS_HINTS.get(status_code)
        if hint is None and status_code >= 500:
            hint = "project44 had a passing problem; run the cell again in a moment."
        super().__init__("\n".join(lines), hint=hint)

    @property
    def summary(self) -> str:
        """One line that starts with what went wrong: ``HTTP 404: Shipment not found (GET …)``,
        for tables where the end of a line is cut off."""
        said = self.error_message or self.reason or "no message"
        return f"HTTP {self.status_code}: {said} ({self.method} {self.url})"

    @classmethod
    def from_answer(
        cls,
        *,
        status_code: int,
        reason: str,
        method: str,
        url: str,
        body: Any,
        attempts: int = 1,
        did_you_mean: str | None = None,
        known_path: bool = True,
    ) -> P44HTTPError:
        """Build from a parsed error body in project44's documented shape (or anything else)."""
        error_message = support_id = None
        errors: list[ServerMessage] = []
        if isinstance(body, dict):
            error_message = server_text(body.get("errorMessage")) or server_text(
                body.get("error_description")
            )
            support_id = server_text(body.get("supportReferenceId"))
            items = body.get("errors")
            for item in items[:10_000] if isinstance(items, list) else []:
                found = ServerMessage.from_item(item)
                if found is not None:
                    errors.append(found)
        elif isinstance(body, str) and body.strip() and "<html" not in body[:200].lower():
            error_message = server_text(body.strip().splitlines()[0][:200])
        return cls(
            status_code=status_code,
            method=method,
            url=url,
            reason=reason,
            error_message=error_message,
            errors=errors,
            support_reference_id=support_id,
            body=body,
            attempts=attempts,
            did_you_mean=did_you_mean,
            known_path=known_path,
        )


class P44ConnectionError(P44Error):
    """The server could not be reached, or the connection broke."""


class P44TimeoutError(P44ConnectionError):
    """No answer within the timeout."""


class P44PagingError(P44Error):
    """``--all-pages`` could not return every row: never partial data silently."""


class P44Interrupted(P44Error):
    """The kernel's interrupt (KeyboardInterrupt) stopped a call of many requests.

    ``done`` of ``total`` requests had finished; ``partial`` holds the rows so far (a DataFrame,
    or what the call returns), ``None`` when there were none."""

    def __init__(self, done: int, total: int, partial: Any = None) -> None:
        self.done = done
        self.total = total
        self.partial = partial
        super().__init__(f"Interrupted after {done:,} of {total:,} requests.")


class P44Warning(UserWarning):
    """A note for a Python API user: project44's ``infoMessages``, a capped wait, a hint."""


REFUSED_CREDENTIALS = frozenset({400, 401, 403})  # token endpoint statuses that refuse them
SERVER_TEXT_LIMIT = 300  # characters of one server-written item shown in a message
REASON_LIMIT = 80  # an HTTP reason phrase ("Not Found") is a few words
SERVER_ITEMS_SHOWN = 3  # errors[] items shown
_ESCAPES = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)?|.)?")
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]+")


def server_text(value: Any, limit: int = SERVER_TEXT_LIMIT) -> str | None:
    """Text a server wrote, made safe to show: credentials masked (see :mod:`p44_magic.scrub`),
    escape sequences (ANSI colours, OSC 52 clipboard writes) and control characters removed,
    whitespace folded, cut to ``limit``."""
    if value is None:
        return None
    text = scrub(str(value)[: limit * 4])
    text = _CONTROLS.sub(" ", _ESCAPES.sub("", text))
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


Call = TypeVar("Call", bound=Callable[..., Any])


def clean_failures(call: Call) -> Call:
    """Raise a P44Error out of ``call`` without what it dragged along: its traceback (whose frames
    held the requests and answers, credentials included) and its exception chain."""

    @functools.wraps(call)
    def clean(*args: Any, **kwargs: Any) -> Any:
        try:
            return call(*args, **kwargs)
        except P44Error as error:
            failure = error
        del args, kwargs  # this frame stays in the traceback: not with the call's arguments
        failure.__traceback__ = failure.__context__ = failure.__cause__ = None
        raise failure  # outside the handler: no new chain either

    return clean  # type: ignore[return-value]
