"""Columns → DataFrame: one build for every path, with ISO 8601 text parsed to UTC datetimes."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from ..gc_pause import gc_paused

ISO_8601 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}(:?\d{2})?)?$"
)
_OBJECT = np.dtype(object)
MISSING = float("nan")  # what json_normalize puts where a record lacks a field


def build_frame(
    columns: dict[str, Any], rows: int, parse_dates: bool, as_datetimes: Any = None
) -> pd.DataFrame:
    """The frame of named columns (lists, or pandas arrays from the native route, which gives
    its own ``as_datetimes``), ISO 8601 text parsed to UTC datetimes when ``parse_dates``."""
    as_datetimes = as_datetimes or list_as_datetimes
    with gc_paused():
        data = {
            name: as_datetimes(values) if parse_dates else values
            for name, values in columns.items()
        }
        return pd.DataFrame(data, index=pd.RangeIndex(rows))


def list_as_datetimes(values: list[Any]) -> Any:
    """ISO 8601 strings → UTC-aware datetimes; any other column is returned unchanged."""
    head = next((v for v in values if v is not None and v is not MISSING), None)
    sampled = (v for v in values[:: sample_step(len(values))] if v is not None and v is not MISSING)
    return parse_iso(values) if iso_text(head, sampled) else values


def sample_step(length: int) -> int:
    """Every how many values a column is sampled before it is parsed as timestamps."""
    return max(1, length // 64)


def iso_text(head: Any, sampled: Iterable[Any]) -> bool:
    """The rule every path (lists, Arrow text, polars) decides timestamp columns by: the first
    present value and every sampled present value are ISO 8601 text."""
    if not isinstance(head, str) or not ISO_8601.match(head):
        return False
    return all(isinstance(value, str) and ISO_8601.match(value) for value in sampled)


def parse_iso(values: Any) -> Any:
    """The values as UTC datetimes, or unchanged when pandas cannot read them all."""
    try:
        return pd.to_datetime(values, utc=True, format="ISO8601")
    except (ValueError, TypeError):
        return values


def maybe_datetime(series: pd.Series, parse_dates: bool) -> pd.Series:
    """Parse a column of ISO 8601 strings into UTC-aware datetimes; leave anything else alone."""
    if not parse_dates or series.dtype.kind in "biufcmM":
        return series
    values = [None if isinstance(v, float) and v != v else v for v in series.tolist()]  # NaN
    parsed = list_as_datetimes(values)
    return series if isinstance(parsed, list) else pd.Series(parsed, index=series.index)


def holds_objects(frame: pd.DataFrame, columns: dict[str, Any]) -> bool:
    """True when a column holds a JSON object, which must be flattened instead.

    Only object-dtype columns can: pandas already found the others to be numbers, text or dates.
    """
    return any(
        dict in set(map(type, columns[name]))
        for name, dtype in frame.dtypes.items()
        if dtype == _OBJECT
    )


DEFAULT_TIMEZONE = "UTC"


def in_timezone(frame: pd.DataFrame, timezone: str | None) -> pd.DataFrame:
    """Every timezone-aware column of ``frame`` shown in ``timezone`` (an IANA name such as
    ``"Europe/Berlin"``), or as naive UTC datetimes for ``None`` (which Excel takes)."""
    if timezone == DEFAULT_TIMEZONE or not isinstance(frame, pd.DataFrame):
        return frame
    for label in frame.columns[frame.dtypes.map(lambda d: getattr(d, "tz", None) is not None)]:
        column = frame[label].dt.tz_convert(timezone or "UTC")
        frame[label] = column.dt.tz_localize(None) if timezone is None else column
    return frame
