"""JSON bytes → DataFrame for the common large answer: a list of records that share one shape.

The first record is parsed on its own to learn the shape; msgspec then decodes the whole array
into slotted structs of that shape (no dict per object, so faster to build and to free), and a
loop compiled for the shape reads them into columns. Any record of another shape makes the typed
decode fail, and the caller falls back to the general path (:func:`p44_magic.frames.to_frame`),
so the result is always the same as ``to_frame(json.loads(raw))``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import msgspec
import pandas as pd

from .frames import Shape, build_frame, holds_objects, shape_of
from .gc_pause import gc_paused

_SCAN_LIMIT = 1 << 20  # a first record longer than this is not worth the fast path
_WHITESPACE = b" \t\r\n"


def frame_from_json(raw: bytes, parse_dates: bool = True) -> pd.DataFrame | None:
    """The DataFrame of a JSON array of same-shaped records, or None to use the general path."""
    first = _first_record(raw)
    if not isinstance(first, dict) or not first:
        return None
    shape = shape_of(first, top=True)
    decoder, names, read_rows = _reader_for(shape)
    if not names:
        return None  # no plain field anywhere: the general path keeps the row count
    try:
        with gc_paused():
            records = decoder.decode(raw)
            rows = read_rows(records)
            del records
            count = len(rows)
            columns = dict(zip(names, zip(*rows, strict=True), strict=True))
            del rows
    except (msgspec.ValidationError, msgspec.DecodeError):
        return None
    frame = build_frame(columns, count, parse_dates)
    return None if holds_objects(frame, columns) else frame


def _first_record(raw: bytes) -> Any:
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


@lru_cache(maxsize=128)
def _reader_for(shape: Shape) -> tuple[msgspec.json.Decoder, list[str], Any]:
    """A typed decoder for ``list[<shape>]``, the column names, and a rows reader."""
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
    names: list[str] = []
    fields: list[str] = []

    def walk(level: Shape, path: str, prefix: str) -> None:
        for index, (key, nested) in enumerate(level):
            name = f"{prefix}.{key}" if prefix else str(key)
            if nested is None:
                names.append(name)
                fields.append(f"{path}.f{index}")
            else:
                walk(nested, f"{path}.f{index}", name)

    walk(shape, "r", "")
    source = "\n".join(
        [
            "def read_rows(records):",
            f"    return [({', '.join(fields)}{',' if len(fields) == 1 else ''}) for r in records]",
        ]
    )
    namespace: dict[str, Any] = {}
    exec(compile(source, "<p44_magic struct reader>", "exec"), namespace)  # noqa: S102
    return msgspec.json.Decoder(list[record_type]), names, namespace["read_rows"]
