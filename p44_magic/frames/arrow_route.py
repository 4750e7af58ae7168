"""The native route for a large JSON array of records: msgspec cuts the array into raw record
slices, pyarrow's JSON reader parses them into typed columns, and pandas gets those columns.

Measured on the benchmark's 100,000 nested records (53 MB): 0.45 s against 0.76 s for the
struct reader of :mod:`.uniform`, and at 1,000,000 records a peak of about 2× the JSON size
against 4.7× (no Python object per value of a plain column).

The route gives the same frame as :func:`.uniform.frame_from_json`, dtypes included, or None
(the caller then takes that path). It takes the types from the first record: every plain value
there pins its column's Arrow type (so no text is read as a timestamp by Arrow's own rules), and
the columns whose first value is a list or null are read by msgspec as Python objects, as the
general path has them. It gives up where Arrow cannot tell what JSON said: a key that only
later records have, a nested object that is null or missing, a true/false column with gaps,
a number that does not fit the first record's type.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgspec
import pandas as pd

from ..gc_pause import gc_paused
from .body import Body, body_of
from .columns import build_frame, iso_text, list_as_datetimes, parse_iso, sample_step
from .polars_frames import from_columns
from .uniform import Shape, column_names, first_record, frame_from_json, leaf_reader, shape_of

MIN_BYTES = 1 << 20  # below this the struct reader is as fast, and needs no pyarrow import
BATCH_BYTES = 8 << 20  # records joined and parsed per batch: bounds the copy made for Arrow
_BLOCK = 2 << 20  # Arrow's parse block (its unit of parallel work)
_SLICES = msgspec.json.Decoder(list[msgspec.Raw])
_INT64_LIMIT = 2.0**63  # a float column reaching it may hold a whole number beyond 64 bits


class _GiveUp(Exception):
    """The answer is not one the native route reads exactly."""


def json_frame(
    body: bytes | Body, parse_dates: bool = True, frames: str = "pandas"
) -> pd.DataFrame | None:
    """The frame of a JSON array of same-shaped records: the native route for a large one
    (which releases a handed-over :class:`Body` once decoded), the struct reader of
    :mod:`.uniform` for the rest; None for the general path."""
    body = body_of(body)
    with gc_paused():
        if len(body.raw) >= MIN_BYTES:
            first = first_record(body.raw)
            if isinstance(first, dict) and first:
                shape = shape_of(first, top=True)
                frame = native_frame(body, first, shape, parse_dates, frames)
                if frame is not None:
                    return frame
        return frame_from_json(body.raw, parse_dates, frames)


def native_frame(
    body: bytes | Body, first: dict, shape: Shape, parse_dates: bool, frames: str = "pandas"
) -> Any:
    """The frame of a JSON array whose first record is ``first`` (of ``shape``), or None when
    pyarrow is missing or the answer is not one this route reads exactly. The body is
    released (:meth:`Body.release`) once it is decoded and the route cannot give up any more."""
    if not isinstance(pd.Series(["x"]).dtype, pd.StringDtype):  # pandas < 3, or turned off
        return None
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return None
    body = body_of(body)
    names = column_names(shape)
    leaves = dict(_leaves(first))
    objects = tuple(name for name in names if not _pinned(leaves[name]))
    if frames == "polars":  # lists of objects become JSON text: from Arrow's parse, in Rust
        objects = tuple(name for name in objects if not _objects_list(leaves[name]))
    try:
        columns = _object_columns(body.raw, shape, objects)
        if any(dict in set(map(type, values)) for values in columns.values()):
            return None  # an object where the first record had a list or null: flattened
        count, table = _arrow_table(body, shape, first, set(names), objects)
    except (_GiveUp, msgspec.DecodeError, msgspec.ValidationError):
        return None
    except Exception as error:  # noqa: BLE001 - pyarrow's errors: its parse refused the answer
        if type(error).__module__.startswith("pyarrow"):
            return None
        raise
    if frames == "polars":
        return _polars(table, columns, names, parse_dates)
    for name, column in zip(table.column_names, table.columns, strict=True):
        columns[name] = column.to_pandas()
    del table
    ordered = {name: columns.pop(name) for name in names}
    return build_frame(ordered, count, parse_dates, _as_datetimes)


def _polars(table: Any, objects: dict[str, list], names: tuple, parse_dates: bool) -> Any:
    """The polars frame: Arrow columns handed over as they are (lists of objects as their
    JSON text), object columns typed."""
    columns: dict[str, Any] = dict(zip(table.column_names, table.columns, strict=True))
    columns.update(objects)
    return from_columns({name: columns[name] for name in names}, parse_dates)


def _objects_list(value: Any) -> bool:
    return type(value) is list and bool(value) and all(type(item) is dict for item in value)


def _pinned(value: Any) -> bool:
    """A plain value whose column Arrow reads (lists and nulls are read as Python objects)."""
    return isinstance(value, (str, int, float))


def _leaves(record: dict, prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in record.items():
        name = f"{prefix}.{key}" if prefix else key
        if type(value) is dict:
            yield from _leaves(value, name)
        else:
            yield name, value


def _schema(shape: Shape, first: dict) -> Any:
    """The Arrow schema of the pinned fields of ``first`` (its other fields are inferred)."""
    import pyarrow as pa

    def fields(level: Shape, record: dict) -> list:
        out = []
        for key, nested in level:
            value = record[key]
            if nested is not None:
                out.append(pa.field(key, pa.struct(fields(nested, value))))
            elif _pinned(value):
                out.append(pa.field(key, _ARROW_TYPES[type(value)]()))
        return out

    return pa.schema(fields(shape, first))


_ARROW_TYPES: dict[type, Any] = {}


def _arrow_types() -> dict[type, Any]:
    import pyarrow as pa

    if not _ARROW_TYPES:
        _ARROW_TYPES.update({bool: pa.bool_, int: pa.int64, float: pa.float64, str: pa.string})
    return _ARROW_TYPES


def _arrow_table(
    body: Body, shape: Shape, first: dict, names: set[str], objects: tuple[str, ...]
) -> tuple[int, Any]:
    """The record count and the pinned columns, parsed by Arrow batch by batch; the body is
    released after the last batch is parsed and checked."""
    import pyarrow as pa
    import pyarrow.json as pa_json

    _arrow_types()
    options = pa_json.ParseOptions(
        explicit_schema=_schema(shape, first), unexpected_field_behavior="infer"
    )
    reading = pa_json.ReadOptions(block_size=_BLOCK)
    slices = _SLICES.decode(body.raw)
    count, size = len(slices), len(body.raw)
    tables = []
    for batch in _batches(slices, size):
        table = pa_json.read_json(pa.BufferReader(batch), reading, options)
        del batch
        table.validate(full=True)  # text that is not UTF-8: the general path says so
        tables.append(_checked(_flat(table), names, objects))
    del slices  # the slices point into the body: with them gone, it can go too
    body.release()
    return count, pa.concat_tables(tables)


def _batches(slices: list[Any], raw_bytes: int) -> Iterator[bytes]:
    """Newline-delimited records, about BATCH_BYTES at a time; the slices of a batch are let
    go as it is made. A record that is not an object, or has a line break inside
    (pretty-printed JSON), is not for this route."""
    step = max(1, len(slices) * BATCH_BYTES // max(1, raw_bytes))
    for start in range(0, len(slices), step):
        part = slices[start : start + step]
        slices[start : start + len(part)] = [None] * len(part)
        batch = b"\n".join(part)
        if batch.count(b"\n") != len(part) - 1 or batch.count(b"\n{") != len(part) - 1:
            raise _GiveUp  # a line break inside a record, or a record that is not an object
        if not batch.startswith(b"{"):
            raise _GiveUp
        del part
        yield batch


def _flat(table: Any) -> Any:
    """Nested objects flattened into dotted columns; a null or missing object gives up (the
    general path makes a column of it)."""
    import pyarrow as pa

    while any(pa.types.is_struct(field.type) for field in table.schema):
        for column in table.columns:
            if pa.types.is_struct(column.type) and column.null_count:
                raise _GiveUp
        table = table.flatten()
    return table


def _checked(table: Any, names: set[str], objects: tuple[str, ...]) -> Any:
    """The pinned columns of a batch, when its columns are exactly the first record's."""
    import pyarrow as pa

    if len(table.column_names) != len(names) or set(table.column_names) != names:
        raise _GiveUp  # a key the first record lacks: the general path orders the columns
    kept = [name for name in table.column_names if name not in objects]
    table = table.select(kept)
    for column in table.columns:
        if pa.types.is_boolean(column.type) and column.null_count:
            raise _GiveUp  # null and missing differ there (None / NaN), and Arrow has only null
        if pa.types.is_floating(column.type) and _reaches_int64_limit(column):
            raise _GiveUp  # pandas keeps such a whole number as a Python int, Arrow rounds it
        if pa.types.is_list(column.type) and not _plain_objects(column):
            raise _GiveUp  # a list of objects Arrow cannot give back as it was written
    return table


