"""``p44_magic.history``: the snapshots ``--snapshot`` kept, as one frame with a ``fetched_at``
column, so an analyst can see how each stop's estimate moved between runs."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime
from typing import Any

import httpx
import pandas as pd

from . import settings
from .answers import decode_content
from .cache import Entry, store_at
from .cache.rules import request_target
from .client import P44Client
from .endpoints import find_endpoint
from .errors import P44Error, P44UsageError, P44Warning
from .frames import to_frame
from .sessions import session, sessions

HISTORY_COLUMNS = ("fetched_at", "request")


def history(
    what: str,
    conn: str | P44Client | None = None,
    *,
    cache_path: str | None = None,
    timezone: str | None = "UTC",
) -> pd.DataFrame:
    """Every snapshot of a request (``"GET /api/v4/shipments/…/tracking/history"``, or its
    path) or of a shipment id (every request about it), oldest first, as one frame: each
    snapshot's rows as ``%p44`` frames them, after ``fetched_at`` and ``request``.

    ``conn``: the notebook session (a name) or a client whose snapshots to read; by default
    the current session's when one is open, else every session's in the cache file
    (``cache_path``, else the session's or the default). A replay session reads its replay
    file's snapshots."""
    client = _client(conn)
    values = client.session.settings if client is not None else _defaults()
    replayed = getattr(client.session, "store", None) if client is not None else None
    store = replayed or store_at(cache_path or values["cache_path"], values["cache_max_mb"])
    identities = None if client is None else [client.session.cache_identity]
    matches, about = _matcher(what)
    kept = store.snapshots(identities, about)  # only those about it are read from the file
    frames = [_frame(entry, timezone) for entry in kept if matches(entry)]
    if not frames:
        return pd.DataFrame(columns=list(HISTORY_COLUMNS))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # concat of frames with empty columns
        return pd.concat(frames, ignore_index=True, sort=False)


def _client(conn: str | P44Client | None) -> P44Client | None:
    if isinstance(conn, P44Client):
        return conn
    if conn is not None:
        return session(conn)
    return session(sessions()[0]) if len(sessions()) == 1 else _current()


def _current() -> P44Client | None:
    try:
        return session(None)  # type: ignore[arg-type]
    except P44UsageError:
        return None


def _defaults() -> dict[str, Any]:
    return {name: settings.default(name) for name in ("cache_path", "cache_max_mb")}


def _matcher(what: str) -> tuple[Any, str]:
    """Which snapshots ``what`` names (a request: method and path; a path; a shipment id), and
    a text their target must hold (for the file to filter on)."""
    text = str(what).strip()
    if not text or len(text) > 2_000:
        raise P44UsageError("history() takes a request (GET /api/v4/…), a path or a shipment id.")
    method, _, path = text.partition(" ") if " " in text else ("", "", text)
    if "/" not in path:  # a shipment id
        marker = f"/shipments/{httpx.URL('/' + path).raw_path.decode()[1:]}"
        return (lambda entry: (entry.target.split("?")[0] + "/").find(marker + "/") >= 0), marker
    target = request_target(httpx.URL("http://x").join(path.strip()))
    return (
        lambda entry: (
            entry.target == target and (not method or entry.method == method.strip().upper())
        )
    ), target.split("?")[0]


def _frame(entry: Entry, timezone: str | None) -> pd.DataFrame:
    """One snapshot's rows, after when it was fetched and what it answered."""
    answer = decode_content(entry.status, entry.headers.get("content-type", ""), entry.body)
    endpoint = find_endpoint(entry.method, entry.target.split("?")[0])
    rows = endpoint.rows if endpoint is not None else None
    meta = endpoint.meta if endpoint is not None else ()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", P44Warning)
        try:
            frame = to_frame(answer, rows, meta, True, timezone) if answer is not None else None
        except P44Error:  # not the shape the catalogue names: the answer as it is
            frame = to_frame(answer, None, (), True, timezone)
    frame = frame if isinstance(frame, pd.DataFrame) else pd.DataFrame(index=[0])
    stamp = pd.Timestamp(datetime.fromtimestamp(entry.fetched_at, UTC))
    if timezone is None:
        stamp = stamp.tz_localize(None)
    elif timezone != "UTC":
        stamp = stamp.tz_convert(timezone)
    frame.insert(0, "request", f"{entry.method} {entry.target}")
    frame.insert(0, "fetched_at", stamp)
    return frame
