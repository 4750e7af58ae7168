"""``--each`` and ``P44Client.each``: one request per value, joined, with a failures table
(issue 12). Real HTTP to the demo API and to scripted servers on 127.0.0.1."""

from __future__ import annotations

import threading
import time
import warnings
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pandas as pd
import pytest

from p44_magic import P44Error
from tests.fault_servers import Conn, FaultServer
from tests.servers import (
    Received,
    Reply,
    ScriptedServer,
    client_for,
    log_in,
    with_tokens,
    without_estimates,
)

HISTORY = "/api/v4/shipments/{{sid}}/tracking/history"


def sid_of(path: str) -> str:
    return path.split("/")[4]


def events_of(sid: str) -> dict:
    return {
        "shipment": {"id": sid},
        "events": [{"type": "ARRIVED", "n": 1}, {"type": "DEPARTED", "n": 2}],
    }


_FLAKY_SEEN: set[int] = set()


def mixed(conn: Conn) -> None:
    """404 for ids starting with 'missing', a 500 once for 'flaky' (per server), a reset for
    'reset', else two events."""
    sid = sid_of(conn.request.path)
    if sid.startswith("missing"):
        body = {"httpStatusCode": 404, "errorMessage": "Shipment not found"}
        conn.reply(404, {**body, "supportReferenceId": f"ref-{sid}"})
    elif sid == "flaky" and conn.server.port not in _FLAKY_SEEN:
        _FLAKY_SEEN.add(conn.server.port)
        conn.reply(500, {"httpStatusCode": 500, "errorMessage": "passing"})
    elif sid == "reset":
        conn.reset()
    else:
        conn.reply(200, events_of(sid))


def out_of(capsys) -> str:
    captured = capsys.readouterr()
    return captured.out + captured.err


# -- the magic against the demo API --------------------------------------------------------------


def test_each_over_a_series_of_lists_joins_every_shipment_in_value_order(logged_in, capsys):
    shell = logged_in
    shell.run_cell("%config P44Magics.progress = False")
    assert shell.run_cell("orders = %p44 --all-pages POST /api/v4/inventory/orders/search").success
    cell = f"%%p44 events --each sid=orders.shipmentIds\nGET {HISTORY}"
    assert shell.run_cell(cell).success
    ns = shell.user_ns
    expected_ids = list(dict.fromkeys(i for ids in ns["orders"]["shipmentIds"] for i in ids))
    events = ns["events"]
    assert events.columns[0] == "sid"
    assert list(dict.fromkeys(events["sid"])) == expected_ids  # value order, every value
    # The same rows as one %p44 per shipment, concatenated.
    first, second = expected_ids[:2]
    for sid in (first, second):
        ns["one"] = sid
        shell.run_cell(f"single = %p44 GET {HISTORY.replace('sid', 'one')}")
        mine = events[events["sid"] == sid].drop(columns="sid").reset_index(drop=True)
        # a second fetch: the demo's estimates moved in between
        single = without_estimates(ns["single"])
        pd.testing.assert_frame_equal(without_estimates(mine), single, check_dtype=False)
    out = out_of(capsys)
    assert f"events: {len(events):,} rows × {events.shape[1]} columns from " in out
    assert f"from {len(expected_ids):,} values\n" in out
    assert ns["_p44_failures"].empty


def test_tables_and_raw_with_each(logged_in, capsys):
    shell = logged_in
    shell.run_cell("%config P44Magics.progress = False")
    shell.run_cell("orders = %p44 --all-pages POST /api/v4/inventory/orders/search")
    shell.run_cell("ids = list(orders.shipmentIds.explode().unique()[:4])")
    assert shell.run_cell(f"t = %p44 --tables --each sid=ids GET {HISTORY}").success
    tables, ids = shell.user_ns["t"], shell.user_ns["ids"]
    assert list(tables.shipment["sid"]) == ids  # one shipment row per shipment
    assert list(tables.shipment["shipment_id"]) == ids
    for name, frame in tables:
        assert frame.columns[0] == "sid", name
    assert set(tables.events["sid"]) == set(ids)
    assert shell.run_cell(
        "r = %p44 --raw --each sid=ids GET /api/v4/shipments/{{sid}}/tracking"
    ).success
    raw = shell.user_ns["r"]
    assert list(raw) == ids and all(raw[sid]["shipment"]["id"] == sid for sid in ids)
    capsys.readouterr()


