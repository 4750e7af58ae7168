"""``--each``: one request per value of a collection, joined into one result, with a failures
table. The values are read and checked here (:func:`each_values`); the requests are fanned out
by :func:`run_each` over a call's :class:`~p44_magic.workers.Workers`; what comes back is an
:class:`EachResult`.

A value whose request fails (after its retries) is recorded in ``failures`` and the others
carry on; only an interrupt, ``strict`` or a failure that concerns every value stops the rest.
"""

from __future__ import annotations

import math
from collections import ChainMap, Counter
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from . import settings
from .answers import Result, decode_body, info_notes
from .call_state import Call, EachCallback, Progress
from .calls import Wanted, running, value_of, with_presets
from .errors import (
    P44ConnectionError,
    P44Error,
    P44HTTPError,
    P44Interrupted,
    P44TimeoutError,
    P44UsageError,
    clean_failures,
)
from .frames import Rows, frame_and_note, in_timezone, name_taken, plain_rows, records_to_frame
from .frames.columns import maybe_datetime
from .request import HttpRequest, placeholder_names, substitute_request
from .session import Session
from .workers import Workers

DEFAULT_MAX_EACH: int = settings.default("max_each")
FAILURE_COLUMNS = ("status_code", "error", "support_reference_id")
_FLATTENED = (list, tuple, set, frozenset, range, np.ndarray, pd.Index, pd.Series)


@dataclass
class EachResult:
    """What ``--each`` / :meth:`P44Client.each <p44_magic.client.P44Client.each>` gives back.

    ``frame``: the rows of every answer in the order of the values, the value first under
    ``name`` (or, for ``--tables`` and ``--raw``, the joined tables or ``{value: answer}``);
    ``failures``: one row per failed value (``name``, ``status_code``, ``error``,
    ``support_reference_id``); ``answers``: value → parsed answer, for the successes.
    """

    name: str
    values: list[Any]
    frame: Any = None
    failures: pd.DataFrame = field(default_factory=pd.DataFrame)
    answers: dict[Any, Any] = field(default_factory=dict)
    failure_kinds: list[str] = field(default_factory=list)  # "HTTP 404", "timeout", …

    @property
    def succeeded(self) -> int:
        return len(self.values) - len(self.failures)

    def failure_counts(self) -> str:
        """``HTTP 404 × 2, timeout × 1``: the failures by kind, most frequent first."""
        kinds = Counter(self.failure_kinds)
        return ", ".join(f"{kind} × {count:,}" for kind, count in kinds.most_common())


def failure_kind(error: P44Error) -> str:
    if isinstance(error, P44HTTPError):
        return f"HTTP {error.status_code}"
    if isinstance(error, P44TimeoutError):
        return "timeout"
    return "no connection" if isinstance(error, P44ConnectionError) else "error"


def each_values(collection: Any, label: str, limit: int = DEFAULT_MAX_EACH) -> list[Any]:
    """The distinct values of ``collection`` in order: lists inside are flattened, missing
    values (None, NaN) dropped, duplicates dropped keeping the first; ``label`` (``sid=ids``)
    names it in errors."""
    if isinstance(collection, pd.DataFrame):
        raise P44UsageError(
            f"--each {label}: that is a DataFrame; give one of its columns, e.g. {label}.id."
        )
    if isinstance(collection, str | bytes | Mapping) or not isinstance(collection, Iterable):
        raise P44UsageError(
            f"--each {label}: that is a {type(collection).__name__}, not a list of values.",
            hint="Give a list, tuple, set, range, numpy array, pandas Index or Series.",
        )
    seen: dict[Any, None] = {}
    for item in collection:
        for value in item if isinstance(item, _FLATTENED) else (item,):
            value = _plain(value, label)
            if value is not None:
                seen.setdefault(value, None)
    if not seen:
        raise P44UsageError(f"--each {label}: there are no values in it (after dropping missing).")
    if len(seen) > limit:
        raise P44UsageError(
            f"--each {label}: {len(seen):,} distinct values, more than max_each ({limit:,}).",
            hint="Split the list, or raise %config P44Magics.max_each.",
        )
    return list(seen)


