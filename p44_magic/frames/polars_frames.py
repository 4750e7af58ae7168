"""Polars output: ``polars.DataFrame`` built from the columns our readers decode.

Polars is optional (``p44_magic[polars]``). Columns become polars Series directly, never a
pandas frame first: Arrow columns of the native route are handed over as they are (no copy),
Python lists are typed column by column. The same content as the pandas result, in polars'
own types:

- ISO 8601 text (the rule of the pandas path) → ``Datetime("us", time zone)``; the zone
  follows the ``timezone`` setting (None: naive UTC);
- a missing value is null, never NaN;
- a list of scalars of one kind is a ``List``; a list holding objects (or mixed kinds) is its
  JSON text; a column of mixed scalars is text.

Results that are assembled as pandas frames first (``--tables``, the failures table) are turned
into polars column by column by :func:`from_pandas` (numpy and lists: no pyarrow needed).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Mapping
from typing import Any

import msgspec
import pandas as pd

from ..errors import P44UsageError
from .columns import in_timezone, iso_text, list_as_datetimes, sample_step

FRAMES = ("pandas", "polars")
_NONE = type(None)
_SCALARS = (str, int, float, bool)


def polars_module() -> Any:
    """polars, or the one line that says how to get it."""
    try:
        import polars
    except ImportError:
        raise P44UsageError(
            "Polars output needs polars, which is not installed: pip install 'p44_magic[polars]'."
        ) from None
    return polars


def check_frames(value: Any) -> str:
    """``"pandas"`` or ``"polars"`` (anything else is a usage error); polars must import.
    (The ``frames`` setting has its own check in :mod:`p44_magic.settings`, which this layer
    cannot import: settings → auth → answers → frames.)"""
    if value not in FRAMES:
        raise P44UsageError(f'frames must be "pandas" or "polars", not {value!r}.')
    if value == "polars":
        polars_module()
    return value


def from_columns(
    columns: Mapping[str, Any], parse_dates: bool, timezone: str | None = "UTC"
) -> Any:
    """A polars DataFrame of named columns (lists, or Arrow arrays), or None when a column
    holds a JSON object (the caller flattens those)."""
    pl = polars_module()
    series = []
    for name, values in columns.items():
        column = _series(pl, name, values, parse_dates)
        if column is None:
            return None
        series.append(_in_zone(pl, column, timezone))
    return pl.DataFrame({column.name: column for column in series})


def _series(pl: Any, name: str, values: Any, parse_dates: bool) -> Any:
    if not isinstance(values, list):  # an Arrow array of the native route
        column = pl.Series(name, values)
        if isinstance(column.dtype, pl.List):  # of objects: their JSON text
            return _list_texts(pl, column)
        if parse_dates and column.dtype == pl.String:
            return _text_dates(pl, column)
        return column
    values, kinds = _without_nan(values)
    if dict in kinds:
        return None
    if list in kinds:
        return _lists(pl, name, values, kinds)
    if kinds <= {str}:
        column = pl.Series(name, values, dtype=pl.String)
        return _text_dates(pl, column, values) if parse_dates else column
    if kinds <= {bool}:
        return pl.Series(name, values, dtype=pl.Boolean)
    if kinds <= {int, float}:
        return _numbers(pl, name, values, kinds)
    return pl.Series(name, [json_text(v) for v in values], dtype=pl.String)


_INT64 = (-(2**63), 2**63 - 1)


def _numbers(pl: Any, name: str, values: list, kinds: set[type]) -> Any:
    """Int64, or Float64 when floats are among them; an integer beyond 64 bits keeps the
    column as text (pandas keeps such a column as Python objects)."""
    if any(type(v) is int and not _INT64[0] <= v <= _INT64[1] for v in values):
        return pl.Series(name, [json_text(v) for v in values], dtype=pl.String)
    return pl.Series(name, values, dtype=pl.Int64 if kinds == {int} else pl.Float64, strict=False)


def _without_nan(values: list) -> tuple[list, set[type]]:
    """The values with NaN (our mark of a missing field) as None, and their kinds."""
    kinds = set(map(type, values)) - {_NONE}
    if float in kinds and any(v != v for v in values if type(v) is float):
        values = [None if type(v) is float and v != v else v for v in values]
        kinds = set(map(type, values)) - {_NONE}
    return values, kinds


def json_text(value: Any) -> str | None:
    """A value of a mixed column as text: strings as they are, the rest as JSON."""
    if value is None or isinstance(value, str):
        return value
    return msgspec.json.encode(value).decode()


def _lists(pl: Any, name: str, values: list, kinds: set[type]) -> Any:
    """Lists of scalars of one kind as a ``List``; anything else as JSON text."""
    if kinds == {list}:
        items = set(map(type, itertools.chain.from_iterable(filter(None, values)))) - {_NONE}
        if dict in items:
            return _json_texts(pl, name, values)
        if len(items) == 1 and items <= set(_SCALARS):
            inner = {str: pl.String, int: pl.Int64, float: pl.Float64, bool: pl.Boolean}
            try:
                return pl.Series(name, values, dtype=pl.List(inner[next(iter(items))]))
            except (OverflowError, TypeError, ValueError):
                pass
        if not items:
            return pl.Series(name, values, dtype=pl.List(pl.Null))
    return pl.Series(name, [json_text(v) for v in values], dtype=pl.String)


def _list_texts(pl: Any, column: Any) -> Any:
    """A polars List(Struct) column as each row's JSON text (null stays null)."""
    wrapped = pl.DataFrame({"v": column}).select(pl.struct("v").struct.json_encode())
    texts = wrapped.to_series().str.slice(5)  # {"v": … }
    texts = texts.str.strip_suffix("}")
    return texts.replace("null", None).alias(column.name)


