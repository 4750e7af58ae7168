"""``{{name}}``: a notebook value put into a request as its place needs it.

- In the path, a value is one path segment, percent-encoded (``PO#12``, ``A/B``, ``C+D`` and
  ``E?x=1`` reach the server as those values); in the query string, a percent-encoded value.
- In a header, a value with a line break is refused.
- In a JSON body (``Content-Type: …json``, or a body that starts with ``{`` or ``[``), a bare
  ``{{name}}`` becomes the value's JSON (lists, dicts, numbers, booleans, None → null, numpy and
  pandas scalars, timestamps) and a ``{{name}}`` inside a JSON string is escaped as string
  content; the body must parse afterwards, else it is refused naming the line and column.
- In any other body, the value's text.

Only names, ``.attr``, integer and string subscripts are read (``{{ids[0]}}``,
``{{row["id"]}}``): nothing is evaluated.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

import numpy as np
import pandas as pd

from .errors import P44UsageError

PLACEHOLDER = re.compile(r"\{\{([^{}]*)\}\}")
#: name, then .attr, [0] or ["key"] / ['key'], any number of times
_PART = re.compile(r"""\.([^\W\d]\w*)|\[(-?\d+)\]|\[(?:"([^"\\]*)"|'([^'\\]*)')\]""")
_HEAD = re.compile(r"[^\W\d]\w*")

Namespace = Mapping[str, Any]


def parse_expression(expression: str) -> tuple[str, list[tuple[str, Any]]] | None:
    """``row["id"].x`` → (``row``, [("item", "id"), ("attr", "x")]); None when it is anything
    else (a call, an operator, a slice)."""
    head = _HEAD.match(expression)
    if head is None:
        return None
    steps: list[tuple[str, Any]] = []
    at = head.end()
    while at < len(expression):
        part = _PART.match(expression, at)
        if part is None:
            return None
        attr, index, double, single = part.groups()
        if attr is not None:
            steps.append(("attr", attr))
        elif index is not None:
            steps.append(("item", int(index)))
        else:
            steps.append(("item", double if double is not None else single))
        at = part.end()
    return head.group(), steps


def value_of(expression: str, namespace: Namespace, label: str | None = None) -> Any:
    """The value ``{{expression}}`` names; a usage error naming the placeholder otherwise."""
    expression = expression.strip()
    label = label or f"{{{{{expression}}}}}"
    parsed = parse_expression(expression)
    if parsed is None:
        raise P44UsageError(
            f"{label} is not a variable name.",
            hint='Use {{name}}, {{name.attr}}, {{name[0]}} or {{name["key"]}} with a variable '
            "of your notebook, e.g. {{shipment_id}}.",
        )
    head, steps = parsed
    if head not in namespace:
        raise P44UsageError(
            f"{label}: no variable named {head!r} in the notebook.",
            hint=f"Define it first, e.g. {head} = '...'.",
        )
    return _walk(label, head, namespace[head], steps)


def _walk(label: str, head: str, value: Any, steps: list[tuple[str, Any]]) -> Any:
    failure = None
    try:
        for kind, key in steps:
            if kind == "attr" and not hasattr(value, key):
                failure = f"{head} has no attribute {key!r}."
                break
            value = getattr(value, key) if kind == "attr" else value[key]
        else:
            return value
    except (KeyError, IndexError, TypeError) as error:
        failure = f"{head} has no item {error.args[0]!r}." if error.args else "no such item."
    except Exception as error:  # noqa: BLE001 - the user's property or __getitem__
        failure = f"reading it raised {type(error).__name__}."
    raise P44UsageError(f"{label}: {failure}")


def head_of(expression: str) -> str:
    """The variable an expression starts from (``sid`` of ``{{sid.x}}``)."""
    parsed = parse_expression(expression.strip())
    return parsed[0] if parsed else expression.strip()