def _plain(value: Any, label: str) -> Any:
    """A value as it goes into a request: None when missing; numpy scalars as Python ones; a
    whole float as an int (ids from a column with gaps are floats)."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return int(value) if value.is_integer() else value
    if isinstance(value, dict | pd.DataFrame | pd.Series | list | tuple | set | np.ndarray):
        raise P44UsageError(
            f"--each {label}: it holds a {type(value).__name__} where a value should be.",
            hint="Give a list of ids (strings or numbers); pick the field from each item first.",
        )
    try:
        hash(value)
    except TypeError:
        raise P44UsageError(
            f"--each {label}: it holds a {type(value).__name__}, which is not a value."
        ) from None
    return value


def check_uses(request: HttpRequest, name: str, label: str) -> None:
    """``name`` must be an identifier that the request uses as ``{{name}}``."""
    if not name.isidentifier():
        raise P44UsageError(f"--each {label}: {name!r} is not a name (letters, digits, _).")
    if name not in placeholder_names(request):
        raise P44UsageError(
            f"--each {label}: the request never uses {{{{{name}}}}}, so every request would be "
            "the same.",
            hint=f"Put {{{{{name}}}}} in the path, a header or the body.",
        )


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
) -> tuple[dict[int, Any], list[tuple[Any, P44Error]]]:
    """``send(value)`` for every value, at most ``max_concurrency`` at once.

    Returns the results by index of value and the failures (value, error) in value order.
    ``check(value, result)`` runs in the calling thread on each result; an error it raises stops
    the call. With ``strict`` the first failure stops it. A KeyboardInterrupt stops it with
    :class:`P44Interrupted` (``partial`` = the results so far)."""
    results: dict[int, Any] = {}
    failed: dict[int, P44Error] = {}
    rows = 0
    try:
        with Workers(max_concurrency) as pool:
            waiting = iter(enumerate(values))
            running: dict[Future, int] = {}
            while True:
                while len(running) < max_concurrency and (item := next(waiting, None)):
                    running[pool.submit(send, item[1])] = item[0]
                if not running:
                    break
                done = pool.first_done(running)
                for future in done:
                    index = running.pop(future)
                    try:
                        results[index] = future.result()
                    except P44Error as error:
                        if strict:
                            raise _strict_failure(name, values[index], error) from None
                        failed[index] = error
                        continue
                    if check is not None:
                        check(values[index], results[index])
                    rows += rows_of(results[index])
                if progress:
                    progress(len(results) + len(failed), len(values), rows, len(failed))
    except KeyboardInterrupt:
        raise P44Interrupted(len(results) + len(failed), len(values), results) from None
    return results, [(values[i], failed[i]) for i in sorted(failed)]


def _strict_failure(name: str, value: Any, error: P44Error) -> P44Error:
    return P44Error(
        f"--strict: the request for {name}={value!r} failed, so the others were stopped and "
        f"nothing was assigned.\n{error.message}",
        hint=error.hint,
    )


def failures_frame(name: str, failures: list[tuple[Any, P44Error]]) -> pd.DataFrame:
    """One row per failed value: the value, ``status_code`` (None for connection errors and
    timeouts), the one-line ``error`` and ``support_reference_id``."""
    rows = [
        {
            name: value,
            "status_code": error.status_code if isinstance(error, P44HTTPError) else None,
            "error": error.message.splitlines()[0],
            "support_reference_id": getattr(error, "support_reference_id", None),
        }
        for value, error in failures
    ]
    return pd.DataFrame(rows, columns=[name, *FAILURE_COLUMNS], dtype=object)


def joined_frame(
    name: str, values: list[Any], parts: dict[int, Any], parse_dates: bool = False
) -> pd.DataFrame:
    """Each value's rows joined in value order, with the value as a first column ``name``.

    ``parts`` hold :class:`Rows` (records that start with the value) or frames (without it).
    When all are Rows they make one frame; timestamps are parsed once, on the joined columns,
    so a column is datetimes (or not) for every value alike."""
    kept = sorted(
        i for i, part in parts.items() if isinstance(part, Rows | pd.DataFrame) and len(part)
    )
    if not kept:
        names = [c for part in parts.values() if isinstance(part, pd.DataFrame) for c in part]
        return pd.DataFrame(columns=list(dict.fromkeys([name, *names])))
    if all(isinstance(parts[i], Rows) for i in kept):
        return records_to_frame([row for i in kept for row in parts[i]], parse_dates)
    frames = []
    for i in kept:
        part = parts[i]
        if isinstance(part, Rows):
            frames.append(records_to_frame(part, False))
            continue
        part = part.copy(deep=False)
        part.insert(0, name, pd.Series([values[i]] * len(part), dtype=object, index=part.index))
        frames.append(part)
    joined = pd.concat(frames, ignore_index=True, sort=False)
    if parse_dates:
        for label in joined.columns[1:]:
            joined[label] = maybe_datetime(joined[label], True)  # it skips numbers and dates
    return joined


def all_failed(name: str, result: EachResult) -> P44Error:
    first = result.failures["error"].iloc[0]
    return P44Error(
        f"--each {name}: every one of the {len(result.values):,} requests failed: "
        f"{result.failure_counts()} (see {FAILURES_NAME}).\nFirst: {first}"
    )


@clean_failures
def run_each_call(
    session: Session,
    request: HttpRequest,
    name: str,
    values: list[Any],
    wanted: Wanted,
    call: Call,
    *,
    namespace: Mapping[str, Any] | None = None,
    strict: bool = False,
    label: str | None = None,
) -> Result:
    """``request`` once per value, ``{{name}}`` replaced by it (other ``{{…}}`` from
    ``namespace``); the value is an :class:`EachResult`, the exchange the call's last."""
    label = label or name
    check_uses(request, name, label)
    wanted = with_presets(request, wanted)
    parse_dates = wanted.parse_dates and wanted.kind == "frame"
    wanted = replace(wanted, parse_dates=wanted.parse_dates and not parse_dates)
    call.progress = Progress(each=call.progress.each)  # no bars for one value's pages or bytes

    def send(value: Any) -> tuple[Any, Any]:
        one = substitute_request(request, ChainMap({name: value}, namespace or {}))
        if wanted.kind == "frame" and not wanted.all_pages:
            return _each_rows(session, one, wanted, call, (name, value))
        return value_of(session, one, wanted, call, max_concurrency=1)

    def check(value: Any, result: tuple[Any, Any]) -> None:
        if isinstance(result[0], pd.DataFrame) and name in result[0].columns:
            raise name_taken(name, label)

    def rows_of(result: tuple[Any, Any]) -> int:
        return len(result[0]) if isinstance(result[0], pd.DataFrame | Rows) else 0

    with running(call):
        try:
            results, failed = run_each(
                values,
                send,
                name=name,
                max_concurrency=session.max_concurrency,
                strict=strict,
                check=check,
                progress=call.progress.each,
                rows_of=rows_of,
            )
        except P44Interrupted as stop:
            partial = _each_result(session, name, values, stop.partial, [], wanted, parse_dates)
            stop.partial = partial.frame
            raise
    each = _each_result(session, name, values, results, failed, wanted, parse_dates)
    return Result(each, call.exchange, list(dict.fromkeys(call.notes)))


