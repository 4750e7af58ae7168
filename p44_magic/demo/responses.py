"""The demo's answers: a status/body/headers value and the two error body styles project44 uses.

Data endpoints answer errors in project44's standard body; the token endpoint answers OAuth-style.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any


@dataclass
class Answer:
    """One HTTP answer, always JSON."""

    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> bytes:
        return json.dumps(self.body, separators=(",", ":")).encode("utf-8")


class ApiError(Exception):
    """Raised by a handler to answer with project44's standard error body."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        diagnostic: str = "",
        source: str = "",
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.answer = error_answer(
            status, message, diagnostic=diagnostic, source=source, headers=headers
        )


def error_answer(
    status: int,
    message: str,
    *,
    diagnostic: str = "",
    source: str = "",
    headers: dict[str, str] | None = None,
) -> Answer:
    """project44's standard error body with a fresh ``supportReferenceId``."""
    body = {
        "httpStatusCode": status,
        "httpMessage": HTTPStatus(status).phrase,
        "errorMessage": message,
        "errors": [
            {
                "severity": "ERROR",
                "message": message,
                "diagnostic": diagnostic or message,
                "source": source or "demo-api",
            }
        ],
        "supportReferenceId": uuid.uuid4().hex,
    }
    return Answer(status, body, dict(headers or {}))


def oauth_error(
    status: int, error: str, description: str, headers: dict[str, str] | None = None
) -> Answer:
    """An OAuth 2 error body, as the token endpoint answers."""
    return Answer(
        status,
        {"error": error, "error_description": description},
        {"Cache-Control": "no-store", **(headers or {})},
    )
