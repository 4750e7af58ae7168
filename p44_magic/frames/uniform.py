"""Records that all share one shape (the usual large answer), read into columns without the
general flattening.

A *shape* is a record's keys, recursively, in ``json_normalize``'s column order. From it, one
walk (:func:`_nodes`) gives the dotted column names and where each value sits, and two readers
are compiled from that walk, once per shape (as ``collections.namedtuple`` does):

- :func:`uniform_rows` reads parsed dicts into one tuple per record;
- :func:`frame_from_json` decodes JSON bytes straight into slotted msgspec structs of the shape
  (no dict per object) and reads those.

Both check every object's keys, so a record of another shape makes them give up (None), and
the caller takes the general path: the result is always the same as ``to_frame``'s.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Any

import msgspec

from ..gc_pause import gc_paused
from .columns import build_frame, holds_objects
from .polars_frames import from_columns

Shape = tuple[tuple[str, "Shape | None"], ...]  # (key, nested shape or None for a field)
_SCAN_LIMIT = 1 << 20  # a first record longer than this is not worth the fast path
_WHITESPACE = b" \t\r\n"
_READ_ERRORS = (KeyError, TypeError, IndexError, AttributeError)


MAX_NESTING = 100  # objects in objects, flattened into dotted columns; deeper is refused


class TooDeep(RecursionError):
    """A record nests objects more than MAX_NESTING deep: no dotted columns for that."""


def shape_of(record: dict[str, Any], top: bool = False, depth: int = 0) -> Shape:
    """The keys of a record, recursively, in json_normalize's column order."""
    if depth > MAX_NESTING:
        raise TooDeep
    items = [
        (key, shape_of(value, depth=depth + 1) if type(value) is dict else None)
        for key, value in record.items()
    ]
    if top:  # json_normalize puts a record's plain fields before its nested objects
        items = [i for i in items if i[1] is None] + [i for i in items if i[1] is not None]
    return tuple(items)


def _nodes(shape: Shape, prefix: str = "", at: tuple[int, ...] = ()) -> Iterator[tuple]:
    """Every key of a shape, depth first: (dotted name, key, index path, nested shape|None)."""
    for index, (key, nested) in enumerate(shape):
        name = f"{prefix}.{key}" if prefix else str(key)
        yield name, key, (*at, index), nested
        if nested is not None:
            yield from _nodes(nested, name, (*at, index))


@lru_cache(maxsize=256)
def column_names(shape: Shape) -> tuple[str, ...]:
    """The dotted column names of a shape (cached: asked for once per answer)."""
    return tuple(name for name, _, _, nested in _nodes(shape) if nested is None)


def _compile(source: list[str], name: str) -> Callable[[list], list[tuple]]:
    namespace: dict[str, Any] = {}
    exec(compile("\n".join(source), f"<p44_magic {name}>", "exec"), namespace)  # noqa: S102
    return namespace["read_rows"]


def _tuple_of(fields: list[str]) -> str:
    return f"({', '.join(fields)}{',' if len(fields) == 1 else ''})"


@lru_cache(maxsize=256)
def _dict_reader(shape: Shape) -> Callable[[list], list[tuple]]:
    """Reads dicts of ``shape`` into tuples; every object's key count is checked, so a record
    with extra, missing or differently nested keys raises instead of giving wrong columns."""
    lines = [
        "def read_rows(records):",
        "    rows = []",
        "    append = rows.append",
        "    for v in records:",
        f"        if v.__len__() != {len(shape)}: raise KeyError",
    ]
    fields = []
    for _, key, at, nested in _nodes(shape):
        parent = "v" + "_".join(map(str, at[:-1])) if len(at) > 1 else "v"
        if nested is None:
            fields.append(f"{parent}[{key!r}]")
            continue
        here = "v" + "_".join(map(str, at))
        lines.append(f"        {here} = {parent}[{key!r}]")
        lines.append(f"        if {here}.__len__() != {len(nested)}: raise KeyError")
    lines += [f"        append({_tuple_of(fields)})", "    return rows"]
    return _compile(lines, "rows reader")


def uniform_rows(records: list[Any]) -> tuple[Shape | None, list[tuple] | None]:
    """The first record's shape and every record read as a row of it, or (None, None)."""
    if not records or not isinstance(records[0], dict):
        return None, None
    shape = shape_of(records[0], top=True)
    try:
        with gc_paused():
            return shape, _dict_reader(shape)(records)
    except _READ_ERRORS:
        return None, None


def columns_of(shape: Shape, rows: list[tuple]) -> dict[str, Any] | None:
    """Rows of ``shape`` transposed into named columns (C-level), or None without any field."""
    names = column_names(shape)
    if not names:
        return None
    with gc_paused():
        return dict(zip(names, zip(*rows, strict=True), strict=True))


# -- straight from JSON bytes ---------------------------------------------------------------


