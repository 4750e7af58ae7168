"""JSON answers to pandas DataFrames: a pure function with ``pandas.json_normalize`` semantics.

Which rows: a top-level list; the ``results`` of a ``{paginationInfo, results}`` page; the one list
of objects in an object; or the list named by ``record_path`` (dotted). Nested objects become dotted
columns, lists of scalars stay lists, ISO 8601 timestamp columns become timezone-aware datetimes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from .errors import P44UsageError
from .gc_pause import gc_paused

#: Lists that are never the rows of an answer: project44's side-channel messages.
SIDE_LISTS = frozenset({"infoMessages"})
_ISO_8601 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)?$"
)
NOTE_ATTR = "p44_note"
_OBJECT = np.dtype(object)
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
    records = records if isinstance(records, list) else list(records)
    with gc_paused():
        columns = _uniform_columns(records)
    if columns is not None:
        frame = build_frame(columns, len(records), parse_dates)
        if not holds_objects(frame, columns):
            return frame
    builder = ColumnBuilder()
    builder.add(records)
    return builder.frame(parse_dates)


def _uniform_columns(records: list[Any]) -> dict[str, Any] | None:
    """Columns of records that all share the first record's shape (the usual answer), or None.

    One pass over the records with a loop written for that shape (see :func:`_rows_reader`),
    then a C-level transpose. A record of another shape makes the loop raise, and the caller
    falls back to :class:`ColumnBuilder`.
    """
    shape, rows = _uniform_rows(records)
    names = _rows_reader(shape)[0] if shape else None
    return dict(zip(names, zip(*rows, strict=True), strict=True)) if names else None


def _uniform_rows(records: list[Any]) -> tuple[Shape | None, list[tuple] | None]:
    """The first record's shape and every record read as a row of it, or (None, None)."""
    if not records or not isinstance(records[0], dict):
        return None, None
    shape = shape_of(records[0], top=True)
    try:
        with gc_paused():
            return shape, _rows_reader(shape)[1](records)
    except (KeyError, TypeError, IndexError, AttributeError):
        return None, None


Shape = tuple[tuple[str, "Shape | None"], ...]  # (key, nested shape or None for a field)


def shape_of(record: dict[str, Any], top: bool = False) -> Shape:
    """The keys of a record, recursively, in json_normalize's column order."""
    items = [
        (key, shape_of(value) if type(value) is dict else None) for key, value in record.items()
    ]
    if top:  # json_normalize puts a record's plain fields before its nested objects
        items = [i for i in items if i[1] is None] + [i for i in items if i[1] is not None]
    return tuple(items)


@lru_cache(maxsize=256)
def _rows_reader(shape: Shape) -> tuple[list[str], Callable[[list], list[tuple]]]:
    """Column names and a function that reads records of ``shape`` into one tuple each.

    Written as source and compiled once per shape (as ``collections.namedtuple`` does), so each
    record costs plain subscripts in one loop. It checks every object's key count, so a record
    with extra, missing or differently nested keys raises instead of giving wrong columns.
    """
    lines = [
        "def read_rows(records):",
        "    rows = []",
        "    append = rows.append",
        "    for v0 in records:",
        f"        if v0.__len__() != {len(shape)}: raise KeyError",
    ]
    names: list[str] = []
    fields: list[str] = []
    counter = 0

    def walk(level: Shape, var: str, prefix: str) -> None:
        nonlocal counter
        for key, nested in level:
            name = f"{prefix}.{key}" if prefix else str(key)
            if nested is None:
                names.append(name)
                fields.append(f"{var}[{key!r}]")
                continue
            counter += 1
            child = f"v{counter}"
            lines.append(f"        {child} = {var}[{key!r}]")
            lines.append(f"        if {child}.__len__() != {len(nested)}: raise KeyError")
            walk(nested, child, name)

    walk(shape, "v0", "")
    lines.append(f"        append(({', '.join(fields)}{',' if len(fields) == 1 else ''}))")
    lines.append("    return rows")
    namespace: dict[str, Any] = {}
    exec(compile("\n".join(lines), "<p44_magic rows reader>", "exec"), namespace)  # noqa: S102
    return names, namespace["read_rows"]


def holds_objects(frame: pd.DataFrame, columns: dict[str, Any]) -> bool:
    """True when a column holds a JSON object, which must be flattened instead.

    Only object-dtype columns can: pandas already found the others to be numbers, text or dates.
    """
    return any(
        dict in set(map(type, columns[name]))
        for name, dtype in frame.dtypes.items()
        if dtype == _OBJECT
    )


