"""``--each`` for scripts: the P44Client methods that send one request per value, and the
polars choice of their results (a mixin of :class:`p44_magic.client.P44Client`)."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

from . import bulk
from .answers import Result
from .bulk import EachResult, each_tables
from .call_state import NO_PROGRESS, Call, EachCallback, Progress
from .calls import AS_FRAME, Wanted
from .each_values import each_values
from .errors import P44Warning, clean_failures
from .frames import as_frames
from .request import HttpRequest, request_of


class EachCalls:
    """``call_each`` (a parsed request) and ``each`` (loose arguments)."""

    session: Any
    _thread: Any

    @clean_failures
    def call_each(
        self,
        request: HttpRequest,
        name: str,
        values: list[Any],
        wanted: Wanted = AS_FRAME,
        progress: Progress = NO_PROGRESS,
        *,
        namespace: Mapping[str, Any] | None = None,
        strict: bool = False,
        label: str | None = None,
        call: Call | None = None,
        cache: Any = None,
    ) -> Result:
        """``request`` once per value (see :func:`p44_magic.bulk.run_each_call`)."""
        call = call or self._new_call(progress, cache)
        try:
            return bulk.run_each_call(
                self.session,
                request,
                name,
                values,
                wanted,
                call,
                namespace=namespace,
                strict=strict,
                label=label,
            )
        finally:
            self._thread.exchange = call.exchange

    @clean_failures
    def each(
        self,
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
        tables: bool = False,
        progress: EachCallback | None = None,
        strict: bool = False,
        cache: Any = None,
        frames: str | None = None,
    ) -> EachResult:
        """One request per distinct value of ``values``, ``{{name}}`` in ``path``, ``json`` /
        ``content`` and ``headers`` replaced by each; at most ``max_concurrency`` at once.

        Returns an :class:`~p44_magic.bulk.EachResult`: ``.frame`` (every answer's rows in
        the order of the values, the value first under ``name``; with ``tables`` the joined
        :class:`~p44_magic.TrackingTables` of every tracking answer, as ``--each --tables``),
        ``.failures`` (one row per value whose request failed; the others carry on) and
        ``.answers`` (value → parsed answer). ``progress(done, total, rows, failures)`` is
        called as requests finish. ``cache`` as in :meth:`frame`: with it, a run again (after
        an interrupt, a failure, a restart) sends requests only for the values not yet kept.
        """
        request = request_of(method, path, params, json, headers, content)
        distinct = each_values(values, name, self.session.max_each)
        wanted = each_wanted(record_path, meta, all_pages, presets, parse_dates, tables)
        result = self.call_each(
            request, name, distinct, wanted, Progress(each=progress), cache=cache, strict=strict
        )
        return warned(self._each_done(result, tables, parse_dates, frames))

    def _each_done(self, result: Result, tables: bool, parse_dates: bool, frames: Any) -> Result:
        """The result with ``--tables``' joined tables and the frames asked for."""
        each = result.value
        if tables:
            each.frame = each_tables(each, parse_dates, self.session.timezone)
        as_frames(each, self._frames_of(frames))
        return result


def each_wanted(
    record_path: str | None,
    meta: Sequence[str] | str | None,
    all_pages: bool,
    presets: bool,
    parse_dates: bool,
    tables: bool,
) -> Wanted:
    """What each value's call returns, from :meth:`EachCalls.each`'s keywords."""
    meta = (meta,) if isinstance(meta, str) else tuple(meta or ())
    kind = "answer" if tables else "frame"
    return Wanted(kind, all_pages, None, record_path, meta, presets, parse_dates)


def warned(result: Result) -> Any:
    """The value, with the notes given to a Python caller as P44Warnings."""
    for note in result.notes:
        warnings.warn(note, P44Warning, stacklevel=4)  # warned, the call, clean_failures, caller
    return result.value
