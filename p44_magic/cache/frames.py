"""Frames kept beside large cached answers, so a re-run (a restarted kernel included) skips
decoding and flattening: of 100,000 records, building the frame is nine tenths of a fetch.

A frame is kept only when pyarrow is installed (its IPC format holds the typed columns, read
back without a copy) and every object column holds only JSON's types (text, numbers, booleans,
None, lists, dicts: msgpack keeps those exactly); anything else is framed again from the answer,
which is always kept too. Frames stay in the local cache file: a replay file holds answers only.
"""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec
import pandas as pd

from ..gc_pause import gc_paused

FRAME_FORMAT = "p44_magic frame 1"
MIN_ANSWER_BYTES = 1 << 20  # smaller answers frame in milliseconds: not worth a second copy
_JSON_TYPES = (str, int, float, bool, type(None), list, dict)


def frame_shape(*options: Any) -> str:
    """A digest of how an answer was framed (rows, parent fields, dates, presets)."""
    return hashlib.sha256(repr((FRAME_FORMAT, options)).encode()).hexdigest()[:32]


def encode_frame(frame: pd.DataFrame, notes: list[str]) -> bytes | None:
    """The frame (and the notes framing it gave) as bytes, or None when it cannot be kept
    exactly (see the module)."""
    try:
        import pyarrow as pa
    except ImportError:
        return None
    if not isinstance(frame, pd.DataFrame) or not frame.columns.is_unique:
        return None
    if not isinstance(frame.index, pd.RangeIndex) or frame.index.start != 0:
        return None
    labels = [str(label) for label in frame.columns]
    if labels != list(frame.columns):
        return None
    objects = {}
    for label in labels:
        column = frame[label]
        if column.dtype == object:
            if not all(type(value) in _JSON_TYPES for value in column):
                return None
            objects[label] = msgspec.msgpack.encode(column.tolist())
    typed = frame.drop(columns=list(objects))
    try:
        table = pa.Table.from_pandas(typed, preserve_index=False)
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
    except (pa.ArrowException, TypeError, ValueError):
        return None
    arrow = sink.getvalue().to_pybytes()
    parts = {"format": FRAME_FORMAT, "columns": labels, "rows": len(frame), "arrow": arrow}
    parts["notes"] = [str(note) for note in notes]
    return msgspec.msgpack.encode({**parts, "objects": objects})


def decode_frame(data: bytes) -> tuple[pd.DataFrame, list[str]] | None:
    """A kept frame and its notes, or None when it cannot be read (then the answer is framed
    again)."""
    try:
        import pyarrow as pa
    except ImportError:
        return None
    try:
        with gc_paused():
            parts = msgspec.msgpack.decode(data)
            rows, labels = parts["rows"], parts["columns"]
            typed = pa.ipc.open_stream(parts["arrow"]).read_all().to_pandas()
            columns = {
                label: pd.Series(msgspec.msgpack.decode(raw), dtype=object, name=label)
                for label, raw in parts["objects"].items()
            }
    except (pa.ArrowException, msgspec.DecodeError, KeyError, TypeError, ValueError):
        return None
    if parts.get("format") != FRAME_FORMAT or any(len(c) != rows for c in columns.values()):
        return None
    if len(typed) != rows and len(typed.columns):
        return None
    joined = pd.concat([typed, pd.DataFrame(columns)], axis=1) if columns else typed
    notes = parts.get("notes")
    if sorted(joined.columns) != sorted(labels) or not isinstance(notes, list):
        return None
    return joined[labels], [str(note)[:2_000] for note in notes[:100]]
