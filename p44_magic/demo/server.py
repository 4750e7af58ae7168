"""DemoServer: the demo API over real HTTP/1.1 on 127.0.0.1, for notebooks, tests and benchmarks."""

from __future__ import annotations

import json
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .api import DemoApi
from .auth import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, TokenStore
from .data import demo_data
from .responses import Answer, error_answer

HOST = "127.0.0.1"  # loopback only: the demo hands out tokens to anyone who asks
MAX_BODY_BYTES = 10 * 1024 * 1024
MAX_RECORDED = 1_000  # requests kept for inspection: only authenticated ones, the newest
MAX_RECORDED_BODY = 64 * 1024  # bytes of a kept request's body
MAX_RECORDED_TARGET = 4 * 1024  # characters of a kept request's path and query


@dataclass(frozen=True)
class ReceivedRequest:
    """One request as the server received it; header names are lower-case."""

    method: str
    path: str  # with the query string
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.monotonic)  # when it arrived (time.monotonic)

    def json(self) -> Any:
        return json.loads(self.body)


class _BadFraming(Exception):
    """The request body's length could not be determined or is too large."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "p44-magic-demo/1.0"
    sys_version = ""
    timeout = 120  # idle keep-alive connections end, so their threads do too
    # Headers and body go out in two writes; without TCP_NODELAY, Nagle plus the client's
    # delayed ACK would add ~40 ms to every answer.
    disable_nagle_algorithm = True
    server: _HttpServer

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: a notebook should not fill with access logs."""

    def _serve(self) -> None:
        owner = self.server.owner
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        try:
            body = self._read_body(headers)
        except _BadFraming as problem:
            self.close_connection = True
            self._send(error_answer(400, "Malformed request body", diagnostic=str(problem)))
            return
        try:
            answer = owner._api.handle(self.command, self.path, headers, body)
        except Exception as exc:  # a bug in the demo must still answer, not drop the socket
            answer = error_answer(500, "Internal Server Error", diagnostic=repr(exc))
        # Kept only once authenticated, and bounded: any local process (or a web page's no-cors
        # POST) can reach this port, and must not fill the kernel's memory through it.
        if owner._api.authenticated(self.path, headers, answer.status):
            target, kept = self.path[:MAX_RECORDED_TARGET], body[:MAX_RECORDED_BODY]
            owner._record(ReceivedRequest(self.command, target, headers, kept))
        self._send(answer)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def _read_body(self, headers: dict[str, str]) -> bytes:
        # Read the whole body before answering, or its bytes would poison the next
        # request on this keep-alive connection.
        if "chunked" in headers.get("transfer-encoding", "").lower():
            return self._read_chunked()
        raw = headers.get("content-length")
        if raw is None:
            return b""
        try:
            length = int(raw)
        except ValueError:
            raise _BadFraming(f"Content-Length {raw!r} is not a number") from None
        if not 0 <= length <= MAX_BODY_BYTES:
            raise _BadFraming(f"Content-Length must be 0..{MAX_BODY_BYTES}")
        return self.rfile.read(length)

    def _read_chunked(self) -> bytes:
        parts, total = [], 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                raise _BadFraming("bad chunk size line") from None
            if size == 0:
                while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                    pass  # trailers: ignored
                return b"".join(parts)
            total += size
            if total > MAX_BODY_BYTES:
                raise _BadFraming(f"body larger than {MAX_BODY_BYTES} bytes")
            parts.append(self.rfile.read(size))
            self.rfile.readline(1024)

    def _send(self, answer: Answer) -> None:
        payload = answer.encode()
        self.send_response(answer.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in answer.headers.items():
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload)


class _HttpServer(ThreadingHTTPServer):
    """Tracks open connections so stop() can end keep-alive ones too."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that leaves before its answer (a timeout, an interrupt) is normal: nothing
        is printed into the notebook. Anything else is a bug of the demo, shown in one line."""
        error = sys.exc_info()[1]
        if not isinstance(error, ConnectionError | TimeoutError):
            print(f"p44_magic demo API: {type(error).__name__} while answering", file=sys.stderr)

    def __init__(self, owner: DemoServer, port: int) -> None:
        self.owner = owner
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__((HOST, port), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_open_connections(self) -> None:
        with self._open_lock:
            open_now = list(self._open)
        for sock in open_now:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class DemoServer:
    """A project44-like API on ``http://127.0.0.1:<port>`` serving deterministic demo data.

    Use as a context manager or call start()/stop(). Log in with ``client_id``/``client_secret``.
    """

    def __init__(
        self, *, port: int = 0, token_lifetime: float = 43200.0, latency: float = 0.0
    ) -> None:
        self.client_id = DEMO_CLIENT_ID
        self.client_secret = DEMO_CLIENT_SECRET
        self.requests: list[ReceivedRequest] = []
        self._port = port
        self._tokens = TokenStore(token_lifetime)
        self._api = DemoApi(demo_data(), self._tokens, latency, tenant_data=demo_data)
        self._lock = threading.Lock()
        self._requests_lock = threading.Lock()
        self._httpd: _HttpServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``, without a trailing slash; valid once started."""
        if self._httpd is None:
            raise RuntimeError("DemoServer is not running: call start() first.")
        return f"http://{HOST}:{self._httpd.server_address[1]}"

    @property
    def port(self) -> int:
        """The bound port once started, else the requested one (0 = any free port)."""
        return self._httpd.server_address[1] if self._httpd else self._port

    @property
    def running(self) -> bool:
        return self._httpd is not None

    @property
    def token_fetches(self) -> int:
        """How many access tokens the token endpoint has issued."""
        return self._tokens.issued

    @property
    def token_lifetime(self) -> float:
        return self._tokens.lifetime

    @token_lifetime.setter
    def token_lifetime(self, seconds: float) -> None:
        self._tokens.lifetime = seconds

    @property
    def latency(self) -> float:
        """Seconds each data request waits before it is answered."""
        return self._api.latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        self._api.latency = seconds

    def start(self) -> DemoServer:
        """Serve in a daemon thread; a no-op when already running."""
        with self._lock:
            if self._httpd is None:
                httpd = _HttpServer(self, self._port)
                self._thread = threading.Thread(
                    target=httpd.serve_forever,
                    kwargs={"poll_interval": 0.05},
                    name="p44-demo-server",
                    daemon=True,
                )
                self._httpd = httpd
                self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close every open connection; a no-op when not running."""
        with self._lock:
            httpd, thread = self._httpd, self._thread
            self._httpd = self._thread = None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.close_open_connections()
        httpd.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def invalidate_tokens(self) -> None:
        """Revoke every issued token: the next data request answers 401, so clients renew."""
        self._tokens.invalidate()

    def _record(self, request: ReceivedRequest) -> None:
        with self._requests_lock:
            self.requests.append(request)
            if len(self.requests) > MAX_RECORDED:
                del self.requests[: len(self.requests) - MAX_RECORDED]

    def __enter__(self) -> DemoServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.base_url if self.running else "stopped"
        return f"<DemoServer {where}>"


_shared: DemoServer | None = None
_shared_lock = threading.Lock()


def start_demo_server(**kwargs: Any) -> DemoServer:
    """The process-wide demo server, started on first call and reused afterwards.

    ``kwargs`` (DemoServer's) apply only when the server is created or was stopped.
    """
    global _shared
    with _shared_lock:
        if _shared is None or not _shared.running:
            _shared = DemoServer(**kwargs).start()
        return _shared