class PagedRows:
    """Reads each page's records into row tuples as the page arrives, then builds one frame.

    The reading overlaps the waiting for the next pages. Pages of different shapes (or records
    that are not uniform) fall back to the general path.
    """

    def __init__(self) -> None:
        self._pages: dict[int, tuple[list[Any], Shape | None, list[tuple] | None]] = {}

    def add(self, page: int, records: list[Any]) -> None:
        self._pages[page] = (records, *_uniform_rows(records))

    def frame(self, parse_dates: bool = True) -> pd.DataFrame:
        pages = [self._pages[number] for number in sorted(self._pages)]
        shapes = {shape for records, shape, _ in pages if records}
        if len(shapes) == 1 and None not in shapes:
            names = _rows_reader(shapes.pop())[0]
            with gc_paused():
                rows = [row for _, _, page_rows in pages if page_rows for row in page_rows]
                columns = dict(zip(names, zip(*rows, strict=True), strict=True))
            if names:
                frame = build_frame(columns, len(rows), parse_dates)
                if not holds_objects(frame, columns):
                    return frame
        return records_to_frame([r for records, _, _ in pages for r in records], parse_dates)


class ColumnBuilder:
    """Collects records straight into columns, so a frame is built once at the end.

    Column order and missing values follow ``pandas.json_normalize``: a record's plain fields come
    before its nested objects, and a field a record lacks is NaN.
    """

    def __init__(self) -> None:
        self.columns: dict[str, list[Any]] = {}
        self.rows = 0
        self._names: dict[str, dict[str, str]] = {}  # prefix → key → dotted name, built once

    def add(self, records: Iterable[Any]) -> None:
        """Append records (dicts; anything else becomes a ``value`` column)."""
        row = self.rows
        with gc_paused():
            for record in records:
                if not isinstance(record, dict):
                    record = {"value": record}
                nested = None
                for key, value in record.items():
                    if isinstance(value, dict):
                        if nested is None:
                            nested = [(key, value)]
                        else:
                            nested.append((key, value))
                        continue
                    self._put(key, value, row)
                if nested is not None:
                    for key, value in nested:
                        self._add_nested(value, key, row)
                row += 1
        self.rows = row

    def _add_nested(self, value: dict[str, Any], prefix: str, row: int) -> None:
        names = self._names.get(prefix)
        if names is None:
            names = self._names[prefix] = {}
        for key, item in value.items():
            name = names.get(key)
            if name is None:
                name = names[key] = f"{prefix}.{key}"
            if isinstance(item, dict):
                self._add_nested(item, name, row)
            else:
                self._put(name, item, row)

    def _put(self, name: str, value: Any, row: int) -> None:
        """Append to a column, first padding it with NaN for the rows that lacked the field."""
        column = self.columns.get(name)
        if column is None:
            column = self.columns[name] = [_MISSING] * row
        elif len(column) > row:  # "a.b" given twice (plain and nested): the last one wins
            column[row] = value
            return
        elif len(column) != row:
            column.extend([_MISSING] * (row - len(column)))
        column.append(value)

    def frame(self, parse_dates: bool = True) -> pd.DataFrame:
        """The DataFrame, with ISO 8601 columns parsed when ``parse_dates``."""
        for column in self.columns.values():
            if len(column) != self.rows:
                column.extend([_MISSING] * (self.rows - len(column)))
        return build_frame(self.columns, self.rows, parse_dates)


def build_frame(columns: dict[str, list[Any]], rows: int, parse_dates: bool) -> pd.DataFrame:
    with gc_paused():
        data = {
            name: _as_datetimes(values) if parse_dates else values
            for name, values in columns.items()
        }
        return pd.DataFrame(data, index=pd.RangeIndex(rows))


def _as_datetimes(values: list[Any]) -> Any:
    """ISO 8601 strings → UTC-aware datetimes; any other column is returned unchanged."""
    head = next((v for v in values if v is not None and v is not _MISSING), None)
    if not isinstance(head, str) or not _ISO_8601.match(head):
        return values
    step = max(1, len(values) // 64)
    for value in values[::step]:
        if value is not None and value is not _MISSING:
            if not isinstance(value, str) or not _ISO_8601.match(value):
                return values
    try:
        return pd.to_datetime(values, utc=True, format="ISO8601")
    except (ValueError, TypeError):
        return values


def _maybe_datetime(series: pd.Series, parse_dates: bool) -> pd.Series:
    """Parse a column of ISO 8601 strings into UTC-aware datetimes; leave anything else alone."""
    if not parse_dates or series.dtype.kind in "biufcmM":
        return series
    parsed = _as_datetimes(series.tolist())
    return series if isinstance(parsed, list) else pd.Series(parsed, index=series.index)


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
