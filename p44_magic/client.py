"""P44Client: one pooled ``httpx.Client`` with the token holder, retries, error mapping and paging.

Usable without IPython::

    with P44Client(client_id="…", client_secret=secret, env="sandbox") as p44:
        events = p44.frame("GET", f"/api/v4/shipments/{sid}/tracking/history", record_path="events")
"""

from __future__ import annotations

import email.utils
import json
import math
import random
import re
import threading
import time
import urllib.request
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import msgspec
import pandas as pd

from . import settings
from .auth import MASK, AuthStyle, Secret, TokenHolder
from .endpoints import find_endpoint
from .environments import TOKEN_PATH, base_url_for, check_base_url
from .errors import (
    P44AuthError,
    P44ConnectionError,
    P44Error,
    P44HTTPError,
    P44PagingError,
    P44TimeoutError,
    P44UsageError,
)
from .uniform_records import frame_from_json
from .frames import PagedRows, to_frame
from .gc_pause import gc_paused
from .progress import PagesCallback
from .transport import DeadlineTransport

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
RETRY_ANY_METHOD = frozenset({429})  # the request was not processed
RETRY_IDEMPOTENT = frozenset({500, 502, 503, 504, 520, 521, 522, 523, 524})
MAX_REDIRECTS = 5
ANSWER_BUDGET_TIMEOUTS = 4  # an answer must be whole within 4 timeouts (+1 s per MB)
DEFAULT_PAGE_SIZE = 100  # when a catalogued search is paged without a page size
DOWNLOAD_PROGRESS_BYTES = 4_000_000  # smaller answers arrive too fast to need a bar
_JSON_START = re.compile(rb"\s*[\[{]")  # matched in place: no copy of a large body
_JSON = msgspec.json.Decoder()  # fastest, and leanest in memory, of the JSON parsers measured


_UNREAD = object()


class P44Warning(UserWarning):
    """project44's ``infoMessages`` on a successful answer."""


@dataclass
class Exchange:
    """The last request and its answer, for inspection; ``Authorization`` is masked.

    ``body`` is parsed from the kept raw answer when first read, so a large answer is not held
    twice (as bytes and as Python objects) after its DataFrame is built.
    """

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str | None
    status_code: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    elapsed: float | None = None
    error: str | None = None
    content: bytes = field(default=b"", repr=False)
    _body: Any = field(default=_UNREAD, repr=False)

    @property
    def body(self) -> Any:
        """The answer: JSON as Python objects, text when not JSON, None when empty."""
        if self._body is _UNREAD:
            content_type = self.response_headers.get("content-type", "")
            self._body = decode_content(self.status_code or 0, content_type, self.content)
        return self._body

    def __repr__(self) -> str:
        status = self.status_code if self.status_code is not None else "no answer"
        return f"<Exchange {self.method} {self.url} → {status}>"


