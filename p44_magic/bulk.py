"""``--each``: one request per value of a collection, joined into one result, with a failures
table. The values are read and checked here (:func:`each_values`); the requests are fanned out
by :func:`run_each` over a call's :class:`~p44_magic.workers.Workers`; what comes back is an
:class:`EachResult`.

A value whose request fails (after its retries) is recorded in ``failures`` and the others
carry on; only an interrupt, ``strict`` or a failure that concerns every value stops the rest.
"""

from __future__ import annotations

from collections import ChainMap, Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from .answers import Result, decode_body, info_notes
from .call_state import Call, Progress
from .calls import Wanted, running, value_of, with_presets
from .each_values import DEFAULT_MAX_EACH, check_uses, each_values, parse_each
from .errors import (
    P44AuthError,
    P44ConnectionError,
    P44Error,
    P44HTTPError,
    P44Interrupted,
    P44TimeoutError,
    clean_failures,
    server_text,
)
from .fan_out import EachRun, run_each
from .frames import (
    Rows,
    TrackingTables,
    as_frames,
    frame_and_note,
    joined_tables,
    name_taken,
    plain_rows,
    records_to_frame,
    result_frames,
    tracking_tables,
)
from .frames.columns import maybe_datetime
from .request import HttpRequest, substitute_request
from .session import Session
from .words import counted

FAILURE_COLUMNS = ("status_code", "error", "support_reference_id")
__all__ = ["DEFAULT_MAX_EACH", "EachResult", "each_values", "parse_each", "run_each_call"]


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
    failures: pd.DataFrame = field(default_factory=pd.DataFrame)  # polars with frames="polars"
    answers: dict[Any, Any] = field(default_factory=dict)
    failure_kinds: list[str] = field(default_factory=list)  # "HTTP 404", "timeout", …

    @property
    def succeeded(self) -> int:
        return len(self.values) - len(self.failures)

    def add_failures(self, failed: list[tuple[Any, P44Error]]) -> None:
        """Count these values as failed after all (their answers could not be used)."""
        for value, _ in failed:
            self.answers.pop(value, None)
        order = {value: index for index, value in enumerate(self.values)}
        added = failures_frame(self.name, failed)
        joined = (
            pd.concat([self.failures, added], ignore_index=True) if len(self.failures) else added
        )
        ranks = joined[self.name].map(order)
        self.failures = joined.iloc[ranks.argsort(kind="stable")].reset_index(drop=True)
        self.failure_kinds += [failure_kind(error) for _, error in failed]

    def failure_counts(self) -> str:
        """``HTTP 404 × 2, timeout × 1``: the failures by kind, most frequent first."""
        kinds = Counter(self.failure_kinds)
        return ", ".join(f"{kind} × {count:,}" for kind, count in kinds.most_common())


def failure_kind(error: P44Error) -> str:
    if isinstance(error, P44HTTPError):
        return f"HTTP {error.status_code}"
    if isinstance(error, P44TimeoutError):
        return "timeout"
    if error.message.startswith("not tried:"):
        return "not tried"
    return "no connection" if isinstance(error, P44ConnectionError) else "error"


def failures_frame(name: str, failures: list[tuple[Any, P44Error]]) -> pd.DataFrame:
    """One row per failed value: the value, ``status_code`` (None for connection errors and
    timeouts), the one-line ``error`` and ``support_reference_id``."""
    rows = [
        {
            name: value,
            "status_code": error.status_code if isinstance(error, P44HTTPError) else None,
            "error": error.summary
            if isinstance(error, P44HTTPError)
            else error.message.splitlines()[0],
            "support_reference_id": getattr(error, "support_reference_id", None),
        }
        for value, error in failures
    ]
    return pd.DataFrame(rows, columns=[name, *FAILURE_COLUMNS], dtype=object)


