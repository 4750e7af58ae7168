"""The cache in the notebook: a cell's ``--cache[=AGE]``, ``--refresh``, ``--offline`` and
``--snapshot``; the line saying a result came from the cache; ``%p44_cache`` (show, clear,
export) and ``%p44_login --replay``."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from IPython.core.magic import line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

from .. import settings
from ..cache import CacheUse, store_at
from ..call_state import Call
from ..client import P44Client
from ..errors import P44UsageError
from ..sessions import Sessions
from ..words import counted
from .owned_magics import OwnedMagics

_CACHE_AGE = re.compile(r"(?<!\S)--cache=(\S*)")
SUMMARY_COLUMNS = (
    "session",
    "base_url",
    "client_id",
    "entries",
    "snapshots",
    "size_mb",
    "oldest",
    "newest",
)


def with_cache_age(line: str) -> str:
    """``--cache=15m`` as ``--cache --cache-age 15m``: the age is only ever written with
    ``=``, so ``%p44 --cache GET /x`` keeps ``GET`` as the method."""
    return _CACHE_AGE.sub(lambda found: f"--cache --cache-age {_unquoted(found.group(1))}", line)


def _unquoted(age: str) -> str:
    return age.strip("\"'") or "''"


def cell_cache(args: Any, client: P44Client) -> CacheUse | None:
    """How a cell's call uses the cache: its options, else ``%config P44Magics.cache``."""
    chosen = [flag for flag in ("offline", "refresh", "snapshot") if getattr(args, flag)]
    if len(chosen) > 1:
        raise P44UsageError(
            f"--{' and --'.join(chosen)} contradict each other: choose one.",
            hint="--offline sends nothing; --refresh fetches; --snapshot fetches and keeps a copy.",
        )
    age = args.cache_age
    if age is not None:
        settings.duration("--cache", age)  # a bad age is refused by the option's name
    choice: Any = chosen[0] if chosen else (True if args.cache or age else None)
    return client.session.call_cache(choice, age)


def provenance(call: Call, each: bool) -> str:
    """`` (from cache, 12 min old)``, `` (280 from cache)`` for --each, or nothing."""
    cache = call.cache
    if cache is None or not cache.hits:
        return ""
    if each:
        return f" ({cache.hits:,} from cache)"
    return f" ({cache.provenance()})"


def replay_login(sessions: Sessions, path: str, name: str, values: dict[str, Any]) -> str:
    """``%p44_login --replay FILE``: a read-only session answered only from FILE."""
    client = P44Client.replay(path, name=name, **values)
    replaced = sessions.open(name, client)
    replay = client.session
    line = (
        f"Replaying {replay.path.name} as session {name}: {counted(replay.answers, 'answer')} "
        f"recorded from {replay.base_url}; nothing will be sent."
    )
    if replaced is not None:
        line += f"\nSession {name} replaced (its token and secret are forgotten)."
    return line


@magics_class
class CacheMagics(OwnedMagics):
    """``%p44_cache``: what the cache holds, ``clear`` and ``export``; ``owner`` is the
    :class:`~p44_magic.notebook.magics.P44Magics` whose settings and sessions it uses."""

    def _store(self) -> Any:
        return store_at(self.owner.cache_path, self.owner.cache_max_mb)

    @magic_arguments()
    @argument("action", nargs="?", choices=("clear", "export"), help="clear or export.")
    @argument("file", nargs="?", help="export: the replay file to write (FILE.p44replay).")
    @argument("--conn", help="Only this session's answers (export: default the current one).")
    @argument("--older", metavar="AGE", help="clear: only answers older than AGE (7d, 12h).")
    @line_magic
    def p44_cache(self, line: str = "") -> Any:
        """What the cache holds per session; ``clear [--conn NAME] [--older 7d]``;
        ``export FILE.p44replay [--conn NAME]`` for %p44_login --replay."""
        return self._shortly(lambda: self._run(line))

    def _run(self, line: str) -> Any:
        args = parse_argstring(self.p44_cache, line)
        if args.action == "clear":
            return print(self._clear(args))
        if args.action == "export":
            return print(self._export(args))
        if args.file or args.older:
            raise P44UsageError("FILE and --older go with export and clear: %p44_cache clear …")
        return self._summary(args.conn)

    def _summary(self, conn: str | None) -> pd.DataFrame:
        store = self._store()
        names = {client.session.cache_identity: name for name, client in self.owner.sessions}
        if conn is not None:  # only that session's row
            identity = self.owner.sessions.pick(conn)[1].session.cache_identity
            names = {identity: conn}
        rows = [
            {
                "session": names.get(row["identity"], ""),
                "base_url": row["base_url"],
                "client_id": row["client_id"],
                "entries": row["entries"],
                "snapshots": row["snapshots"],
                "size_mb": round(row["bytes"] / (1 << 20), 3),
                "oldest": _when(row["oldest"]),
                "newest": _when(row["newest"]),
            }
            for row in store.summary()
            if conn is None or row["identity"] in names
        ]
        total = sum(row["size_mb"] for row in rows)
        print(
            f"cache: {store.path} ({total:,.1f} MB of answers; at most "
            f"{self.owner.cache_max_mb:,.0f} MB)"
        )
        return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))

    def _clear(self, args: Any) -> str:
        older = settings.duration_seconds("--older", args.older) if args.older else None
        identity = None
        if args.conn is not None:
            identity = self.owner.sessions.pick(args.conn)[1].session.cache_identity
        rows, freed = self._store().clear(identity, older)
        scope = f" of session {args.conn}" if args.conn else ""
        scope += f" older than {args.older}" if args.older else ""
        size = f"{freed / (1 << 20):,.1f} MB"
        return f"Cleared {counted(rows, 'answer')}{scope} ({size}) from the cache."

    def _export(self, args: Any) -> str:
        if not args.file:
            raise P44UsageError("%p44_cache export needs a FILE: %p44_cache export run.p44replay")
        name, client = self.owner.sessions.pick(args.conn)
        written = self._store().export(client.session.cache_identity, args.file, name)
        return (
            f"Exported {counted(written, 'answer')} of session {name} to {args.file} (no "
            f"credentials): replay them with %p44_login --replay {args.file}"
        )


def _when(stamp: float | None) -> Any:
    if stamp is None:
        return None
    return pd.Timestamp(datetime.fromtimestamp(stamp, UTC)).floor("s")
