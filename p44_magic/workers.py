"""A call's worker threads (``--each``, ``--all-pages``), stopped cleanly when the call ends
early: on a KeyboardInterrupt (the kernel's interrupt) or a failure in the calling thread, no
new request is sent, queued work is cancelled and running work ends at its next send or wait
(see :mod:`p44_magic.pacing`), so the call returns within about the time of the requests
already on the wire.

While the workers run, an interrupt of the main thread is *deferred*: SIGINT only sets a flag,
and the waiting loops here raise KeyboardInterrupt at a safe point. Raised anywhere else (inside
``concurrent.futures``' lock juggling, say) it can leave a future's lock held and deadlock the
workers that finish it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from .pacing import DeferredInterrupt, in_this_context, new_stop, stop_on

WAKE_EVERY = 0.05  # how often a waiting caller looks at the interrupt flag


class Workers:
    """Up to ``count`` threads for one call; use it as a context manager, and wait on their
    futures with :meth:`result_of` and :meth:`first_done`."""

    def __init__(self, count: int) -> None:
        self.stop = new_stop()
        self._pool = ThreadPoolExecutor(max_workers=count, thread_name_prefix="p44")
        self._interrupt = DeferredInterrupt()

    def submit(self, work: Callable[..., Any], *args: Any) -> Future:
        with stop_on(self.stop):
            bound = in_this_context(work)
        return self._pool.submit(bound, *args)

    def result_of(self, future: Future) -> Any:
        """``future.result()``; a KeyboardInterrupt as soon as the main thread is interrupted
        (or the call this one is part of is stopped: a cancelled background job)."""
        while not wait([future], timeout=WAKE_EVERY).done:
            self._check()
        self._check()
        return future.result()

    def first_done(self, futures: Collection[Future]) -> set[Future]:
        """The futures that are done, once at least one is (or a KeyboardInterrupt)."""
        while True:
            done, _ = wait(futures, timeout=WAKE_EVERY, return_when=FIRST_COMPLETED)
            self._check()
            if done:
                return done

    def _check(self) -> None:
        """An interrupt of the main thread, or a stop of the enclosing call, ends the waiting
        here as an interrupt: the caller keeps the rows so far."""
        self._interrupt.check()
        if self.stop.is_set():
            raise KeyboardInterrupt

    def __enter__(self) -> Workers:
        self._interrupt.__enter__()
        return self

    def __exit__(self, kind: type | None, error: BaseException | None, tb: Any) -> None:
        if error is not None:
            self.stop.set()
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._interrupt.__exit__()
        if error is None and self._interrupt.requested:
            raise KeyboardInterrupt  # it came after the last wait: still the user's