def _json_texts(pl: Any, name: str, values: list) -> Any:
    """Each value as its JSON text (a list of objects, the usual case: kept lean, it is
    the one column of a large answer read value by value)."""
    encode = msgspec.json.encode
    texts = [None if value is None else encode(value).decode() for value in values]
    return pl.Series(name, texts, dtype=pl.String)


def _text_dates(pl: Any, column: Any, values: list | None = None) -> Any:
    """A text column of ISO 8601 timestamps as UTC datetimes (the pandas path's rule decides
    which columns; polars parses, pandas when polars cannot)."""
    present = column.drop_nulls()
    head = present[0] if len(present) else None
    if not iso_text(head, column.gather_every(sample_step(len(column))).drop_nulls()):
        return column
    try:
        parsed = column.str.to_datetime(_format_of(present[0]), time_unit="us", strict=True)
        if parsed.null_count() == column.null_count():
            zone = parsed.dtype.time_zone
            return parsed.dt.replace_time_zone("UTC") if zone is None else parsed
    except Exception:  # noqa: BLE001 - polars' parse errors: pandas' parser decides then
        pass
    parsed = list_as_datetimes(values if values is not None else column.to_list())
    if isinstance(parsed, list):
        return column
    return _datetimes(pl, column.name, pd.DatetimeIndex(parsed))


_SECONDS_Z = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")


def _format_of(text: str) -> str | None:
    """The usual spelling (seconds, Z) named, which parses three times faster than inferred;
    None lets polars infer it (a value of another spelling fails the strict parse either way,
    and pandas' parser takes over)."""
    return "%Y-%m-%dT%H:%M:%SZ" if _SECONDS_Z.fullmatch(text) else None


def _datetimes(pl: Any, name: str, index: pd.DatetimeIndex) -> Any:
    """pandas datetimes → ``Datetime("us", zone)`` (NaT → null)."""
    zone = str(index.tz) if index.tz is not None else None
    naive = index.tz_convert("UTC").tz_localize(None) if zone else index
    column = pl.Series(name, naive.as_unit("us").to_numpy())
    return column.dt.replace_time_zone("UTC").dt.convert_time_zone(zone) if zone else column


def _in_zone(pl: Any, column: Any, timezone: str | None) -> Any:
    """A UTC datetime column shown in ``timezone`` (None: naive UTC)."""
    if not isinstance(column.dtype, pl.Datetime) or column.dtype.time_zone is None:
        return column
    if timezone is None:
        return column.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
    return column.dt.convert_time_zone(timezone)


def from_pandas(frame: pd.DataFrame) -> Any:
    """A pandas frame of ours (timestamps already in their zone) as a polars DataFrame, column
    by column through numpy and lists (no pyarrow needed)."""
    pl = polars_module()
    series = []
    for name in frame.columns:
        column = frame[name]
        label = str(name)
        if isinstance(column.dtype, pd.DatetimeTZDtype) or column.dtype.kind == "M":
            series.append(_datetimes(pl, label, pd.DatetimeIndex(column)))
        elif column.dtype.kind in "iub":
            series.append(pl.Series(label, column.to_numpy()))
        elif column.dtype.kind == "f":
            series.append(pl.Series(label, column.to_numpy(), nan_to_null=True))
        else:
            values = [None if isinstance(v, float) and v != v else v for v in column.tolist()]
            built = _series(pl, label, values, parse_dates=False)
            series.append(
                built if built is not None else pl.Series(label, [json_text(v) for v in values])
            )
    return pl.DataFrame({column.name: column for column in series})


def as_frames(value: Any, frames: str, convert: Callable[[Any], Any] = from_pandas) -> Any:
    """``value`` with every pandas DataFrame in it (a frame, tracking tables, an ``--each``
    result and its failures) as polars, when ``frames`` is ``"polars"``; frames that are
    polars already stay as they are."""
    if frames != "polars":
        return value

    def one(frame: Any) -> Any:
        return convert(frame) if isinstance(frame, pd.DataFrame) else frame

    if isinstance(value, pd.DataFrame):
        return one(value)
    frame = getattr(value, "frame", None)
    if frame is not None and hasattr(value, "failures"):  # an --each result
        value.frame = as_frames(frame, frames, convert)
        value.failures = one(value.failures)
        return value
    tables = getattr(value, "polars_tables", None)
    return tables(one) if tables is not None else value


def result_frames(value: Any, frames: str | None, timezone: str | None) -> Any:
    """A call's value with its datetimes in ``timezone``, its frames in ``frames``' library."""
    if is_polars(value):  # built natively, in UTC
        pl = polars_module()
        return value.with_columns([_in_zone(pl, value[name], timezone) for name in value.columns])
    return as_frames(in_timezone(value, timezone), frames or "pandas")


def is_polars(value: Any) -> bool:
    kind = type(value)
    return kind.__name__ == "DataFrame" and kind.__module__.startswith("polars")
