"""What a ``%%p44`` / ``%p44`` cell does once its line is parsed: the request's ``--each``
values, what the call should return, the dry run's text, and the shape of the result the cell
gives back. The magic (:mod:`p44_magic.notebook.magics`) strings these together."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Mapping
from typing import Any

from ..bulk import EachResult, all_failed, check_uses, each_tables, each_values, parse_each
from ..calls import Wanted
from ..environments import base_url_for, check_base_url
from ..errors import P44UsageError
from ..frames import as_frames, polars_module
from ..request import HttpRequest, check_request, lookup, substitute_request
from .text import describe_request

LAST_EXCHANGE_NAME = "_p44_last"
_IPYTHON_NAME = re.compile(r"_+|_i+|_i?\d+|_[iod]h|In|Out|exit|quit|get_ipython")

Each = tuple[str, list[Any]]  # the {{name}} and its distinct values


def check_result_name(name: str, hidden: Mapping[str, Any]) -> None:
    """A cell's NAME must be an identifier that is not one of IPython's own names."""
    if not name.isidentifier():
        raise P44UsageError(f"{name!r} is not a valid variable name for the result.")
    if name in hidden or _IPYTHON_NAME.fullmatch(name):
        raise P44UsageError(
            f"{name} is one of IPython's own names; store the result under another name."
        )


def each_of(
    request: HttpRequest, spec: str | None, user_ns: Mapping[str, Any], max_each: int
) -> Each | None:
    """``--each NAME=VARIABLE``: the name and the distinct values; nothing sent yet."""
    if not spec:
        return None
    name, variable = parse_each(spec)
    label = f"{name}={variable}"
    check_uses(request, name, label)
    found = lookup(variable, user_ns, f"--each {label}")
    return name, each_values(found, label, max_each)


def wanted_of(args: Any, parse_dates: bool) -> Wanted:
    """What the cell's options ask the call to return (``--polars`` needs polars: a short
    error before anything is sent)."""
    if args.polars:
        polars_module()
    return Wanted(
        kind="answer" if args.raw or args.tables else "frame",
        all_pages=args.all_pages,
        max_pages=args.max_pages if args.all_pages else None,
        record_path=args.record_path,
        meta=tuple(args.meta or ()),
        presets=not args.no_presets,
        parse_dates=parse_dates,
        json_required=not args.raw,
        frames="polars" if args.polars else None,  # else the session's frames setting
    )


def planned_base_url(env: str, base_url: str) -> str:
    """Where a login would go, for a dry run before any login: the line's settings as
    ``%p44_login`` reads them (``P44_BASE_URL``, ``P44_ENV``, ``%config``)."""
    url = os.environ.get("P44_BASE_URL") or base_url
    if url:
        return check_base_url(url)
    env = (os.environ.get("P44_ENV") or env).lower()
    return DEMO_PLACE if env == "demo" else base_url_for(env)


DEMO_PLACE = "http://127.0.0.1:<demo port>"


def url_on(target: str, base_url: str) -> str:
    """``target`` on ``base_url`` (a path), or as written when it is a whole URL."""
    if target.startswith(("http://", "https://")):
        return target
    return base_url + ("" if target.startswith("/") else "/") + target


def dry_run_text(
    url_for: Callable[[str], Any],
    request: HttpRequest,
    each: Each | None,
    user_ns: Mapping[str, Any],
    label: str | None,
) -> str:
    """The request as it would be sent (with --each: the first value's)."""
    if each is not None:
        name, values = each
        request = substitute_request(request, {**user_ns, name: values[0]})
    check_request(request)
    text = describe_request(url_for(request.target), request)
    if each is not None and len(each[1]) > 1:
        text += f"\n(the first of {len(each[1]):,} requests, one per value of {label})"
    return text


def each_joined(
    each: EachResult, tables: bool, parse_dates: bool, timezone: str | None, frames: str
) -> EachResult:
    """``--each``'s result, with ``--tables`` the tracking tables joined; every value failed
    is an error (the failures table is the caller's to keep first)."""
    if tables:
        each.frame = each_tables(each, parse_dates, timezone)
    as_frames(each, frames)
    if not len(each.answers) and len(each.failures):
        raise all_failed(each.name, each)
    return each


def shown(value: Any, raw: bool) -> Any:
    """The value, after a line about an empty or non-JSON answer."""
    if raw:
        return value
    if value is None:
        print("The answer has no content.", file=sys.stderr)
    elif isinstance(value, str):
        print(
            f"The answer is not JSON, so here is its text (full exchange in {LAST_EXCHANGE_NAME}).",
            file=sys.stderr,
        )
    return value
