"""JSON answers to pandas DataFrames: a pure function with ``pandas.json_normalize`` semantics.

Which rows: a top-level list; the ``results`` of a ``{paginationInfo, results}`` page; the one list
of objects in an object; or the list named by ``record_path`` (dotted). Nested objects become dotted
columns, lists of scalars stay lists, ISO 8601 timestamp columns become timezone-aware datetimes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from .errors import P44UsageError

#: Lists that are never the rows of an answer: project44's side-channel messages.
SIDE_LISTS = frozenset({"infoMessages"})
_ISO_8601 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)?$"
)
NOTE_ATTR = "p44_note"
_MISSING = float("nan")  # what json_normalize puts where a record lacks a field


def to_frame(
    answer: Any,
    record_path: str | None = None,
    meta: Sequence[str] | str | None = None,
    parse_dates: bool = True,
) -> pd.DataFrame:
    """Turn a parsed JSON answer into a DataFrame.

    ``record_path`` picks the list that holds the rows (``"events"``,
    ``"shipment.routeInfo.stops"``); ``meta`` carries parent fields (``"shipment.id"``) onto every
    row as columns of the same dotted name. A hint about the choice made (several lists found) is
    left in ``frame.attrs["p44_note"]``.
    """
    meta_paths = [meta] if isinstance(meta, str) else list(meta or [])
    parents: list[Any]
    if isinstance(answer, list) and record_path:
        parents = answer
    else:
        parents = [answer]
    records: list[Any] = []
    meta_rows: list[tuple[int, list[Any]]] = []
    note = None
    for parent in parents:
        rows, note = select_records(parent, record_path)
        if meta_paths:
            values = [_lookup(parent, path, "--meta") for path in meta_paths]
            meta_rows.append((len(rows), values))
        records.extend(rows)
    frame = records_to_frame(records, parse_dates=parse_dates)
    if meta_paths:
        for position, path in enumerate(meta_paths):
            if path in frame.columns:
                raise P44UsageError(
                    f"--meta {path}: the rows already have a column named {path!r}."
                )
            column: list[Any] = []
            for count, values in meta_rows:
                column.extend([values[position]] * count)
            frame[path] = _maybe_datetime(pd.Series(column, index=frame.index), parse_dates)
    if note:
        frame.attrs[NOTE_ATTR] = note
    return frame


def select_records(answer: Any, record_path: str | None = None) -> tuple[list[Any], str | None]:
    """The rows of an answer and, when the choice was not obvious, a one-line note about it."""
    if record_path:
        found = _lookup(answer, record_path, "--path")
        if isinstance(found, list):
            return found, None
        return [found], None
    if isinstance(answer, list):
        return answer, None
    if not isinstance(answer, dict):
        return [{"value": answer}], None
    if isinstance(answer.get("results"), list) and "paginationInfo" in answer:
        return answer["results"], None
    lists = record_lists(answer)
    if len(lists) == 1:
        return answer[lists[0][0]], None
    if len(lists) > 1:
        named = ", ".join(f"{name} ({length})" for name, length in lists)
        return [answer], f"The answer holds several lists: {named}. Pick one with --path NAME."
    return [answer], None


def record_lists(answer: dict[str, Any]) -> list[tuple[str, int]]:
    """The top-level lists of objects (or empty lists) in an answer, with their lengths."""
    return [
        (key, len(value))
        for key, value in answer.items()
        if key not in SIDE_LISTS
        and isinstance(value, list)
        and all(isinstance(item, dict) for item in value)
    ]


def records_to_frame(records: Iterable[Any], parse_dates: bool = True) -> pd.DataFrame:
    """Flatten records column by column (dotted names, like ``json_normalize``) into one frame."""
    columns: dict[str, list[Any]] = {}
    count = 0
    for record in records:
        flat = _flatten(record) if isinstance(record, dict) else {"value": record}
        for key, value in flat.items():
            column = columns.get(key)
            if column is None:
                column = columns[key] = [_MISSING] * count
            elif len(column) < count:
                column.extend([_MISSING] * (count - len(column)))
            column.append(value)
        count += 1
    for column in columns.values():
        if len(column) < count:
            column.extend([_MISSING] * (count - len(column)))
    frame = (
        pd.DataFrame(columns, index=pd.RangeIndex(count))
        if columns
        else pd.DataFrame(index=pd.RangeIndex(count))
    )
    if parse_dates:
        for name in frame.columns:
            frame[name] = _maybe_datetime(frame[name], True)
    return frame


def _flatten(record: dict[str, Any]) -> dict[str, Any]:
    """Top-level plain fields first, then nested objects as dotted keys (json_normalize order)."""
    flat = {str(k): v for k, v in record.items() if not isinstance(v, dict)}
    for key, value in record.items():
        if isinstance(value, dict):
            _flatten_into(value, str(key), flat)
    return flat


def _flatten_into(value: dict[str, Any], prefix: str, out: dict[str, Any]) -> None:
    for key, item in value.items():
        name = f"{prefix}.{key}"
        if isinstance(item, dict):
            _flatten_into(item, name, out)
        else:
            out[name] = item


def _maybe_datetime(series: pd.Series, parse_dates: bool) -> pd.Series:
    """Parse a column of ISO 8601 strings into UTC-aware datetimes; leave anything else alone."""
    if not parse_dates or series.dtype.kind in "biufcmM":
        return series
    sample = series.dropna()
    if sample.empty:
        return series
    head = sample.iloc[0]
    if not isinstance(head, str) or not _ISO_8601.match(head):
        return series
    if not all(
        isinstance(v, str) and _ISO_8601.match(v) for v in sample.iloc[:: max(1, len(sample) // 64)]
    ):
        return series
    try:
        return pd.to_datetime(series, utc=True, format="ISO8601")
    except (ValueError, TypeError):
        return series


def _lookup(answer: Any, dotted: str, option: str) -> Any:
    """Walk a dotted path through nested objects; a missing key is a usage error naming the keys."""
    value = answer
    walked: list[str] = []
    for part in dotted.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
            walked.append(part)
            continue
        where = ".".join(walked) or "the answer"
        keys = ", ".join(map(str, value)) if isinstance(value, dict) else type(value).__name__
        raise P44UsageError(
            f"{option} {dotted}: {where} has no key {part!r}.", hint=f"Keys there: {keys}."
        )
    return value
