"""P44Client: the Python API, a façade over one :class:`~p44_magic.session.Session` (the
tenant: pool, token holder, rate gate) and the call functions of :mod:`p44_magic.calls` and
:mod:`p44_magic.bulk`, as httpx's ``Client`` sits over its transport. Usable without IPython::

    with P44Client(client_id="…", client_secret=secret, env="sandbox") as p44:
        events = p44.frame("GET", f"/api/v4/shipments/{sid}/tracking/history", record_path="events")

Each method makes its own :class:`~p44_magic.call_state.Call`, so one client is safe to share
between threads: every result carries its own exchange, and ``last_exchange`` is the last one of
the calling thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
import pandas as pd

from . import calls, settings
from .answers import Exchange, Result
from .auth import AuthStyle, Secret, TokenHolder
from .call_state import NO_PROGRESS, Call, PagesCallback, Progress
from .calls import AS_FRAME, Wanted
from .client_each import EachCalls, warned
from .client_jobs import JobCalls, frame_wanted
from .errors import clean_failures
from .frames import TrackingTables, as_frames, tracking_tables
from .jobs import P44Job, cancel_all
from .replay import ReplaySession
from .request import HttpRequest, request_of
from .session import Session

__all__ = ["P44Client", "Wanted"]


def _of_session(name: str) -> Any:
    """A read-only attribute of the client that is the session's own."""
    return property(lambda client: getattr(client.session, name))


