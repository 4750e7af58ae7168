"""An answer's rows as flat records, to be framed later together with other answers' rows
(``--each`` frames 300 answers once, not 300 times)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import P44UsageError


class Rows(list):
    """An answer's rows as flat records, framed later together with other answers' rows."""


def plain_rows(
    answer: Any, record_path: str | None, meta: Sequence[str], first: tuple[str, Any]
) -> Rows | None:
    """The rows ``to_frame(answer, record_path, meta)`` would make, as records that start with
    ``first`` (a name and a value) and end with the meta fields; None unless the rows are a
    list of objects reached by plain keys and every meta field is a plain value (then the
    caller frames the answer the general way)."""
    name, value = first
    if record_path is None:
        rows = answer if not meta and isinstance(answer, list) else None
    else:
        rows = plain_walk(answer, record_path)
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        return None
    carried = {}
    for path in meta:
        found = plain_walk(answer, path)
        if found is ABSENT or isinstance(found, dict | list):
            return None
        carried[path] = found
    heads = {name, *(path.split(".")[0] for path in carried)}
    if any(not heads.isdisjoint(row) for row in rows):
        return None  # a name clash: the general path says what it is
    return Rows({name: value, **row, **carried} for row in rows)


ABSENT = object()


def plain_walk(answer: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if not isinstance(answer, dict) or part not in answer:
            return ABSENT
        answer = answer[part]
    return answer


def name_taken(name: str, label: str) -> P44UsageError:
    """The rows already have a column called like the ``--each`` value column."""
    return P44UsageError(
        f"--each {label}: the rows already have a column named {name!r}, so the value column "
        "cannot be added.",
        hint=f"Choose another NAME, e.g. --each {name}_value=… and {{{{{name}_value}}}}.",
    )
