"""Per-call state (issue 19): one P44Client shared by many threads, every result carries its
own call's exchange; the magic's ``_p44_last`` is the cell's own; a call's stop ends it.
Real HTTP to a scripted server on 127.0.0.1."""

from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlsplit

import pytest

from p44_magic import P44Error, P44Interrupted
from p44_magic.call_state import Call
from p44_magic.calls import Wanted
from p44_magic.request import HttpRequest
from tests.servers import Received, Reply, ScriptedServer, client_for, log_in, with_tokens

THREADS = 10
ROUNDS = 12
PAGE_ROWS = 12  # three pages of 5


def echoing(got: Received) -> Reply:
    """Every answer names the request it answers: a single object, or a page of rows."""
    path = urlsplit(got.path).path
    delay = random.uniform(0, 0.004)  # interleave the threads' answers
    if path.endswith("/search"):
        query = parse_qs(urlsplit(got.path).query)
        page, size = int(query["page"][0]), int(query["pageSize"][0])
        rows = [{"path": got.path, "n": n} for n in range(PAGE_ROWS)][(page - 1) * size :][:size]
        return Reply(200, {"paginationInfo": {"total": PAGE_ROWS}, "results": rows}, delay=delay)
    return Reply(200, {"path": got.path}, delay=delay)


def own_exchange(exchange, path: str) -> None:
    """The exchange is of a request to ``path`` and holds that request's answer."""
    assert exchange is not None
    assert urlsplit(exchange.url).path == path, (exchange.url, path)
    body = exchange.body
    answered = body["results"][0]["path"] if "results" in body else body["path"]
    assert urlsplit(answered).path == path
    assert exchange.url.endswith(answered)  # the very request this answer answered


def one_thread(p44, thread: int, start: threading.Barrier) -> int:
    start.wait()
    checked = 0
    for round_ in range(ROUNDS):
        single = f"/api/v4/t{thread}/single/{round_}"
        result = p44.call(HttpRequest("GET", single), Wanted("answer"))
        own_exchange(result.exchange, single)
        assert result.value["path"] == single
        own_exchange(p44.last_exchange, single)

        search = f"/api/v4/t{thread}/search"
        paged = p44.call(
            HttpRequest("GET", f"{search}?page=1&pageSize=5"), Wanted("frame", all_pages=True)
        )
        own_exchange(paged.exchange, search)
        assert len(paged.value) == PAGE_ROWS
        assert {urlsplit(p).path for p in paged.value["path"]} == {search}
        frame = p44.frame("GET", f"{search}?page=1&pageSize=5", all_pages=True)
        assert len(frame) == PAGE_ROWS
        own_exchange(p44.last_exchange, search)

        each = p44.each("GET", f"/api/v4/t{thread}/each/{{{{v}}}}", [1, 2, 3], name="v")
        assert [urlsplit(p).path for p in each.frame["path"]] == [
            f"/api/v4/t{thread}/each/{v}" for v in (1, 2, 3)
        ]
        last = p44.last_exchange
        assert urlsplit(last.url).path.startswith(f"/api/v4/t{thread}/each/")
        own_exchange(last, urlsplit(last.url).path)
        checked += 5
    return checked


def test_many_threads_on_one_client_each_result_carries_its_own_exchange():
    with ScriptedServer(with_tokens(echoing)) as server, client_for(server) as p44:
        start = threading.Barrier(THREADS)
        with ThreadPoolExecutor(THREADS) as pool:
            done = list(pool.map(lambda t: one_thread(p44, t, start), range(THREADS)))
        assert done == [ROUNDS * 5] * THREADS
        # 1 single + 3 pages (twice) + 3 each values per round and thread: all really sent
        # a single, two searches (pages 2-8 go out with page 1: the request names its page
        # size; 3 pages exist, and those beyond are stopped if not sent yet) and three --each
        least, most = 1 + 2 * 3 + 3, 1 + 2 * p44.max_concurrency + 3
        assert THREADS * ROUNDS * least <= len(server.data_calls()) <= THREADS * ROUNDS * most
        assert not hasattr(p44.session, "last_exchange")  # nothing of a call on the session


