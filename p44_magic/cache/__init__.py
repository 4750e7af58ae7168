"""The answer cache: re-runs answered at once, long fan-outs resumed, replay without an account,
and snapshots kept for history. Rules in :mod:`.rules`, the SQLite file in :mod:`.store`, one
call's use of it in :mod:`.use`."""

from .rules import age_text, default_path
from .store import Entry, Store
from .use import CacheUse, cache_use, store_at

__all__ = ["CacheUse", "Entry", "Store", "age_text", "cache_use", "default_path", "store_at"]
