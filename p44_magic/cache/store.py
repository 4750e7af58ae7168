"""The cache file: one SQLite database (the standard library's: embedded, nothing to start).

``entries`` holds the latest answer per key; ``snapshots`` every answer fetched with
``--snapshot``, time-stamped; ``sessions`` the base URL and masked client id behind each session
digest (for ``%p44_cache``). WAL mode and short transactions let several kernels use one file at
once: a reader never sees half an entry, a writer waits for another (``BUSY_TIMEOUT``). The file
and its folder are readable by their owner only. It never holds a credential: the rules of
:mod:`.rules` decide what goes in, and every body is scrubbed before it does.

A replay file (``.p44replay``) has the same tables, is written by :meth:`Store.export` and read
with ``read_only=True``: opened read-only, each row checked as it is read.
"""

from __future__ import annotations

import functools
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import P44Error, server_text
from .files import COLUMNS, connect, open_cache, open_replay
from .rules import json_headers, parsed_headers

_COLUMNS = COLUMNS
MB = 1 << 20


def _short(method: Any) -> Any:
    """A SQLite failure (a locked or full disk, a damaged file) as one short P44Error, with no
    chain and no frames below it (the caller's frames hold the request)."""

    @functools.wraps(method)
    def wrapper(self: Store, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.Error as error:
            failure = P44Error(
                f"The cache file {self.path.name} could not be used: {str(error)[:200]}.",
                hint="Another kernel may hold it, or the disk is full: run the cell again, or "
                "set %config P44Magics.cache_path to another file.",
            )
        raise failure

    return wrapper


@dataclass(frozen=True)
class Entry:
    """One kept answer."""

    key: str
    identity: str
    method: str
    target: str
    status: int
    headers: dict[str, str]
    body: bytes
    fetched_at: float  # seconds since the epoch

    @property
    def age(self) -> float:
        return time.time() - self.fetched_at


class Store:
    """One cache (or replay) file, shared by the threads of this process through one lock."""

    def __init__(self, path: str | Path, max_mb: float = 1024.0, read_only: bool = False):
        self.path = Path(path).expanduser()
        self.max_bytes = int(max_mb * MB)
        self.read_only = read_only
        self._lock = threading.Lock()
        self._db = open_replay(self.path) if read_only else open_cache(self.path)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One transaction, taken at once (BEGIN IMMEDIATE) so two kernels queue, not fail."""
        if self.read_only:
            raise P44Error(f"{self.path.name} is a replay file: nothing is written to it.")
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.rollback()
                raise
            self._db.commit()

    @_short
    def get(self, key: str) -> Entry | None:
        """The entry ``key``, if its body is within the size bound (a replay file's may not)."""
        with self._lock:
            row = self._db.execute(
                f"SELECT {_COLUMNS} FROM entries WHERE key = ? AND length(body) <= ?",
                (key, self.max_bytes),
            ).fetchone()
        return _entry(row)

    @_short
    def put(self, entry: Entry, *, snapshot: bool = False, session: tuple[str, str, str] = ()):
        """Keep ``entry`` (replacing the key's last); with ``snapshot`` also as one more
        time-stamped snapshot. ``session``: (identity, base URL, masked client id)."""
        values = (*_row(entry), len(entry.body))
        with self._write() as db:
            db.execute(
                f"INSERT OR REPLACE INTO entries ({_COLUMNS}, size) VALUES (?,?,?,?,?,?,?,?,?)",
                values,
            )
            if snapshot:
                db.execute(
                    f"INSERT INTO snapshots ({_COLUMNS}, size) VALUES (?,?,?,?,?,?,?,?,?)", values
                )
            if session:
                db.execute(
                    "INSERT OR IGNORE INTO sessions (identity, base_url, client) VALUES (?,?,?)",
                    session,
                )
            self._bound(db)

    @_short
    def head(self, key: str) -> Entry | None:
        """The entry ``key`` without its body (status, headers, when fetched)."""
        with self._lock:
            row = self._db.execute(
                "SELECT key, identity, method, target, status, headers, x'', fetched_at "
                "FROM entries WHERE key = ?",
                (key,),
            ).fetchone()
        return _entry(row)

    @_short
    def get_frame(self, key: str, shape: str, fetched_at: float) -> bytes | None:
        """The frame kept for the answer ``key`` fetched at ``fetched_at``, framed as ``shape``."""
        with self._lock:
            row = self._db.execute(
                "SELECT data FROM frames WHERE key = ? AND shape = ? AND fetched_at = ?",
                (key, shape, fetched_at),
            ).fetchone()
        return row[0] if row is not None and isinstance(row[0], bytes) else None

    @_short
    def put_frame(self, key: str, shape: str, identity: str, fetched_at: float, data: bytes):
        """Keep a frame of the answer ``key`` (while that answer is the one kept)."""
        with self._write() as db:
            found = db.execute("SELECT fetched_at FROM entries WHERE key = ?", (key,)).fetchone()
            if found is None or found[0] != fetched_at:
                return  # the answer was replaced (or evicted) meanwhile
            db.execute(
                "INSERT OR REPLACE INTO frames VALUES (?,?,?,?,?,?)",
                (key, shape, identity, fetched_at, data, len(data)),
            )
            self._bound(db)

    def _bound(self, db: sqlite3.Connection) -> None:
        """Past ``max_bytes``, frames go first (they can be built again from the answers), then
        the oldest entries, then the oldest snapshots."""
        over = _used_bytes(db) - self.max_bytes
        for table in ("frames", "entries", "snapshots"):
            if over <= 0:
                return
            rowid = "id" if table == "snapshots" else "rowid"  # frames: any order is fine
            freed = 0
            doomed = []
            for row_id, size in db.execute(
                f"SELECT {rowid}, size FROM {table} ORDER BY fetched_at"
            ):
                if freed >= over:
                    break
                doomed.append((row_id,))
                freed += size + 200
            db.executemany(f"DELETE FROM {table} WHERE {rowid} = ?", doomed)
            over -= freed

    @_short
    def snapshots(
        self, identities: list[str] | None = None, about: str | None = None
    ) -> list[Entry]:
        """The snapshots (of those sessions; whose target holds ``about``), oldest first: the
        file filters them, so a large cache is not read whole."""
        query = f"SELECT {_COLUMNS} FROM snapshots WHERE 1"
        params: tuple[Any, ...] = ()
        if identities is not None:
            query += f" AND identity IN ({','.join('?' * len(identities))})"
            params = tuple(identities)
        if about:
            query += " AND instr(target, ?) > 0"
            params += (about,)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY fetched_at, id", params).fetchall()
        return [entry for entry in map(_entry, rows) if entry is not None]

    @_short
    def summary(self) -> list[dict[str, Any]]:
        """Per session: base URL, masked client id, entries, snapshots, MB, oldest, newest."""
        query = """
            SELECT t.identity, s.base_url, s.client, s.label, SUM(t.latest), SUM(t.kept),
                   SUM(t.size), MIN(t.fetched_at), MAX(t.fetched_at)
            FROM (SELECT identity, 1 AS latest, 0 AS kept, size, fetched_at FROM entries
                  UNION ALL SELECT identity, 0, 1, size, fetched_at FROM snapshots
                  UNION ALL SELECT identity, 0, 0, size, fetched_at FROM frames) AS t
            LEFT JOIN sessions AS s ON s.identity = t.identity
            GROUP BY t.identity ORDER BY MIN(t.fetched_at)"""
        names = ("identity", "base_url", "client_id", "label", "entries", "snapshots", "bytes")
        with self._lock:
            rows = self._db.execute(query).fetchall()
        return [
            {**dict(zip(names, row[:7], strict=True)), "oldest": row[7], "newest": row[8]}
            for row in rows
        ]

    def clear(
        self, identity: str | None = None, older_than: float | None = None
    ) -> tuple[int, int]:
        """Delete entries and snapshots (of one session, older than an age); (rows, bytes)."""
        where, params = ["1"], []
        if identity is not None:
            where.append("identity = ?")
            params.append(identity)
        if older_than is not None:
            where.append("fetched_at < ?")
            params.append(time.time() - older_than)
        condition = " AND ".join(where)
        rows = freed = 0
        with self._write() as db:
            db.execute(f"DELETE FROM frames WHERE {condition}", params)
            for table in ("entries", "snapshots"):
                count, size = db.execute(
                    f"SELECT COUNT(*), COALESCE(SUM(size), 0) FROM {table} WHERE {condition}",
                    params,
                ).fetchone()
                db.execute(f"DELETE FROM {table} WHERE {condition}", params)
                rows, freed = rows + count, freed + size
        return rows, freed

    @_short
    def export(self, identity: str, destination: str | Path, label: str) -> int:
        """Write one session's entries and snapshots to a replay file; the entries written."""
        target = Path(destination).expanduser()
        if target.resolve() == self.path.resolve():
            raise P44Error("The replay file cannot be the cache file itself.")
        partial = target.with_name(target.name + ".partial")
        partial.unlink(missing_ok=True)
        os.close(os.open(partial, os.O_CREAT | os.O_RDWR, 0o600))
        out = connect(partial, journal="DELETE")
        try:
            with self._lock:
                session = self._db.execute(
                    "SELECT base_url, client FROM sessions WHERE identity = ?", (identity,)
                ).fetchone() or ("", "")
                out.execute("INSERT INTO sessions VALUES (?,?,?,?)", (identity, *session, label))
                written = _copy(self._db, out, "entries", identity)
                _copy(self._db, out, "snapshots", identity)
            out.commit()
        finally:
            out.close()
        os.replace(partial, target)
        return written

    @_short
    def replay_sessions(self) -> list[tuple[str, str, str]]:
        """A replay file's sessions: (identity, base URL, label)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT identity, base_url, label FROM sessions LIMIT 100"
            ).fetchall()
        return [
            (str(i)[:64], server_text(b, 300) or "", server_text(n, 100) or "") for i, b, n in rows
        ]

    @_short
    def count(self, identity: str) -> int:
        with self._lock:
            return self._db.execute(
                "SELECT COUNT(*) FROM entries WHERE identity = ?", (identity,)
            ).fetchone()[0]


def _row(entry: Entry) -> tuple[Any, ...]:
    return (
        entry.key,
        entry.identity,
        entry.method,
        entry.target,
        entry.status,
        json_headers(entry.headers),
        entry.body,
        entry.fetched_at,
    )


def _entry(row: Any) -> Entry | None:
    """A row read back, checked (a replay file comes from someone else)."""
    if row is None:
        return None
    key, identity, method, target, status, headers, body, fetched_at = row
    if not (
        isinstance(status, int)
        and 200 <= status < 300
        and isinstance(body, bytes)
        and isinstance(fetched_at, int | float)
        and all(isinstance(text, str) for text in (key, identity, method, target))
    ):
        return None
    return Entry(
        key,
        identity,
        method[:10],
        target[:8_000],
        status,
        parsed_headers(headers),
        body,
        float(fetched_at),
    )


def _used_bytes(db: sqlite3.Connection) -> int:
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    free = db.execute("PRAGMA freelist_count").fetchone()[0]
    return (pages - free) * db.execute("PRAGMA page_size").fetchone()[0]


def _copy(source: sqlite3.Connection, out: sqlite3.Connection, table: str, identity: str) -> int:
    rows = source.execute(f"SELECT {_COLUMNS}, size FROM {table} WHERE identity = ?", (identity,))
    count = 0
    for row in rows:
        out.execute(f"INSERT INTO {table} ({_COLUMNS}, size) VALUES (?,?,?,?,?,?,?,?,?)", row)
        count += 1
    return count