# -- failures ----------------------------------------------------------------------------------


def test_a_failure_mix_keeps_the_rest_and_lists_the_failures(shell, capsys):
    values = ["a", "missing-1", "flaky", "b", "reset", "missing-2", "a", None, float("nan")]
    with FaultServer(mixed) as server:
        assert log_in(shell, server.base_url).success
        shell.run_cell("%config P44Magics.progress = False")
        shell.run_cell("%config P44Magics.retries = 2")
        shell.user_ns["ids"] = values
        assert shell.run_cell(f"%%p44 events --each sid=ids\nGET {HISTORY}").success
    out = out_of(capsys)
    assert (
        "events: 6 rows × 4 columns from 3 of 6 values; 3 failed: HTTP 404 × 2, "
        "no connection × 1 (see _p44_failures)"
    ) in out
    events = shell.user_ns["events"]
    assert list(events["sid"]) == ["a", "a", "flaky", "flaky", "b", "b"]  # in value order
    # The catalogue's preset for each answer: its events, with shipment.id carried onto them.
    assert list(events.columns) == ["sid", "type", "n", "shipment.id"]
    assert list(events["shipment.id"]) == list(events["sid"])
    failures = shell.user_ns["_p44_failures"]
    assert list(failures.columns) == ["sid", "status_code", "error", "support_reference_id"]
    assert list(failures["sid"]) == ["missing-1", "reset", "missing-2"]
    assert list(failures["status_code"]) == [404, None, 404]
    assert list(failures["support_reference_id"]) == ["ref-missing-1", None, "ref-missing-2"]
    assert failures["error"].iloc[0].startswith("HTTP 404: Shipment not found (GET ")  # issue 21
    assert "\n" not in "".join(failures["error"])


def test_rerunning_the_failures_and_every_value_failing(shell, capsys):
    with FaultServer(mixed) as server:
        assert log_in(shell, server.base_url).success
        shell.run_cell("%config P44Magics.progress = False")
        shell.user_ns["ids"] = ["a", "missing-1", "missing-2"]
        assert shell.run_cell(f"%%p44 events --each sid=ids\nGET {HISTORY}").success
        before = len(server.data_calls())
        result = shell.run_cell(f"%%p44 again --each sid=_p44_failures.sid\nGET {HISTORY}")
        assert not result.success  # every value failed: the cell fails
        assert len(server.data_calls()) == before + 2  # only the two failures were sent
        assert "again" not in shell.user_ns
        assert len(shell.user_ns["_p44_failures"]) == 2
    out = out_of(capsys)
    assert "every one of the 2 requests failed: HTTP 404 × 2 (see _p44_failures)" in out


def test_strict_fails_the_cell_and_assigns_nothing(shell, capsys):
    with FaultServer(mixed) as server:
        assert log_in(shell, server.base_url).success
        shell.run_cell("%config P44Magics.progress = False")
        shell.user_ns["ids"] = ["a", "missing-1", "b"]
        result = shell.run_cell(f"%%p44 events --strict --each sid=ids\nGET {HISTORY}")
    assert not result.success
    assert "events" not in shell.user_ns
    # _p44_failures describes this run (issue 20, item 7): the failure, and what was not tried
    failures = shell.user_ns["_p44_failures"]
    assert "missing-1" in list(failures["sid"]) and set(failures["sid"]) <= {"a", "missing-1", "b"}
    out = out_of(capsys)
    assert "--strict: the request for sid='missing-1' failed" in out
    assert "HTTP 404" in out and "Traceback" not in out


