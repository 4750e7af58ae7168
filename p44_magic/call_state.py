"""The state of one call: what it reports progress to, the notes it gathers for the user, its
last exchange, the number of attempts that exchange took, and the stop that ends it.

A :class:`Call` travels with the call through every layer (as httpx's request ``extensions``
do), into the worker threads it fans out to, and never onto the shared session or client: two
threads, two sessions or a background job calling at once each keep their own exchange.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .answers import Exchange
from .pacing import StopSignal

if TYPE_CHECKING:
    from .cache.use import CacheUse

PagesCallback = Callable[[int, int, int], None]  # pages done, pages in all, rows so far
BytesCallback = Callable[[int, int], None]  # bytes received, bytes in all
EachCallback = Callable[[int, int, int, int], None]  # requests done, in all, rows, failures


@dataclass(frozen=True)
class Progress:
    """Where one call reports how it advances."""

    pages: PagesCallback | None = None
    download: BytesCallback | None = None
    each: EachCallback | None = None


NO_PROGRESS = Progress()


@dataclass
class Call:
    """One call's own state. ``exchange`` is the last request of this call and its answer
    (for ``--each`` and ``--all-pages``, the last to finish); ``notes`` are the lines for the
    user; ``stop.set()`` ends the call: nothing more is sent and every wait
    ends at once (an interrupt, a cancelled background job); ``cache`` is how the call uses the
    cache and what it got from it."""

    progress: Progress = NO_PROGRESS
    notes: list[str] = field(default_factory=list)
    exchange: Exchange | None = None
    attempts: int = 0  # sends of the last exchange's request (1 + its retries)
    stop: StopSignal = field(default_factory=StopSignal)
    cache: CacheUse | None = None  # how this call uses the cache (None: not at all)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def note(self, *lines: str | None) -> None:
        """Keep lines for the user (None is skipped); safe from worker threads."""
        with self._lock:
            self.notes.extend(line for line in lines if line)
