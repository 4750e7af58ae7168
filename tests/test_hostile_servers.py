"""Hostile servers and careless input, third round (issue 20): each class of the review, over
real HTTP to misbehaving servers on 127.0.0.1 and the demo API."""

from __future__ import annotations

import itertools
import json
import logging
import socket
import time
import tracemalloc
import warnings
import zlib
from urllib.parse import urlsplit

import pytest

from p44_magic import (
    P44AuthError,
    P44ConnectionError,
    P44HTTPError,
    P44PagingError,
    P44UsageError,
    P44Warning,
)
from tests.fault_servers import Conn, FaultServer, answer, head_bytes, issue_token
from tests.servers import (
    SECRET,
    TOKEN_PATH,
    Received,
    Reply,
    ScriptedServer,
    TokenIssuer,
    client_for,
    log_in,
    with_tokens,
)

ESC = "\x1b"
HISTORY = "/api/v4/shipments/{{sid}}/tracking/history"


def echoing_reason(conn: Conn) -> None:
    """403 whose reason phrase and a header echo the bearer token, the reason 10,000 long."""
    token = conn.request.bearer
    reason = f"Denied for Bearer {token} " + "x" * 10_000
    body = json.dumps({"errorMessage": "denied"}).encode()
    head = head_bytes(403, {"Content-Type": "application/json", "X-Echo": f"Bearer {token}"}, None)
    head = head.replace(b"403 Forbidden", b"403 " + reason.encode(), 1)
    conn.send(head.replace(b"\r\n\r\n", f"\r\nContent-Length: {len(body)}\r\n\r\n".encode()) + body)


def tokens_of(server) -> set[str]:
    tokens = {r.bearer for r in server.data_calls() if r.bearer}
    assert tokens, "no token was used, so the check would prove nothing"
    return tokens


# -- 1-3: credentials shown, kept or logged ----------------------------------------------------


def test_an_echoing_reason_phrase_and_header_are_scrubbed_and_bounded(shell, capsys):
    with FaultServer(echoing_reason) as server:
        with client_for(server, retries=0) as p44, pytest.raises(P44HTTPError) as caught:
            p44.frame("GET", "/api/v4/things")
        kept = p44.last_exchange
        assert log_in(shell, server.base_url).success
        shell.user_ns["ids"] = ["a", "b"]
        shell.run_cell("%config P44Magics.progress = False")
        shell.run_cell(f"%%p44 rows --each sid=ids\nGET {HISTORY}")
        tokens = tokens_of(server)
    error = caught.value
    shown = [str(error), error.reason, repr(kept.response_headers), kept.error or ""]
    shown += [capsys.readouterr().err, shell.user_ns["_p44_failures"].to_csv()]
    for text in shown:
        assert not any(token in text for token in tokens)
    assert len(str(error)) < 1_000 and len(error.reason) <= 80
    assert "********" in kept.response_headers["x-echo"]


def test_info_messages_are_cleaned_bounded_and_counted(shell, capsys):
    nasty = [
        {"severity": "WARNING", "message": f"{ESC}[31mred{ESC}[0m and {ESC}]52;c;ZXZpbA=={chr(7)}"},
        {"severity": "INFO", "message": "y" * 3_000},
        *({"severity": "INFO", "message": f"item {n}"} for n in range(2_000)),
    ]

    def data(got: Received) -> Reply:
        token = got.headers["authorization"].removeprefix("Bearer ")
        items = [{"severity": "INFO", "message": f"echo {token}"}, *nasty]
        return Reply(200, {"infoMessages": items, "rows": [{"n": 1}]})

    with ScriptedServer(with_tokens(data)) as server, client_for(server) as p44:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            p44.frame("GET", "/api/v4/things")
        texts = [str(w.message) for w in caught if issubclass(w.category, P44Warning)]
        assert log_in(shell, server.base_url).success
        assert shell.run_cell("x = %p44 GET /api/v4/things").success
        err = capsys.readouterr().err
        tokens = {r.headers["authorization"].removeprefix("Bearer ") for r in server.data_calls()}
    assert 2 <= len(texts) <= 6 and "more infoMessages" in texts[-1]
    for text in [*texts, err]:
        assert ESC not in text and chr(7) not in text
        assert not any(token in text for token in tokens)
    assert all(len(text) <= 320 for text in texts)
    assert len(err.splitlines()) <= 8


def test_an_error_body_with_json_escapes_is_masked_once_decoded():
    def escaped(conn: Conn) -> None:
        token = conn.request.bearer
        hidden = "".join(f"\\u{ord(c):04x}" for c in token)  # as PHP may write it
        body = '{"errorMessage": "no", "echo": "' + hidden + '", "slash": "a\\/' + hidden + '"}'
        conn.reply(400, body.encode(), content_type="application/json")

    with FaultServer(escaped) as server, client_for(server, retries=0) as p44:
        with pytest.raises(P44HTTPError) as caught:
            p44.answer("GET", "/api/v4/things")
        tokens = tokens_of(server)
        kept = json.dumps(p44.last_exchange.body) + json.dumps(caught.value.body)
    assert not any(token in kept for token in tokens) and "********" in kept