@pytest.mark.parametrize(
    ("setup", "option", "message"),
    [
        ("", "--each sid", "write --each NAME=VARIABLE"),
        ("", "--each sid=nothing_here", "no variable named 'nothing_here'"),
        ("ids = []", "--each sid=ids", "there are no values in it"),
        ("ids = [None, float('nan')]", "--each sid=ids", "there are no values in it"),
        ("ids = ['a']", "--each 2x=ids", "'2x' is not a name"),
        ("ids = ['a']", "--each other=ids", "the request never uses {{other}}"),
        ("ids = [{'id': 'a'}]", "--each sid=ids", "it holds a dict where a value should be"),
        ("import pandas as pd; ids = [pd.DataFrame()]", "--each sid=ids", "holds a DataFrame"),
        ("import pandas as pd; ids = pd.DataFrame({'a': [1]})", "--each sid=ids", "DataFrame"),
        ("ids = 'abc'", "--each sid=ids", "that is a str, not a list of values"),
        ("ids = list(range(5))", "--each sid=ids.nope", "ids has no attribute 'nope'"),
    ],
)
def test_bad_each_input_is_one_short_error_and_sends_nothing(shell, capsys, setup, option, message):
    with ScriptedServer(with_tokens()) as server:
        assert log_in(shell, server.base_url).success
        shell.run_cell(setup)
        result = shell.run_cell(f"%%p44 out {option}\nGET {HISTORY}")
        assert server.data_calls() == []
    assert not result.success and "out" not in shell.user_ns
    out = out_of(capsys)
    assert message in out, out
    assert "Traceback" not in out


def test_more_values_than_max_each_is_refused_saying_how_to_raise_it(shell, capsys):
    with ScriptedServer(with_tokens()) as server:
        assert log_in(shell, server.base_url).success
        shell.run_cell("ids = list(range(12)) + list(range(12))")  # 12 distinct
        shell.run_cell("%config P44Magics.max_each = 10")
        things = "/api/v4/things/{{sid}}"
        assert not shell.run_cell(f"%p44 --each sid=ids GET {things}").success
        assert server.data_calls() == []
        shell.run_cell("%config P44Magics.max_each = 12")
        assert shell.run_cell(f"x = %p44 --each sid=ids GET {things}").success
        assert len(server.data_calls()) == 12
    out = out_of(capsys)
    assert "12 distinct values, more than max_each (10)" in out
    assert "%config P44Magics.max_each" in out


def test_a_name_the_rows_already_have_asks_for_another(shell, capsys):
    rows = Reply(200, [{"sid": "x", "n": 1}])
    with ScriptedServer(with_tokens(rows)) as server:
        assert log_in(shell, server.base_url).success
        shell.run_cell("ids = ['a', 'b']")
        assert not shell.run_cell("%%p44 out --each sid=ids\nGET /api/v4/things/{{sid}}").success
    assert "already have a column named 'sid'" in out_of(capsys)
    assert "out" not in shell.user_ns


# -- the values -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "sent"),
    [
        (["b", "a", "b", None], ["b", "a"]),
        (("x",), ["x"]),
        ({"only"}, ["only"]),
        (range(3), ["0", "1", "2"]),
        (np.array([7, 8, 7]), ["7", "8"]),
        (pd.Index(["i", "j"]), ["i", "j"]),
        (pd.Series([1.0, np.nan, 2.0]), ["1", "2"]),  # ids in a column with gaps are floats
        (pd.Series([["s1", "s2"], [], ["s2", "s3"], None]), ["s1", "s2", "s3"]),
    ],
)
def test_values_of_every_collection_kind(values, sent):
    received: list[str] = []

    def record(got: Received) -> Reply:
        received.append(got.path.rsplit("/", 1)[1])
        return Reply(200, [{"ok": True}])

    with ScriptedServer(with_tokens(record)) as server, client_for(server) as p44:
        result = p44.each("GET", "/api/v4/things/{{sid}}", values, name="sid")
    assert sorted(received) == sorted(sent)
    assert [str(v) for v in result.frame["sid"]] == sent  # in order, distinct, no gaps
    assert list(result.answers) == list(result.values)


