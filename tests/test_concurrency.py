"""One P44Client shared by 16 threads while the server keeps invalidating the token.

Half the threads page through a search (``all_pages``), half send single GETs; a background
thread rejects the current token every 50 ms for about a second, then leaves it valid for 0.3 s.
Every call must end in a whole answer or a P44Error, token fetches must stay single-flight,
nothing may deadlock, and a rejected token must not keep being sent.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from p44_magic import P44Client, P44Error
from tests.servers import TOKEN_PATH, Received, Reply, ScriptedServer

SINGLE_THREADS = 8
PAGING_THREADS = 8
MAX_CONCURRENCY = 2  # pages fetched at once per paged call
TOTAL, PAGE_SIZE = 50, 10
ROTATE_EVERY, ROTATE_FOR, SETTLE = 0.05, 1.0, 0.3
SEARCH = f"/api/v4/conc/orders/search?page=1&pageSize={PAGE_SIZE}"


@dataclass
class Logged:
    token: str
    call: str
    arrived: float
    status: int


class RotatingApi:
    """Issues tok-1, tok-2, …; only the latest is valid until ``rotate()`` rejects it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.valid: str | None = None
        self.issued = 0
        self.invalidations = 0
        self.fetch_spans: list[tuple[float, float]] = []
        self.log: list[Logged] = []
        self.first_401_answered: dict[str, float] = {}

    def rotate(self) -> None:
        with self.lock:
            if self.valid is not None:
                self.valid = None
                self.invalidations += 1

    def __call__(self, got: Received) -> Reply:
        if got.path == TOKEN_PATH:
            return self._token()
        arrived = time.monotonic()
        token = got.headers.get("authorization", "").removeprefix("Bearer ")
        with self.lock:
            accepted = token == self.valid
        call = got.headers.get("x-call", "?")
        if not accepted:
            reply = Reply(401, {"httpStatusCode": 401, "errorMessage": "Unauthorized"})
        elif "/search" in got.path:
            page = int(parse_qs(urlsplit(got.path).query)["page"][0])
            rows = [{"n": n} for n in range((page - 1) * PAGE_SIZE, min(page * PAGE_SIZE, TOTAL))]
            reply = Reply(200, {"paginationInfo": {"total": TOTAL}, "results": rows})
        else:
            reply = Reply(200, [{"ok": 1}])
        with self.lock:
            self.log.append(Logged(token, call, arrived, reply.status))
            if reply.status == 401:
                self.first_401_answered.setdefault(token, time.monotonic())
        return reply

    def _token(self) -> Reply:
        started = time.monotonic()
        time.sleep(0.005)  # long enough for an overlapping fetch to show
        with self.lock:
            self.issued += 1
            token = f"tok-{self.issued}-s3cr3t"
            self.valid = token
            self.fetch_spans.append((started, time.monotonic()))
        return Reply(200, {"access_token": token, "expires_in": 43200, "token_type": "BEARER"})