def _reaches_int64_limit(column: Any) -> bool:
    import pyarrow.compute as pc

    largest = pc.max(pc.abs(column)).as_py()
    return largest is not None and largest >= _INT64_LIMIT


def _as_written(kind: Any) -> bool:
    """Arrow writes these back as JSON exactly as they were written: text, whole numbers,
    true/false (not timestamps it inferred from text, not floats it may respell)."""
    import pyarrow as pa

    return pa.types.is_string(kind) or pa.types.is_int64(kind) or pa.types.is_boolean(kind)


def _plain_objects(column: Any) -> bool:
    """A list of objects whose fields are plain values, none missing (Arrow fills a field an
    object lacks with null, so a null could be either): its JSON text is exact."""
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = column.type.value_type
    if not pa.types.is_struct(kind):
        return False
    items = pc.list_flatten(column)
    for index in range(kind.num_fields):
        field = kind.field(index)
        if not _as_written(field.type):
            return False  # a timestamp Arrow inferred, a float it may respell: not exact
        if pc.struct_field(items, [index]).null_count:
            return False
    return True


def _object_columns(raw: bytes, shape: Shape, objects: tuple[str, ...]) -> dict[str, Any]:
    """The columns whose first value is a list or null, as Python objects (msgspec decodes
    only those fields; a record without one of them gives up)."""
    if not objects:
        return {}
    decode, read_columns = leaf_reader(shape, objects)
    return dict(zip(objects, read_columns(decode(raw)), strict=True))


def _as_datetimes(values: Any) -> Any:
    """A text column of ISO 8601 timestamps → UTC datetimes, by the rule of the other paths
    (:func:`.columns.iso_text`); anything else unchanged."""
    if isinstance(values, list):
        return list_as_datetimes(values)  # a column read by msgspec
    if values.dtype != "str":
        return values
    present = values.dropna()
    head = present.iloc[0] if len(present) else None
    sampled = (v for v in values.iloc[:: sample_step(len(values))] if isinstance(v, str))
    return parse_iso(values) if iso_text(head, sampled) else values