def test_the_python_api_templates_the_body_and_headers_and_reports_progress():
    seen: list[tuple[str, str]] = []

    def record(got: Received) -> Reply:
        seen.append((got.headers["x-order"], got.body.decode()))
        return Reply(200, {"results": [{"n": 1}, {"n": 2}]})

    calls: list[tuple[int, int, int, int]] = []
    with ScriptedServer(with_tokens(record)) as server, client_for(server) as p44:
        result = p44.each(
            "POST",
            "/api/v4/things/search",
            ["o1", "o2", "o3"],
            name="oid",
            json={"orderId": "{{oid}}"},
            headers={"X-Order": "{{oid}}"},
            record_path="results",
            progress=lambda *args: calls.append(args),
        )
    assert sorted(seen) == [(f"o{i}", f'{{"orderId": "o{i}"}}') for i in (1, 2, 3)]
    assert list(result.frame["oid"]) == ["o1", "o1", "o2", "o2", "o3", "o3"]
    assert result.failures.empty and set(result.answers) == {"o1", "o2", "o3"}
    assert calls[-1] == (3, 3, 6, 0)


def test_path_meta_and_all_pages_apply_to_each_answer():
    def paged(got: Received) -> Reply:
        page = int(got.path.split("page=")[1].split("&")[0])
        order = got.path.split("/")[4]
        rows = [{"line": f"{order}-{page}-{i}"} for i in range(2)]
        body = {"paginationInfo": {"total": 6, "pageSize": 2}, "results": rows}
        return Reply(200, body)

    with ScriptedServer(with_tokens(paged)) as server, client_for(server) as p44:
        result = p44.each(
            "POST",
            "/api/v4/orders/{{oid}}/lines/search?page=1&pageSize=2",
            ["A", "B"],
            name="oid",
            json={},
            all_pages=True,
        )
    assert list(result.frame["oid"]) == ["A"] * 6 + ["B"] * 6
    assert result.frame["line"].tolist()[:3] == ["A-1-0", "A-1-1", "A-2-0"]

    nested = Reply(200, {"order": {"number": "N1", "items": [{"sku": 1}, {"sku": 2}]}})
    with ScriptedServer(with_tokens(nested)) as server, client_for(server) as p44:
        result = p44.each(
            "GET",
            "/api/v4/orders/{{oid}}",
            ["A", "B"],
            name="oid",
            record_path="order.items",
            meta=["order.number"],
        )
    assert list(result.frame.columns) == ["oid", "sku", "order.number"]
    assert len(result.frame) == 4


# -- at scale: one token, the interrupt, the rate gate, max_rate ---------------------------------


def test_a_401_storm_across_eight_workers_fetches_one_token():
    from tests.servers import TokenIssuer

    issuer = TokenIssuer()
    slow = Reply(200, [{"ok": True}], delay=0.05)
    with ScriptedServer(with_tokens(slow, issuer)) as server, client_for(server) as p44:
        p44.login()
        issuer.issue()  # the server rotates the token: every held token is now rejected
        result = p44.each("GET", "/api/v4/things/{{n}}", range(40), name="n")
    assert result.failures.empty and len(result.frame) == 40
    assert issuer.fetches == 3  # login, the rotation, and one renewal for all eight workers


@pytest.fixture
def sigint_as_in_a_kernel():
    """SIGINT raises KeyboardInterrupt, as ipykernel sets it up while a cell runs.

    A process started in the background by a non-interactive shell (a CI runner may be one)
    inherits SIGINT ignored, and then Python installs no handler and ``interrupt_main`` does
    nothing."""
    import signal

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


class Interrupt:
    """The kernel's interrupt (KeyboardInterrupt in the main thread, by ``interrupt_main``),
    sent once the server has seen ``after`` requests, so it lands while the cell fans out.
    Sent again every 5 s until ``disarm()``: a lost interrupt fails the test, never hangs it."""

    def __init__(self, after: int, delay: float = 0.0) -> None:
        self.after = after
        self.delay = delay
        self.at: list[float] = []
        self._seen = 0
        self._lock = threading.Lock()
        self._done = threading.Event()

    def arrived(self) -> None:
        with self._lock:
            self._seen += 1
            fire = self._seen == self.after
        if fire:
            threading.Thread(target=self._fire, daemon=True).start()

    def _fire(self) -> None:
        import _thread

        if self._done.wait(self.delay):
            return
        while not self._done.is_set():
            self.at.append(time.monotonic())
            _thread.interrupt_main()
            if self._done.wait(5):
                return

    def disarm(self) -> None:
        self._done.set()