def test_httpx_and_httpcore_log_no_credential_at_debug(caplog):
    with caplog.at_level(logging.DEBUG):
        with FaultServer(echoing_reason) as server, client_for(server, retries=0) as p44:
            with pytest.raises(P44HTTPError):
                p44.answer("GET", "/api/v4/things")
            tokens = tokens_of(server)
    logged = caplog.text
    assert "HTTP Request" in logged and "receive_response_headers" in logged  # both logged
    assert not any(token in logged for token in tokens)
    assert SECRET not in logged


# -- 4: credentials go only where the line said ------------------------------------------------


def test_the_form_opens_on_the_base_url_given_and_sends_the_secret_only_there(shell, capsys):
    with ScriptedServer(with_tokens()) as server:
        assert shell.run_cell(f"%p44_login --base-url {server.base_url} --form").success
        form = shell.magics_manager.registry["P44Magics"].login_form
        assert form.environment.value == "custom" and form.base_url.value == server.base_url
        form.client_id.value, form.secret.value = "someone", "typed-s3cret-value"
        form.submit()
        assert form.logged_in and len(server.token_calls()) == 1
    capsys.readouterr()


# -- 5-8: data lost or wrong, reported as whole ------------------------------------------------


def mixed_answers(got: Received) -> Reply:
    sid = urlsplit(got.path).path.split("/")[4]
    if sid == "maint":
        return Reply(200, "<html><body>Down for maintenance</body></html>")
    if sid == "empty":
        return Reply(204)
    if sid == "list":
        return Reply(200, [])
    return Reply(200, {"shipment": {"id": sid}, "events": [{"eventType": "ARRIVED"}]})


def test_each_counts_a_non_json_or_non_tracking_answer_as_that_values_failure():
    with ScriptedServer(with_tokens(mixed_answers)) as server, client_for(server) as p44:
        rows = p44.each("GET", HISTORY, ["a", "maint", "b"], name="sid")
        tables = p44.each(
            "GET", HISTORY, ["a", "maint", "empty", "list", "b"], name="sid", tables=True
        )
    assert list(rows.failures["sid"]) == ["maint"] and "not JSON" in rows.failures["error"][0]
    assert set(rows.frame["sid"]) == {"a", "b"} and rows.succeeded == 2
    assert list(tables.failures["sid"]) == ["maint", "empty", "list"]
    assert list(tables.frame.shipment["sid"]) == ["a", "b"] and len(tables.frame.events) == 2


def test_a_search_that_repeats_its_pages_is_a_paging_error():
    def ignores_page(got: Received) -> Reply:
        rows = [{"n": n} for n in range(10)]  # the same ten rows, whatever the page
        return Reply(200, {"paginationInfo": {"total": 30}, "results": rows})

    with ScriptedServer(with_tokens(ignores_page)) as server, client_for(server) as p44:
        for max_pages in (None, 2):
            with pytest.raises(P44PagingError, match="repeats page 1"):
                p44.frame(
                    "GET",
                    "/api/v4/x/search?page=1&pageSize=10",
                    all_pages=True,
                    max_pages=max_pages,
                )


def test_p44_failures_always_describes_the_current_run(shell, capsys):
    def answers(got: Received) -> Reply:
        sid = urlsplit(got.path).path.split("/")[4]
        return Reply(404, {"errorMessage": "nope"}) if sid.startswith("bad") else Reply(200, [{}])

    with ScriptedServer(with_tokens(answers)) as server:
        assert log_in(shell, server.base_url).success
        shell.run_cell("%config P44Magics.progress = False")
        shell.user_ns.update(first=["bad-1", "ok"], second=["ok", "bad-2", "ok-2", "ok-3"])
        shell.run_cell(f"%%p44 a --each sid=first\nGET {HISTORY}")
        assert list(shell.user_ns["_p44_failures"]["sid"]) == ["bad-1"]
        shell.run_cell("%config P44Magics.max_concurrency = 1")
        assert not shell.run_cell(f"%%p44 b --strict --each sid=second\nGET {HISTORY}").success
        failures = shell.user_ns["_p44_failures"]
        assert list(failures["sid"]) == ["bad-2", "ok-2", "ok-3"]  # the failed, the untried
        assert failures["error"].str.startswith("not tried").tolist() == [False, True, True]
    capsys.readouterr()


