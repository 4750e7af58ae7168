"""Credentials this kernel holds, and scrubbing them from any text that is shown or kept.

A hostile or careless server may echo what it was sent (an ``error_description`` quoting the
Basic header, a 403 body quoting ``Bearer …``, a response header). Every secret and token the
token holders of this process have held is remembered here, in each encoding we send it in
(plain, URL-encoded, base64 inside Basic), and replaced by ``********`` wherever server text is
shown in a message or kept in an ``Exchange``.
"""

from __future__ import annotations

import base64
import threading
from typing import Any
from urllib.parse import quote, quote_plus

MASK = "********"
_MIN_LENGTH = 8  # shorter values would mask ordinary words ("secret", "token")
_lock = threading.Lock()
_known: set[str] = set()
_ordered: list[str] = []  # longest first, so a token inside a longer text goes whole


def remember(value: str, client_id: str | None = None) -> None:
    """Treat ``value`` (a secret or a token) as a credential from now on, in every encoding."""
    forms = {value, quote(value, safe=""), quote_plus(value), value.replace("/", "\\/")}
    if client_id is not None:
        forms.add(base64.b64encode(f"{client_id}:{value}".encode()).decode("ascii"))
    forms = {form for form in forms if len(form) >= _MIN_LENGTH}
    with _lock:
        if forms <= _known:
            return
        _known.update(forms)
        _ordered[:] = sorted(_known, key=len, reverse=True)


def scrub(text: str) -> str:
    """``text`` with every remembered credential masked."""
    for known in _ordered:
        if known in text:
            text = text.replace(known, MASK)
    return text


def scrub_bytes(data: bytes) -> bytes:
    """``data`` with every remembered credential masked, without decoding it (a large answer
    kept in the cache is searched as bytes: a scan per credential form)."""
    for known in _ordered:
        raw = known.encode("utf-8")
        if raw in data:
            data = data.replace(raw, MASK.encode("ascii"))
    return data


def scrub_json(value: Any, depth: int = 0) -> Any:
    """A parsed answer with every remembered credential masked in its strings (keys too)."""
    if isinstance(value, str):
        return scrub(value)
    if depth > 200:
        return value
    if isinstance(value, dict):
        return {scrub_json(k, depth + 1): scrub_json(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub_json(item, depth + 1) for item in value]
    return value