@pytest.mark.parametrize("kind", ["each", "all-pages"])
def test_an_interrupt_sends_nothing_more_and_keeps_the_rows_so_far(
    shell, capsys, kind, sigint_as_in_a_kernel
):
    arrived: list[float] = []
    interrupt = Interrupt(after=10)

    def slow(got: Received) -> Reply:
        arrived.append(time.monotonic())
        interrupt.arrived()
        page = parse_qs(urlsplit(got.path).query).get("page", ["0"])[0]  # pages differ
        body = {"paginationInfo": {"total": 300, "pageSize": 1}, "results": [{"n": page}]}
        return Reply(200, body if kind == "all-pages" else [{"n": 1}], delay=0.3)

    cell = {
        "each": "%%p44 rows --each sid=ids\nGET /api/v4/things/{{sid}}",
        "all-pages": "%%p44 rows --all-pages\nPOST /api/v4/things/search?page=1&pageSize=1\n\n{}",
    }[kind]
    with ScriptedServer(with_tokens(slow)) as server:
        assert log_in(shell, server.base_url).success
        shell.run_cell("%config P44Magics.progress = False")
        shell.run_cell("%config P44Magics.max_concurrency = 4")
        shell.run_cell("%config P44Magics.max_pages = 1000")
        shell.user_ns["ids"] = [f"s{i}" for i in range(300)]
        shell.user_ns["_p44_failures"] = "an earlier run's"
        result = shell.run_cell(cell)
        ended = time.monotonic()
        interrupt.disarm()
        time.sleep(0.5)  # anything still sent would arrive now
    assert not result.success and "rows" not in shell.user_ns
    assert len(interrupt.at) == 1, "the first interrupt did not end the cell"
    interrupted = interrupt.at[0]
    assert ended - interrupted < 1.0 + 0.3 + 0.5, "the cell did not end within ~1 s + in flight"
    # The cell's thread sees the interrupt within workers.WAKE_EVERY (0.05 s; a real SIGINT
    # at once), so nothing may start later than that (with room for a loaded machine).
    late = [round(t - interrupted, 3) for t in arrived if t > interrupted + 0.25]
    assert late == [], f"requests were sent after the interrupt (s after it): {late}"
    out = out_of(capsys)
    done = int(out.split("Interrupted after ")[1].split(" of ")[0])
    assert f"Interrupted after {done} of 300 requests; the rows so far are in _p44_partial" in out
    partial = shell.user_ns["_p44_partial"]
    assert isinstance(partial, pd.DataFrame) and 0 < len(partial) <= done
    if kind == "each":  # issue 20, item 7: this run's failures so far (none), not an older run's
        failures = shell.user_ns["_p44_failures"]
        assert isinstance(failures, pd.DataFrame) and failures.empty
    assert "Traceback" not in out


def test_a_429_with_retry_after_holds_every_request_of_the_client():
    told: list[float] = []

    def limited(conn: Conn) -> None:
        if conn.call == 5:
            conn.reply(429, {"errorMessage": "slow down"}, headers={"Retry-After": "1"})
            told.append(time.monotonic())
            return
        time.sleep(0.05)
        conn.reply(200, [{"ok": True}])

    with FaultServer(limited) as server, client_for(server, max_retry_after=2) as p44:
        result = p44.each("GET", "/api/v4/things/{{n}}", range(30), name="n")
    assert result.failures.empty and len(result.frame) == 30
    arrived = [r.arrived - told[0] for r in server.data_calls()]
    quiet = [t for t in arrived if 0.05 < t < 0.95]
    assert quiet == [], f"requests arrived during the server's Retry-After: {quiet}"
    assert len(arrived) == 31  # the 30 values and the one retry
    assert max(arrived) > 0.95  # the rest came after the wait


