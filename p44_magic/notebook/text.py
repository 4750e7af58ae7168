"""The text the magics print: a dry run's request, a result's size, the session status."""

from __future__ import annotations

from typing import Any

from ..answers import masked_headers
from ..request import HttpRequest
from ..words import counted


def status_text(status: dict[str, Any]) -> str:
    """``%p44_status``'s lines (never the token)."""
    age = status["token_age_s"]
    return (
        f"base URL:      {status['base_url']}\n"
        f"client id:     {status['client_id']}\n"
        f"auth:          {status['auth']}\n"
        f"token:         {status['token']}"
        + (f" (age {_duration(age)})" if age is not None else "")
        + f"\nrequests:      {status['requests']}\n"
        f"token fetches: {status['token_fetches']}"
    )


def describe_request(url: Any, request: HttpRequest) -> str:
    """The request as it would be sent, Authorization masked."""
    lines = [f"{request.method} {url}"]
    lines += [f"{key}: {value}" for key, value in masked_headers(request.headers).items()]
    lines.append("Authorization: Bearer ******** (added when sent)")
    if request.body:
        body = request.body
        lines += ["", body if isinstance(body, str) else body[:10_000].decode("utf-8", "replace")]
    lines.append("(dry run: nothing was sent)")
    return "\n".join(lines)


def summary(result: Any) -> str:
    shape = getattr(result, "shape", None)
    if shape is not None and len(shape) == 2:
        return f"{counted(shape[0], 'row')} × {counted(shape[1], 'column')}"
    if result is None:
        return "no content"
    return (
        f"{type(result).__name__} of length {len(result)}"
        if hasattr(result, "__len__")
        else type(result).__name__
    )


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"