def frame_from_json(raw: bytes, parse_dates: bool = True, frames: str = "pandas") -> Any:
    """The DataFrame of a JSON array of same-shaped records, or None to use the general path.

    One GC pause over the whole build: a pause that ended between decoding and building would
    let the collector walk every row tuple still alive (0.09 s per 100,000 rows)."""
    with gc_paused():
        return _frame_from_json(raw, parse_dates, frames)


def _frame_from_json(raw: bytes, parse_dates: bool, frames: str) -> Any:
    first = first_record(raw)
    if not isinstance(first, dict) or not first:
        return None
    shape = shape_of(first, top=True)
    if not column_names(shape):
        return None  # no plain field anywhere: the general path keeps the row count
    decoder, read_rows = _struct_reader(shape)
    try:
        with gc_paused():
            records = decoder.decode(raw)
            rows = read_rows(records)
            del records
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None
    columns = columns_of(shape, rows)
    count = len(rows)
    del rows
    if frames == "polars":
        return from_columns({name: list(values) for name, values in columns.items()}, parse_dates)
    frame = build_frame(columns, count, parse_dates)
    return None if holds_objects(frame, columns) else frame


@lru_cache(maxsize=128)
def _struct_reader(shape: Shape) -> tuple[msgspec.json.Decoder, Callable[[list], list[tuple]]]:
    """A typed decoder for ``list[<shape>]`` and a reader of its structs into rows."""
    counter = 0

    def struct_for(level: Shape) -> type:
        nonlocal counter
        counter += 1
        fields = [
            (f"f{index}", Any if nested is None else struct_for(nested))
            for index, (_, nested) in enumerate(level)
        ]
        return msgspec.defstruct(
            f"Record{counter}",
            fields,
            rename={f"f{index}": key for index, (key, _) in enumerate(level)},
            forbid_unknown_fields=True,
            gc=False,
        )

    record_type = struct_for(shape)
    fields = [
        "r" + "".join(f".f{index}" for index in at)
        for _, _, at, nested in _nodes(shape)
        if nested is None
    ]
    source = ["def read_rows(records):", f"    return [{_tuple_of(fields)} for r in records]"]
    return msgspec.json.Decoder(list[record_type]), _compile(source, "struct reader")


@lru_cache(maxsize=64)
def leaf_reader(shape: Shape, leaves: tuple[str, ...]) -> tuple[Callable, Callable]:
    """A decoder of ``list[<shape>]`` that reads only the fields named in ``leaves`` (dotted;
    every other field is skipped unparsed), and a reader of those into one list per leaf (no
    row tuples). A record without one of those fields fails the decode (ValidationError)."""
    wanted = set(leaves)
    at_of = {name: at for name, _, at, nested in _nodes(shape) if nested is None}
    counter = 0

    def struct_for(level: Shape, prefix: str) -> type | None:
        nonlocal counter
        fields, rename = [], {}
        for index, (key, nested) in enumerate(level):
            name = f"{prefix}.{key}" if prefix else str(key)
            kind = Any if name in wanted else None
            if nested is not None:
                kind = struct_for(nested, name)
            if kind is not None:
                fields.append((f"f{index}", kind))
                rename[f"f{index}"] = key
        if not fields:
            return None
        counter += 1
        return msgspec.defstruct(f"Leaves{counter}", fields, rename=rename, gc=False)

    record_type = struct_for(shape, "")
    paths = ["r" + "".join(f".f{index}" for index in at_of[name]) for name in leaves]
    columns = ", ".join(f"[{path} for r in records]" for path in paths)
    source = ["def read_rows(records):", f"    return [{columns}]"]
    return msgspec.json.Decoder(list[record_type]).decode, _compile(source, "leaf reader")


def first_record(raw: bytes) -> Any:
    """Parse just the first element of a top-level array, if it is an object."""
    start = 0
    length = len(raw)
    while start < length and raw[start] in _WHITESPACE:
        start += 1
    if start >= length or raw[start] != ord("["):
        return None
    start += 1
    while start < length and raw[start] in _WHITESPACE:
        start += 1
    if start >= length or raw[start] != ord("{"):
        return None
    end = _object_end(raw, start)
    if end is None:
        return None
    try:
        return msgspec.json.decode(raw[start:end])
    except msgspec.DecodeError:
        return None


def _object_end(raw: bytes, start: int) -> int | None:
    """Index just past the JSON object starting at ``start`` (strings and escapes respected)."""
    depth = 0
    in_string = False
    escaped = False
    stop = min(len(raw), start + _SCAN_LIMIT)
    for index in range(start, stop):
        byte = raw[index]
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x7B, 0x5B):  # { [
            depth += 1
        elif byte in (0x7D, 0x5D):  # } ]
            depth -= 1
            if depth == 0:
                return index + 1
    return None