class P44Client(EachCalls, JobCalls):
    """A project44 API client: one session (base URL, credentials, token holder, connection
    pool) and the calls made over it.

    ``env`` is ``na`` (default), ``eu``, ``sandbox`` or ``demo`` (starts the built-in demo API on
    127.0.0.1 and uses its credentials); ``base_url`` overrides it. ``auth`` is ``basic`` (HTTP
    Basic) or ``form`` (form fields). ``tenant`` (1 or 2, ``env="demo"`` only) picks the demo's
    client application, each with its own shipments and orders. The other keywords are the
    settings of :data:`p44_magic.settings.SETTINGS` (``timeout``, ``retries``, ``max_concurrency``,
    ``timezone``, …), readable as attributes and changed with :meth:`configure`. Safe to share
    between threads.
    """

    @clean_failures  # a refused setting's error must not hold the secret in its frames
    def __init__(
        self,
        client_id: str | None = None,
        client_secret: str | Secret | None = None,
        *,
        env: str | None = None,
        base_url: str | None = None,
        auth: AuthStyle = "basic",
        tenant: int | None = None,
        **values: Any,
    ) -> None:
        self.session = Session(
            client_id,
            client_secret,
            env=env,
            base_url=base_url,
            auth=auth,
            tenant=tenant,
            **values,
        )
        self._thread = threading.local()  # the calling thread's last exchange
        self.file_variables: dict[str, str] = {}  # an environment file's, for .http requests
        self.jobs: list[P44Job] = []  # started in the background; closing cancels them

    @classmethod
    def replay(cls, path: str | Path, *, name: str | None = None, **values: Any) -> P44Client:
        """A read-only client answered only from a replay file (``%p44_cache export``): no
        credentials, nothing sent; a request the file does not hold is a short error.
        ``name``: the session exported, when the file holds several."""
        client = cls.__new__(cls)
        client.session = ReplaySession(path, name, **values)
        client._thread = threading.local()
        client.file_variables = {}
        client.jobs = []
        return client

    def __getattr__(self, name: str) -> Any:
        """A setting's current value (``p44.timeout``)."""
        if name in settings.SESSION_SETTINGS and "session" in self.__dict__:
            return self.session.settings[name]
        raise AttributeError(f"'P44Client' object has no attribute {name!r}")

    def configure(self, **values: Any) -> None:
        """Change settings (checked as in ``__init__``) from the next request on; a setting
        given as None is left as it is, except ``timezone`` (None: naive UTC)."""
        self.session.configure(**values)

    # -- the session, as it was before the façade --------------------------------------------

    env: str = _of_session("env")  # type: ignore[assignment]
    base_url: str = _of_session("base_url")  # type: ignore[assignment]
    client_id: str | None = _of_session("client_id")  # type: ignore[assignment]
    auth_style: str = _of_session("auth_style")  # type: ignore[assignment]
    requests_sent: int = _of_session("requests_sent")  # type: ignore[assignment]
    token_fetches: int = _of_session("token_fetches")  # type: ignore[assignment]
    _token_holder: TokenHolder = _of_session("token_holder")  # type: ignore[assignment]

    @property
    def last_exchange(self) -> Exchange | None:
        """The last exchange of the last call this thread made (never another thread's)."""
        return getattr(self._thread, "exchange", None)

    def __repr__(self) -> str:
        session = self.session
        held = "token held" if session.token_holder.has_token else "no token"
        return (
            f"<P44Client {session.base_url} client_id={session.client_id!r} "
            f"auth={session.auth_style} {held}>"
        )

    def __getstate__(self) -> Any:
        raise TypeError("a P44Client holds credentials and cannot be serialised")

    def __reduce__(self) -> Any:
        raise TypeError("a P44Client holds credentials and cannot be pickled")

    def __enter__(self) -> P44Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Cancel this client's background jobs, forget token and secret and close the
        connection pool."""
        cancel_all(self.jobs, wait=self.session.timeout)
        self.session.close()

    def status(self) -> dict[str, Any]:
        """Base URL, client id, auth style, token age and counters (never the token)."""
        return self.session.status()

    def invalidate_token(self) -> None:
        """Treat the held token as rejected, so the next request fetches a new one."""
        self.session.token_holder.invalidate()

    def url_for(self, target: str) -> httpx.URL:
        """An absolute URL on the configured host; other hosts are refused."""
        return self.session.url_for(target)

    @clean_failures
    def login(self) -> None:
        """Fetch a token now, so wrong credentials fail here and not at the first query."""
        self.session.login()

    # -- whole requests (what the magics send) -------------------------------------------------

    @clean_failures
    def call(
        self,
        request: HttpRequest,
        wanted: Wanted = AS_FRAME,
        progress: Progress = NO_PROGRESS,
        *,
        call: Call | None = None,
        cache: Any = None,
    ) -> Result:
        """Send ``request`` as ``wanted`` says; the value, this call's exchange and notes.
        ``call`` (else a new one) is the call's own state: its stop ends it; ``cache`` as in
        :meth:`frame`."""
        call = call or self._new_call(progress, cache)
        try:
            return calls.run(self.session, request, wanted, call)
        finally:
            self._thread.exchange = call.exchange

    def _frames_of(self, frames: str | None) -> str:
        """A call's ``frames=`` (checked), else the client's setting."""
        return self.frames if frames is None else settings.checked("frames", frames)

    def _new_call(self, progress: Progress, cache: Any) -> Call:
        return Call(progress, cache=self.session.call_cache(cache))  # cache: else the setting

    # -- the Python API: loose arguments --------------------------------------------------------

    @clean_failures
    def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        content: str | bytes | None = None,
        *,
        cache: Any = None,
    ) -> httpx.Response:
        """Send one request (token, retries, redirects handled); 4xx/5xx raise P44HTTPError;
        ``cache`` as in :meth:`frame`."""
        request = request_of(method, path, params, json, headers, content)
        return warned(self.call(request, Wanted("response"), cache=cache))

    @clean_failures
    def frame(
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
        progress: PagesCallback | None = None,
        presets: bool = True,
        cache: Any = None,
        frames: str | None = None,
    ) -> pd.DataFrame:
        """Send a request and turn its JSON answer into a DataFrame (see :func:`to_frame`);
        ``frames="polars"``: a polars DataFrame (else the client's ``frames`` setting).

        Typed as a DataFrame, which it is for every JSON answer; an empty answer (204) gives
        None and a non-JSON answer its text (:meth:`answer` suits such endpoints).
        ``all_pages`` joins every page of a ``page``/``pageSize`` (or ``size``) search. For a
        known endpoint (see :mod:`p44_magic.endpoints`) without ``record_path``, its row list
        and parent fields are used unless ``presets`` is False; explicit options always win.

        ``cache``: None (the client's ``cache`` setting), False, True (answer from the cache
        when an entry is younger than ``cache_ttl``, keep what is fetched; any POST too), an age
        (``"15m"``), ``"refresh"`` (fetch and overwrite), ``"snapshot"`` (fetch and keep one
        more time-stamped snapshot) or ``"offline"`` (only the cache answers; nothing is sent).
        """
        request = request_of(method, path, params, json, headers, content)
        wanted = frame_wanted(
            record_path, meta, all_pages, max_pages, presets, parse_dates, self._frames_of(frames)
        )
        return warned(self.call(request, wanted, Progress(pages=progress), cache=cache))

    @clean_failures
    def answer(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        content: str | bytes | None = None,
        *,
        cache: Any = None,
    ) -> Any:
        """The parsed answer (JSON as Python objects, text when not JSON, None for no content);
        ``cache`` as in :meth:`frame`."""
        request = request_of(method, path, params, json, headers, content)
        return warned(self.call(request, Wanted("answer", json_required=False), cache=cache))

    @clean_failures
    def tables(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        content: str | bytes | None = None,
        *,
        parse_dates: bool = True,
        cache: Any = None,
        frames: str | None = None,
    ) -> TrackingTables:
        """A tracking answer (history, eventhistory, positionhistory, tracking) as linked
        tables, as ``%p44 --tables`` gives it; timestamps in the client's ``timezone``;
        ``cache`` as in :meth:`frame`."""
        request = request_of(method, path, params, json, headers, content)
        answer = warned(self.call(request, Wanted("answer"), cache=cache))
        tables = tracking_tables(answer, parse_dates, self.session.timezone)
        return as_frames(tables, self._frames_of(frames))

    @clean_failures
    def all_pages(
        self,
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
        cache: Any = None,
    ) -> dict[str, Any]:
        """Every page of a ``{paginationInfo, results}`` search joined in page order.

        The first page gives ``paginationInfo.total``; the rest are fetched concurrently (at most
        ``max_concurrency`` at once). The row count must match ``total`` (unless ``max_pages``
        cut it short) and any failed page fails the whole call: never partial data.
        ``on_page(page, results)`` is called with each page's rows, in page order. ``cache``
        as in :meth:`frame` (each page is kept on its own).
        """
        request = request_of(method, path, params, json, headers, content)
        call = self._new_call(Progress(pages=progress), cache)
        try:
            return warned(calls.run_pages(self.session, request, call, max_pages, on_page))
        finally:
            self._thread.exchange = call.exchange
