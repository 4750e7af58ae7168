"""Opening the cache file (created readable by its owner only, WAL for several kernels) and a
replay file (someone else's: read-only, tables only, every query bounded in time)."""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

from ..errors import P44Error

FORMAT = "p44_magic cache 1"
BUSY_TIMEOUT_S = 30.0  # another kernel's write is milliseconds; 30 s means something is stuck
QUERY_SECONDS = 30.0  # a replay file's query that runs longer is someone else's trap
COLUMNS = "key, identity, method, target, status, headers, body, fetched_at"
SCHEMA = f"""
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT);
CREATE TABLE IF NOT EXISTS entries (
    key TEXT PRIMARY KEY, identity TEXT, method TEXT, target TEXT, status INTEGER,
    headers TEXT, body BLOB, fetched_at REAL, size INTEGER);
CREATE INDEX IF NOT EXISTS entries_age ON entries (fetched_at);
CREATE TABLE IF NOT EXISTS snapshots (
    id INTEGER PRIMARY KEY AUTOINCREMENT, {COLUMNS.replace(", ", " ,")}, size INTEGER);
CREATE INDEX IF NOT EXISTS snapshots_of ON snapshots (identity, fetched_at);
CREATE TABLE IF NOT EXISTS frames (key TEXT, shape TEXT, identity TEXT, fetched_at REAL,
    data BLOB, size INTEGER, PRIMARY KEY (key, shape));
CREATE TABLE IF NOT EXISTS sessions (identity TEXT PRIMARY KEY, base_url TEXT, client TEXT,
    label TEXT);
"""


def open_cache(path: Path) -> sqlite3.Connection:
    """The cache file, created readable by its owner only (its folder too)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
        os.chmod(path, 0o600)
    except OSError as error:
        raise P44Error(
            f"The cache file {path} cannot be opened: {error.strerror}.",
            hint="Set another place: %config P44Magics.cache_path = '…/cache.sqlite'.",
        ) from None
    return connect(path, journal="WAL")


def connect(path: Path, journal: str) -> sqlite3.Connection:
    try:
        db = sqlite3.connect(
            path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
        )
        db.execute("PRAGMA trusted_schema = OFF")
        db.execute("PRAGMA page_size = 65536")  # a new file: large answers read in fewer pages
        db.execute(f"PRAGMA journal_mode = {journal}")
        db.execute("PRAGMA synchronous = NORMAL")
        db.executescript(SCHEMA)
        db.execute("INSERT OR IGNORE INTO meta VALUES ('format', ?)", (FORMAT,))
    except sqlite3.OperationalError as error:  # locked, read-only, full
        raise P44Error(
            f"The cache file {path} could not be opened: {error}.",
            hint="Another kernel may be writing it: run the cell again, or set "
            "%config P44Magics.cache_path to another file.",
        ) from None
    except sqlite3.DatabaseError as error:
        raise P44Error(
            f"{path} is not a p44_magic cache file ({error}).",
            hint="Point %config P44Magics.cache_path at another file, or delete this one.",
        ) from None
    return db


def _bound_queries(db: sqlite3.Connection) -> None:
    """Every query of a replay file ends within ``QUERY_SECONDS`` (then it fails)."""
    started = [time.monotonic()]

    def too_long() -> int:
        return int(time.monotonic() - started[0] > QUERY_SECONDS)

    db.set_progress_handler(too_long, 100_000)
    db.set_trace_callback(lambda _: started.__setitem__(0, time.monotonic()))


def open_replay(path: Path) -> sqlite3.Connection:
    """A replay file, read-only; a file that is not one is a short error."""
    if not path.is_file():
        raise P44Error(f"No replay file at {path}.", hint="Write one with %p44_cache export FILE.")
    try:
        db = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False
        )
        db.execute("PRAGMA trusted_schema = OFF")
        db.execute("PRAGMA query_only = ON")
        _bound_queries(db)
        tables = {
            row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        found = None
        if {"meta", "entries", "sessions"} <= tables:  # tables: a view could compute forever
            found = db.execute("SELECT value FROM meta WHERE name = 'format'").fetchone()
    except sqlite3.DatabaseError:
        found = None
    if found is None or found[0] != FORMAT:
        raise P44Error(
            f"{path.name} is not a p44_magic replay file.",
            hint="Write one with %p44_cache export FILE.p44replay.",
        )
    return db
