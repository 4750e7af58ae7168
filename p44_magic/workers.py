"""A call's worker threads (``--each``, ``--all-pages``), stopped cleanly when the call ends
early: on a KeyboardInterrupt (the kernel's interrupt) or a failure in the calling thread, no
new request is sent, queued work is cancelled and running work ends at its next send or wait
(see :mod:`p44_magic.pacing`), so the call returns within about the time of the requests
already on the wire."""

from __future__ import annotations

from collections.abc import Callable, Collection
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

from .pacing import in_this_context, new_stop, stop_on

#: How often a waiting caller wakes: an interrupt that is not a real signal (``interrupt_main``,
#: or a signal that arrived while a lock was held) is only seen when the thread runs again.
WAKE_EVERY = 0.05


class Workers:
    """Up to ``count`` threads for one call; use it as a context manager."""

    def __init__(self, count: int) -> None:
        self.stop = new_stop()
        self._pool = ThreadPoolExecutor(max_workers=count, thread_name_prefix="p44")

    def submit(self, work: Callable[..., Any], *args: Any) -> Future:
        with stop_on(self.stop):
            bound = in_this_context(work)
        return self._pool.submit(bound, *args)

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, kind: type | None, error: BaseException | None, tb: Any) -> None:
        if error is not None:
            self.stop.set()
        self._pool.shutdown(wait=True, cancel_futures=True)


def result_of(future: Future) -> Any:
    """``future.result()``, waiting in short steps so that an interrupt is seen at once."""
    while not wait([future], timeout=WAKE_EVERY).done:
        pass
    return future.result()


def first_done(futures: Collection[Future]) -> set[Future]:
    """The futures that are done, once at least one is (waiting in short steps)."""
    while True:
        done, _ = wait(futures, timeout=WAKE_EVERY, return_when=FIRST_COMPLETED)
        if done:
            return done