def test_max_rate_limits_starts_in_every_one_second_window(shell, capsys):
    with FaultServer(lambda conn: conn.reply(200, [{"ok": True}])) as server:
        assert log_in(shell, server.base_url).success
        shell.run_cell("%config P44Magics.progress = False")
        shell.run_cell("%config P44Magics.max_rate = 5")
        shell.user_ns["ids"] = list(range(12))
        started = time.monotonic()
        assert shell.run_cell("x = %p44 --each sid=ids GET /api/v4/things/{{sid}}").success
        took = time.monotonic() - started
    times = sorted(r.arrived for r in server.data_calls())
    assert len(times) == 12
    gaps = [later - earlier for earlier, later in zip(times, times[5:], strict=False)]
    assert min(gaps) > 0.9, f"more than 5 requests started within a second: {gaps}"
    assert took > 2.0  # 12 requests at 5 per second need at least two full windows
    capsys.readouterr()


def test_max_rate_in_the_python_api_and_its_bounds():
    from p44_magic import P44Client, P44UsageError

    with pytest.raises(P44UsageError, match="max_rate = -1: it must be 0 or more per second"):
        P44Client("id", "secret-value", base_url="http://127.0.0.1:9", max_rate=-1)
    with FaultServer(lambda conn: conn.reply(200, {"ok": True})) as server:
        with client_for(server, max_rate=2) as p44:
            for _ in range(5):
                p44.answer("GET", "/api/v4/x")
    times = sorted(r.arrived for r in server.data_calls())
    assert all(later - earlier > 0.9 for earlier, later in zip(times, times[2:], strict=False))


def test_each_errors_from_the_python_api_are_p44_errors():
    with ScriptedServer(with_tokens()) as server, client_for(server) as p44:
        with pytest.raises(P44Error, match="never uses"):
            p44.each("GET", "/api/v4/x", ["a"], name="sid")
        with pytest.raises(P44Error, match="no values"):
            p44.each("GET", "/api/v4/{{sid}}", [], name="sid")
        assert server.data_calls() == []


def test_an_interrupt_ends_the_waits_of_requests_told_to_retry_later(
    shell, capsys, sigint_as_in_a_kernel
):
    """Every answer is a 429 with Retry-After: 20, so at the interrupt every worker is waiting;
    the cell still ends at once, sending nothing more."""
    arrived: list[float] = []
    interrupt = Interrupt(after=1, delay=0.3)  # by then every request of the client waits

    def busy(got: Received) -> Reply:
        arrived.append(time.monotonic())
        interrupt.arrived()
        return Reply(429, {"errorMessage": "busy"}, headers={"Retry-After": "20"})

    with ScriptedServer(with_tokens(busy)) as server:
        assert log_in(shell, server.base_url).success
        shell.run_cell("%config P44Magics.progress = False")
        shell.run_cell("%config P44Magics.max_retry_after = 20")
        shell.user_ns["ids"] = list(range(50))
        result = shell.run_cell("%%p44 rows --each sid=ids\nGET /api/v4/things/{{sid}}")
        took = time.monotonic() - interrupt.at[0]
        interrupt.disarm()
    assert len(interrupt.at) == 1, "the first interrupt did not end the cell"
    assert not result.success and took < 1.0, f"the cell took {took:.1f} s after the interrupt"
    assert all(t < interrupt.at[0] for t in arrived)  # nothing was sent after the interrupt
    assert "Interrupted after 0 of 50 requests" in out_of(capsys)


def test_progress_is_one_bar_replaced_by_the_summary_line(shell, capsys, monkeypatch):
    shown: list = []
    monkeypatch.setattr("IPython.display.display", lambda *objs, **kw: shown.extend(objs))
    monkeypatch.setattr(shell, "kernel", object(), raising=False)  # as in a notebook
    with FaultServer(mixed) as server:
        assert log_in(shell, server.base_url).success
        shell.user_ns["ids"] = ["a", "b", "missing-1"]
        assert shell.run_cell(f"%%p44 events --each sid=ids\nGET {HISTORY}").success
    bars = [w for w in shown if type(w).__name__ == "HBox"]
    assert len(bars) == 1  # one bar for the whole call, none per request
    bar, label = bars[0].children
    assert (bar.value, bar.max) == (3, 3)
    assert label.value == "3/3, 4 rows, 1 failed"  # "requests" is the description, shown once
    assert bars[0].comm is None and bar.comm is None  # closed: the summary line replaces it
    assert "events: 4 rows × 4 columns from 2 of 3 values; 1 failed" in out_of(capsys)


