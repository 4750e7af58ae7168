"""Background fetches for scripts: ``P44Client.start`` (the arguments of ``frame``) and
``P44Client.start_each`` (those of ``each``) return a running :class:`~p44_magic.jobs.P44Job`
(a mixin of :class:`p44_magic.client.P44Client`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from . import bulk, calls
from .call_state import Call, Progress
from .calls import Wanted
from .client_each import each_wanted
from .each_values import each_values
from .errors import clean_failures
from .jobs import P44Job
from .request import request_of


def frame_wanted(
    record_path: str | None,
    meta: Sequence[str] | str | None,
    all_pages: bool,
    max_pages: int | None,
    presets: bool,
    parse_dates: bool,
    frames: str,
) -> Wanted:
    """What ``frame`` (and ``start``) asks of a call, from its keywords."""
    meta = (meta,) if isinstance(meta, str) else tuple(meta or ())
    wanted = Wanted("frame", all_pages, max_pages, record_path, meta, presets, parse_dates)
    return replace(wanted, frames=frames)


class JobCalls:
    """``start`` and ``start_each``; the client provides ``session``, ``jobs`` and the
    helpers ``_frames_of``, ``_new_call`` and ``_each_done``."""

    session: Any
    jobs: list[P44Job]
    _frames_of: Any
    _new_call: Any
    _each_done: Any

    @clean_failures
    def start(
        self,
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
        presets: bool = True,
        cache: Any = None,
        frames: str | None = None,
    ) -> P44Job:
        """:meth:`frame` in the background: a running :class:`P44Job` at once; its
        ``result()`` is the DataFrame (the notes it gathered are in ``job.notes``)."""
        request = request_of(method, path, params, json, headers, content)
        wanted = frame_wanted(
            record_path, meta, all_pages, max_pages, presets, parse_dates, self._frames_of(frames)
        )
        session = self.session

        def run(call: Call) -> Any:
            return calls.run(session, request, wanted, call).value

        what = "pages" if all_pages else "requests"
        return self._started(P44Job(run, self._new_call(Progress(), cache), what=what))

    @clean_failures
    def start_each(
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
        strict: bool = False,
        cache: Any = None,
        frames: str | None = None,
    ) -> P44Job:
        """:meth:`each` in the background: a running :class:`P44Job` at once; its
        ``result()`` is the :class:`~p44_magic.bulk.EachResult`."""
        request = request_of(method, path, params, json, headers, content)
        distinct = each_values(values, name, self.session.max_each)
        wanted = each_wanted(record_path, meta, all_pages, presets, parse_dates, tables)
        self._frames_of(frames)  # a bad value is refused here, not in the job
        session = self.session

        def run(call: Call) -> Any:
            result = bulk.run_each_call(
                session, request, name, distinct, wanted, call, strict=strict
            )
            return self._each_done(result, tables, parse_dates, frames).value

        return self._started(P44Job(run, self._new_call(Progress(), cache)))

    def _started(self, job: P44Job) -> P44Job:
        """The job, kept with this client (closing the client cancels it), and started."""
        self.jobs[:] = [kept for kept in self.jobs if not kept.done()]
        self.jobs.append(job)
        return job.start()
