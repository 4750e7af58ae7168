"""Background fetches: a :class:`P44Job` runs one call on a thread of its own.

The call carries its own state (:class:`~p44_magic.call_state.Call`): its stop, its progress,
its exchange. A job shares only its session, so its requests pass the same rate gate,
``max_rate`` and connection pool as every other call of that session. Nothing here touches a
notebook: the magics decide when a finished job's result is shown and bound (IPython's
``pre_run_cell``, on the main thread), and listeners (a progress bar's widget state) are told
of progress from the job's thread.

Cancelling stops sending new requests; the requests on the wire finish; the rows so far stay
in the job (``result()`` raises :class:`~p44_magic.errors.P44Interrupted` with ``.partial``).
"""

from __future__ import annotations

import atexit
import itertools
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, replace
from html import escape
from typing import Any

from .call_state import Call, Progress
from .errors import P44Error, P44Interrupted
from .words import counted

SHUTDOWN_WAIT = 5.0  # seconds a closing interpreter gives its jobs to end
_ids = itertools.count(1)
_live: weakref.WeakSet[P44Job] = weakref.WeakSet()


@dataclass(frozen=True)
class JobProgress:
    """How far a job is: requests (or pages) done of ``total`` (0: not known yet), rows so
    far, failed requests."""

    done: int = 0
    total: int = 0
    rows: int = 0
    failures: int = 0


