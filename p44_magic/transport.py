"""An httpx transport whose answers must arrive within a total time, not only per read.

httpx's read timeout bounds each wait for bytes, so a server that sends one byte at a time, in
the headers or the body, could hold a request forever. Here every answer (headers and body) must
be complete within ``budget`` seconds of the request being sent, plus a second per megabyte
received so that large downloads at a healthy rate are never cut off.
"""

from __future__ import annotations

import threading
import time
import urllib.request
from typing import Any

import httpcore
import httpx

from .environments import is_loopback
from .pacing import Pacer


class DeadlineTransport(httpx.HTTPTransport):
    """``httpx.HTTPTransport`` with a total deadline on each answer, through ``proxy`` if given
    (an HTTPS origin through an HTTP proxy is tunnelled with CONNECT; the deadline holds)."""

    def __init__(
        self,
        budget: float,
        limits: httpx.Limits,
        proxy: str | None = None,
        pacer: Pacer | None = None,
    ) -> None:
        super().__init__(limits=limits, trust_env=False)
        self.pacer = pacer or Pacer()
        self.backend = _DeadlineBackend(budget)  # its budget may change: streams read it live
        pool = {
            "ssl_context": httpx.create_ssl_context(),
            "max_connections": limits.max_connections,
            "max_keepalive_connections": limits.max_keepalive_connections,
            "keepalive_expiry": limits.keepalive_expiry,
            "network_backend": self.backend,
        }
        if proxy:
            self._pool = httpcore.HTTPProxy(proxy_url=proxy, **pool)
        else:
            self._pool = httpcore.ConnectionPool(**pool)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.pacer.before_send()  # every request on the wire: data, retries, hops, tokens
        return super().handle_request(request)


def proxy_for(origin: httpx.URL) -> str | None:
    """The proxy from the environment for an HTTPS origin, or None: a proxy sees only a CONNECT
    tunnel, never plain HTTP with credentials in it, and loopback is never proxied."""
    if origin.scheme != "https" or is_loopback(origin.host):
        return None
    proxies = urllib.request.getproxies()
    proxy = proxies.get("https") or proxies.get("all")
    if not proxy or urllib.request.proxy_bypass(origin.host):
        return None
    return proxy if "://" in proxy else f"http://{proxy}"


class _DeadlineBackend(httpcore.SyncBackend):
    def __init__(self, budget: float) -> None:
        self.budget = budget

    def connect_tcp(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        return _DeadlineStream(super().connect_tcp(*args, **kwargs), self)


class _DeadlineStream(httpcore.NetworkStream):
    """Counts from the last write (the request) to bound the reads of its answer."""

    def __init__(self, stream: httpcore.NetworkStream, backend: _DeadlineBackend) -> None:
        self._stream = stream
        self._backend = backend
        self._sent_at: float | None = None
        self._received = 0

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._sent_at = time.monotonic()
        self._received = 0
        self._stream.write(buffer, timeout)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        if self._sent_at is not None:
            allowed = self._backend.budget + self._received / 1e6
            remaining = self._sent_at + allowed - time.monotonic()
            if remaining <= 0:
                raise httpcore.ReadTimeout(f"the answer was not complete within {allowed:.0f} s")
            timeout = remaining if timeout is None else min(timeout, remaining)
        data = self._stream.read(max_bytes, timeout)
        self._received += len(data)
        return data

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, *args: Any, **kwargs: Any) -> httpcore.NetworkStream:
        return _DeadlineStream(self._stream.start_tls(*args, **kwargs), self._backend)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class ConnectionSlots:
    """Requests wait here, not in httpcore's pool, when every connection is busy.

    httpcore 1.0's pool can close a connection it has already handed to a queued request
    (encode/httpcore#1110): the request then fails with "Bad file descriptor" and is sent
    again. A request holds at most one connection at a time (the token holder gives its
    connection back before renewing), so with one slot per connection nothing ever queues.
    """

    def __init__(self, connections: int, timeout: float) -> None:
        self._slots = threading.BoundedSemaphore(connections)
        self.timeout = timeout

    def __enter__(self) -> None:
        if not self._slots.acquire(timeout=self.timeout):
            raise httpx.PoolTimeout("every connection stayed busy")

    def __exit__(self, *exc: object) -> None:
        self._slots.release()
