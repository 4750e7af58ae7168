"""JSON answers to pandas DataFrames: a pure function with ``pandas.json_normalize`` semantics.

Which rows: a top-level list; the ``results`` of a ``{paginationInfo, results}`` page; the one list
of objects in an object; or the list named by ``record_path`` (dotted). Nested objects become dotted
columns, lists of scalars stay lists, ISO 8601 timestamp columns become timezone-aware datetimes.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ..errors import P44UsageError, P44Warning
from .arrow_route import json_frame
from .body import Body, body_of
from .columns import DEFAULT_TIMEZONE, MISSING, maybe_datetime
from .polars_frames import check_frames, from_columns, json_text, result_frames
from .records import PagedRows, records_to_frame
from .rows import ABSENT, plain_walk
from .uniform import MAX_NESTING


class AbsentKey(P44UsageError):
    """A dotted path names a key the answer does not have (internal: it leaves this module as
    the P44UsageError it is, see :func:`frame_and_note`)."""


def absent_key(option: str, dotted: str, where: str, missing: str, node: Any) -> AbsentKey:
    """``--path evnts``: the keys there, and the one most likely meant."""
    keys = [str(key) for key in node] if isinstance(node, dict) else []
    meant = difflib.get_close_matches(missing, keys, n=1, cutoff=0.6)
    shown = ", ".join(keys[:30]) if keys else type(node).__name__
    return AbsentKey(
        f"{option} {dotted}: {where} has no key {missing!r}"
        + (f"; did you mean {meant[0]!r}?" if meant else "."),
        hint=f"Keys there: {shown}.",
    )


#: Lists that are never the rows of an answer: project44's side-channel messages.
SIDE_LISTS = frozenset({"infoMessages"})


def to_frame(
    answer: Any,
    record_path: str | None = None,
    meta: Sequence[str] | str | None = None,
    parse_dates: bool = True,
    timezone: str | None = DEFAULT_TIMEZONE,
    frames: str = "pandas",
) -> pd.DataFrame:
    """Turn a parsed JSON answer into a DataFrame.

    ``record_path`` picks the list that holds the rows (``"events"``,
    ``"shipment.routeInfo.stops"``); ``meta`` carries parent fields (``"shipment.id"``) onto every
    row as columns of the same dotted name. A hint about the choice made (several lists found) is
    given as a :class:`P44Warning`. Timestamps are UTC; ``timezone`` (an IANA name) shows them
    in that zone, ``None`` as naive UTC datetimes (which Excel takes). ``frames="polars"``
    gives a polars DataFrame of the same content (``p44_magic[polars]``).
    """
    check_frames(frames)
    frame, note = frame_and_note(answer, record_path, meta, parse_dates, frames=frames)
    if note:
        warnings.warn(note, P44Warning, stacklevel=2)
    return result_frames(frame, frames, timezone)


def _too_deep() -> P44UsageError:
    return P44UsageError(
        f"The answer nests objects more than {MAX_NESTING} deep: too deep to flatten into columns.",
        hint="Use --raw (or P44Client.answer) to get the parsed JSON instead.",
    )


@dataclass(frozen=True)
class Preset:
    """Which of the rows' list (``rows``) and parent fields (``meta``) came from the catalogue
    rather than the user: an answer that lacks them gives an empty table or missing values,
    and no message names an option the user did not type."""

    rows: bool = False
    meta: bool = False


NO_PRESET = Preset()


@dataclass
class Framed:
    """A frame (or the answer's text, or None) and the one-line note about how rows were chosen;
    ``answer`` is the decoded answer when it was decoded (for its infoMessages)."""

    value: pd.DataFrame | str | None
    note: str | None = None
    answer: Any = None


def frame_answer(
    raw: bytes | Body,
    decode: Callable[[bytes], Any],
    record_path: str | None = None,
    meta: Sequence[str] | str | None = None,
    parse_dates: bool = True,
    preset: Preset = NO_PRESET,
    frames: str = "pandas",
) -> Framed:
    """The frame of a raw answer: the same-shaped-records path straight from the bytes when it
    applies (a polars frame when ``frames`` says so), else ``decode`` and the general path
    (pandas). Text and empty answers come back as they are. A handed-over :class:`Body` may
    be released on the way (see :mod:`.body`).
    """
    body = body_of(raw)
    del raw
    try:
        if record_path is None and not meta:
            frame = json_frame(body, parse_dates, frames)
            if frame is not None:
                return Framed(frame)
        answer = decode(body.raw)
        if answer is None or isinstance(answer, str):
            return Framed(answer, answer=answer)
        frame, note = frame_and_note(answer, record_path, meta, parse_dates, preset, frames)
    except RecursionError:
        raise _too_deep() from None
    return Framed(frame, note, answer)


def page_collector(record_path: str | None, meta: Sequence[str] | str | None) -> PagedRows | None:
    """Reads plain result rows page by page as they arrive, or None when rows are chosen."""
    return PagedRows() if record_path is None and not meta else None


def frame_pages(
    joined: dict[str, Any],
    collector: PagedRows | None,
    record_path: str | None = None,
    meta: Sequence[str] | str | None = None,
    parse_dates: bool = True,
    preset: Preset = NO_PRESET,
    frames: str = "pandas",
) -> Framed:
    """The frame of every page joined (see :mod:`p44_magic.paging`)."""
    if collector is not None:
        return Framed(collector.frame(parse_dates, frames))
    rows = joined
    if record_path and not record_path.split(".")[0] == "results":
        rows = joined["results"]  # --path and --meta apply to each result row (lineItems, say)
    return Framed(*frame_and_note(rows, record_path, meta, parse_dates, preset, frames), joined)


def frame_and_note(
    answer: Any,
    record_path: str | None = None,
    meta: Sequence[str] | str | None = None,
    parse_dates: bool = True,
    preset: Preset = NO_PRESET,
    frames: str = "pandas",
) -> tuple[pd.DataFrame, str | None]:
    """:func:`to_frame`, with the note returned instead of warned."""
    try:
        return _frame_and_note(answer, record_path, meta, parse_dates, preset, frames)
    except RecursionError:
        raise _too_deep() from None
    except AbsentKey as absent:
        raise P44UsageError(absent.message, hint=absent.hint) from None


def _frame_and_note(
    answer: Any,
    record_path: str | None,
    meta: Sequence[str] | str | None,
    parse_dates: bool,
    preset: Preset,
    frames: str = "pandas",
) -> tuple[pd.DataFrame, str | None]:
    meta_paths = [meta] if isinstance(meta, str) else list(meta or [])
    parents = answer if isinstance(answer, list) and record_path else [answer]
    records: list[Any] = []
    meta_values: list[list[Any]] = []
    note = None
    for parent in parents:
        if record_path:
            try:
                pairs = rows_with_holders(parent, record_path)
            except AbsentKey:
                if not preset.rows:
                    raise
                pairs = []  # real answers leave out a list that has nothing in it yet
                note = f"The answer has no {record_path} (none yet): an empty table."
        else:
            rows, note = select_records(parent, record_path)
            pairs = [(parent, row) for row in rows]
        for holder, row in pairs:
            records.append(row)
            if meta_paths:
                meta_values.append(
                    [_meta_value(holder, parent, path, preset.meta) for path in meta_paths]
                )
    frame = records_to_frame(records, parse_dates, frames)
    added = {}
    for position, path in enumerate(meta_paths):
        if path in frame.columns and preset.meta:
            continue  # the rows' own field wins over a parent field nobody asked for
        if path in frame.columns:
            raise P44UsageError(f"--meta {path}: the rows already have a column named {path!r}.")
        added[path] = [values[position] for values in meta_values]
    return with_meta(frame, added, parse_dates), note


def with_meta(frame: Any, added: dict[str, list], parse_dates: bool) -> Any:
    """The frame with the parents' fields as columns after its own."""
    if not added:
        return frame
    if not isinstance(frame, pd.DataFrame):  # polars; a parent object is its JSON text
        columns = from_columns(added, parse_dates) or from_columns(
            {path: [json_text(value) for value in values] for path, values in added.items()},
            parse_dates,
        )
        return frame.hstack(columns.get_columns())
    for path, column in added.items():
        frame[path] = maybe_datetime(
            pd.Series(column, index=frame.index, dtype=object), parse_dates
        )
    return frame


def rows_with_holders(answer: Any, record_path: str) -> list[tuple[Any, Any]]:
    """The rows at a dotted ``record_path``, each with the object that holds its list.

    As ``pandas.json_normalize`` with a list ``record_path``, the path walks through lists:
    ``results.lineItems`` gives every line item of every result (an item without the key adds
    no rows). A key missing outside a list is a usage error naming the keys there."""
    parts = record_path.split(".")

    def walk(node: Any, index: int, holder: Any, walked: list[str]) -> list[tuple[Any, Any]]:
        if index == len(parts):
            rows = node if isinstance(node, list) else [] if node is None else [node]
            return [(holder, row) for row in rows]
        if isinstance(node, list):
            return [
                pair
                for item in node
                if isinstance(item, dict) and parts[index] in item
                for pair in walk(item[parts[index]], index + 1, item, [*walked, parts[index]])
            ]
        if isinstance(node, dict) and parts[index] in node:
            return walk(node[parts[index]], index + 1, node, [*walked, parts[index]])
        where = ".".join(walked) or "the answer"
        raise absent_key("--path", record_path, where, parts[index], node)

    return walk(answer, 0, answer, [])


def _meta_value(holder: Any, answer: Any, path: str, absent_ok: bool = False) -> Any:
    """A ``--meta`` field: from the object holding the rows' list first, else from the top
    (missing when ``absent_ok``: a preset's parent field that this answer lacks)."""
    found = plain_walk(holder, path)
    if found is not ABSENT:
        return found
    if absent_ok:
        found = plain_walk(answer, path)
        return MISSING if found is ABSENT else found
    return _lookup(answer, path, "--meta")


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
        raise absent_key(option, dotted, where, part, value)
    return value
