"""When a request may leave: a client's shared rate gate, its optional rate limit, and the stop
of an interrupted call.

Every request a client puts on the wire (data, retries, redirect hops, token fetches) passes
:meth:`Pacer.before_send` in the transport, so one rule covers them all:

- **The rate gate.** A 429 (or a 503 with ``Retry-After``) to any request holds *every* request
  of that client until the moment the server named: no request leaves during the wait.
- **``max_rate``.** At most that many requests start in any one-second window, across threads,
  with no burst beyond it.
- **Stop.** A call fanned out over worker threads (``--each``, ``--all-pages``) runs them under
  a stop event (a context variable, so it follows the work into the workers); once it is set,
  no request is sent and every wait ends at once.
"""

from __future__ import annotations

import contextvars
import math
import signal as signals
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from .errors import P44Error

Result = TypeVar("Result")


class StopSignal:
    """A stop for one call; set when its parent (the call it is part of) is set, too."""

    def __init__(self, parent: StopSignal | None = None) -> None:
        self._event = threading.Event()
        self._parent = parent

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set() or (self._parent is not None and self._parent.is_set())

    def wait(self, seconds: float) -> bool:
        """Wait up to ``seconds``; True as soon as this or a parent stop is set."""
        deadline = time.monotonic() + seconds
        while not self.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self._event.wait(min(left, 0.1) if self._parent is not None else left)
        return True


_STOP: contextvars.ContextVar[StopSignal | None] = contextvars.ContextVar("p44_stop", default=None)


class Stopped(P44Error):
    """The call this request belongs to was interrupted, so it is not sent."""

    def __init__(self) -> None:
        super().__init__("Not sent: the call was interrupted.")


def new_stop() -> StopSignal:
    """A stop for a call about to fan out; part of the current call's, if any."""
    return StopSignal(_STOP.get())


@contextmanager
def stop_on(signal: StopSignal) -> Iterator[None]:
    """Run the block (and the work it starts with :func:`in_this_context`) under ``signal``."""
    token = _STOP.set(signal)
    try:
        yield
    finally:
        _STOP.reset(token)


def in_this_context(work: Callable[..., Result]) -> Callable[..., Result]:
    """``work`` bound to the caller's context (its stop event), for a worker thread."""
    context = contextvars.copy_context()
    return lambda *args: context.run(work, *args)


def check_stopped() -> None:
    stop = _STOP.get()
    if stop is not None and stop.is_set():
        raise Stopped()


def pause(seconds: float) -> None:
    """Sleep ``seconds``; a stop ends the sleep at once (with :class:`Stopped`)."""
    stop = _STOP.get()
    if stop is None:
        time.sleep(max(0.0, seconds))
    elif stop.wait(max(0.0, seconds)):
        raise Stopped()


class DeferredInterrupt:
    """While entered (on the main thread, with Python's default SIGINT handler installed, as
    ipykernel has it while a cell runs), an interrupt only sets a flag; :meth:`check` raises the
    KeyboardInterrupt at a point where the caller can stop cleanly. Elsewhere it changes
    nothing: the interrupt is raised wherever it lands, as usual."""

    def __init__(self) -> None:
        self._requested = threading.Event()
        self._previous: Any = None

    @property
    def requested(self) -> bool:
        return self._requested.is_set()

    def check(self) -> None:
        if self._requested.is_set():
            raise KeyboardInterrupt

    def __enter__(self) -> DeferredInterrupt:
        if threading.current_thread() is threading.main_thread():
            if signals.getsignal(signals.SIGINT) is signals.default_int_handler:
                self._previous = signals.signal(signals.SIGINT, lambda *_: self._requested.set())
        return self

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signals.signal(signals.SIGINT, self._previous)
            self._previous = None


class Pacer:
    """The shared rate gate and the rate limit of one client application; thread-safe.

    project44 limits a client application, not a session: :func:`pacer_for` gives every
    session of the same (host, client id) the same Pacer, so they wait together, and two
    different client applications never slow each other."""

    def __init__(self, max_rate: float = 0.0) -> None:
        self._lock = threading.Lock()
        self._gate = 0.0  # time.monotonic() before which no request leaves
        self._starts: deque[float] = deque()
        self.max_rate = max_rate

    @property
    def max_rate(self) -> float:
        return self._max_rate

    @max_rate.setter
    def max_rate(self, rate: float) -> None:
        # r per second as "at most n starts in any n/r seconds", n ≥ 1 (0.5/s: 1 per 2 s).
        with self._lock:
            self._max_rate = rate
            self._window_count = max(1, math.floor(rate)) if rate else 0
            self._window = self._window_count / rate if rate else 0.0
            self._starts.clear()

    def hold(self, seconds: float) -> None:
        """No request of this client leaves for ``seconds`` from now (a server's Retry-After)."""
        with self._lock:
            self._gate = max(self._gate, time.monotonic() + seconds)

    def before_send(self) -> None:
        """Wait until this request may leave; :class:`Stopped` if its call was interrupted."""
        while True:
            check_stopped()
            wait = self._claim()
            if wait <= 0:
                return
            pause(min(wait, 0.25))  # short steps: a stop, a new gate or a new rate is seen

    def _claim(self) -> float:
        """0 when a start was claimed now, else the seconds to wait before trying again."""
        with self._lock:
            now = time.monotonic()
            if now < self._gate:
                return self._gate - now
            if self._window_count:
                while self._starts and now - self._starts[0] >= self._window:
                    self._starts.popleft()
                if len(self._starts) >= self._window_count:
                    return self._starts[0] + self._window - now
                self._starts.append(now)
            return 0.0


_PACERS: weakref.WeakValueDictionary[tuple[str, str], Pacer] = weakref.WeakValueDictionary()
_PACERS_LOCK = threading.Lock()


def pacer_for(host: str, client_id: str | None) -> Pacer:
    """The Pacer of one client application (kept while a session uses it)."""
    key = (host.lower(), client_id or "")
    with _PACERS_LOCK:
        pacer = _PACERS.get(key)
        if pacer is None:
            pacer = _PACERS[key] = Pacer()
        return pacer
