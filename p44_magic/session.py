"""A session: one tenant of the project44 API. It holds what every call of that tenant shares
(base URL, credentials in the token holder, one connection pool, the rate gate, the settings and
the counters) and sends one request at a time for a call: :meth:`Session.send` takes an
``HttpRequest`` and the :class:`~p44_magic.call_state.Call` it belongs to and returns the whole
answer. What a call does with answers (pages, frames, ``--each``) lives in
:mod:`p44_magic.calls` and :mod:`p44_magic.bulk`, as functions of a session.

The rules live beside it: retries and error mapping in :mod:`p44_magic.retries`, redirects in
:mod:`p44_magic.redirects`, the deadline and the proxy in :mod:`p44_magic.transport`.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from . import settings
from .answers import MB, Exchange, read_answer, record_answer
from .auth import Secret, TokenHolder
from .cache.rules import session_identity
from .cache.use import CacheUse, cache_use, fetched_at
from .call_state import Call
from .endpoints import closest_endpoint, find_endpoint
from .environments import TOKEN_PATH, session_place
from .errors import P44Error, P44HTTPError, clean_failures
from .log_scrub import scrub_http_logs
from .pacing import pacer_for
from .redirects import (
    MAX_REDIRECTS,
    OriginCookiePolicy,
    bad_location,
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
from .words import masked_id

ANSWER_BUDGET_TIMEOUTS = 4  # an answer must be whole within 4 timeouts (+1 s per MB)


class Session:
    """One tenant: base URL, credentials (in the token holder), one connection pool, the shared
    rate gate, the settings of :data:`p44_magic.settings.SESSION_SETTINGS` (readable as
    attributes: ``session.timeout``) and the counters. Safe to share between threads: nothing
    of one call is kept here."""

    @clean_failures  # a refused setting's error must not hold the secret in its frames
    def __init__(
        self,
        client_id: str | None = None,
        client_secret: str | Secret | None = None,
        *,
        env: str | None = None,
        base_url: str | None = None,
        auth: str = "basic",
        tenant: int | None = None,
        **values: Any,
    ) -> None:
        self.settings = settings.session_values(values)
        scrub_http_logs()  # from the first session on, httpx and httpcore log no credential
        self.auth_style = settings.auth_style("auth", auth)
        # With a base URL the environment name is not used (the form calls it "custom").
        self.env = settings.environment("env", env or "na") if not base_url else "custom"
        self.base_url, client_id, client_secret = session_place(
            self.env, base_url, client_id, client_secret, tenant
        )
        self.client_id = client_id
        self.requests_sent = 0
        self._counter_lock = threading.Lock()
        self._origin = httpx.URL(self.base_url)
        port = f":{self._origin.port}" if self._origin.port else ""
        self.host = f"{self._origin.host}{port}"
        timeout = self.settings["timeout"]
        self.token_holder = TokenHolder(
            self.base_url + TOKEN_PATH, client_id, Secret(client_secret), auth, timeout
        )
        # The shared rate gate and max_rate: per client application, shared by its sessions
        self.pacer = pacer_for(self.host, client_id)
        # The pool is sized at login; a larger max_concurrency set later waits for connections
        # in ConnectionSlots rather than grow it.
        limits = httpx.Limits(max_connections=max(10, self.settings["max_concurrency"] * 2))
        self._connection_slot = ConnectionSlots(limits.max_connections, timeout)
        budget = ANSWER_BUDGET_TIMEOUTS * timeout
        self._deadline = DeadlineTransport(budget, limits, proxy_for(self._origin), self.pacer)
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,  # followed by hand, so the token never leaves the host
            headers={"Accept": "application/json", "User-Agent": "p44_magic/0.1"},
            limits=limits,
            # Behind a proxy from the environment, httpx's own transport (which honours it).
            transport=self._deadline,
            trust_env=False,  # proxies are ours to choose (proxy_for); no .netrc credentials
        )
        self._http.cookies.jar.set_policy(OriginCookiePolicy(self._origin))
        self._apply()

    def __getattr__(self, name: str) -> Any:
        """A setting's current value (``session.timeout``)."""
        values = self.__dict__.get("settings")
        if values is not None and name in values:
            return values[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def configure(self, **values: Any) -> None:
        """Change settings (checked as at creation): from the next request on. ``timezone``
        given as None means naive UTC; another setting given as None, or not given, is left
        as it is."""
        self.settings = settings.session_values(values, self.settings)
        self._apply()

    def _apply(self) -> None:
        """Put the settings where they act: the timeouts, the retry policy, the rate."""
        values = self.settings
        timeout = values["timeout"]
        self._http.timeout = self.token_holder.timeout = httpx.Timeout(timeout)
        self._connection_slot.timeout = timeout
        self._deadline.backend.budget = ANSWER_BUDGET_TIMEOUTS * timeout
        self.policy = RetryPolicy(
            retries=values["retries"],
            backoff=values["backoff"],
            max_retry_after=values["max_retry_after"],
        )
        if values["max_rate"] != self.pacer.max_rate:
            self.pacer.max_rate = values["max_rate"]

    @property
    def max_answer_bytes(self) -> int:
        return int(self.settings["max_answer_mb"] * MB)

    @property
    def token_fetches(self) -> int:
        return self.token_holder.token_fetches

    def status(self) -> dict[str, Any]:
        """Base URL, client id, auth style, token age and counters (never the token)."""
        age = self.token_holder.token_age
        return {
            "base_url": self.base_url,
            "client_id": self.client_id,
            "auth": self.auth_style,
            "token": "held" if self.token_holder.has_token else "none",
            "token_age_s": None if age is None else round(age, 1),
            "requests": self.requests_sent,
            "token_fetches": self.token_fetches,
        }

    def close(self) -> None:
        """Forget token and secret and close the connection pool."""
        self.token_holder.forget()
        self._http.close()

    @clean_failures
    def login(self) -> None:
        """Fetch a token now, so wrong credentials fail here and not at the first query."""

        def attempt() -> None:
            flow = self.token_holder.fetch_flow()
            try:
                with self._connection_slot:  # streamed: the flow reads it, capped
                    flow.send(self._http.send(next(flow), stream=True))
            except StopIteration:
                pass
            finally:
                flow.close()

        target = Target("POST", self.base_url + TOKEN_PATH, self.host, self.timeout)
        send_with_retries(
            self.policy, target, attempt, idempotent=True, notes=[], hold=self.pacer.hold
        )

    def url_for(self, target: str) -> httpx.URL:
        """An absolute URL on the configured host; other hosts are refused."""
        return url_on_origin(target, self.base_url, self._origin)

    @clean_failures
    def send(
        self,
        request: HttpRequest,
        call: Call,
        idempotent: bool | None = None,
        *,
        download: bool = True,
    ) -> httpx.Response:
        """Send one request of ``call`` with retries; the exchange becomes the call's last
        (never the session's); 4xx/5xx raise :class:`P44HTTPError`. ``download``: report a
        large answer's bytes to the call's progress (a page of a search does not)."""
        check_request(request)
        url = self.url_for(request.target)
        content = encoded_body(request.body)
        built = self._http.build_request(
            request.method, url, headers=list(request.headers), content=content
        )
        if idempotent is None:
            idempotent = self.policy.is_idempotent(request.method, url.path)
        exchange = Exchange.of_request(built, content)
        call.exchange = exchange
        cache = call.cache
        if cache is not None:
            cached = cache.answer(self.cache_identity, built)
            if cached is not None:
                return self._answered(exchange, cached, 0.0)
        target = Target(request.method, str(built.url), self.host, self.timeout)
        started = time.monotonic()
        try:
            response = send_with_retries(
                self.policy,
                target,
                lambda: self._follow(built, call, download),
                idempotent,
                call.notes,
                hold=self.pacer.hold,
            )
        except P44Error as error:
            exchange.error = error.message
            raise
        self._answered(exchange, response, time.monotonic() - started)
        exchange.attempts = call.attempts = getattr(response, "p44_attempts", 1)
        if response.status_code >= 400:
            raise P44HTTPError.from_answer(
                status_code=response.status_code,
                reason=response.reason_phrase,
                method=request.method,
                url=str(built.url),
                body=exchange.body,
                attempts=exchange.attempts,
                **_path_advice(response.status_code, request.method, url.path),
            )
        if cache is not None:
            try:
                cache.keep(self.cache_identity, built, response, self.cache_row)
            except P44Error as error:  # the answer is here: not keeping it fails nothing
                call.note(f"The answer was not kept in the cache: {error.message}")
        return response

    def cached_frame(
        self, request: HttpRequest, call: Call, shape: str
    ) -> tuple[Any, list[str]] | None:
        """A re-run of a large answer: the frame kept beside it in the call's cache and its
        notes (the answer itself is not read again: the exchange has no body), or None."""
        if call.cache is None:
            return None
        check_request(request)
        content = encoded_body(request.body)
        url = self.url_for(request.target)
        built = httpx.Request(request.method, url, headers=list(request.headers), content=content)
        found = call.cache.frame_for(self.cache_identity, built, shape)
        if found is None:
            return None
        frame, notes, head = found
        call.exchange = Exchange.of_request(
            built,
            content,
            status_code=head.status,
            response_headers=head.headers,
            elapsed=0.0,
            from_cache=True,
            fetched_at=datetime.fromtimestamp(head.fetched_at, UTC),
        )
        return frame, notes

    @staticmethod
    def _answered(exchange: Exchange, response: httpx.Response, elapsed: float) -> httpx.Response:
        """Keep the answer in the exchange, with where it came from and when."""
        record_answer(exchange, response, elapsed)
        exchange.from_cache, exchange.fetched_at = fetched_at(response)
        return response

    def call_cache(self, choice: Any = None, max_age: str | None = None) -> CacheUse | None:
        """How one call uses the cache: ``choice`` (see :func:`~p44_magic.cache.cache_use`),
        else this session's ``cache`` setting."""
        return cache_use(choice, self.settings, max_age)

    @property
    def cache_identity(self) -> str:
        """This session's part of every cache key (base URL and client id, digested)."""
        return session_identity(self.base_url, self.client_id)

    @property
    def cache_row(self) -> tuple[str, str, str]:
        """(identity, base URL, masked client id): how the cache names this session."""
        return self.cache_identity, self.base_url, masked_id(self.client_id) or ""

    def _follow(self, request: httpx.Request, call: Call, download: bool) -> httpx.Response:
        """Send with the token holder; follow up to 5 redirects, dropping auth off the host."""
        auth: httpx.Auth | None = self.token_holder
        for _ in range(MAX_REDIRECTS + 1):
            with self._counter_lock:
                self.requests_sent += 1
            report = call.progress.download if download else None
            response = self._send_one(request, auth, report)
            if not response.is_redirect:
                return response
            request = next_hop(request, response)
            self._http.cookies.set_cookie_header(request)  # the policy keeps them on our origin
            if not same_origin(request.url, self._origin):
                auth = None  # the token stays with the configured host
        raise too_many(request)

    def _send_one(
        self,
        request: httpx.Request,
        auth: httpx.Auth | None,
        report: Callable[[int, int], None] | None,
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
            except (httpx.InvalidURL, UnicodeError) as error:  # a Location httpx cannot read
                raise bad_location(request, error) from None
            try:
                return read_answer(response, report, self.max_answer_bytes)
            finally:
                response.close()


def _path_advice(status: int, method: str, path: str) -> dict[str, Any]:
    """For a 404 on a path the catalogue does not know: the entry it most likely meant, and no
    advice to quote the supportReferenceId (the path, not project44, is what to fix)."""
    if status != 404 or find_endpoint(method, path) is not None:
        return {}
    meant = closest_endpoint(method, path)
    # The catalogue writes {shipmentId}; the cell takes {{shipmentId}}: suggest what works.
    where = re.sub(r"\{(\w+)\}", r"{{\1}}", meant.path) if meant else None
    return {
        "did_you_mean": f"{meant.method} {where}" if meant else None,
        "known_path": False,
    }
