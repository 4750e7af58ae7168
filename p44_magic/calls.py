"""Calls: what one request (or one search, page after page) gives back, as functions of a
:class:`~p44_magic.session.Session` and a :class:`~p44_magic.call_state.Call`.

:func:`run` is the one entry: it sends the request through the session and returns the value
``Wanted`` asks for (the response, the parsed answer, or a DataFrame) in a ``Result`` that
carries the call's own exchange and notes. ``--each`` builds on these in :mod:`p44_magic.bulk`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import pandas as pd

from .answers import (
    Result,
    Wanted,
    decode_body,
    decode_content,
    info_notes,
    returned_response,
)
from .cache.frames import frame_shape
from .call_state import Call
from .endpoints import find_endpoint
from .errors import P44Error, P44Interrupted, clean_failures
from .frames import (
    Body,
    Preset,
    frame_answer,
    frame_pages,
    page_collector,
    result_frames,
)
from .pacing import stop_on
from .paging import PagePlan, PageReader, all_pages
from .request import HttpRequest
from .session import Session

__all__ = ["AS_FRAME", "Wanted", "pages", "run", "run_pages", "value_of", "with_presets"]
AS_FRAME = Wanted()


@contextmanager
def running(call: Call) -> Iterator[Call]:
    """The block is ``call``: its worker threads and waits end when ``call.stop`` is set."""
    with stop_on(call.stop):
        yield call


@clean_failures
def run(session: Session, request: HttpRequest, wanted: Wanted, call: Call) -> Result:
    """Send ``request`` as ``wanted`` says; the value, the call's exchange and its notes."""
    wanted = replace(wanted, frames=wanted.frames or session.frames)
    with running(call):
        value, answer = value_of(session, request, with_presets(request, wanted), call)
    notes = list(dict.fromkeys(call.notes))  # each page may say the same
    value = result_frames(value, wanted.frames, session.timezone)
    return Result(value, call.exchange, notes, answer)


@clean_failures
def run_pages(
    session: Session,
    request: HttpRequest,
    call: Call,
    max_pages: int | None = None,
    on_page: Callable[[int, list[Any]], None] | None = None,
) -> Result:
    """Every page of a search joined (see :func:`p44_magic.paging.all_pages`)."""
    with running(call):
        joined = pages(session, request, call, max_pages, on_page)
    return Result(joined, call.exchange, list(dict.fromkeys(call.notes)))


def value_of(
    session: Session,
    request: HttpRequest,
    wanted: Wanted,
    call: Call,
    max_concurrency: int | None = None,
) -> tuple[Any, Any]:
    """The value ``wanted`` asks for, and the parsed answer it came from."""
    if wanted.all_pages:
        return paged_value(session, request, wanted, call, max_concurrency)
    return single_value(session, request, wanted, call)


def with_presets(request: HttpRequest, wanted: Wanted) -> Wanted:
    """A known endpoint's rows and parent fields, unless the caller chose rows."""
    if wanted.kind != "frame" or not wanted.presets or wanted.record_path is not None:
        return wanted
    endpoint = find_endpoint(request.method, request.target)
    if endpoint is None or endpoint.rows in (None, "results"):
        return wanted
    preset = Preset(rows=True, meta=not wanted.meta)
    return replace(
        wanted, record_path=endpoint.rows, meta=wanted.meta or endpoint.meta, preset=preset
    )


def single_value(
    session: Session, request: HttpRequest, wanted: Wanted, call: Call
) -> tuple[Any, Any]:
    shape = ""  # how the answer is framed, for the cache's frames: only with a cache
    if call.cache is not None:
        shape = frame_shape(wanted.record_path, wanted.meta, wanted.parse_dates, wanted.preset)
    if wanted.kind == "frame" and (kept := session.cached_frame(request, call, shape)):
        call.note(*kept[1])  # a re-run of a large answer: its frame, as built the first time
        return kept[0], None
    response = session.send(request, call)
    if wanted.kind == "response":
        return returned_response(response), None
    if wanted.kind == "answer":
        body = decode_body(response, strict=wanted.json_required)
        call.note(*info_notes(body))
        return body, body
    status, content_type = response.status_code, response.headers.get("Content-Type", "")
    body = Body(response.content)
    if call.cache is None:
        response = None  # nothing else holds the answer: its bytes go once decoded
    framed = frame_answer(
        body,
        lambda raw: decode_content(status, content_type, raw, strict=True),
        wanted.record_path,
        wanted.meta,
        wanted.parse_dates,
        wanted.preset,
        wanted.frames or "pandas",
    )
    notes = [*info_notes(framed.answer), *([framed.note] if framed.note else [])]
    call.note(*notes)
    if call.cache is not None and response is not None and isinstance(framed.value, pd.DataFrame):
        try:
            call.cache.keep_frame(response, shape, session.cache_identity, framed.value, notes)
        except P44Error as error:
            call.note(f"The frame was not kept in the cache: {error.message}")
    return framed.value, framed.answer


def paged_value(
    session: Session,
    request: HttpRequest,
    wanted: Wanted,
    call: Call,
    max_concurrency: int | None = None,
) -> tuple[Any, Any]:
    if wanted.kind != "frame":
        joined = pages(session, request, call, wanted.max_pages, None, max_concurrency)
        return joined, joined
    collector = page_collector(wanted.record_path, wanted.meta)
    on_page = collector.add if collector else None

    def framed_pages(joined: dict[str, Any]) -> Any:
        framed = frame_pages(
            joined,
            collector,
            wanted.record_path,
            wanted.meta,
            wanted.parse_dates,
            wanted.preset,
            wanted.frames or "pandas",
        )
        call.note(framed.note)
        return framed.value

    try:
        joined = pages(session, request, call, wanted.max_pages, on_page, max_concurrency)
    except P44Interrupted as stop:
        stop.partial = framed_pages(stop.partial) if stop.partial is not None else None
        raise
    return framed_pages(joined), joined


def pages(
    session: Session,
    request: HttpRequest,
    call: Call,
    max_pages: int | None,
    on_page: Callable[[int, list[Any]], None] | None = None,
    max_concurrency: int | None = None,
) -> dict[str, Any]:
    """Every page of ``request`` joined, fetched over the session for ``call``."""
    endpoint = find_endpoint(request.method, request.target)
    plan = PagePlan.of(session.url_for(request.target), None, endpoint and endpoint.paging)

    def fetch(page: int) -> tuple[Any, Call]:
        """A page's answer (or its error), and its own exchange: the call's becomes that of
        the last page read, on the reading thread, never a page sent with page 1 that turned
        out not to exist."""
        target = str(plan.base.copy_with(params=plan.query_for(page)))
        own = replace(call, exchange=None, attempts=0)  # the same stop, progress and notes
        sent = replace(request, target=target)
        try:
            return session.send(sent, own, idempotent=True, download=False), own
        except P44Error as error:
            return error, own

    def decode(fetched: tuple[Any, Call]) -> Any:
        answer, own = fetched
        call.exchange, call.attempts = own.exchange, own.attempts
        if isinstance(answer, P44Error):
            raise answer
        return _noted(call, decode_body(answer, strict=True))

    return all_pages(
        plan,
        fetch,
        PageReader(decode, on_page),
        max_pages=max_pages,
        page_limit=session.max_pages,
        max_concurrency=max_concurrency or session.max_concurrency,
        progress=call.progress.pages,
    )


def _noted(call: Call, body: Any) -> Any:
    """A page's answer, its ``infoMessages`` kept as the call's notes."""
    call.note(*info_notes(body))
    return body