def test_a_malformed_redirect_is_a_clean_error_for_that_value_only():
    def redirects(conn: Conn) -> None:
        if "bad" in conn.request.path:
            conn.send(head_bytes(302, {"Location": "http://xn--/"}, 0))
        else:
            conn.reply(200, [{"n": 1}])

    with FaultServer(redirects) as server, client_for(server) as p44:
        with pytest.raises(P44ConnectionError) as caught:
            p44.request("GET", "/api/v4/bad")
        assert caught.value.__traceback__ is None or "usable URL" in str(caught.value)
        result = p44.each("GET", "/api/v4/{{v}}", ["ok-1", "bad", "ok-2"], name="v")
    assert list(result.failures["v"]) == ["bad"] and list(result.frame["v"]) == ["ok-1", "ok-2"]
    assert "not a usable URL" in result.failures["error"][0]


# -- 9-12: unbounded work ----------------------------------------------------------------------


def test_a_refused_secret_is_sent_once_not_once_per_value(shell, capsys):
    issuer = TokenIssuer()
    refused = {"yes": False}

    def tokens_then_refusal(got: Received) -> Reply:
        if got.path == TOKEN_PATH and refused["yes"]:
            return Reply(401, {"error": "invalid_client", "error_description": "rotated"})
        return with_tokens(None, issuer)(got)

    with ScriptedServer(tokens_then_refusal) as server:
        assert log_in(shell, server.base_url).success
        shell.run_cell("%config P44Magics.progress = False")
        refused["yes"] = True
        issuer.fetches += 1  # the held token is now rejected: the holder must fetch again
        shell.user_ns["ids"] = [f"s{n}" for n in range(200)]
        result = shell.run_cell(f"%%p44 rows --each sid=ids\nGET {HISTORY}")
        token_calls = len(server.token_calls())
        assert not result.success and token_calls == 2  # the login, and one refused fetch
        failures = shell.user_ns["_p44_failures"]
        assert len(failures) == 200 and failures["error"].str.startswith("not tried").sum() > 150
        client = shell.magics_manager.registry["P44Magics"].client
        with pytest.raises(P44AuthError, match="refused"):
            client.answer("GET", "/api/v4/anything")
        assert len(server.token_calls()) == token_calls  # not sent again until a new login
        refused["yes"] = False
        client.login()
        assert len(server.token_calls()) == token_calls + 1
    out = capsys.readouterr().err
    assert "stopped at once" in out and out.count("Login failed") == 1


def test_a_rate_limit_that_ran_out_ends_the_run_early_listing_the_untried():
    def limited(got: Received) -> Reply:
        return Reply(429, {"errorMessage": "slow down"}, headers={"Retry-After": "0"})

    with ScriptedServer(with_tokens(limited)) as server:
        with client_for(server, retries=0, max_concurrency=2) as p44:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                result = p44.each("GET", "/api/v4/{{v}}", list(range(500)), name="v")
        sent = len(server.data_calls())
    assert sent <= 5 + 2
    assert len(result.failures) == 500 and "not tried" in result.failure_counts()
    notes = [str(w.message) for w in caught]
    assert any("stopped early" in note and "not tried" in note for note in notes)


def test_a_429_from_the_token_endpoint_holds_the_clients_requests():
    answered: list[float] = []

    def token(conn: Conn) -> None:
        if conn.call == 1:
            answered.append(time.monotonic())
            conn.reply(429, {"error": "slow_down"}, headers={"Retry-After": "1"})
        else:
            issue_token(conn)

    with FaultServer(answer(200, [{"n": 1}]), token=token) as server:
        with client_for(server, retries=0, max_retry_after=2.0) as p44:
            with pytest.raises(P44AuthError):
                p44.login()
            p44.frame("GET", "/api/v4/things")
        second_token = server.token_calls()[1].arrived
    assert second_token - answered[0] >= 0.9  # held by the gate, not sent at once


