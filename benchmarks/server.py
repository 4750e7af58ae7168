"""A loopback server with fixed answers for the benchmarks: small, large and paged."""

from __future__ import annotations

import json
import multiprocessing
import random
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

CLIENT_ID = "bench-client"
CLIENT_SECRET = "bench-secret"
EVENT_TYPES = ("ARRIVAL_AT_STOP", "DEPARTURE_FROM_STOP", "LOAD", "DELIVERY", "POSITION")
CITIES = (("Rotterdam", "NL"), ("Chicago", "US"), ("Shanghai", "CN"), ("Hamburg", "DE"))
TIMESTAMP_COLUMNS = ("dateTime", "plannedDateTime", "receivedDateTime")


def make_records(count: int, seed: int = 44) -> list[dict[str, Any]]:
    """Nested records shaped like project44 tracking events (~500 bytes of JSON each)."""
    return list(iter_records(count, seed))


def records_json(count: int, seed: int = 44, chunk: int = 50_000) -> bytes:
    """``json.dumps(make_records(count, seed))``, made a chunk of records at a time (a million
    records as dicts would take gigabytes of the server's memory)."""
    records = iter_records(count, seed)
    parts = []
    for start in range(0, count, chunk):
        batch = [next(records) for _ in range(min(chunk, count - start))]
        parts.append(json.dumps(batch).encode()[1:-1])
    return b"[" + b", ".join(parts) + b"]"


def iter_records(count: int, seed: int = 44) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    base = 1_790_000_000
    for n in range(count):
        city, country = CITIES[n % len(CITIES)]
        stamp = base + n * 60
        yield (
            {
                "id": f"evt-{n:08d}",
                "type": EVENT_TYPES[n % len(EVENT_TYPES)],
                "dateTime": _iso(stamp),
                "plannedDateTime": _iso(stamp - 3600),
                "receivedDateTime": _iso(stamp + 120),
                "stop": {
                    "id": f"stop-{n % 97}",
                    "type": "PORT_OF_DISCHARGE",
                    "location": {
                        "address": {"city": city, "country": country, "postalCode": "30xx"},
                        "coordinates": {
                            "latitude": round(rng.uniform(-60, 60), 5),
                            "longitude": round(rng.uniform(-180, 180), 5),
                        },
                    },
                },
                "carrier": {"scac": "MAEU", "name": "Maersk"},
                "identifiers": [{"type": "BILL_OF_LADING", "value": f"MAEU{n:09d}"}],
                "weight": {"value": rng.randint(100, 30_000), "unit": "KG"},
            }
        )


def _iso(epoch: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


class BenchServer:
    """Serves the token endpoint, ``/bench/small``, ``/bench/large`` and a paged orders search.

    It runs in a child process, as a real API is elsewhere: in-process it would take the
    client's GIL and distort both sides. ``/bench/stats`` and ``/bench/invalidate`` let the
    parent count token fetches and reject every issued token.
    """

    def __init__(
        self, *, small: int = 20, large: int = 100_000, page_rows: int = 25_000, latency=0.05
    ) -> None:
        self.sizes = {"small": small, "large": large, "page_rows": page_rows, "latency": latency}
        self.latency = latency
        self.page_count_rows = page_rows
        self.large_bytes = 0
        self.base_url = ""
        self._process: multiprocessing.Process | None = None

    def __enter__(self) -> BenchServer:
        parent, child = multiprocessing.Pipe()
        context = multiprocessing.get_context("fork")
        self._process = context.Process(target=_serve, args=(child, self.sizes), daemon=True)
        self._process.start()
        port, self.large_bytes = parent.recv()
        self.base_url = f"http://127.0.0.1:{port}"
        self._control = httpx.Client(base_url=self.base_url)
        return self

    def __exit__(self, *exc: object) -> None:
        self._control.close()
        if self._process is not None:
            self._process.terminate()
            self._process.join(timeout=10)

    @property
    def token_fetches(self) -> int:
        return self._control.get("/bench/stats").json()["token_fetches"]

    def invalidate_tokens(self) -> None:
        self._control.post("/bench/invalidate")


def _serve(pipe: Any, sizes: dict[str, Any]) -> None:
    """The child process: build the answers once, then serve until terminated."""
    small = json.dumps(make_records(sizes["small"])).encode()
    large = records_json(sizes["large"])
    rows = make_records(sizes["page_rows"], seed=7)
    positions = make_records(8, seed=3)  # one shipment's positions; every shipment has these
    latency = sizes["latency"]
    pages: dict[tuple[int, int], bytes] = {}
    state = {"token_fetches": 0}
    valid_tokens: set[str] = set()
    lock = threading.Lock()

    def page_body(page: int, size: int) -> bytes:
        if (page, size) not in pages:
            chunk = rows[(page - 1) * size : page * size]
            info = {"total": len(rows), "page": page, "pageSize": size}
            pages[(page, size)] = json.dumps({"paginationInfo": info, "results": chunk}).encode()
        return pages[(page, size)]

    for page in range(1, len(rows) // 500 + 2):
        page_body(page, 500)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True

        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            path = urlsplit(self.path)
            if path.path == "/api/v4/oauth2/token":
                with lock:
                    state["token_fetches"] += 1
                    token = f"bench-token-{state['token_fetches']}"
                    valid_tokens.add(token)
                return self._send(200, json.dumps({"access_token": token}).encode())
            if path.path == "/bench/invalidate":
                valid_tokens.clear()
                return self._send(200, b"{}")
            if not self._authorized():
                return
            if path.path == "/api/v4/inventory/orders/search":
                query = parse_qs(path.query)
                page, size = int(query["page"][0]), int(query["pageSize"][0])
                time.sleep(latency)
                return self._send(200, page_body(page, size))
            self._send(404, b'{"errorMessage": "no such path"}')

        def do_GET(self) -> None:
            if self.path == "/bench/stats":
                return self._send(200, json.dumps(state).encode())
            if not self._authorized():
                return
            if self.path == "/bench/small":
                return self._send(200, small)
            if self.path == "/bench/large":
                return self._send(200, large)
            parts = self.path.split("/")
            if self.path.startswith("/api/v4/shipments/") and parts[-1] == "positionhistory":
                time.sleep(latency)
                answer = {"shipment": {"id": parts[4]}, "positions": positions}
                return self._send(200, json.dumps(answer).encode())
            self._send(404, b'{"errorMessage": "no such path"}')

        def _authorized(self) -> bool:
            token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
            if token in valid_tokens:
                return True
            self._send(401, b'{"httpStatusCode": 401, "errorMessage": "Unauthorized"}')
            return False

        def _send(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    pipe.send((httpd.server_address[1], len(large)))
    httpd.serve_forever(poll_interval=0.05)
