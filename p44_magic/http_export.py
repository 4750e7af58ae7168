"""Requests written back as ``.http`` text that REST Client, JetBrains' HTTP Client and httpyac
run: the base URL as ``{{host}}``, the token as ``{{$auth.token("p44")}}``, and (for
``%p44_export --with-env``) an ``http-client.env.json`` holding ``host`` and a ``p44``
``Security.Auth`` entry without its secret. Never a token or a secret: the headers a request
was sent with are written without ``Authorization``, ``Cookie`` and what the client adds itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from .environments import TOKEN_PATH
from .http_files import MAX_FILE_BYTES
from .scrub import scrub

AUTH_ID = "p44"
SECRET_REFERENCE = "{{p44_client_secret}}"
TOKEN_HEADER = f'Authorization: Bearer {{{{$auth.token("{AUTH_ID}")}}}}'
CLIENT_HEADERS = frozenset(
    {
        "host",
        "authorization",
        "proxy-authorization",
        "cookie",
        "content-length",
        "transfer-encoding",
        "accept-encoding",
        "connection",
        "user-agent",
        "accept",
    }
)
LONG_BODY = 2_000  # characters: a longer body goes to a file of its own


@dataclass(frozen=True)
class SentRequest:
    """One request as it was sent (file and notebook names filled), for ``%p44_export``."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: str | None
    name: str | None = None
    options: str = ""  # what ``# @p44`` gives it back (--all-pages, --tables, …)


def request_text(request: SentRequest, body_file: str | None = None) -> str:
    """One request block: ``# @name``, ``# @p44``, the request line on ``{{host}}``, its own
    headers, the managed token, and the body (or ``< ./file``)."""
    lines = []
    if request.name:
        lines.append(f"# @name {request.name}")
    if request.options:
        lines.append(f"# @p44 {request.options}")
    lines.append(f"{request.method} {on_host(request.url)}")
    lines += [
        f"{key}: {scrub(value)}"
        for key, value in request.headers
        if key.lower() not in CLIENT_HEADERS
    ]
    lines.append(TOKEN_HEADER)
    if body_file is not None:
        lines += ["", f"< ./{body_file}"]
    elif request.body:
        lines += ["", scrub(request.body)]
    return "\n".join(lines) + "\n"


def on_host(url: str) -> str:
    """``https://host/api/v4/x?y=1`` as ``{{host}}/api/v4/x?y=1``."""
    parsed = httpx.URL(url)
    rest = parsed.raw_path.decode("ascii", "replace")
    return "{{host}}" + (rest if rest.startswith("/") else "/" + rest)


def write_http(
    path: Path, requests: list[SentRequest], fills: dict[str, str] | None = None
) -> list[Path]:
    """The requests as one ``.http`` file (long bodies in files beside it); the files written.
    ``fills``: values read from the environment, .env or an env file, each written back as the
    ``{{…}}`` it came from (a key kept in .env stays there)."""
    written = []
    blocks = []
    for number, request in enumerate(requests, 1):
        body_file = None
        if request.body and len(request.body) > LONG_BODY:
            suffix = ".json" if request.body.lstrip().startswith(("{", "[")) else ".txt"
            body_file = f"{path.stem}.{number}{suffix}"
            body = _written_back(scrub(request.body), fills)
            (path.parent / body_file).write_text(body, encoding="utf-8")
            written.append(path.parent / body_file)
        title = f"### {request.name or f'request {number}'}\n"
        blocks.append(title + _written_back(request_text(request, body_file), fills))
    text = "\n".join(blocks)
    path.write_text(text[: MAX_FILE_BYTES * 4], encoding="utf-8")
    return [path, *written]


def _written_back(text: str, fills: dict[str, str] | None) -> str:
    for value in sorted(fills or {}, key=len, reverse=True):
        if value in text:
            text = text.replace(value, (fills or {})[value])
    return text


def write_env(folder: Path, env: str, base_url: str, client_id: str | None, auth: str) -> Path:
    """``http-client.env.json`` beside the file: ``host`` and the ``p44`` auth entry without
    its secret (an environment already there is kept, ``env`` replaced)."""
    path = folder / "http-client.env.json"
    existing: dict[str, Any] = {}
    if path.is_file() and path.stat().st_size <= MAX_FILE_BYTES:
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
            existing = loaded if isinstance(loaded, dict) else {}
        except ValueError:
            existing = {}
    entry = {
        "Type": "OAuth2",
        "Grant Type": "Client Credentials",
        "Token URL": base_url + TOKEN_PATH,
        "Client ID": client_id or "",
        "Client Secret": SECRET_REFERENCE,  # the private env file beside it holds the secret
        "Client Credentials": "in body" if auth == "form" else "basic",
    }
    existing[env] = {"host": base_url, "Security": {"Auth": {AUTH_ID: entry}}}
    path.write_text(json.dumps(existing, indent=2) + "\n", encoding="utf-8")
    return path
