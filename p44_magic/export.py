"""Files that Excel, CSV readers and parquet readers open as they are: :func:`save`.

- Timestamps: naive local times in the configured zone for Excel and CSV (Excel has no time
  zones and refuses tz-aware values), kept tz-aware in parquet.
- List and dict cells (``identifiers``, ``dateTimes``): JSON text, not Python reprs.
- A :class:`~p44_magic.TrackingTables`: one sheet per table in ``.xlsx``; one file per table
  for ``.csv`` and ``.parquet`` (``name_stops.csv``, ``name_events.csv``, …).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from .errors import P44UsageError
from .frames import TrackingTables
from .frames.polars_frames import is_polars
from .templates import json_of

FORMATS = (".xlsx", ".csv", ".parquet")
_NEEDS = {".xlsx": ("openpyxl", "excel"), ".parquet": ("pyarrow", "parquet")}
EXCEL_SHEET_NAME = 31  # characters Excel allows in a sheet name


def save(data: Any, path: str | Path, *, timezone: str | None = None) -> list[Path]:
    """Write a DataFrame or linked tables to ``path`` (``.xlsx``, ``.csv`` or ``.parquet``) so
    that the program opening it reads what the notebook showed; returns the files written.

    ``timezone`` (an IANA name) converts tz-aware timestamps first; by default they stay in
    the zone they are in (the configured one: ``%config P44Magics.timezone``)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise P44UsageError(
            f"--save-as {path.name}: a {suffix or 'file without an extension'} is not a format "
            "p44_magic writes.",
            hint="Use .xlsx (Excel), .csv or .parquet.",
        )
    _check_installed(suffix)
    tables = _tables_of(data, path)
    prepared = {name: _prepared(frame, suffix, timezone) for name, frame in tables.items()}
    if suffix == ".xlsx":
        return [_write_excel(prepared, path)]
    written = []
    for name, frame in prepared.items():
        target = path if len(prepared) == 1 else path.with_name(f"{path.stem}_{name}{suffix}")
        if suffix == ".csv":
            frame.to_csv(target, index=False)
        else:
            frame.to_parquet(target, index=False)
        written.append(target)
    return written


def _check_installed(suffix: str) -> None:
    if suffix not in _NEEDS:
        return
    module, extra = _NEEDS[suffix]
    try:
        __import__(module)
    except ImportError:
        raise P44UsageError(
            f"Writing {suffix} files needs {module}, which is not installed.",
            hint=f"pip install 'p44_magic[{extra}]'",
        ) from None


def _tables_of(data: Any, path: Path) -> dict[str, pd.DataFrame]:
    """The tables to write, by name (polars frames as pandas: one writer for both)."""
    if isinstance(data, TrackingTables):
        return {name: _pandas(table) for name, table in data}
    frame = getattr(data, "frame", data)  # an --each result: its joined rows
    if isinstance(frame, TrackingTables):
        return {name: _pandas(table) for name, table in frame}
    frame = _pandas(frame)
    if not isinstance(frame, pd.DataFrame):
        raise P44UsageError(
            f"--save-as {path.name}: there is no table to save (got a {type(data).__name__}).",
            hint="Save a DataFrame or the linked tables of --tables.",
        )
    return {path.stem[:EXCEL_SHEET_NAME] or "data": frame}


def _pandas(frame: Any) -> Any:
    return frame.to_pandas() if is_polars(frame) else frame


def _prepared(frame: pd.DataFrame, suffix: str, timezone: str | None) -> pd.DataFrame:
    """A copy with timestamps and list/dict cells as the format takes them."""
    out = frame.copy(deep=False)
    for column in out.columns:
        series = out[column]
        if isinstance(series.dtype, pd.DatetimeTZDtype):
            if timezone is not None:
                series = series.dt.tz_convert(timezone)
            out[column] = series if suffix == ".parquet" else series.dt.tz_localize(None)
        elif series.dtype == object and series.map(_nested).any():
            out[column] = series.map(_as_text)
    return out


def _nested(value: Any) -> bool:
    return isinstance(value, list | dict | tuple)


def _as_text(value: Any) -> Any:
    return json_of(value) if _nested(value) else value


def _write_excel(tables: dict[str, pd.DataFrame], path: Path) -> Path:
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, frame in tables.items():
            frame.to_excel(writer, sheet_name=name[:EXCEL_SHEET_NAME], index=False)
    return path