def _bomb(megabytes: int = 200) -> bytes:
    """gzip of ``megabytes`` MB of zeros (~1/1000 of it on the wire), made a MB at a time."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: the gzip format
    zeros = b"\0" * (1 << 20)
    return b"".join(packer.compress(zeros) for _ in range(megabytes)) + packer.flush()


BOMB = _bomb()


def gzip_bomb(conn: Conn, status: int = 200) -> None:
    payload = BOMB  # 200 MB of zeros once inflated
    head = head_bytes(
        status, {"Content-Type": "application/json", "Content-Encoding": "gzip"}, len(payload)
    )
    conn.send(head + payload)


def endless(conn: Conn) -> None:
    conn.send(
        head_bytes(200, {"Content-Type": "application/json", "Transfer-Encoding": "chunked"}, None)
    )
    chunk = b"10000\r\n" + b" " * 0x10000 + b"\r\n"
    while not conn.server.stopping.is_set():
        conn.send(chunk)


@pytest.mark.parametrize("token", [gzip_bomb, endless], ids=["gzip-bomb", "endless"])
def test_the_token_endpoints_answer_is_capped(token):
    with FaultServer(answer(200, [{"n": 1}]), token=token) as server:
        with client_for(server, retries=0, max_answer_mb=20) as p44:
            tracemalloc.start()
            started = time.monotonic()
            with pytest.raises(P44AuthError):
                p44.login()
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
    assert peak < 20 << 20 and time.monotonic() - started < 30


def test_a_401_answer_bomb_is_not_read_whole():
    def data(conn: Conn) -> None:
        if conn.call == 1:
            gzip_bomb(conn, 401)
        else:
            conn.reply(200, [{"n": 1}])

    with FaultServer(data) as server, client_for(server, retries=0) as p44:
        p44.login()
        tracemalloc.start()
        frame = p44.frame("GET", "/api/v4/things")
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert len(frame) == 1 and peak < 20 << 20


@pytest.mark.parametrize(
    "values",
    [itertools.count(), range(10**12), itertools.repeat("same")],
    ids=["count", "range", "repeat"],
)
def test_endless_values_are_refused_without_being_drained(values):
    with ScriptedServer(with_tokens()) as server, client_for(server, max_each=50) as p44:
        started = time.monotonic()
        with pytest.raises(P44UsageError, match="max_each|without ending"):
            p44.each("GET", "/api/v4/{{v}}", values, name="v")
        assert time.monotonic() - started < 20 and server.data_calls() == []


def test_the_demo_keeps_little_and_only_of_authenticated_requests(demo):
    import httpx

    before = len(demo.requests)
    with httpx.Client(base_url=demo.base_url, timeout=30) as http:
        for _ in range(5):  # anybody on this machine can post to the port
            http.post("/api/v4/inventory/orders/search", content=b"x" * (4 << 20))
        assert len(demo.requests) == before
        token = http.post(
            TOKEN_PATH,
            data={"grant_type": "client_credentials"},
            auth=(demo.client_id, demo.client_secret),
        ).json()["access_token"]
        http.post(
            "/api/v4/inventory/orders/search",
            headers={"Authorization": f"Bearer {token}"},
            content=b"{" + b" " * (2 << 20) + b"}",
        )
    from p44_magic.demo.server import MAX_RECORDED, MAX_RECORDED_BODY

    assert len(demo.requests) == before + 2  # the token request and the search
    assert len(demo.requests[-1].body) <= MAX_RECORDED_BODY and MAX_RECORDED <= 1_000


# -- 13-14: crashes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, value", [("timeout", "1e10"), ("max_answer_mb", "1e308"), ("login_wait", "1e10")]
)
def test_config_refuses_values_the_code_cannot_use(shell, caplog, capsys, name, value):
    magics = shell.magics_manager.registry["P44Magics"]
    before = getattr(magics, name)
    with caplog.at_level(logging.ERROR):
        result = shell.run_cell(f"%config P44Magics.{name} = {value}")
    captured = capsys.readouterr()
    shown = caplog.text + captured.out + captured.err
    assert not result.success
    assert f"P44Magics.{name}" in shown and "at most" in shown and "Traceback" not in shown
    assert getattr(magics, name) == before


def test_the_python_client_refuses_them_too():
    for name, value in (("timeout", 1e10), ("max_answer_mb", 1e308), ("retries", 10**9)):
        with pytest.raises(P44UsageError, match=name):
            client_for("http://127.0.0.1:9", **{name: value})


def test_a_client_leaving_the_demo_early_prints_nothing(demo, capfd):
    import httpx

    token = httpx.post(
        demo.base_url + TOKEN_PATH,
        data={"grant_type": "client_credentials"},
        auth=(demo.client_id, demo.client_secret),
    ).json()["access_token"]
    demo.latency = 0.3
    try:
        before = len(demo.requests)
        sock = socket.create_connection(("127.0.0.1", demo.port))
        sock.sendall(
            b"GET /api/v4/webhooks HTTP/1.1\r\nHost: x\r\n"
            + f"Authorization: Bearer {token}\r\n\r\n".encode()
        )
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        sock.close()  # gone before the answer (RST)
        deadline = time.monotonic() + 10
        while len(demo.requests) == before and time.monotonic() < deadline:
            time.sleep(0.02)  # the demo records the request once answered, then writes
        httpx.get(demo.base_url + "/api/v4/webhooks", headers={"Authorization": f"Bearer {token}"})
    finally:
        demo.latency = 0.0
    assert len(demo.requests) >= before + 1
    err = capfd.readouterr().err
    assert "Traceback" not in err and "BrokenPipe" not in err and "ConnectionReset" not in err
