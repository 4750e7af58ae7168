"""A tiny threaded raw-TCP server on 127.0.0.1 that misbehaves on purpose, answer by answer.

Per accepted connection it reads one request head (and body), records it, then runs a scripted
behaviour on the raw socket: answer properly, close at once, reset (RST) half-way through the
status line, promise 1000 bytes and send 10, never answer, send a "gzip" body that is not gzip,
... Every answer carries ``Connection: close``, so each request arrives on its own connection
and the behaviours stay independent. The token endpoint answers normally unless scripted.
Nothing is ever printed: a client hanging up is part of the tests.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.servers import TOKEN_PATH  # the one token path of every test server

_REASONS = {
    200: "OK",
    204: "No Content",
    301: "Moved Permanently",
    302: "Found",
    303: "See Other",
    307: "Temporary Redirect",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
    520: "Unknown Error",
}


@dataclass
class RawRequest:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes
    arrived: float  # time.monotonic() when the whole request was read
    answered: float | None = None  # when the behaviour finished with it

    @property
    def bearer(self) -> str:
        return self.headers.get("authorization", "").removeprefix("Bearer ")


class Conn:
    """One accepted connection, handed to a behaviour together with the request read from it."""

    def __init__(self, sock: socket.socket, request: RawRequest, call: int, server: FaultServer):
        self.sock = sock
        self.request = request
        self.call = call  # 1-based count of requests of this kind (token or data)
        self.server = server

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def reply(
        self,
        status: int = 200,
        body: Any = b"",
        headers: dict[str, str] | None = None,
        content_type: str | None = None,
    ) -> None:
        """A complete, well-formed answer (dict/list → JSON, str → text)."""
        if isinstance(body, dict | list):
            payload = json.dumps(body).encode()
            content_type = content_type or "application/json"
        elif isinstance(body, str):
            payload = body.encode()
            content_type = content_type or "text/plain; charset=utf-8"
        else:
            payload = body or b""
        head = head_bytes(status, {"Content-Type": content_type, **(headers or {})}, len(payload))
        self.send(head + payload)

    def reset(self) -> None:
        """Close with RST instead of FIN (SO_LINGER 0)."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    def hang(self, seconds: float = 30.0) -> None:
        """Keep the connection open and say nothing (until the server stops)."""
        self.server.stopping.wait(seconds)


Behaviour = Callable[[Conn], None]


def head_bytes(status: int, headers: dict[str, str | None], length: int | None) -> bytes:
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Whatever')}"]
    lines += [f"{k}: {v}" for k, v in headers.items() if v is not None]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


# -- behaviours ------------------------------------------------------------------------------


def answer(
    status: int = 200,
    body: Any = b"",
    headers: dict[str, str] | None = None,
    content_type: str | None = None,
) -> Behaviour:
    return lambda conn: conn.reply(status, body, headers, content_type)


def close_at_once(conn: Conn) -> None:
    conn.sock.close()


def reset_in_status_line(conn: Conn) -> None:
    conn.send(b"HTTP/1.1 2")
    time.sleep(0.02)
    conn.reset()


def reset_mid_body(conn: Conn) -> None:
    conn.send(head_bytes(200, {"Content-Type": "application/json"}, 1000) + b'[{"n": 1}, {"n')
    time.sleep(0.02)
    conn.reset()


def short_body(conn: Conn) -> None:
    """Content-Length: 1000, then 10 bytes, then a clean close (FIN)."""
    conn.send(head_bytes(200, {"Content-Type": "application/json"}, 1000) + b'[{"n": 1},')
    conn.sock.shutdown(socket.SHUT_WR)
    time.sleep(0.02)


def never_answer(conn: Conn) -> None:
    conn.hang()


def bad_gzip(conn: Conn) -> None:
    payload = b"this is not gzip at all, just text pretending"
    head = head_bytes(
        200, {"Content-Type": "application/json", "Content-Encoding": "gzip"}, len(payload)
    )
    conn.send(head + payload)


def issue_token(conn: Conn) -> None:
    conn.reply(
        200,
        {"access_token": f"tok-{conn.call}-s3cr3t", "expires_in": 43200, "token_type": "BEARER"},
    )


def in_turn(*behaviours: Behaviour) -> Behaviour:
    """The n-th request gets the n-th behaviour; the last one repeats."""

    def run(conn: Conn) -> None:
        behaviours[min(conn.call, len(behaviours)) - 1](conn)

    return run


# -- the server ------------------------------------------------------------------------------


@dataclass
class FaultServer:
    """``data`` answers every request but the token endpoint, which ``token`` answers."""

    data: Behaviour
    token: Behaviour = issue_token
    host: str = "127.0.0.1"
    received: list[RawRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._calls = {"token": 0, "data": 0}
        self._open: set[socket.socket] = set()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((self.host, 0))
        self._listener.listen(64)
        self._listener.settimeout(0.5)
        self.port = self._listener.getsockname()[1]
        self.base_url = f"http://{self.host}:{self.port}"
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)

    def __enter__(self) -> FaultServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopping.set()
        _quietly(lambda: self._listener.shutdown(socket.SHUT_RDWR))  # wakes accept()
        self._thread.join(2)
        self._listener.close()
        with self._lock:
            for sock in list(self._open):
                _quietly(sock.close)

    # views of what arrived
    def token_calls(self) -> list[RawRequest]:
        return [r for r in self.received if r.path == TOKEN_PATH]

    def data_calls(self) -> list[RawRequest]:
        return [r for r in self.received if r.path != TOKEN_PATH]

    def url(self, path: str, host: str | None = None) -> str:
        return f"http://{host or self.host}:{self.port}{path}"

    def _accept_loop(self) -> None:
        while not self.stopping.is_set():
            try:
                sock, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            with self._lock:
                self._open.add(sock)
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock: socket.socket) -> None:
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.settimeout(5)
            request = _read_request(sock)
            if request is None:
                return
            kind = "token" if request.path == TOKEN_PATH else "data"
            with self._lock:
                self._calls[kind] += 1
                call = self._calls[kind]
                self.received.append(request)
            behaviour = self.token if kind == "token" else self.data
            behaviour(Conn(sock, request, call, self))
            request.answered = time.monotonic()
        except Exception:  # noqa: BLE001 - a broken connection is the point of these servers
            pass
        finally:
            with self._lock:
                self._open.discard(sock)
            _quietly(sock.close)


def _read_request(sock: socket.socket) -> RawRequest | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length") or 0)
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return RawRequest(method, path, headers, rest[:length], time.monotonic())


def _quietly(action: Callable[[], Any]) -> None:
    try:
        action()
    except OSError:
        pass


def free_port() -> int:
    """A loopback port with nothing listening on it (connection refused)."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


class FullBacklog:
    """A listener whose accept queue is full, so a new connect gets no SYN-ACK: connect timeout."""

    def __init__(self) -> None:
        self._listener = socket.socket()
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(0)
        self.port = self._listener.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._fillers: list[socket.socket] = []

    def __enter__(self) -> FullBacklog:
        for _ in range(3):
            filler = socket.socket()
            filler.settimeout(0.2)
            try:
                filler.connect(("127.0.0.1", self.port))
            except OSError:
                pass
            self._fillers.append(filler)
        return self

    def __exit__(self, *exc: object) -> None:
        for sock in [*self._fillers, self._listener]:
            _quietly(sock.close)