def joined_frame(
    name: str,
    values: list[Any],
    parts: dict[int, Any],
    parse_dates: bool = False,
    frames: str = "pandas",
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
        return records_to_frame([row for i in kept for row in parts[i]], parse_dates, frames)
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
    first = next(iter(result.failures["error"]))  # pandas or polars
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
    frames = wanted.frames or session.frames  # of the joined result; each value's is pandas
    wanted = replace(wanted, parse_dates=wanted.parse_dates and not parse_dates, frames="pandas")
    call.progress = Progress(each=call.progress.each)  # no bars for one value's pages or bytes

    def send(value: Any) -> tuple[Any, Any]:
        one = substitute_request(request, ChainMap({name: value}, namespace or {}))
        if wanted.kind == "frame" and not wanted.all_pages:
            return _each_rows(session, one, wanted, call, (name, value))
        own = Call(call.progress)  # this value's notes, named for it when they join the call's
        try:
            return value_of(session, one, wanted, own, max_concurrency=1)
        finally:
            call.exchange = own.exchange or call.exchange
            call.note(*(f"{name}={value!r}: {note}" for note in dict.fromkeys(own.notes)))

    def check(value: Any, result: tuple[Any, Any]) -> None:
        if isinstance(result[0], pd.DataFrame) and name in result[0].columns:
            raise name_taken(name, label)

    def rows_of(result: tuple[Any, Any]) -> int:
        return len(result[0]) if isinstance(result[0], pd.DataFrame | Rows) else 0

    with running(call):
        try:
            run = run_each(
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
            partial = _each_result(session, stop.partial, wanted, parse_dates, frames)
            stop.partial, stop.failures = partial.frame, partial.failures
            raise
    each = _each_result(session, run, wanted, parse_dates, frames)
    if run.fatal is not None:
        run.fatal.failures = each.failures  # this run's, for --each NAME=_p44_failures.NAME
        raise _ended(run.fatal, label, run)
    if run.stopped is not None:
        call.note(
            f"--each {label}: stopped early: {run.stopped}; {run.untried():,} values were not "
            f"tried (listed in {FAILURES_NAME}: rerun them later with "
            f"--each {name}={FAILURES_NAME}.{name})."
        )
    return Result(each, call.exchange, list(dict.fromkeys(call.notes)))


def _ended(error: P44Error, label: str, run: EachRun) -> P44Error:
    """The error a run ended with, saying how much of the run did not happen."""
    if isinstance(error, P44AuthError):
        ended = P44AuthError(
            f"{error.message}\n--each {label}: stopped at once, so the refused credentials were "
            f"not sent again; {run.untried():,} of {len(run.values):,} values not tried "
            f"(see {FAILURES_NAME}).",
            status_code=error.status_code,
            error=error.error,
            error_description=error.error_description,
            hint=error.hint,
        )
        ended.failures = error.failures
        return ended
    return error


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
    about = f"{first[0]}={first[1]!r}: "  # a note from one value names that value
    call.note(*(about + note for note in info_notes(answer)))
    rows = plain_rows(answer, wanted.record_path, wanted.meta, first)
    if rows is not None:
        return rows, answer
    if isinstance(answer, str):  # an HTML maintenance page: a failure of this value, not 0 rows
        kind = response.headers.get("Content-Type", "").split(";")[0].strip()[:60] or "text"
        raise P44Error(
            f"The answer is not JSON ({server_text(kind, 60)}), so it has no rows.",
            hint="The server may be down for maintenance; run the failed values again later.",
        )
    if answer is None:
        return answer, answer
    frame, note = frame_and_note(answer, wanted.record_path, wanted.meta, False, wanted.preset)
    call.note(about + note if note else None)
    return frame, answer


def _each_result(
    session: Session, run: EachRun, wanted: Wanted, parse_dates: bool, frames: str = "pandas"
) -> EachResult:
    name, values, results = run.name, run.values, run.results
    failed = run.failures()
    answers = {values[i]: answer for i, (_, answer) in sorted(results.items())}
    frame: Any = dict(answers)
    if wanted.kind == "frame":
        parts = {i: value for i, (value, _) in results.items()}
        frame = joined_frame(name, values, parts, parse_dates, frames)
        frame = result_frames(frame, frames, session.timezone)
    each = EachResult(
        name,
        values,
        frame,
        failures_frame(name, failed),
        answers,
        [failure_kind(error) for _, error in failed],
    )
    return as_frames(each, frames) if wanted.kind == "frame" else each


def each_tables(each: EachResult, parse_dates: bool, timezone: str | None) -> TrackingTables:
    """``--each --tables``: every value's tracking answer as tables, joined table by table; a
    value whose answer is no tracking answer (HTML, empty, a list) becomes a failure row and
    the other values keep their tables."""
    parts, failed = [], []
    for value, answer in each.answers.items():
        try:
            parts.append((value, tracking_tables(answer, parse_dates, timezone)))
        except P44Error as error:
            failed.append((value, error))
    if failed:
        each.add_failures(failed)
    return joined_tables(each.name, parts)


def each_summary(result: EachResult, shape: str) -> str:
    """``1,204 rows × 12 columns from 298 of 300 values; 2 failed: HTTP 404 × 2 (…)``."""
    total = len(result.values)
    if not len(result.failures):
        return f"{shape} from {counted(total, 'value')}"
    return (
        f"{shape} from {result.succeeded:,} of {total:,} values; {len(result.failures):,} "
        f"failed: {result.failure_counts()} (see {FAILURES_NAME})"
    )


FAILURES_NAME = "_p44_failures"
PARTIAL_NAME = "_p44_partial"