def test_on_a_terminal_the_bar_line_is_cleared_for_the_summary(shell, capsys, monkeypatch):
    import sys

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    with FaultServer(mixed) as server:
        assert log_in(shell, server.base_url).success
        shell.run_cell("%config P44Magics.max_concurrency = 1")  # one at a time: 1/2, then 2/2
        shell.user_ns["ids"] = ["a", "b"]
        assert shell.run_cell(f"%%p44 events --each sid=ids\nGET {HISTORY}").success
    captured = capsys.readouterr()
    assert "requests 1/2, 2 rows" in captured.err
    assert captured.err.endswith("\r") and "\n" not in captured.err.split("requests 1/2")[1]
    assert "events: 4 rows × 4 columns from 2 values" in captured.out


def test_answers_of_other_shapes_join_with_the_plain_ones_in_value_order():
    answers = {
        "a": {"items": [{"x": 1, "at": "2026-01-02T03:04:05Z"}]},
        "b": {"items": [7, 8]},  # not objects: framed on their own, then joined
        "c": {"items": [{"x": 3, "nested": {"z": 1}, "at": "2026-01-02T03:04:05+0000"}]},
        "d": {"items": []},
    }

    def reply(got: Received) -> Reply:
        return Reply(200, answers[got.path.rsplit("/", 1)[1]])

    with ScriptedServer(with_tokens(reply)) as server, client_for(server) as p44:
        result = p44.each(
            "GET", "/api/v4/things/{{k}}", list(answers), name="k", record_path="items"
        )
        alone = {k: p44.frame("GET", f"/api/v4/things/{k}", record_path="items") for k in "abc"}
    frame = result.frame
    assert list(frame["k"]) == ["a", "b", "b", "c"] and frame.columns[0] == "k"
    expected = pd.concat(
        [alone[k].assign(k=k)[["k", *alone[k].columns]] for k in "abc"], ignore_index=True
    )
    pd.testing.assert_frame_equal(frame, expected, check_dtype=False)
    assert str(frame["at"].dtype).endswith(", UTC]")  # parsed once, on the joined column


def test_any_iterable_of_values_works_from_python_but_a_mapping_or_text_does_not():
    with ScriptedServer(with_tokens()) as server, client_for(server) as p44:
        result = p44.each("GET", "/api/v4/things/{{k}}", (k for k in "ab"), name="k")
        assert list(result.frame["k"]) == ["a", "b"]
        assert list(p44.each("GET", "/api/v4/t/{{k}}", {"x": 1}.keys(), name="k").answers) == ["x"]
        for bad, kind in (({"x": 1}, "dict"), ("ab", "str"), (b"ab", "bytes"), (5, "int")):
            with pytest.raises(P44Error, match=f"that is a {kind}, not a list of values"):
                p44.each("GET", "/api/v4/things/{{k}}", bad, name="k")


def test_a_note_from_one_value_names_it_in_every_kind_of_each():
    # issue 21, item 6: rows, --raw / --tables (answers) and --all-pages alike
    def answers(got: Received) -> Reply:
        info = [{"severity": "WARNING", "message": "delayed"}] if "/b/" in got.path else []
        if "search" in got.path:
            return Reply(
                200, {"paginationInfo": {"total": 1}, "results": [{"n": 1}], "infoMessages": info}
            )
        return Reply(200, {"shipment": {"id": "x"}, "events": [], "infoMessages": info})

    with ScriptedServer(with_tokens(answers)) as server, client_for(server) as p44:
        for options in ({}, {"tables": True}, {"all_pages": True}):
            path = (
                "/api/v4/x/{{sid}}/search?page=1&pageSize=1"
                if options.get("all_pages")
                else ("/api/v4/x/{{sid}}/history")
            )
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                p44.each("GET", path, ["a", "b"], name="sid", **options)
            notes = [str(w.message) for w in caught]
            assert any(note.startswith("sid='b': project44 WARNING: delayed") for note in notes), (
                options,
                notes,
            )