class P44Client:
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
    ) -> None:
        auth = settings.auth_style("auth", auth)
        timeout = settings.seconds("timeout", timeout)
        retries = settings.count("retries", retries)
        backoff = settings.seconds("backoff", backoff, allow_zero=True)
        max_retry_after = settings.seconds("max_retry_after", max_retry_after, allow_zero=True)
        max_concurrency = settings.count("max_concurrency", max_concurrency, minimum=1)
        # With a base URL the environment name is not used (the form calls it "custom").
        self.env = settings.environment("env", env or "na") if not base_url else "custom"
        if base_url:
            self.base_url = check_base_url(base_url)
        elif self.env == "demo":
            from .demo import start_demo_server

            demo = start_demo_server()
            self.base_url = demo.base_url
            client_id = client_id or demo.client_id
            client_secret = client_secret or demo.client_secret
        else:
            self.base_url = base_url_for(self.env)
        if not client_id or not client_secret:
            raise P44UsageError(
                "A client id and a client secret are needed.",
                hint="Give them, or set P44_CLIENT_ID and P44_CLIENT_SECRET.",
            )
        self.client_id = client_id
        self.auth_style = auth
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.max_retry_after = max_retry_after
        self.max_concurrency = max_concurrency
        self.requests_sent = 0
        self.last_exchange: Exchange | None = None
        self.notices: list[str] = []  # things the user should be told (capped waits, …)
        self.download_progress: Callable[[int, int], None] | None = None
        self._counter_lock = threading.Lock()
        self._origin = httpx.URL(self.base_url)
        self._token_holder = TokenHolder(
            self.base_url + TOKEN_PATH, client_id, Secret(client_secret), auth, timeout
        )
        limits = httpx.Limits(max_connections=max(10, max_concurrency * 2))
        self._connection_slots = threading.BoundedSemaphore(limits.max_connections)
        self._http = httpx.Client(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,  # followed by hand, so the token never leaves the host
            headers={"Accept": "application/json", "User-Agent": "p44_magic/0.1"},
            limits=limits,
            # Behind a proxy from the environment, httpx's own transport (which honours it).
            transport=None
            if urllib.request.getproxies()
            else DeadlineTransport(ANSWER_BUDGET_TIMEOUTS * timeout, limits),
        )

    def __repr__(self) -> str:
        return (
            f"<P44Client {self.base_url} client_id={self.client_id!r} auth={self.auth_style} "
            f"{'token held' if self._token_holder.has_token else 'no token'}>"
        )

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

    def login(self) -> None:
        """Fetch a token now, so wrong credentials fail here and not at the first query."""
        holder = self._token_holder

        def attempt() -> None:
            flow = holder.fetch_flow()
            try:
                with self._connection_slot():
                    flow.send(self._http.send(next(flow)))
            except StopIteration:
                pass
            finally:
                flow.close()

        self._with_retries("POST", self.base_url + TOKEN_PATH, attempt, idempotent=True)

    # -- requests ---------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        content: str | bytes | None = None,
    ) -> httpx.Response:
        """Send one request (token, retries, redirects handled); 4xx/5xx raise P44HTTPError."""
        return self._request(method, path, params, json, headers, content)

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
    ) -> pd.DataFrame | str | None:
        """Send a request and turn its JSON answer into a DataFrame (see :func:`to_frame`).

        A 204 gives None; a non-JSON answer gives its text. ``all_pages`` joins every page of a
        ``page``/``pageSize`` (or ``size``) search. For a catalogued endpoint (see
        :mod:`p44_magic.endpoints`) without ``record_path``, its row list and parent fields are
        used unless ``presets`` is False; explicit options always win.
        """
        endpoint = find_endpoint(method, path) if presets else None
        if endpoint is not None and record_path is None and endpoint.rows not in (None, "results"):
            record_path, meta = endpoint.rows, meta or list(endpoint.meta)
        if all_pages:
            # Plain result rows are read page by page as the pages arrive.
            paged = PagedRows() if record_path is None and not meta else None
            answer = self.all_pages(
                method,
                path,
                params,
                json,
                headers,
                content,
                max_pages=max_pages,
                progress=progress,
                on_page=paged.add if paged else None,
            )
            if paged is not None:
                return paged.frame(parse_dates)
        else:
            response = self._request(method, path, params, json, headers, content)
            if record_path is None and not meta and response.status_code != 204:
                frame = frame_from_json(response.content, parse_dates)
                if frame is not None:
                    return frame
            answer = decode_body(response)
            _warn_info_messages(answer)
        if answer is None or isinstance(answer, str):
            return answer
        return to_frame(answer, record_path=record_path, meta=meta, parse_dates=parse_dates)

    def answer(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        content: str | bytes | None = None,
    ) -> Any:
        """The parsed answer: JSON as Python objects, text when not JSON, None for no content."""
        body = decode_body(self._request(method, path, params, json, headers, content))
        _warn_info_messages(body)
        return body

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
    ) -> dict[str, Any]:
        """Every page of a ``{paginationInfo, results}`` search joined in page order.

        The first page gives ``paginationInfo.total``; the rest are fetched concurrently (at most
        ``max_concurrency`` at once). The row count must match ``total`` (unless ``max_pages``
        cut it short) and any failed page fails the whole call: never partial data.
        ``on_page(page, results)`` is called with each page's rows, in page order.
        """
        url = self.url_for(path)
        # QueryParams keep repeated parameters (status=A&status=B); only page is replaced.
        query = url.params.merge({k: str(v) for k, v in (params or {}).items()})
        try:
            first_page = int(query.get("page", 1))
        except ValueError:
            raise P44UsageError(
                f"--all-pages: page={query.get('page')!r} is not a whole number."
            ) from None
        endpoint = find_endpoint(method, path)
        if endpoint and endpoint.paging and "pageSize" not in query and "size" not in query:
            query = query.set(endpoint.paging, str(DEFAULT_PAGE_SIZE))
        size_key = "size" if "size" in query and "pageSize" not in query else "pageSize"
        base = url.copy_with(query=None)

        def fetch(page: int) -> httpx.Response:
            page_query = query.set("page", str(page))
            return self._request(method, str(base), page_query, json, headers, content, True)

        def read(page: int, response: httpx.Response) -> dict[str, Any]:
            body = decode_body(response)
            if not (isinstance(body, dict) and isinstance(body.get("results"), list)):
                raise P44PagingError(
                    f"--all-pages: page {page} is not a {{paginationInfo, results}} answer.",
                    hint="Use --all-pages only on search endpoints that page.",
                )
            if on_page is not None:
                on_page(page, body["results"])
            return body

        first = read(first_page, fetch(first_page))
        total = _int_or_none((first.get("paginationInfo") or {}).get("total"))
        if total is None:
            raise P44PagingError(
                "--all-pages: the answer has no paginationInfo.total, so the page count is unknown."
            )
        info = first["paginationInfo"]
        size = _int_or_none(query.get(size_key)) or _int_or_none(info.get(size_key))
        size = size or _int_or_none(info.get("size")) or len(first["results"]) or 1
        last_page = max(first_page, math.ceil(total / size))
        if max_pages is not None:
            last_page = min(last_page, first_page + max(max_pages, 1) - 1)
        pages = list(range(first_page + 1, last_page + 1))
        results: dict[int, list[Any]] = {first_page: first["results"]}
        rows = len(first["results"])
        if progress:
            progress(1, len(pages) + 1, rows)
        # Workers only fetch, so each sends its next request at once; pages are parsed here,
        # in page order, while the next ones are on their way.
        with ThreadPoolExecutor(max_workers=max(1, self.max_concurrency)) as pool:
            futures = {page: pool.submit(fetch, page) for page in pages}
            try:
                for page, future in futures.items():
                    try:
                        body = read(page, future.result())
                    except P44PagingError:
                        raise
                    except P44Error as error:
                        raise P44PagingError(
                            f"--all-pages: page {page} of {last_page} failed, so no rows are "
                            f"returned.\n{error.message}",
                            hint=error.hint,
                        ) from None
                    page_total = _int_or_none((body.get("paginationInfo") or {}).get("total"))
                    if page_total is not None and page_total != total:
                        raise P44PagingError(
                            f"--all-pages: paginationInfo.total changed from {total} to "
                            f"{page_total} while paging (page {page}); the data moved, so run "
                            "the cell again."
                        )
                    results[page] = body["results"]
                    rows += len(body["results"])
                    if progress:
                        progress(len(results), len(pages) + 1, rows)
            except BaseException:
                for other in futures.values():
                    other.cancel()
                raise
        joined = [row for page in sorted(results) for row in results[page]]
        expected = total - (first_page - 1) * size
        complete = last_page >= math.ceil(total / size)
        if complete and len(joined) != expected:
            raise P44PagingError(
                f"--all-pages: got {len(joined)} rows, but paginationInfo.total "
                f"promised {expected}.",
                hint="The data changed while paging, or the server pages differently: run again.",
            )
        return {"paginationInfo": {**info, "pagesFetched": len(results)}, "results": joined}

    # -- internals --------------------------------------------------------------------------

    def url_for(self, target: str) -> httpx.URL:
        """An absolute URL on the configured host; other hosts are refused."""
        if target.startswith(("http://", "https://")):
            url = httpx.URL(target)
            if not _same_origin(url, self._origin):
                raise P44UsageError(
                    f"Refusing {url.scheme}://{url.host}: requests go only to {self.base_url}.",
                    hint="Use a path such as /api/v4/... (the token is sent only to your host).",
                )
            return url
        if not target.startswith("/"):
            target = "/" + target
        return httpx.URL(self.base_url + target)

    def _request(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        json_body: Any,
        headers: Mapping[str, str] | None,
        content: str | bytes | None,
        idempotent: bool | None = None,
    ) -> httpx.Response:
        method = method.upper()
        url = self.url_for(path)
        if json_body is not None:
            content = json.dumps(json_body)
            headers = {"Content-Type": "application/json", **(headers or {})}
        if isinstance(content, str):
            try:
                content = content.encode("utf-8")
            except UnicodeEncodeError as error:
                raise P44UsageError(
                    f"The request body is not valid UTF-8 text (at character {error.start}).",
                    hint="Remove or replace that character; JSON bodies are sent as UTF-8.",
                ) from None
        request = self._http.build_request(
            method, url, params=params, headers=headers, content=content
        )
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS or url.path.endswith("/search")
        exchange = Exchange(
            method=method,
            url=str(request.url),
            request_headers=masked_headers(request.headers),
            request_body=content.decode("utf-8", "replace") if content else None,
        )
        self.last_exchange = exchange
        started = time.monotonic()
        try:
            response = self._with_retries(
                method, str(request.url), lambda: self._send(request), idempotent
            )
        except P44Error as error:
            exchange.error = error.message
            raise
        exchange.elapsed = time.monotonic() - started
        exchange.status_code = response.status_code
        exchange.response_headers = dict(response.headers)
        exchange.request_headers = masked_headers(response.request.headers)
        exchange.content = response.content
        if response.status_code >= 400:
            raise P44HTTPError.from_answer(
                status_code=response.status_code,
                reason=response.reason_phrase,
                method=method,
                url=str(request.url),
                body=exchange.body,
                attempts=getattr(response, "p44_attempts", 1),
            )
        return response

    def _send(self, request: httpx.Request) -> httpx.Response:
        """Send with the token holder; follow up to 5 redirects, dropping auth off the host."""
        auth: httpx.Auth | None = self._token_holder
        for _ in range(MAX_REDIRECTS + 1):
            with self._counter_lock:
                self.requests_sent += 1
            with self._connection_slot():
                response = self._http.send(request, auth=auth, stream=True)
                try:
                    response = self._read(response)
                finally:
                    response.close()
            if not response.is_redirect:
                return response
            target = request.url.join(response.headers["Location"])
            method, content = request.method, request.content
            if response.status_code == 303 or (
                response.status_code in (301, 302) and method == "POST"
            ):
                method, content = "GET", None
            headers = {
                k: v
                for k, v in request.headers.items()
                if k.lower() not in ("authorization", "host", "content-length")
                and not (content is None and k.lower() == "content-type")
            }
            if not _same_origin(target, self._origin):
                auth = None  # the token stays with the configured host
            request = httpx.Request(
                method, target, headers=headers, content=content, extensions=request.extensions
            )
        raise P44ConnectionError(
            f"Too many redirects (more than {MAX_REDIRECTS}) for {request.method} {request.url}.",
            hint="The server is redirecting in a loop; check the base URL.",
        )

    @contextmanager
    def _connection_slot(self) -> Iterator[None]:
        """Wait here, not in httpcore's pool, when every connection is busy.

        httpcore 1.0's pool can close a connection it has already handed to a queued request
        (encode/httpcore#1110): the request then fails with "Bad file descriptor" and is sent
        again. A request holds at most one connection at a time (the token holder gives its
        connection back before renewing), so with one slot per connection nothing ever queues.
        """
        if not self._connection_slots.acquire(timeout=self.timeout):
            raise httpx.PoolTimeout("every connection stayed busy")
        try:
            yield
        finally:
            self._connection_slots.release()

    def _read(self, response: httpx.Response) -> httpx.Response:
        """Read the whole answer, reporting bytes received for a large one."""
        total = int(response.headers.get("Content-Length") or 0)
        report = self.download_progress if total >= DOWNLOAD_PROGRESS_BYTES else None
        if report is None:
            response.read()
            return response
        chunks = []
        for chunk in response.iter_bytes():
            chunks.append(chunk)
            report(response.num_bytes_downloaded, total)
        headers = [(k, v) for k, v in response.headers.multi_items() if k != "content-encoding"]
        return httpx.Response(
            response.status_code,
            headers=headers,
            content=b"".join(chunks),
            request=response.request,
            extensions=response.extensions,
        )

    def _with_retries(
        self, method: str, url: str, send: Callable[[], Any], idempotent: bool
    ) -> Any:
        """Run ``send`` with bounded retries: 429 always, 5xx and broken connections only when
        ``idempotent``; a failing token endpoint is retried too (the data request was not sent)."""
        attempt = 0
        while True:
            attempt += 1
            may_retry = attempt <= self.retries
            try:
                result = send()
            except P44AuthError as error:
                if may_retry and error.status_code in (RETRY_ANY_METHOD | RETRY_IDEMPOTENT):
                    time.sleep(self._backoff(attempt))
                    continue
                raise
            except httpx.TimeoutException as error:
                kind = "connect" if isinstance(error, httpx.ConnectTimeout) else "answer"
                raise P44TimeoutError(
                    f"No {kind} within {self.timeout:g} s for {method} {url}.",
                    hint="The server is slow or unreachable; raise %config P44Magics.timeout "
                    "or try again.",
                ) from None
            except httpx.ConnectError:
                raise P44ConnectionError(
                    f"Could not connect to {self._origin.host}:{self._origin.port or ''} "
                    f"for {method} {url}.".replace(":" + " ", " "),
                    hint="Check the base URL and your network (is the server running?).",
                ) from None
            except (httpx.TransportError, httpx.DecodingError) as error:
                if idempotent and may_retry:
                    time.sleep(self._backoff(attempt))
                    continue
                raise P44ConnectionError(
                    f"The connection broke during {method} {url} ({type(error).__name__}).",
                    hint="Try again; a request that changes data was not resent automatically."
                    if not idempotent
                    else "Tried several times; check the network and try again.",
                ) from None
            if not isinstance(result, httpx.Response):
                return result
            status = result.status_code
            retryable = status in RETRY_ANY_METHOD or (idempotent and status in RETRY_IDEMPOTENT)
            if retryable and may_retry:
                time.sleep(self._retry_delay(result, attempt))
                continue
            result.p44_attempts = attempt
            return result

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter."""
        return random.uniform(0, self.backoff * 2 ** (attempt - 1))

    def _retry_delay(self, response: httpx.Response, attempt: int) -> float:
        """``Retry-After`` (seconds or HTTP date) when given, capped; else backoff."""
        header = response.headers.get("Retry-After")
        delay = _parse_retry_after(header) if header else None
        if delay is None:
            return self._backoff(attempt)
        if delay > self.max_retry_after:
            self.notices.append(
                f"The server asked to wait {delay:.0f} s (Retry-After); waited "
                f"{self.max_retry_after:.0f} s instead (%config P44Magics.max_retry_after)."
            )
            return self.max_retry_after
        return delay


def decode_body(response: httpx.Response) -> Any:
    """JSON as Python objects; None for an empty answer; text when the answer is not JSON."""
    return decode_content(
        response.status_code, response.headers.get("Content-Type", ""), response.content
    )


def decode_content(status_code: int, content_type: str, raw: bytes) -> Any:
    """:func:`decode_body` for an answer already taken apart."""
    if status_code == 204 or not raw or raw.isspace():
        return None
    if "json" in content_type or _JSON_START.match(raw) is not None:
        try:
            with gc_paused():
                return _JSON.decode(raw)
        except msgspec.DecodeError:
            pass
    return raw.decode("utf-8", "replace")


def _warn_info_messages(body: Any) -> None:
    if isinstance(body, dict):
        for item in body.get("infoMessages") or []:
            if isinstance(item, dict) and item.get("message"):
                severity = item.get("severity", "INFO")
                warnings.warn(f"project44 {severity}: {item['message']}", P44Warning, stacklevel=4)


def _parse_retry_after(value: str) -> float | None:
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _same_origin(url: httpx.URL, origin: httpx.URL) -> bool:
    return (url.scheme, url.host, url.port) == (origin.scheme, origin.host, origin.port)


def masked_headers(
    headers: httpx.Headers | Mapping[str, str] | Iterable[tuple[str, str]],
) -> dict[str, str]:
    """Headers with the credentials in Authorization / Proxy-Authorization masked."""
    out = {}
    for key, value in headers.items() if hasattr(headers, "items") else headers:
        if key.lower() in ("authorization", "proxy-authorization"):
            scheme = value.split(" ", 1)[0]
            value = f"{scheme} {MASK}"
        out[key] = value
    return out


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