class P44Job:
    """One call running in the background (``%%p44 NAME --bg``, :meth:`P44Client.start`,
    :meth:`P44Client.start_each`).

    ``done()``, ``progress``, ``result(timeout=None)`` (the value, or the job's error raised;
    ``TimeoutError`` when the timeout passes first), ``cancel()``, ``elapsed`` (seconds),
    ``error`` (None, or the short error the job ended with), ``state`` (running, done,
    failed, cancelled), ``notes`` (lines for the user, as a foreground call prints them).
    """

    def __init__(
        self,
        run: Callable[[Call], Any],
        call: Call,
        *,
        name: str | None = None,
        session: str | None = None,
        what: str = "requests",
    ) -> None:
        self.id = next(_ids)
        self.name = name
        self.session = session
        self.what = what  # what progress counts: requests or pages
        self.call = call  # its own state; the exchange of its last request when done
        self._run = run
        self._lock = threading.Lock()
        self._progress = JobProgress()
        self._listeners: list[Callable[[P44Job], None]] = []
        self._finished = threading.Event()
        self._value: Any = None
        self._error: P44Error | None = None
        self._cancelled = False
        self._started = time.monotonic()
        self._ended: float | None = None
        call.progress = Progress(
            pages=self._on_pages, download=call.progress.download, each=self._on_each
        )
        self._thread = threading.Thread(target=self._work, name=f"p44-job-{self.id}", daemon=True)

    def start(self) -> P44Job:
        _live.add(self)
        self._thread.start()
        return self

    # -- what the job's thread does --------------------------------------------------------

    def _work(self) -> None:
        try:
            value = self._run(self.call)
            if self._cancelled:  # it ended anyway (one request, or the last ones on the wire)
                self._error = self._interrupted(value)
            else:
                self._value = value
        except P44Error as error:
            cut = self._cancelled and not isinstance(error, P44Interrupted)
            self._error = self._interrupted(None) if cut else error  # stopped at a wait
        except BaseException as error:  # noqa: BLE001 - kept for result(), never shown whole
            if self._cancelled:  # the interpreter closing refused its next request: no fault
                self._error = self._interrupted(None)
                return
            self._error = P44Error(
                f"The background job failed unexpectedly ({type(error).__name__}).",
                hint="Run the cell without --bg to see where.",
            )
        finally:
            self._run = _done_already
            self._ended = time.monotonic()
            self._finished.set()
            self._tell()

    def _interrupted(self, partial: Any) -> P44Interrupted:
        """The error of a job cancelled before its call said so itself (one request: 1 of 1
        when it came back, 0 of 1 when it was stopped at a wait)."""
        progress = self._progress
        total = progress.total or 1
        done = progress.done or (1 if partial is not None else 0)
        return P44Interrupted(done, total, partial)

    def _on_each(self, done: int, total: int, rows: int, failures: int) -> None:
        self._set(JobProgress(done, total, rows, failures))

    def _on_pages(self, done: int, total: int, rows: int) -> None:
        self._set(replace(self._progress, done=done, total=total, rows=rows))

    def _set(self, progress: JobProgress) -> None:
        with self._lock:
            self._progress = progress
        self._tell()

    def _tell(self) -> None:
        for listener in list(self._listeners):
            try:
                listener(self)
            except Exception:  # noqa: BLE001, S110 - a broken display must not end the job
                pass

    # -- the job's face ----------------------------------------------------------------------

    def add_listener(self, listener: Callable[[P44Job], None]) -> None:
        """``listener(job)`` on every progress step and at the end (from the job's thread)."""
        self._listeners.append(listener)
        if self.done():
            listener(self)

    def done(self) -> bool:
        return self._finished.is_set()

    @property
    def progress(self) -> JobProgress:
        with self._lock:
            return self._progress

    def result(self, timeout: float | None = None) -> Any:
        """The value (waiting for it, at most ``timeout`` seconds), or the job's error."""
        if not self._finished.wait(timeout):
            raise TimeoutError(f"job {self.id} is still running after {timeout:g} s")
        if self._error is not None:
            raise self._error.with_traceback(None)
        return self._value

    def wait(self, seconds: float) -> bool:
        """Wait up to ``seconds``; True once the job has ended."""
        return self._finished.wait(seconds)

    def cancel(self) -> None:
        """Send no new request; those on the wire finish; the rows so far stay in the job."""
        self._cancelled = True
        self.call.stop.set()

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    @property
    def elapsed(self) -> float:
        return (self._ended or time.monotonic()) - self._started

    @property
    def error(self) -> P44Error | None:
        return self._error

    @property
    def notes(self) -> list[str]:
        return list(dict.fromkeys(self.call.notes))

    @property
    def state(self) -> str:
        if not self.done():
            return "cancelling" if self._cancelled else "running"
        if isinstance(self._error, P44Interrupted) and self._cancelled:
            return "cancelled"
        return "failed" if self._error is not None else "done"

    def line(self) -> str:
        """``job 3 (events): running, 120/200 requests, 960 rows, 12 s``."""
        progress = self.progress
        total = f"/{progress.total:,}" if progress.total else ""
        parts = [self.state, f"{progress.done:,}{total} {self.what}", counted(progress.rows, "row")]
        if progress.failures:
            parts.append(f"{progress.failures:,} failed")
        label = f" ({self.name})" if self.name else ""
        return f"job {self.id}{label}: {', '.join(parts)}, {self.elapsed:.0f} s"

    def __repr__(self) -> str:
        return f"<P44Job {self.line()}>"

    def _repr_html_(self) -> str:
        progress = self.progress
        bar = (
            f'<progress value="{progress.done}" max="{progress.total}"></progress>'
            if progress.total
            else "<progress></progress>"
        )
        return f"{bar} <code>{escape(self.line())}</code>"


def _done_already(call: Call) -> Any:
    raise RuntimeError("a job runs once")


def cancel_all(jobs: Any = None, wait: float = 0.0) -> None:
    """Cancel ``jobs`` (all live jobs when None), then give them ``wait`` seconds to end."""
    chosen = [job for job in (list(_live) if jobs is None else jobs) if not job.done()]
    for job in chosen:
        job.cancel()
    deadline = time.monotonic() + wait
    for job in chosen:
        job.wait(max(0.0, deadline - time.monotonic()))


def _at_exit() -> None:
    """A closing interpreter (a kernel shutting down) ends its jobs within SHUTDOWN_WAIT."""
    cancel_all(wait=SHUTDOWN_WAIT)


# Before the worker pools close (concurrent.futures refuses new work from there on, and waits
# for what runs): threading's own exit hooks run first, the last registered first.
getattr(threading, "_register_atexit", atexit.register)(_at_exit)
