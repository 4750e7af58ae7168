"""The values of ``--each`` (and ``P44Client.each``): read from any collection, checked and
made plain before anything is sent, and the ``NAME=VARIABLE`` option that names them."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from . import settings
from .errors import P44UsageError
from .request import HttpRequest, placeholder_names

DEFAULT_MAX_EACH: int = settings.default("max_each")
#: Items looked at, at most, per value allowed: an endless iterator of repeats is refused too.
ITEMS_PER_VALUE = 100
MIN_ITEMS_LOOKED_AT = 1_000_000
_FLATTENED = (list, tuple, set, frozenset, range, np.ndarray, pd.Index, pd.Series)


def each_values(collection: Any, label: str, limit: int = DEFAULT_MAX_EACH) -> list[Any]:
    """The distinct values of ``collection`` in order: lists inside are flattened, missing
    values (None, NaN) dropped, duplicates dropped keeping the first; ``label`` (``sid=ids``)
    names it in errors."""
    if isinstance(collection, pd.DataFrame):
        raise P44UsageError(
            f"--each {label}: that is a DataFrame; give one of its columns, e.g. {label}.id."
        )
    if isinstance(collection, str | bytes | Mapping) or not isinstance(collection, Iterable):
        raise P44UsageError(
            f"--each {label}: that is a {type(collection).__name__}, not a list of values.",
            hint="Give a list, tuple, set, range, numpy array, pandas Index or Series.",
        )
    seen: dict[Any, None] = {}
    looked_at = 0
    most = max(ITEMS_PER_VALUE * limit, MIN_ITEMS_LOOKED_AT)
    for item in collection:
        for value in item if isinstance(item, _FLATTENED) else (item,):
            looked_at += 1
            value = _plain(value, label)
            if value is not None:
                seen.setdefault(value, None)
            if len(seen) > limit or looked_at > most:  # refused before an endless one ends
                raise _too_many(label, _distinct(collection, label, most), limit, looked_at > most)
    if not seen:
        raise P44UsageError(f"--each {label}: there are no values in it (after dropping missing).")
    return list(seen)


def _distinct(collection: Any, label: str, most: int) -> int | None:
    """How many distinct values a sized collection holds, when it is small enough to count."""
    try:
        size = len(collection)
    except TypeError:
        return None
    if size > most or any(isinstance(item, _FLATTENED) for item in collection):
        return None
    return len({value for item in collection if (value := _plain(item, label)) is not None})


def _too_many(label: str, distinct: int | None, limit: int, endless: bool) -> P44UsageError:
    if endless:
        return P44UsageError(
            f"--each {label}: it goes on past {max(ITEMS_PER_VALUE * limit, MIN_ITEMS_LOOKED_AT):,}"
            " items without ending.",
            hint="Give a list (or a column) of the ids; an endless iterator cannot be sent.",
        )
    counted = f"{distinct:,} distinct values" if distinct else "too many distinct values"
    return P44UsageError(
        f"--each {label}: {counted}, more than max_each ({limit:,}).",
        hint="Split the list, or raise %config P44Magics.max_each.",
    )


def _plain(value: Any, label: str) -> Any:
    """A value as it goes into a request: None when missing; numpy scalars as Python ones; a
    whole float as an int (ids from a column with gaps are floats)."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        return int(value) if value.is_integer() else value
    if isinstance(value, dict | pd.DataFrame | pd.Series | list | tuple | set | np.ndarray):
        raise P44UsageError(
            f"--each {label}: it holds a {type(value).__name__} where a value should be.",
            hint="Give a list of ids (strings or numbers); pick the field from each item first.",
        )
    try:
        hash(value)
    except TypeError:
        raise P44UsageError(
            f"--each {label}: it holds a {type(value).__name__}, which is not a value."
        ) from None
    return value


def check_uses(request: HttpRequest, name: str, label: str) -> None:
    """``name`` must be an identifier that the request uses as ``{{name}}``."""
    if not name.isidentifier():
        raise P44UsageError(f"--each {label}: {name!r} is not a name (letters, digits, _).")
    if name not in placeholder_names(request):
        raise P44UsageError(
            f"--each {label}: the request never uses {{{{{name}}}}}, so every request would be "
            "the same.",
            hint=f"Put {{{{{name}}}}} in the path, a header or the body.",
        )


def parse_each(spec: str) -> tuple[str, str]:
    """``NAME=VARIABLE`` → (NAME, VARIABLE)."""
    name, equals, variable = spec.partition("=")
    if not equals or not name.strip() or not variable.strip():
        raise P44UsageError(
            f"--each {spec}: write --each NAME=VARIABLE, e.g. --each sid=shipment_ids.",
            hint="NAME is the {{NAME}} of the request; VARIABLE a list in the notebook.",
        )
    name = name.strip()
    if not name.isidentifier():
        raise P44UsageError(f"--each {spec}: {name!r} is not a name (letters, digits, _).")
    return name, variable.strip()
