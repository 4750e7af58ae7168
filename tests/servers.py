"""Small HTTP servers on 127.0.0.1 that the tests script answer by answer, and the helpers
every test uses with a loopback server: ``with_tokens`` (a token endpoint and data answers that
check the bearer token), ``client_for`` (the tests' P44Client) and ``log_in`` (``%p44_login``)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from p44_magic import P44Client


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased; a repeated header keeps its last value
    body: bytes
    header_lines: list[tuple[str, str]] = field(default_factory=list)  # as sent, in order


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # dict/list → JSON; str/bytes sent as is
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


Handler = Callable[[Received], Reply]


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that time out and hang up are part of the tests


class ScriptedServer:
    """Answers each request with ``handler(received)``; records everything it received."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.received: list[Received] = []
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # else each answer waits ~40 ms for a delayed ACK

            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                got = Received(
                    self.command,
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                    list(self.headers.items()),
                )
                server.received.append(got)
                reply = server.handler(got)
                if reply.delay:
                    threading.Event().wait(reply.delay)
                payload = reply.body
                content_type = "application/json"
                if isinstance(payload, dict | list):
                    payload = json.dumps(payload).encode()
                elif isinstance(payload, str):
                    payload = payload.encode()
                    content_type = "text/plain; charset=utf-8"
                elif payload is None:
                    payload = b""
                self.send_response(reply.status)
                headers = {"Content-Type": content_type, **reply.headers}
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

        self._httpd = _QuietServer(("127.0.0.1", 0), _Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def paths(self) -> list[str]:
        return [r.path for r in self.received]

    def token_calls(self) -> list[Received]:
        return [r for r in self.received if r.path == TOKEN_PATH]

    def data_calls(self) -> list[Received]:
        return [r for r in self.received if r.path != TOKEN_PATH]


TOKEN_PATH = "/api/v4/oauth2/token"


class TokenIssuer:
    """A token endpoint for scripted servers: issues tok-1, tok-2, … and counts fetches."""

    def __init__(self) -> None:
        self.fetches = 0
        self.lock = threading.Lock()

    def issue(self) -> Reply:
        with self.lock:
            self.fetches += 1
            token = f"tok-{self.fetches}-s3cr3t"
        return Reply(200, {"access_token": token, "expires_in": 43200, "token_type": "BEARER"})

    @property
    def current(self) -> str:
        return f"tok-{self.fetches}-s3cr3t"


UNAUTHORIZED = {"httpStatusCode": 401, "errorMessage": "Unauthorized"}


def with_tokens(
    data: Handler | Reply | None = None,
    issuer: TokenIssuer | None = None,
    *,
    reject: Collection[str] = (),
    always_401: bool = False,
    delay_401: float = 0.0,
) -> Handler:
    """A handler: tokens from ``issuer`` at the oauth2 path; every other request must carry the
    issuer's current token (and not one in ``reject``), else a 401 (after ``delay_401`` s).

    Accepted requests get ``data``: a handler, one fixed Reply, or ``[{"ok": true}]`` when None.
    """
    issuer = issuer or TokenIssuer()

    def handle(got: Received) -> Reply:
        if got.path == TOKEN_PATH:
            return issuer.issue()
        token = got.headers.get("authorization", "").removeprefix("Bearer ")
        if always_401 or token in reject or token != issuer.current:
            return Reply(401, UNAUTHORIZED, delay=delay_401)
        if data is None:
            return Reply(200, [{"ok": True}])
        return data if isinstance(data, Reply) else data(got)

    return handle


# -- the client and the login of the tests -----------------------------------------------------

CLIENT_ID = "test-client"
SECRET = "Sup3r-s3cret-Value-77"
SECRET_VARIABLE = "p44_secret"  # the user variable %p44_login --client-secret reads


def client_for(server: Any, **options: Any) -> P44Client:
    """A P44Client with CLIENT_ID and SECRET for ``server`` (anything with a ``base_url``, or a
    URL): a short timeout and a few quick retries unless ``options`` say otherwise."""
    base_url = server if isinstance(server, str) else server.base_url
    settings = {"timeout": 2.0, "retries": 2, "backoff": 0.01, "max_retry_after": 0.5}
    return P44Client(CLIENT_ID, SECRET, base_url=base_url, **{**settings, **options})


def login_cell(base_url: str, client_id: str = CLIENT_ID) -> str:
    """The ``%p44_login`` cell for ``base_url``; the secret is read from $p44_secret."""
    return (
        f"%p44_login --base-url {base_url} --client-id {client_id} "
        f"--client-secret ${SECRET_VARIABLE}"
    )


def log_in(shell: Any, base_url: str, client_id: str = CLIENT_ID, secret: str = SECRET) -> Any:
    """Run ``%p44_login`` in ``shell`` as a user would; return IPython's ExecutionResult."""
    shell.user_ns[SECRET_VARIABLE] = secret
    return shell.run_cell(login_cell(base_url, client_id))


#: What the demo moves between two fetches of one shipment (its estimates, as real ones move):
#: a test comparing two fetches compares everything else.
MOVING = ("estimateDateTime", "estimateLastCalculatedDateTime")


def without_estimates(frame: Any) -> Any:
    """``frame`` without the columns the demo moves between fetches."""
    return frame.drop(columns=[c for c in MOVING if c in frame.columns])
