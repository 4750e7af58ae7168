"""The Python API's calls with loose arguments (method, path, params, json, headers, content):
``request``, ``answer``, ``frame`` and ``all_pages``. Each builds one ``HttpRequest``, hands it
to ``P44Client.call`` and gives the Result's notes to the caller as ``P44Warning``s."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import httpx
import pandas as pd

from .answers import Result, Wanted
from .bulk import EachResult, each_values
from .errors import P44Warning, clean_failures
from .progress import EachCallback, PagesCallback, Progress
from .request import request_of

if TYPE_CHECKING:
    from .client import P44Client


class LooseArgumentCalls:
    """Mixed into :class:`~p44_magic.client.P44Client`."""

    @clean_failures
    def request(
        self: P44Client,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        content: str | bytes | None = None,
    ) -> httpx.Response:
        """Send one request (token, retries, redirects handled); 4xx/5xx raise P44HTTPError."""
        request = request_of(method, path, params, json, headers, content)
        return _warned(self.call(request, Wanted("response")))

    @clean_failures
    def frame(
        self: P44Client,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        content: str | bytes | None = None,
        *,
        record_path: str | None = None,
        meta: Sequence[str] | str | None = None,
        all_pages: bool = False,
        max_pages: int | None = None,
        parse_dates: bool = True,
        progress: PagesCallback | None = None,
        presets: bool = True,
    ) -> pd.DataFrame | str | None:
        """Send a request and turn its JSON answer into a DataFrame (see :func:`to_frame`).

        A 204 gives None; a non-JSON answer gives its text. ``all_pages`` joins every page of a
        ``page``/``pageSize`` (or ``size``) search. For a known endpoint (see
        :mod:`p44_magic.endpoints`) without ``record_path``, its row list and parent fields are
        used unless ``presets`` is False; explicit options always win.
        """
        request = request_of(method, path, params, json, headers, content)
        meta = (meta,) if isinstance(meta, str) else tuple(meta or ())
        wanted = Wanted("frame", all_pages, max_pages, record_path, meta, presets, parse_dates)
        return _warned(self.call(request, wanted, Progress(pages=progress)))

    @clean_failures
    def answer(
        self: P44Client,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        content: str | bytes | None = None,
    ) -> Any:
        """The parsed answer: JSON as Python objects, text when not JSON, None for no content."""
        request = request_of(method, path, params, json, headers, content)
        return _warned(self.call(request, Wanted("answer", json_required=False)))

    @clean_failures
    def all_pages(
        self: P44Client,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        content: str | bytes | None = None,
        *,
        max_pages: int | None = None,
        progress: PagesCallback | None = None,
        on_page: Callable[[int, list[Any]], None] | None = None,
    ) -> dict[str, Any]:
        """Every page of a ``{paginationInfo, results}`` search joined in page order.

        The first page gives ``paginationInfo.total``; the rest are fetched concurrently (at most
        ``max_concurrency`` at once). The row count must match ``total`` (unless ``max_pages``
        cut it short) and any failed page fails the whole call: never partial data.
        ``on_page(page, results)`` is called with each page's rows, in page order.
        """
        request = request_of(method, path, params, json, headers, content)
        notes: list[str] = []
        joined = self._pages(request, max_pages, Progress(pages=progress), on_page, notes)
        return _warned(Result(joined, self.last_exchange, notes))

    @clean_failures
    def each(
        self: P44Client,
        method: str,
        path: str,
        values: Any,
        *,
        name: str,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        content: str | bytes | None = None,
        record_path: str | None = None,
        meta: Sequence[str] | str | None = None,
        all_pages: bool = False,
        presets: bool = True,
        parse_dates: bool = True,
        progress: EachCallback | None = None,
        strict: bool = False,
    ) -> EachResult:
        """One request per distinct value of ``values``, ``{{name}}`` in ``path``, ``json`` /
        ``content`` and ``headers`` replaced by each; at most ``max_concurrency`` at once.

        Returns an :class:`~p44_magic.bulk.EachResult`: ``.frame`` (every answer's rows in
        the order of the values, the value first under ``name``), ``.failures`` (one row per
        value whose request failed; the others carry on) and ``.answers`` (value → parsed
        answer). ``progress(done, total, rows, failures)`` is called as requests finish.
        """
        request = request_of(method, path, params, json, headers, content)
        distinct = each_values(values, name, self.max_each)
        meta = (meta,) if isinstance(meta, str) else tuple(meta or ())
        wanted = Wanted("frame", all_pages, None, record_path, meta, presets, parse_dates)
        return _warned(
            self.call_each(request, name, distinct, wanted, Progress(each=progress), strict=strict)
        )


def _warned(result: Result) -> Any:
    """The value, with the notes given to a Python caller as P44Warnings."""
    for note in result.notes:
        warnings.warn(note, P44Warning, stacklevel=4)  # _warned, the call, clean_failures, caller
    return result.value
