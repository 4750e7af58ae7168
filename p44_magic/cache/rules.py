"""What the cache keeps and under which key: the rule set, apart from the file that holds it.

- Kept: 2xx answers to GET and to the catalogue's read-only searches (``POST …/search``); any
  other POST only when the cell asked for the cache itself (``--cache``). PUT, PATCH and DELETE
  change things and are never kept.
- The key: the session (base URL and client id, so two tenants never share an entry), the
  method, the path with its query parameters sorted, and the body as canonical JSON.
- What an entry holds: the status, the body as received and scrubbed, the response headers but
  ``Authorization`` / ``Set-Cookie`` (scrubbed, bounded), and when it was fetched.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path
from typing import Any

import httpx

from ..endpoints import find_endpoint
from ..errors import server_text
from ..scrub import scrub

DROPPED_HEADERS = frozenset({"authorization", "proxy-authorization", "set-cookie", "cookie"})
HEADERS_KEPT = 50
HEADER_VALUE_LIMIT = 1_000
MAX_BODY_KEYED = 1 << 20  # a body above 1 MB is keyed by its bytes, not parsed first


def session_identity(base_url: str, client_id: str | None) -> str:
    """The session part of every key: a digest of base URL and client id (neither is kept
    in the key itself)."""
    return _digest(f"{base_url}\n{client_id or ''}")[:32]


def request_target(url: httpx.URL) -> str:
    """The path with its query parameters sorted: ``/x?a=1&b=2`` for ``/x?b=2&a=1``."""
    params = sorted(url.params.multi_items())
    query = str(httpx.QueryParams(params))
    return url.raw_path.decode("ascii", "replace").split("?")[0] + (f"?{query}" if query else "")


def canonical_body(content: bytes | None) -> str:
    """The body as canonical JSON (key order and spacing do not matter), else as sent."""
    if not content:
        return ""
    if len(content) <= MAX_BODY_KEYED:
        try:
            parsed = json.loads(content)
        except (ValueError, RecursionError):
            pass
        else:
            return json.dumps(parsed, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return content.decode("utf-8", "replace")


def entry_key(identity: str, method: str, target: str, body: str) -> str:
    return _digest("\n".join((identity, method.upper(), target, body)))


def kept(method: str, path: str, status: int, explicit: bool) -> bool:
    """Whether an answer may be kept (see the module)."""
    if not 200 <= status < 300:
        return False
    method = method.upper()
    if method == "GET":
        return True
    if method != "POST":
        return False
    if explicit:
        return True
    endpoint = find_endpoint(method, path)
    return endpoint is not None and endpoint.path.endswith("/search")


def kept_headers(headers: httpx.Headers) -> dict[str, str]:
    """Response headers to keep: no credentials, no cookies, scrubbed and bounded."""
    out: dict[str, str] = {}
    for key, value in list(headers.multi_items())[:HEADERS_KEPT]:
        name = key.lower()
        if name in DROPPED_HEADERS or name in ("content-encoding", "content-length"):
            continue
        out[server_text(key, 100) or "?"] = server_text(value, HEADER_VALUE_LIMIT) or ""
    return out


def shown_request(method: str, target: str) -> str:
    """``GET /api/v4/…`` as a message names it: scrubbed, bounded."""
    return f"{method.upper()} {scrub(target)[:300]}"


def default_path() -> Path:
    """The user's cache folder by the platform's convention, ``p44_magic/cache.sqlite`` in it."""
    if sys.platform == "win32":
        root = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
        return root / "p44_magic" / "Cache" / "cache.sqlite"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "p44_magic" / "cache.sqlite"
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "p44_magic" / "cache.sqlite"


def age_text(seconds: float) -> str:
    """``12 min old``, ``3 h old``, ``2 days old``."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{int(seconds)} s old"
    if seconds < 3_600:
        return f"{int(seconds // 60)} min old"
    if seconds < 172_800:
        return f"{int(seconds // 3_600)} h old"
    return f"{int(seconds // 86_400)} days old"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def json_headers(headers: dict[str, str]) -> str:
    return json.dumps(headers, ensure_ascii=False)


def parsed_headers(text: Any) -> dict[str, str]:
    """Headers read back from a file: a dict of short strings, else nothing."""
    try:
        value = json.loads(text) if isinstance(text, str) and len(text) < 200_000 else None
    except ValueError:
        return {}
    if not isinstance(value, dict):
        return {}
    return {
        str(k)[:100]: str(v)[:HEADER_VALUE_LIMIT]
        for k, v in list(value.items())[:HEADERS_KEPT]
        if isinstance(k, str) and isinstance(v, str) and k.lower() not in _NOT_REPLAYED
    }


#: Headers that would make a kept body be read differently (a gzip bomb) or lie about it.
_NOT_REPLAYED = frozenset({"content-encoding", "transfer-encoding", "content-length"})