def test_sixteen_threads_share_one_client_while_the_token_keeps_being_rejected():
    api = RotatingApi()
    outcomes: dict[str, list[object]] = {"single": [], "paged": []}
    stop = threading.Event()
    outcome_lock = threading.Lock()

    with (
        ScriptedServer(api) as server,
        P44Client(
            "conc-client",
            "conc-secret",
            base_url=server.base_url,
            timeout=5,
            retries=1,
            backoff=0.01,
            max_concurrency=MAX_CONCURRENCY,
        ) as p44,
    ):
        p44.login()

        def single(worker: int) -> None:
            for n in range(10_000):
                if stop.is_set():
                    return
                headers = {"X-Call": f"single-{worker}-{n}"}
                try:
                    outcome: object = p44.answer("GET", "/api/v4/conc/things", headers=headers)
                except Exception as error:  # noqa: BLE001 - collected and checked below
                    outcome = error
                with outcome_lock:
                    outcomes["single"].append(outcome)

        def paged(worker: int) -> None:
            for n in range(10_000):
                if stop.is_set():
                    return
                headers = {"X-Call": f"paged-{worker}-{n}"}
                try:
                    outcome: object = p44.all_pages("POST", SEARCH, json={}, headers=headers)
                except Exception as error:  # noqa: BLE001 - collected and checked below
                    outcome = error
                with outcome_lock:
                    outcomes["paged"].append(outcome)

        def rotate() -> None:
            deadline = time.monotonic() + ROTATE_FOR
            while time.monotonic() < deadline:
                time.sleep(ROTATE_EVERY)
                api.rotate()
            # A little time with a token that stays valid, so that whole answers of both kinds
            # are seen however slowly the machine ran the rotation part.
            time.sleep(SETTLE)
            stop.set()

        threads = [threading.Thread(target=single, args=(i,)) for i in range(SINGLE_THREADS)]
        threads += [threading.Thread(target=paged, args=(i,)) for i in range(PAGING_THREADS)]
        rotator = threading.Thread(target=rotate)
        for thread in [*threads, rotator]:
            thread.daemon = True
            thread.start()
        for thread in [rotator, *threads]:
            thread.join(timeout=20)
        stuck = [t.name for t in [rotator, *threads] if t.is_alive()]
        assert not stuck, f"deadlock or hang: {stuck} still running"
        client_fetches = p44.token_fetches

    # Every call ended in a whole answer or a P44Error.
    for outcome in outcomes["single"]:
        assert outcome == [{"ok": 1}] or isinstance(outcome, P44Error), repr(outcome)
    for outcome in outcomes["paged"]:
        if isinstance(outcome, dict):
            assert [row["n"] for row in outcome["results"]] == list(range(TOTAL))
        else:
            assert isinstance(outcome, P44Error), repr(outcome)
    for kind in ("single", "paged"):
        succeeded = [o for o in outcomes[kind] if not isinstance(o, BaseException)]
        assert len(succeeded) >= 5, f"too few {kind} calls succeeded to prove anything"
    assert api.invalidations >= 10

    # Single flight: at most one fetch per rejected token, and never two at once.
    spans = sorted(api.fetch_spans)
    assert client_fetches == len(spans)
    assert len(spans) <= api.invalidations + 1, (len(spans), api.invalidations)
    for (_, previous_end), (start, _) in zip(spans, spans[1:], strict=False):
        assert start >= previous_end, "two token fetches overlapped"

    # A rejected token is not sent again and again (TokenHolder's invariant): once the client
    # has seen a 401 for a token it never attaches it again, so after its first 401 was
    # answered only requests already on their way may still carry it: at most one per
    # concurrent sender. This bound was once exceeded about 1 run in 10, for two reasons: a
    # thread could read the old token together with the new generation and send a rejected
    # token as current; and httpcore's pool could close a connection already handed to a
    # queued request ("Bad file descriptor"), so the request was sent again. Both are fixed
    # (one (token, generation) value; the client queues requests itself, see P44Client).
    senders = SINGLE_THREADS + PAGING_THREADS * MAX_CONCURRENCY
    for token, answered in api.first_401_answered.items():
        late = [r for r in api.log if r.token == token and r.arrived > answered]
        assert len(late) <= senders, (token, len(late))
    for number, (_, replaced) in enumerate(spans[1:], start=1):
        token = f"tok-{number}-s3cr3t"
        stale = [r for r in api.log if r.token == token and r.arrived > replaced]
        assert len(stale) <= SINGLE_THREADS + PAGING_THREADS, (token, len(stale))

    # Never a loop: one request and at most one resend per single call, and per page.
    per_call: dict[str, int] = {}
    for logged in api.log:
        per_call[logged.call] = per_call.get(logged.call, 0) + 1
    for call, count in per_call.items():
        pages = TOTAL // PAGE_SIZE if call.startswith("paged") else 1
        assert count <= 2 * pages, (call, count)