def test_the_cells_p44_last_is_its_own_while_another_thread_uses_the_client(shell):
    with ScriptedServer(with_tokens(echoing)) as server:
        assert log_in(shell, server.base_url).success
        client = shell.magics_manager.registry["P44Magics"].client
        stop = threading.Event()

        def elsewhere() -> None:
            while not stop.is_set():
                client.answer("GET", "/api/v4/elsewhere")

        other = threading.Thread(target=elsewhere)
        other.start()
        try:
            for n in range(20):
                assert shell.run_cell(f"%p44 --raw GET /api/v4/mine/{n}").success
                own_exchange(shell.user_ns["_p44_last"], f"/api/v4/mine/{n}")
        finally:
            stop.set()
            other.join()
        assert any("/elsewhere" in r.path for r in server.data_calls())


def test_a_calls_stop_ends_it_and_sends_nothing_more():
    stopped = threading.Event()

    def slow_pages(got: Received) -> Reply:
        query = parse_qs(urlsplit(got.path).query)
        page = int(query["page"][0])
        rows = [{"n": page}] * 5
        if page > 1:
            stopped.wait(5)  # held until the stop is set
        return Reply(200, {"paginationInfo": {"total": 500}, "results": rows})

    with ScriptedServer(with_tokens(slow_pages)) as server, client_for(server) as p44:
        call = Call()
        request = HttpRequest("GET", "/api/v4/slow/search?page=1&pageSize=5")
        outcome: list[BaseException] = []

        def run() -> None:
            try:
                p44.call(request, Wanted("frame", all_pages=True), call=call)
            except BaseException as error:  # noqa: BLE001 - the outcome is the test's
                outcome.append(error)

        worker = threading.Thread(target=run)
        worker.start()
        while len(server.data_calls()) < 3:  # the first page and some of the rest are out
            threading.Event().wait(0.01)
        call.stop.set()
        stopped.set()
        worker.join(30)
        assert not worker.is_alive()
        sent = len(server.data_calls())
        assert sent <= 1 + p44.max_concurrency  # nothing was sent after the stop
        assert outcome and isinstance(outcome[0], P44Error | P44Interrupted)
        assert call.exchange is not None and call.stop.is_set()


@pytest.mark.parametrize("method", ["frame", "answer", "request"])
def test_a_failed_call_leaves_its_own_exchange_for_this_thread(method):
    def failing(got: Received) -> Reply:
        return (
            Reply(404, {"errorMessage": "no such thing"})
            if "missing" in got.path
            else (Reply(200, {"path": got.path}))
        )

    with ScriptedServer(with_tokens(failing)) as server, client_for(server) as p44:
        p44.answer("GET", "/api/v4/present")
        with pytest.raises(P44Error):
            getattr(p44, method)("GET", "/api/v4/missing")
        assert p44.last_exchange.url.endswith("/api/v4/missing")
        assert p44.last_exchange.status_code == 404


def test_a_large_answer_is_not_kept_whole_after_its_frame_is_built():
    """The last exchange keeps an answer up to 1 MB whole, and of a larger one its first 64 KB
    as text: hundreds of MB are not held for nothing once the frame exists."""
    from p44_magic.answers import KEPT_EXCERPT

    rows = [{"id": n, "note": "x" * 100} for n in range(20_000)]  # about 2.4 MB
    with ScriptedServer(with_tokens(Reply(200, rows))) as server:
        with client_for(server) as p44:
            frame = p44.frame("GET", "/big")
            last = p44.last_exchange
            whole = p44.answer("GET", "/big?again=1")  # the value itself is whole
    assert len(frame) == 20_000
    assert last.truncated and last.answer_bytes > 2_000_000
    assert len(last.content) == KEPT_EXCERPT
    assert isinstance(last.body, str) and last.body.startswith('[{"id": 0')
    assert whole == rows and p44.last_exchange.truncated
