"""Records to one DataFrame, column by column: the compiled reader for same-shaped records
(:mod:`p44_magic.frames.uniform`), :class:`ColumnBuilder` for the rest, and :class:`PagedRows`
for pages read as they arrive."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd

from ..gc_pause import gc_paused
from .columns import MISSING, build_frame, holds_objects
from .polars_frames import from_columns
from .uniform import MAX_NESTING, Shape, TooDeep, columns_of, uniform_rows


def records_to_frame(
    records: Iterable[Any], parse_dates: bool = True, frames: str = "pandas"
) -> pd.DataFrame:
    """Flatten records column by column (dotted names, like ``json_normalize``) into one frame
    (polars, from the same columns, when ``frames`` says so).

    Same-shaped records (the usual answer) take the compiled reader of
    :mod:`p44_magic.frames.uniform`; anything else, :class:`ColumnBuilder`.
    """
    records = records if isinstance(records, list) else list(records)
    shape, rows = uniform_rows(records)
    columns = columns_of(shape, rows) if shape else None
    if columns is not None:
        frame = _built(columns, len(records), parse_dates, frames)
        if frame is not None:
            return frame
    builder = ColumnBuilder()
    builder.add(records)
    return builder.frame(parse_dates, frames)


def _built(columns: dict[str, Any], rows: int, parse_dates: bool, frames: str) -> Any:
    """The frame of the columns, or None when one holds an object (to be flattened)."""
    if frames == "polars":
        return from_columns({name: list(values) for name, values in columns.items()}, parse_dates)
    frame = build_frame(columns, rows, parse_dates)
    return None if holds_objects(frame, columns) else frame


class PagedRows:
    """Reads each page's records into row tuples as the page arrives, then builds one frame.

    The reading overlaps the waiting for the next pages. Pages of different shapes (or records
    that are not uniform) fall back to the general path.
    """

    def __init__(self) -> None:
        self._pages: dict[int, tuple[list[Any], Shape | None, list[tuple] | None]] = {}

    def add(self, page: int, records: list[Any]) -> None:
        self._pages[page] = (records, *uniform_rows(records))

    def frame(self, parse_dates: bool = True, frames: str = "pandas") -> pd.DataFrame:
        pages = [self._pages[number] for number in sorted(self._pages)]
        shapes = {shape for records, shape, _ in pages if records}
        if len(shapes) == 1 and None not in shapes:
            with gc_paused():
                rows = [row for _, _, page_rows in pages if page_rows for row in page_rows]
            columns = columns_of(shapes.pop(), rows)
            if columns is not None:
                frame = _built(columns, len(rows), parse_dates, frames)
                if frame is not None:
                    return frame
        records = [r for records, _, _ in pages for r in records]
        return records_to_frame(records, parse_dates, frames)


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
                        self._add_nested(value, key, row, 1)
                row += 1
        self.rows = row

    def _add_nested(self, value: dict[str, Any], prefix: str, row: int, depth: int) -> None:
        if depth > MAX_NESTING:
            raise TooDeep
        names = self._names.get(prefix)
        if names is None:
            names = self._names[prefix] = {}
        for key, item in value.items():
            name = names.get(key)
            if name is None:
                name = names[key] = f"{prefix}.{key}"
            if isinstance(item, dict):
                self._add_nested(item, name, row, depth + 1)
            else:
                self._put(name, item, row)

    def _put(self, name: str, value: Any, row: int) -> None:
        """Append to a column, first padding it with NaN for the rows that lacked the field."""
        column = self.columns.get(name)
        if column is None:
            column = self.columns[name] = [MISSING] * row
        elif len(column) > row:  # "a.b" given twice (plain and nested): the last one wins
            column[row] = value
            return
        elif len(column) != row:
            column.extend([MISSING] * (row - len(column)))
        column.append(value)

    def frame(self, parse_dates: bool = True, frames: str = "pandas") -> pd.DataFrame:
        """The DataFrame, with ISO 8601 columns parsed when ``parse_dates``."""
        for column in self.columns.values():
            if len(column) != self.rows:
                column.extend([MISSING] * (self.rows - len(column)))
        if frames == "polars":
            return from_columns(self.columns, parse_dates)
        return build_frame(self.columns, self.rows, parse_dates)