def text_of(value: Any, label: str) -> str:
    """A value as text: numpy scalars as Python ones, a whole float as an int, timestamps in ISO
    8601; the user's ``__str__`` raising is a usage error naming the placeholder."""
    value = plain(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    try:
        return str(value)
    except Exception as error:  # noqa: BLE001 - the user's __str__
        raise P44UsageError(f"{label}: reading it raised {type(error).__name__}.") from None


def plain(value: Any) -> Any:
    """numpy and pandas scalars as Python values; missing values (NaN, NaT, NA) as None."""
    if isinstance(value, pd.Timestamp):
        return None if value is pd.NaT else value.to_pydatetime()
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else pd.Timestamp(value).to_pydatetime()
    if isinstance(value, np.generic):
        value = value.item()
    if value is pd.NaT or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def json_of(value: Any, label: str = "the body") -> str:
    """The value as JSON, numpy/pandas values and timestamps included."""

    def fallback(item: Any) -> Any:
        if isinstance(item, np.ndarray | pd.Series | pd.Index):
            return [plain(v) for v in item.tolist()]
        if isinstance(item, set | frozenset | tuple):
            return list(item)
        item = plain(item)
        if isinstance(item, dt.datetime | dt.date):
            return item.isoformat()
        if item is None or isinstance(item, str | int | float | bool):
            return item
        raise TypeError(type(item).__name__)

    try:
        return json.dumps(_plain_tree(value), default=fallback, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise P44UsageError(
            f"{label}: a {error.args[0] if error.args else 'value'} cannot be written as JSON.",
            hint="Give strings, numbers, booleans, None, lists and dicts (or numpy/pandas "
            "values and timestamps).",
        ) from None


def _plain_tree(value: Any, depth: int = 0) -> Any:
    if depth > 100:
        return value
    if isinstance(value, dict):
        return {str(k): _plain_tree(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain_tree(v, depth + 1) for v in value]
    return plain(value) if not isinstance(value, str) else value


# -- the places ---------------------------------------------------------------------------------


def fill_target(target: str, namespace: Namespace) -> str:
    """Path values as one percent-encoded segment each; query values percent-encoded."""
    path, mark, query = target.partition("?")
    path = _fill(path, namespace, lambda text: quote(text, safe=""))
    query = _fill(query, namespace, lambda text: quote(text, safe=""))
    return path + mark + query


def fill_header(name: str, value: str, namespace: Namespace) -> str:
    def checked(text: str) -> str:
        if "\r" in text or "\n" in text:
            raise P44UsageError(
                f"Header {name}: a {{{{…}}}} value holds a line break, which a header cannot.",
                hint="Give a value on one line.",
            )
        return text

    return _fill(value, namespace, checked)


def _fill(text: str, namespace: Namespace, encode: Callable[[str], str]) -> str:
    def put(match: re.Match[str]) -> str:
        label = match.group(0)
        value = text_of(value_of(match.group(1), namespace, label), label)
        try:
            return encode(value)
        except UnicodeEncodeError as error:  # a lone surrogate: no UTF-8, so no URL
            bad = error.object[error.start : error.end]
            raise P44UsageError(
                f"{label}: its value holds {bad!r}, so the request is not a URL that can be "
                "sent (not UTF-8).",
                hint="Check the value; it may come from a file read with the wrong encoding.",
            ) from None

    return PLACEHOLDER.sub(put, text)


def fill_text(text: str, namespace: Namespace) -> str:
    """Plain text: each value's text."""
    return _fill(text, namespace, lambda text: text)


def is_json_body(body: str, content_type: str | None) -> bool:
    return "json" in (content_type or "").lower() or body.lstrip().startswith(("{", "["))


def fill_body(body: str, namespace: Namespace, as_json: bool) -> str:
    """A JSON body: bare placeholders as JSON, placeholders inside strings as string content;
    it must parse afterwards. Any other body: the values' text."""
    if not as_json:
        return _fill(body, namespace, lambda text: text)
    if PLACEHOLDER.search(body) is None:
        return body
    pieces, at = [], 0
    scan = _StringScan()
    for match in PLACEHOLDER.finditer(body):
        pieces.append(body[at : match.start()])
        label = match.group(0)
        value = value_of(match.group(1), namespace, label)
        if scan.inside_after(body[at : match.start()]):
            pieces.append(json.dumps(text_of(value, label), ensure_ascii=False)[1:-1])
        else:
            pieces.append(json_of(value, label))
        at = match.end()
    pieces.append(body[at:])
    filled = "".join(pieces)
    check_json(filled)
    return filled


class _StringScan:
    """Whether the text read so far ends inside a JSON string literal (read piece by piece)."""

    def __init__(self) -> None:
        self.inside = self.escaped = False

    def inside_after(self, text: str) -> bool:
        for char in text:
            if self.escaped:
                self.escaped = False
            elif char == "\\" and self.inside:
                self.escaped = True
            elif char == '"':
                self.inside = not self.inside
        return self.inside


def check_json(body: str) -> None:
    """A body sent as JSON must parse: refused before sending, naming the line and column."""
    try:
        json.loads(body)
    except json.JSONDecodeError as error:
        raise P44UsageError(
            f"The JSON body does not parse (after {{{{…}}}} were filled in): {error.msg} at line "
            f"{error.lineno}, column {error.colno}.",
            hint="Check the quotes and commas there; a bare {{name}} is put in as JSON, one "
            'inside "…" as text.',
        ) from None
