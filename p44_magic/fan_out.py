"""One send per value over a call's worker threads, and when such a run ends early.

:func:`run_each` sends ``send(value)`` for every value, at most ``max_concurrency`` at once, and
keeps each result or failure by the index of its value (an :class:`EachRun`). A failure of one
value leaves the others going, except:

- ``strict``: the first failure ends the run;
- the token endpoint refused the credentials: every other value would send them again (the
  pattern that locks a client application out), so the run ends at once;
- the rate limit ran out: ``RATE_LIMITED_IN_A_ROW`` values answered 429 one after another
  (after their own retries), so nothing more is sent and the rest are listed as not tried;
- an interrupt: :class:`P44Interrupted` with the run so far as ``partial``.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from .call_state import EachCallback
from .errors import P44AuthError, P44Error, P44HTTPError, P44Interrupted
from .workers import Workers

RATE_LIMITED_IN_A_ROW = 5  # values answered 429 one after another before the run ends


@dataclass
class EachRun:
    """One fan-out: results and failures by index of value, and why it ended early."""

    values: list[Any]
    name: str
    results: dict[int, Any] = field(default_factory=dict)
    failed: dict[int, P44Error] = field(default_factory=dict)
    rows: int = 0
    limited_in_a_row: int = 0
    stopped: str | None = None  # why nothing more was sent
    fatal: P44Error | None = None  # the error the run ends with (strict, refused credentials)

    @property
    def done(self) -> int:
        return len(self.results) + len(self.failed)

    def failures(self) -> list[tuple[Any, P44Error]]:
        """(value, error) in value order: the failed, then, when it ended early, the untried."""
        failed = [(self.values[i], self.failed[i]) for i in sorted(self.failed)]
        if self.stopped is None:
            return failed
        untried = P44Error(f"not tried: {self.stopped}")
        tried = self.results.keys() | self.failed.keys()
        return failed + [(v, untried) for i, v in enumerate(self.values) if i not in tried]

    def untried(self) -> int:
        return len(self.values) - self.done

    def settle(
        self,
        index: int,
        future: Future,
        strict: bool,
        check: Callable[[Any, Any], None] | None,
        rows_of: Callable[[Any], int],
    ) -> None:
        """Keep one value's result or failure; decide whether the run goes on."""
        try:
            result = future.result()
        except P44Error as error:
            self._failed(index, error, strict)
            return
        self.limited_in_a_row = 0
        self.results[index] = result
        if check is not None:
            check(self.values[index], result)
        self.rows += rows_of(result)

    def _failed(self, index: int, error: P44Error, strict: bool) -> None:
        self.failed[index] = error
        if self.fatal is not None:
            return
        if strict:
            self._end(_strict_failure(self.name, self.values[index], error), "--strict")
        elif isinstance(error, P44AuthError) and error.refused:
            self._end(error, "the token endpoint refused the credentials")
        elif isinstance(error, P44HTTPError) and error.status_code == 429:
            self.limited_in_a_row += 1
            if self.limited_in_a_row >= RATE_LIMITED_IN_A_ROW:
                self.stopped = (
                    f"the rate limit ran out ({self.limited_in_a_row} values answered 429 in a row)"
                )
        else:
            self.limited_in_a_row = 0

    def _end(self, error: P44Error, why: str) -> None:
        self.fatal, self.stopped = error, why


def run_each(
    values: list[Any],
    send: Callable[[Any], Any],
    *,
    name: str,
    max_concurrency: int,
    strict: bool = False,
    check: Callable[[Any, Any], None] | None = None,
    progress: EachCallback | None = None,
    rows_of: Callable[[Any], int] = lambda _: 0,
) -> EachRun:
    """``send(value)`` for every value, at most ``max_concurrency`` at once (see the module).

    ``check(value, result)`` runs in the calling thread on each result; an error it raises ends
    the call. A run that ends early stops the requests in flight as an interrupt does."""
    run = EachRun(values, name)
    try:
        with Workers(max_concurrency) as pool:
            waiting = iter(enumerate(values))
            running: dict[Future, int] = {}
            while True:
                while (
                    run.stopped is None
                    and len(running) < max_concurrency
                    and (item := next(waiting, None))
                ):
                    running[pool.submit(send, item[1])] = item[0]
                if not running or run.fatal is not None:
                    break
                for future in pool.first_done(running):
                    run.settle(running.pop(future), future, strict, check, rows_of)
                if progress:
                    progress(run.done, len(values), run.rows, len(run.failed))
            if run.fatal is not None:
                pool.stop.set()  # the requests in flight end at their next send or wait
    except KeyboardInterrupt:
        raise P44Interrupted(run.done, len(values), run) from None
    return run


def _strict_failure(name: str, value: Any, error: P44Error) -> P44Error:
    return P44Error(
        f"--strict: the request for {name}={value!r} failed, so the others were stopped and "
        f"the result was not assigned (this run's failures are in _p44_failures).\n"
        f"{error.message}",
        hint=error.hint,
    )