def _each_rows(
    session: Session,
    request: HttpRequest,
    wanted: Wanted,
    call: Call,
    first: tuple[str, Any],
) -> tuple[Any, Any]:
    """One value's rows: plain records to be framed with every other value's (one frame
    for all: 300 small frames cost more than the requests), else its own frame."""
    response = session.send(request, call, download=False)
    answer = decode_body(response, strict=wanted.kind == "frame" or wanted.json_required)
    call.note(*info_notes(answer))
    rows = plain_rows(answer, wanted.record_path, wanted.meta, first)
    if rows is not None:
        return rows, answer
    if answer is None or isinstance(answer, str):
        return answer, answer
    frame, note = frame_and_note(answer, wanted.record_path, wanted.meta, False, wanted.preset)
    call.note(note)
    return frame, answer


def _each_result(
    session: Session,
    name: str,
    values: list[Any],
    results: dict[int, tuple[Any, Any]],
    failed: list[tuple[Any, P44Error]],
    wanted: Wanted,
    parse_dates: bool,
) -> EachResult:
    answers = {values[i]: answer for i, (_, answer) in sorted(results.items())}
    if wanted.kind == "frame":
        frames = {i: value for i, (value, _) in results.items()}
        frame = in_timezone(joined_frame(name, values, frames, parse_dates), session.timezone)
    else:
        frame = dict(answers)
    return EachResult(
        name,
        values,
        frame,
        failures_frame(name, failed),
        answers,
        [failure_kind(error) for _, error in failed],
    )


def parse_each(spec: str) -> tuple[str, str]:
    """``NAME=VARIABLE`` → (NAME, VARIABLE)."""
    name, equals, variable = spec.partition("=")
    if not equals or not name.strip() or not variable.strip():
        raise P44UsageError(
            f"--each {spec}: write --each NAME=VARIABLE, e.g. --each sid=shipment_ids.",
            hint="NAME is the {{NAME}} of the request; VARIABLE a list in the notebook.",
        )
    name = name.strip()
    if not name.isidentifier():
        raise P44UsageError(f"--each {spec}: {name!r} is not a name (letters, digits, _).")
    return name, variable.strip()


def each_summary(result: EachResult, shape: str) -> str:
    """``1,204 rows × 12 columns from 298 of 300 values; 2 failed: HTTP 404 × 2 (…)``."""
    total = len(result.values)
    if not len(result.failures):
        return f"{shape} from {total:,} values"
    return (
        f"{shape} from {result.succeeded:,} of {total:,} values; {len(result.failures):,} "
        f"failed: {result.failure_counts()} (see {FAILURES_NAME})"
    )


FAILURES_NAME = "_p44_failures"
PARTIAL_NAME = "_p44_partial"
