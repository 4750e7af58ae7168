"""P44Client: a project44 session (base URL, credentials, token holder, one connection pool),
login, and one internal entry that takes an ``HttpRequest`` whole and returns one ``Result``.

The rules live beside it: retries and error mapping in :mod:`p44_magic.retries`, redirects in
:mod:`p44_magic.redirects`, paging in :mod:`p44_magic.paging`, answers in
:mod:`p44_magic.answers`, DataFrames in :mod:`p44_magic.frames`. Usable without IPython::

    with P44Client(client_id="…", client_secret=secret, env="sandbox") as p44:
        events = p44.frame("GET", f"/api/v4/shipments/{sid}/tracking/history", record_path="events")
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import httpx

from . import settings
from .answers import (
    DEFAULT_MAX_ANSWER_MB,
    MB,
    Exchange,
    Result,
    Wanted,
    decode_body,
    decode_content,
    info_notes,
    masked_headers,
    read_answer,
    record_answer,
    returned_response,
)
from .auth import AuthStyle, Secret, TokenHolder
from .bulk import DEFAULT_MAX_EACH, BulkCalls
from .endpoints import closest_endpoint, find_endpoint
from .environments import TOKEN_PATH, session_place
from .errors import P44Error, P44HTTPError, P44Interrupted, clean_failures
from .frame_columns import DEFAULT_TIMEZONE, in_timezone
from .frames import Preset, frame_answer, frame_pages, page_collector
from .pacing import Pacer
from .paging import DEFAULT_PAGE_LIMIT, PagePlan, PageReader, all_pages
from .progress import Progress
from .python_api import LooseArgumentCalls
from .redirects import (
    MAX_REDIRECTS,
    OriginCookiePolicy,
    hop_unreachable,
    logged_out,
    next_hop,
    same_origin,
    too_many,
    url_on_origin,
)
from .request import HttpRequest, check_request, encoded_body
from .retries import RetryPolicy, Target, send_with_retries
from .transport import ConnectionSlots, DeadlineTransport, proxy_for

UNCHANGED = object()  # configure(): a setting not given
ANSWER_BUDGET_TIMEOUTS = 4  # an answer must be whole within 4 timeouts (+1 s per MB)
NO_PROGRESS = Progress()
AS_FRAME = Wanted()


class P44Client(LooseArgumentCalls, BulkCalls):
    """A project44 API session: base URL, credentials, token holder and one connection pool.

    ``env`` is ``na`` (default), ``eu``, ``sandbox`` or ``demo`` (starts the built-in demo API on
    127.0.0.1 and uses its credentials); ``base_url`` overrides it. ``auth`` is ``basic`` (HTTP
    Basic) or ``form`` (form fields). Safe to share between threads.
    """

    def __init__(
        self,
        client_id: str | None = None,
        client_secret: str | Secret | None = None,
        *,
        env: str | None = None,
        base_url: str | None = None,
        auth: AuthStyle = "basic",
        timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 0.5,
        max_retry_after: float = 60.0,
        max_concurrency: int = 8,
        max_pages: int = DEFAULT_PAGE_LIMIT,
        max_answer_mb: float = DEFAULT_MAX_ANSWER_MB,
        max_rate: float = 0.0,
        max_each: int = DEFAULT_MAX_EACH,
        timezone: str | None = DEFAULT_TIMEZONE,
    ) -> None:
        self.auth_style = settings.auth_style("auth", auth)
        self.timeout = settings.seconds("timeout", timeout)
        self.policy = RetryPolicy(backoff=settings.seconds("backoff", backoff, allow_zero=True))
        self.max_concurrency = settings.concurrency("max_concurrency", max_concurrency)
        self.max_pages = DEFAULT_PAGE_LIMIT
        self.max_answer_bytes = DEFAULT_MAX_ANSWER_MB * MB
        self.max_each = DEFAULT_MAX_EACH
        self.timezone: str | None = DEFAULT_TIMEZONE
        self._pacer = Pacer()  # the shared rate gate and max_rate, for every request
        # With a base URL the environment name is not used (the form calls it "custom").
        self.env = settings.environment("env", env or "na") if not base_url else "custom"
        self.base_url, client_id, client_secret = session_place(
            self.env, base_url, client_id, client_secret
        )
        self.client_id = client_id
        self.requests_sent = 0
        self.last_exchange: Exchange | None = None
        self._counter_lock = threading.Lock()
        self._origin = httpx.URL(self.base_url)
        port = f":{self._origin.port}" if self._origin.port else ""
        self._host = f"{self._origin.host}{port}"
        self._token_holder = TokenHolder(
            self.base_url + TOKEN_PATH, client_id, Secret(client_secret), auth, self.timeout
        )
        # The pool is sized at login; a larger max_concurrency set later waits for connections
        # in ConnectionSlots rather than grow it.
        limits = httpx.Limits(max_connections=max(10, self.max_concurrency * 2))
        self._connection_slot = ConnectionSlots(limits.max_connections, self.timeout)
        budget = ANSWER_BUDGET_TIMEOUTS * self.timeout
        self._deadline = DeadlineTransport(budget, limits, proxy_for(self._origin), self._pacer)
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=httpx.Timeout(self.timeout),
            follow_redirects=False,  # followed by hand, so the token never leaves the host
            headers={"Accept": "application/json", "User-Agent": "p44_magic/0.1"},
            limits=limits,
            # Behind a proxy from the environment, httpx's own transport (which honours it).
            transport=self._deadline,
            trust_env=False,  # proxies are ours to choose (proxy_for); no .netrc credentials
        )
        self._http.cookies.jar.set_policy(OriginCookiePolicy(self._origin))
        self.configure(
            retries=retries,
            max_retry_after=max_retry_after,
            max_pages=max_pages,
            max_answer_mb=max_answer_mb,
            max_rate=max_rate,
            max_each=max_each,
            timezone=timezone,
        )

    def configure(
        self,
        *,
        timeout: float | None = None,
        retries: int | None = None,
        max_retry_after: float | None = None,
        max_concurrency: int | None = None,
        max_pages: int | None = None,
        max_answer_mb: float | None = None,
        max_rate: float | None = None,
        max_each: int | None = None,
        timezone: str | None | object = UNCHANGED,
    ) -> None:
        """Change a live session's settings (checked as in ``__init__``): from the next request.
        (``timezone=None`` means naive UTC, so "leave it" is the default UNCHANGED.)"""
        if timeout is not None:
            self.timeout = settings.seconds("timeout", timeout)
            self._http.timeout = self._token_holder.timeout = httpx.Timeout(self.timeout)
            self._connection_slot.timeout = self.timeout
            self._deadline.backend.budget = ANSWER_BUDGET_TIMEOUTS * self.timeout
        if retries is not None:
            self.policy = replace(self.policy, retries=settings.count("retries", retries))
        if max_retry_after is not None:
            wait = settings.seconds("max_retry_after", max_retry_after, allow_zero=True)
            self.policy = replace(self.policy, max_retry_after=wait)
        if max_concurrency is not None:
            self.max_concurrency = settings.concurrency("max_concurrency", max_concurrency)
        self._configure_limits(max_pages, max_answer_mb, max_rate, max_each)
        if timezone is not UNCHANGED:
            self.timezone = settings.timezone("timezone", timezone)

    def _configure_limits(
        self,
        max_pages: int | None,
        max_answer_mb: float | None,
        max_rate: float | None,
        max_each: int | None,
    ) -> None:
        if max_pages is not None:
            self.max_pages = settings.count("max_pages", max_pages, minimum=1)
        if max_answer_mb is not None:
            size = settings.megabytes("max_answer_mb", max_answer_mb)
            self.max_answer_bytes = int(size * MB)
        if max_rate is not None:
            rate = settings.seconds("max_rate", max_rate, allow_zero=True, unit="per second")
            if rate != self._pacer.max_rate:
                self._pacer.max_rate = rate
        if max_each is not None:
            self.max_each = settings.count("max_each", max_each, minimum=1)

    def __repr__(self) -> str:
        return (
            f"<P44Client {self.base_url} client_id={self.client_id!r} auth={self.auth_style} "
            f"{'token held' if self._token_holder.has_token else 'no token'}>"
        )

    def __getstate__(self):
        raise TypeError("a P44Client holds credentials and cannot be serialised")

    def __reduce__(self):
        raise TypeError("a P44Client holds credentials and cannot be pickled")

    def __enter__(self) -> P44Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Forget token and secret and close the connection pool."""
        self._token_holder.forget()
        self._http.close()

    @property
    def token_fetches(self) -> int:
        return self._token_holder.token_fetches

    def status(self) -> dict[str, Any]:
        """Base URL, client id, auth style, token age and counters (never the token)."""
        age = self._token_holder.token_age
        return {
            "base_url": self.base_url,
            "client_id": self.client_id,
            "auth": self.auth_style,
            "token": "held" if self._token_holder.has_token else "none",
            "token_age_s": None if age is None else round(age, 1),
            "requests": self.requests_sent,
            "token_fetches": self.token_fetches,
        }

    def invalidate_token(self) -> None:
        """Treat the held token as rejected, so the next request fetches a new one."""
        self._token_holder.invalidate()

    @clean_failures
    def login(self) -> None:
        """Fetch a token now, so wrong credentials fail here and not at the first query."""

        def attempt() -> None:
            flow = self._token_holder.fetch_flow()
            try:
                with self._connection_slot:
                    flow.send(self._http.send(next(flow)))
            except StopIteration:
                pass
            finally:
                flow.close()

        target = Target("POST", self.base_url + TOKEN_PATH, self._host, self.timeout)
        send_with_retries(self.policy, target, attempt, idempotent=True, notes=[])

    # -- the one internal entry ------------------------------------------------------------------

    @clean_failures
    def call(
        self, request: HttpRequest, wanted: Wanted = AS_FRAME, progress: Progress = NO_PROGRESS
    ) -> Result:
        """Send ``request`` as ``wanted`` says; the value, the exchange and every note."""
        notes: list[str] = []
        wanted = self._with_presets(request, wanted)
        value, _ = self._value(request, wanted, progress, notes)
        return Result(in_timezone(value, self.timezone), self.last_exchange, notes)

    def _value(
        self,
        request: HttpRequest,
        wanted: Wanted,
        progress: Progress,
        notes: list[str],
        max_concurrency: int | None = None,
    ) -> tuple[Any, Any]:
        """The value ``wanted`` asks for, and the parsed answer it came from."""
        if wanted.all_pages:
            return self._paged_value(request, wanted, progress, notes, max_concurrency)
        return self._single_value(request, wanted, progress, notes)

    def _with_presets(self, request: HttpRequest, wanted: Wanted) -> Wanted:
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

    def _single_value(
        self, request: HttpRequest, wanted: Wanted, progress: Progress, notes: list[str]
    ) -> tuple[Any, Any]:
        response = self._exchange(request, notes, progress)
        if wanted.kind == "response":
            return returned_response(response), None
        if wanted.kind == "answer":
            body = decode_body(response, strict=wanted.json_required)
            notes += info_notes(body)
            return body, body
        status, content_type = response.status_code, response.headers.get("Content-Type", "")
        framed = frame_answer(
            response.content,
            lambda raw: decode_content(status, content_type, raw, strict=True),
            wanted.record_path,
            wanted.meta,
            wanted.parse_dates,
            wanted.preset,
        )
        notes += info_notes(framed.answer) + ([framed.note] if framed.note else [])
        return framed.value, framed.answer

    def _paged_value(
        self,
        request: HttpRequest,
        wanted: Wanted,
        progress: Progress,
        notes: list[str],
        max_concurrency: int | None = None,
    ) -> tuple[Any, Any]:
        if wanted.kind != "frame":
            joined = self._pages(request, wanted.max_pages, progress, None, notes, max_concurrency)
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
            )
            notes.extend([framed.note] if framed.note else [])
            return framed.value

        try:
            joined = self._pages(
                request, wanted.max_pages, progress, on_page, notes, max_concurrency
            )
        except P44Interrupted as stop:
            stop.partial = framed_pages(stop.partial) if stop.partial is not None else None
            raise
        return framed_pages(joined), joined

    def _pages(
        self,
        request: HttpRequest,
        max_pages: int | None,
        progress: Progress,
        on_page: Callable[[int, list[Any]], None] | None,
        notes: list[str],
        max_concurrency: int | None = None,
    ) -> dict[str, Any]:
        endpoint = find_endpoint(request.method, request.target)
        plan = PagePlan.of(self.url_for(request.target), None, endpoint and endpoint.paging)

        def fetch(page: int) -> httpx.Response:
            target = str(plan.base.copy_with(params=plan.query_for(page)))
            return self._exchange(replace(request, target=target), notes, idempotent=True)

        return all_pages(
            plan,
            fetch,
            PageReader(lambda response: decode_body(response, strict=True), on_page),
            max_pages=max_pages,
            page_limit=self.max_pages,
            max_concurrency=max_concurrency or self.max_concurrency,
            progress=progress.pages,
        )

    def url_for(self, target: str) -> httpx.URL:
        """An absolute URL on the configured host; other hosts are refused."""
        return url_on_origin(target, self.base_url, self._origin)

    def _exchange(
        self,
        request: HttpRequest,
        notes: list[str],
        progress: Progress = NO_PROGRESS,
        idempotent: bool | None = None,
    ) -> httpx.Response:
        """Send one request with retries; keep it as the last exchange; 4xx/5xx raise."""
        check_request(request)
        url = self.url_for(request.target)
        content = encoded_body(request.body)
        built = self._http.build_request(
            request.method, url, headers=list(request.headers), content=content
        )
        if idempotent is None:
            idempotent = self.policy.is_idempotent(request.method, url.path)
        exchange = Exchange(
            method=request.method,
            url=str(built.url),
            request_headers=masked_headers(built.headers),
            request_body=content.decode("utf-8", "replace") if content else None,
        )
        self.last_exchange = exchange
        target = Target(request.method, str(built.url), self._host, self.timeout)
        started = time.monotonic()
        try:
            send = lambda: self._send(built, progress)  # noqa: E731
            response = send_with_retries(
                self.policy, target, send, idempotent, notes, hold=self._pacer.hold
            )
        except P44Error as error:
            exchange.error = error.message
            raise
        record_answer(exchange, response, time.monotonic() - started)
        if response.status_code >= 400:
            raise P44HTTPError.from_answer(
                status_code=response.status_code,
                reason=response.reason_phrase,
                method=request.method,
                url=str(built.url),
                body=exchange.body,
                attempts=getattr(response, "p44_attempts", 1),
                **_path_advice(response.status_code, request.method, url.path),
            )
        return response

    def _send(self, request: httpx.Request, progress: Progress) -> httpx.Response:
        """Send with the token holder; follow up to 5 redirects, dropping auth off the host."""
        auth: httpx.Auth | None = self._token_holder
        for _ in range(MAX_REDIRECTS + 1):
            with self._counter_lock:
                self.requests_sent += 1
            response = self._send_one(request, auth, progress)
            if not response.is_redirect:
                return response
            request = next_hop(request, response)
            self._http.cookies.set_cookie_header(request)  # the policy keeps them on our origin
            if not same_origin(request.url, self._origin):
                auth = None  # the token stays with the configured host
        raise too_many(request)

    def _send_one(
        self, request: httpx.Request, auth: httpx.Auth | None, progress: Progress
    ) -> httpx.Response:
        """One hop: sent, read whole, closed."""
        with self._connection_slot:
            try:
                response = self._http.send(request, auth=auth, stream=True)
            except RuntimeError:  # httpx: "the client has been closed"
                if not self._http.is_closed:
                    raise
                raise logged_out() from None
            except httpx.ConnectError:
                if same_origin(request.url, self._origin):
                    raise
                raise hop_unreachable(request.url) from None
            try:
                return read_answer(response, progress.download, self.max_answer_bytes)
            finally:
                response.close()


def _path_advice(status: int, method: str, path: str) -> dict[str, Any]:
    """For a 404 on a path the catalogue does not know: the entry it most likely meant, and no
    advice to quote the supportReferenceId (the path, not project44, is what to fix)."""
    if status != 404 or find_endpoint(method, path) is not None:
        return {}
    meant = closest_endpoint(method, path)
    return {
        "did_you_mean": f"{meant.method} {meant.path}" if meant else None,
        "known_path": False,
    }
