"""Faults on the wire: the client never hangs, never loops, never returns partial data as whole,
never leaks a credential, and always says clearly what went wrong.

Every case ends in the right answer after bounded retries, or in one short P44Error (a short
``UsageError`` without a traceback through the magics). All servers are raw sockets on loopback
(see ``tests/fault_servers.py``) so that the faults are real: resets, short bodies, silence.
"""

from __future__ import annotations

import base64
import email.utils
import threading
import time
from collections import Counter
from urllib.parse import parse_qs, urlsplit

import pytest

from p44_magic import (
    P44AuthError,
    P44ConnectionError,
    P44Error,
    P44HTTPError,
    P44PagingError,
    P44TimeoutError,
    P44UsageError,
    P44Warning,
)
from p44_magic.client import Wanted
from p44_magic.request import HttpRequest
from tests.fault_servers import (
    TOKEN_PATH,
    Behaviour,
    Conn,
    FaultServer,
    FullBacklog,
    answer,
    bad_gzip,
    close_at_once,
    free_port,
    head_bytes,
    in_turn,
    issue_token,
    never_answer,
    reset_in_status_line,
    reset_mid_body,
    short_body,
)
from tests.servers import CLIENT_ID, SECRET, SECRET_VARIABLE, client_for, log_in, login_cell

BASIC = base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
ROWS = [{"n": 1}, {"n": 2}]
THINGS = HttpRequest("GET", "/api/v4/faults/things")
SEARCH = "/api/v4/faults/orders/search?page=1&pageSize=10"
NOT_IN_MESSAGES = (SECRET, BASIC, "s3cr3t", "Traceback", "<html", "<body", "httpx.", "httpcore")


def assert_clear(error: BaseException, *words: str) -> str:
    """One short P44Error that names the problem and leaks nothing."""
    assert isinstance(error, P44Error), type(error)
    text = str(error)
    assert len(text) < 700 and len(text.splitlines()) <= 6, text
    for bad in NOT_IN_MESSAGES:
        assert bad not in text, f"{bad!r} in {text!r}"
    for word in words:
        assert word in text, f"{word!r} not in {text!r}"
    return text


def garbage_status_line(conn: Conn) -> None:
    conn.send(b"HELLO THERE\r\n\r\n")


def drip(conn: Conn) -> None:
    """A 200 that promises 100 000 bytes and sends one every 0.1 s (for at most 6 s)."""
    conn.send(head_bytes(200, {"Content-Type": "application/json"}, 100_000) + b"[")
    for _ in range(60):
        if conn.server.stopping.wait(0.1):
            return
        conn.send(b" ")


def drip_headers(conn: Conn) -> None:
    """A status line, then a header that never ends, one byte every 0.1 s (for at most 6 s)."""
    conn.send(b"HTTP/1.1 200 OK\r\nX-Slow: ")
    for _ in range(60):
        if conn.server.stopping.wait(0.1):
            return
        conn.send(b"z")


BROKEN_CONNECTIONS = {
    "closed before the status line": close_at_once,
    "reset inside the status line": reset_in_status_line,
    "garbage instead of a status line": garbage_status_line,
    "reset mid-body": reset_mid_body,
    "body shorter than Content-Length": short_body,
    "gzip body that is not gzip": bad_gzip,
}
broken = pytest.mark.parametrize(
    "fault", list(BROKEN_CONNECTIONS.values()), ids=list(BROKEN_CONNECTIONS)
)


# -- connections ---------------------------------------------------------------------------


def test_connection_refused_is_one_clear_error_at_once():
    port = free_port()
    with client_for(f"http://127.0.0.1:{port}") as p44:
        for call in (p44.login, lambda: p44.request("GET", "/api/v4/faults/things")):
            started = time.monotonic()
            with pytest.raises(P44ConnectionError) as caught:
                call()
            assert time.monotonic() - started < 2
            assert_clear(caught.value, "Could not connect", f"127.0.0.1:{port}")


@broken
def test_get_on_a_broken_connection_is_retried_then_a_connection_error(fault):
    with FaultServer(fault) as server, client_for(server, retries=2) as p44:
        with pytest.raises(P44ConnectionError) as caught:
            p44.frame("GET", "/api/v4/faults/things")
        assert_clear(caught.value, "GET", "/api/v4/faults/things")
        assert len(server.data_calls()) == 3  # retries + 1, then stop
        assert len(server.token_calls()) == 1


@broken
def test_get_on_a_connection_that_breaks_once_gets_the_whole_answer(fault):
    rows = [{"n": i} for i in range(50)]
    with FaultServer(in_turn(fault, answer(200, rows))) as server, client_for(server) as p44:
        frame = p44.frame("GET", "/api/v4/faults/things")
        assert frame["n"].tolist() == list(range(50))
        assert len(server.data_calls()) == 2


@broken
def test_post_on_a_broken_connection_is_never_resent(fault):
    with FaultServer(fault) as server, client_for(server, retries=3) as p44:
        with pytest.raises(P44ConnectionError) as caught:
            p44.request("POST", "/api/v4/faults/create", json={"ref": "A-1"})
        assert_clear(caught.value, "POST", "not resent")
        assert len(server.data_calls()) == 1
        assert server.data_calls()[0].body == b'{"ref": "A-1"}'


def test_a_token_endpoint_that_drops_the_connection_is_retried_then_a_connection_error():
    with FaultServer(answer(200, ROWS), token=reset_in_status_line) as server:
        with client_for(server, retries=2) as p44, pytest.raises(P44ConnectionError) as caught:
            p44.login()
        assert_clear(caught.value)
        assert len(server.token_calls()) == 3 and not server.data_calls()


# -- timeouts ------------------------------------------------------------------------------


def within(limit: float, call):
    """Run ``call`` in a thread; fail the test if it has no outcome within ``limit`` seconds.

    A call that hangs is left behind: it ends when its server stops at the end of the test.
    Returns ``(result, error, elapsed)``.
    """
    outcome: dict = {}

    def run() -> None:
        started = time.monotonic()
        try:
            outcome["result"] = call()
        except BaseException as error:  # noqa: BLE001 - handed to the test
            outcome["error"] = error
        outcome["elapsed"] = time.monotonic() - started

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(limit)
    if thread.is_alive():
        pytest.fail(f"hung: no answer and no error within {limit} s", pytrace=False)
    return outcome.get("result"), outcome.get("error"), outcome["elapsed"]


TIMEOUT, RETRIES = 0.3, 2
BOUND = TIMEOUT * (RETRIES + 1) + 1.0
# In these tests the client is closed only after an outcome: closing it while a call hangs
# would wait for that call. The servers stop first, which ends a hung call.


def test_a_server_that_never_answers_is_a_timeout_within_the_bound():
    p44 = None
    with FaultServer(never_answer) as server:
        p44 = client_for(server, timeout=TIMEOUT)
        p44.login()
        _, error, elapsed = within(BOUND, lambda: p44.request("GET", "/api/v4/faults/things"))
    p44.close()
    assert isinstance(error, P44TimeoutError) and elapsed < BOUND
    assert_clear(error, "No answer within 0.3 s", "GET")


def test_login_to_a_token_endpoint_that_never_answers_is_a_timeout_within_the_bound():
    with FaultServer(answer(200, ROWS), token=never_answer) as server:
        p44 = client_for(server, timeout=TIMEOUT, retries=RETRIES)
        _, error, elapsed = within(BOUND, p44.login)
    p44.close()
    assert isinstance(error, P44TimeoutError) and elapsed < BOUND
    assert_clear(error, "within 0.3 s")


def test_a_first_request_whose_token_endpoint_never_answers_is_a_timeout_within_the_bound():
    with FaultServer(answer(200, ROWS), token=never_answer) as server:
        p44 = client_for(server, timeout=TIMEOUT, retries=RETRIES)
        _, error, elapsed = within(BOUND, lambda: p44.frame("GET", "/api/v4/faults/things"))
        assert not server.data_calls()
    p44.close()
    assert isinstance(error, P44TimeoutError) and elapsed < BOUND, error
    assert_clear(error, "within 0.3 s")


def test_a_token_renewal_that_never_answers_is_a_timeout_within_the_bound():
    def data(conn: Conn) -> None:
        conn.reply(200, ROWS) if conn.call == 1 else conn.reply(401)

    with FaultServer(data, token=in_turn(issue_token, never_answer)) as server:
        p44 = client_for(server, timeout=TIMEOUT, retries=RETRIES)
        assert p44.answer("GET", "/api/v4/faults/things") == ROWS
        _, error, elapsed = within(BOUND, lambda: p44.answer("GET", "/api/v4/faults/things"))
    p44.close()
    assert isinstance(error, P44TimeoutError) and elapsed < BOUND, error
    assert_clear(error, "within 0.3 s")


@pytest.mark.parametrize("call", ["login", "request"])
def test_a_host_that_never_accepts_is_a_connect_timeout_within_the_bound(call):
    with FullBacklog() as silent:
        p44 = client_for(silent, timeout=TIMEOUT)
        if call == "login":
            _, error, elapsed = within(BOUND, p44.login)
        else:
            _, error, elapsed = within(BOUND, lambda: p44.request("GET", "/api/v4/faults/x"))
    p44.close()
    assert isinstance(error, P44TimeoutError) and elapsed < BOUND
    assert_clear(error, "No connect within 0.3 s")


def test_a_redirect_to_a_silent_server_is_a_timeout_within_the_bound():
    with FaultServer(never_answer) as silent:
        moved = answer(307, headers={"Location": silent.url("/elsewhere", host="localhost")})
        with FaultServer(moved) as server:
            p44 = client_for(server, timeout=TIMEOUT)
            _, error, elapsed = within(BOUND, lambda: p44.request("GET", "/api/v4/faults/things"))
    p44.close()
    assert isinstance(error, P44TimeoutError) and elapsed < BOUND
    assert_clear(error, "within 0.3 s")


@pytest.mark.parametrize("fault", [drip, drip_headers], ids=["body", "headers"])
def test_an_answer_that_trickles_forever_is_cut_off_within_the_bound(fault):
    """Each byte arrives well within the read timeout, but the answer never ends."""
    with FaultServer(fault) as server:
        p44 = client_for(server, timeout=TIMEOUT, retries=0)
        p44.login()
        _, error, elapsed = within(2.5, lambda: p44.request("GET", "/api/v4/faults/things"))
    p44.close()
    assert isinstance(error, P44Error) and elapsed < 2.5
    assert_clear(error)


@pytest.mark.parametrize(
    "fault, call", [(drip, "request"), (drip_headers, "login")], ids=["body", "headers"]
)
def test_a_token_answer_that_trickles_forever_is_cut_off_within_the_bound(fault, call):
    with FaultServer(answer(200, ROWS), token=fault) as server:
        p44 = client_for(server, timeout=TIMEOUT, retries=0)
        if call == "login":
            _, error, elapsed = within(2.5, p44.login)
        else:
            _, error, elapsed = within(2.5, lambda: p44.request("GET", "/api/v4/faults/x"))
    p44.close()
    assert isinstance(error, P44Error) and elapsed < 2.5
    assert_clear(error)


# -- 5xx, 429 and Retry-After --------------------------------------------------------------

SERVER_ERRORS = [500, 502, 503, 504, 520]


@pytest.mark.parametrize("status", SERVER_ERRORS)
def test_5xx_on_get_is_retried_until_success(status):
    flaky = in_turn(answer(status, {"errorMessage": "busy"}), answer(status), answer(200, ROWS))
    with FaultServer(flaky) as server, client_for(server, retries=2) as p44:
        assert p44.answer("GET", "/api/v4/faults/things") == ROWS
        assert len(server.data_calls()) == 3


@pytest.mark.parametrize("status", SERVER_ERRORS)
def test_5xx_on_get_that_persists_is_one_http_error_after_bounded_retries(status):
    failing = answer(status, {"errorMessage": "upstream failed", "supportReferenceId": "ref-9"})
    with FaultServer(failing) as server, client_for(server, retries=2) as p44:
        with pytest.raises(P44HTTPError) as caught:
            p44.request("GET", "/api/v4/faults/things")
        assert len(server.data_calls()) == 3
    error = caught.value
    assert error.status_code == status and error.attempts == 3
    assert_clear(error, f"HTTP {status}", "upstream failed", "ref-9", "Tried 3 times")


@pytest.mark.parametrize("status", SERVER_ERRORS)
def test_5xx_on_post_is_never_resent(status):
    with FaultServer(answer(status, {"errorMessage": "boom"})) as server:
        with client_for(server, retries=3) as p44, pytest.raises(P44HTTPError) as caught:
            p44.request("POST", "/api/v4/faults/create", json={"ref": "A-1"})
        assert len(server.data_calls()) == 1
    assert caught.value.status_code == status and caught.value.attempts == 1
    assert_clear(caught.value, f"HTTP {status}", "boom")


@pytest.mark.parametrize("status", [*SERVER_ERRORS, 429])
@pytest.mark.parametrize(
    "retry_after",
    ["0", email.utils.formatdate(time.time() - 60, usegmt=True)],
    ids=["seconds", "http-date"],
)
def test_retry_after_now_retries_at_once(status, retry_after):
    flaky = in_turn(answer(status, headers={"Retry-After": retry_after}), answer(200, ROWS))
    with FaultServer(flaky) as server, client_for(server, backoff=5) as p44:
        result = p44.call(THINGS, Wanted("answer"))
        assert result.value == ROWS
        calls = server.data_calls()
    assert len(calls) == 2 and calls[1].arrived - calls[0].arrived < 0.5  # not the 5 s backoff
    assert result.notes == []


def test_retry_after_in_seconds_is_waited_for():
    flaky = in_turn(answer(503, headers={"Retry-After": "1"}), answer(200, ROWS))
    with FaultServer(flaky) as server, client_for(server, max_retry_after=5) as p44:
        started = time.monotonic()
        result = p44.call(THINGS, Wanted("answer"))
        assert result.value == ROWS
        elapsed = time.monotonic() - started
        calls = server.data_calls()
    assert calls[1].arrived - calls[0].arrived >= 0.9 and elapsed < 3
    assert result.notes == []


def test_retry_after_as_an_http_date_is_waited_for():
    soon = email.utils.formatdate(time.time() + 2, usegmt=True)  # 1 to 2 s from now
    flaky = in_turn(answer(503, headers={"Retry-After": soon}), answer(200, ROWS))
    with FaultServer(flaky) as server, client_for(server, max_retry_after=5) as p44:
        started = time.monotonic()
        assert p44.answer("GET", "/api/v4/faults/things") == ROWS
        elapsed = time.monotonic() - started
        calls = server.data_calls()
    assert calls[1].arrived - calls[0].arrived >= 0.5 and elapsed < 3.5


@pytest.mark.parametrize(
    "retry_after, asked",
    [
        ("86400", "asked to wait 86400 s"),
        (email.utils.formatdate(time.time() + 7 * 86400, usegmt=True), "wait 6"),  # ~604 800 s
    ],
    ids=["seconds", "http-date"],
)
def test_a_huge_retry_after_is_capped_and_the_user_is_told(retry_after, asked):
    flaky = in_turn(answer(503, headers={"Retry-After": retry_after}), answer(200, ROWS))
    with FaultServer(flaky) as server, client_for(server, max_retry_after=0.2) as p44:
        started = time.monotonic()
        result = p44.call(THINGS, Wanted("answer"))
        assert result.value == ROWS
        assert time.monotonic() - started < 1.5
        assert len(server.data_calls()) == 2
    assert len(result.notes) == 1
    assert "Retry-After" in result.notes[0] and asked in result.notes[0]
    again = in_turn(answer(503, headers={"Retry-After": retry_after}), answer(200, ROWS))
    with FaultServer(again) as server, client_for(server, max_retry_after=0.2) as p44:
        with pytest.warns(P44Warning, match="Retry-After"):  # the Python API's way to tell
            assert p44.answer("GET", "/api/v4/faults/things") == ROWS


@pytest.mark.parametrize("retry_after", ["soon", "", "-5", "1.5e9999", "Mon, 99 Foo 2026"])
def test_a_retry_after_that_makes_no_sense_falls_back_to_backoff(retry_after):
    flaky = in_turn(answer(503, headers={"Retry-After": retry_after}), answer(200, ROWS))
    with FaultServer(flaky) as server, client_for(server) as p44:
        started = time.monotonic()
        assert p44.answer("GET", "/api/v4/faults/things") == ROWS
        assert time.monotonic() - started < 1.5
        assert len(server.data_calls()) == 2


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_burst_of_429_then_200_succeeds_for_any_method(method):
    burst = [answer(429, {"errorMessage": "slow down"}, {"Retry-After": "0"})] * 3
    with FaultServer(in_turn(*burst, answer(200, ROWS))) as server:
        with client_for(server, retries=3) as p44:
            assert p44.answer(method, "/api/v4/faults/create") == ROWS
        assert len(server.data_calls()) == 4
        assert {r.body for r in server.data_calls()} == {b""}


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_nothing_but_429_is_an_http_error_after_retries_plus_one_attempts(method):
    with FaultServer(answer(429, {"errorMessage": "slow down"})) as server:
        with client_for(server, retries=2) as p44, pytest.raises(P44HTTPError) as caught:
            p44.request(method, "/api/v4/faults/create")
        assert len(server.data_calls()) == 3
    assert caught.value.status_code == 429 and caught.value.attempts == 3
    assert_clear(caught.value, "HTTP 429", "rate limiting")


# -- answers that are not what they claim ----------------------------------------------------


def test_truncated_json_is_never_a_partial_frame():
    """Issue 14: an answer that says it is JSON and is cut off fails the cell (a Run All
    stops there) instead of coming back as text; P44Client.answer (--raw) gives the text."""
    raw = '[{"n": 1}, {"n": 2}, {"n'
    with FaultServer(answer(200, raw, content_type="application/json")) as server:
        with client_for(server) as p44:
            with pytest.raises(P44Error) as caught:
                p44.frame("GET", "/api/v4/faults/things")
            assert str(caught.value).startswith(
                "The answer says it is JSON (application/json) but is not valid JSON: "
                "Input data was truncated (24 bytes)."
            )
            assert "cut off on the way: run the cell again" in str(caught.value)
            assert p44.answer("GET", "/api/v4/faults/things") == raw


@pytest.mark.parametrize("raw", ['{"a": 1,}', "[1, 2", '{"a": tru}', "{{}}", "[\x00]"])
def test_malformed_json_with_a_json_content_type_is_an_error_except_as_the_raw_answer(raw):
    with FaultServer(answer(200, raw, content_type="application/json")) as server:
        with client_for(server) as p44:
            with pytest.raises(P44Error, match="says it is JSON .* but is not valid JSON"):
                p44.frame("GET", "/api/v4/faults/things")
            assert p44.last_exchange.body == raw  # kept as it came, for a look
            assert p44.answer("GET", "/api/v4/faults/things") == raw


def test_json_labelled_text_plain_is_still_json():
    with FaultServer(answer(200, '[{"n": 1}, {"n": 2}]', content_type="text/plain")) as server:
        with client_for(server) as p44:
            frame = p44.frame("GET", "/api/v4/faults/things")
            assert frame["n"].tolist() == [1, 2]


HTML = (
    "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
    "<body><h1>502 Bad Gateway</h1><p>nginx</p><script>var x = 1;</script></body></html>"
)


@pytest.mark.parametrize("status", [502, 404])
def test_an_html_error_page_is_an_http_error_without_the_html(status):
    with FaultServer(answer(status, HTML, content_type="text/html")) as server:
        with client_for(server, retries=1) as p44, pytest.raises(P44HTTPError) as caught:
            p44.frame("GET", "/api/v4/faults/things")
        assert len(server.data_calls()) == (2 if status == 502 else 1)
    text = assert_clear(caught.value, f"HTTP {status}")
    assert "<" not in text and "nginx" not in text and "script" not in text


def test_a_plain_text_error_is_quoted_in_one_line():
    body = "upstream connect error or disconnect/reset before headers\n" + "detail " * 400
    with FaultServer(answer(502, body)) as server:
        with client_for(server, retries=0) as p44, pytest.raises(P44HTTPError) as caught:
            p44.request("GET", "/api/v4/faults/things")
    assert_clear(caught.value, "HTTP 502", "upstream connect error")


@pytest.mark.parametrize(
    "status, body", [(200, b""), (200, b"  \r\n "), (204, b"")], ids=["empty", "blank", "204"]
)
def test_an_empty_answer_is_none(status, body):
    with FaultServer(answer(status, body, content_type="application/json")) as server:
        with client_for(server) as p44:
            assert p44.frame("GET", "/api/v4/faults/things") is None
            assert p44.answer("GET", "/api/v4/faults/things") is None


def test_a_gzip_body_that_does_not_decompress_is_a_connection_error_not_an_httpx_one():
    with FaultServer(bad_gzip) as server, client_for(server, retries=1) as p44:
        with pytest.raises(P44ConnectionError) as caught:
            p44.answer("GET", "/api/v4/faults/things")
        assert len(server.data_calls()) == 2
    assert_clear(caught.value, "GET")


# -- the token endpoint --------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 520])
def test_token_endpoint_5xx_is_retried_then_an_auth_error(status):
    with FaultServer(answer(200, ROWS), token=answer(status, HTML, content_type="text/html")) as s:
        with client_for(s, retries=2) as p44, pytest.raises(P44AuthError) as caught:
            p44.frame("GET", "/api/v4/faults/things")
        assert len(s.token_calls()) == 3 and not s.data_calls()
    assert caught.value.status_code == status
    assert_clear(caught.value, f"HTTP {status}", "Login failed")


def test_token_endpoint_5xx_once_then_a_token_succeeds():
    token = in_turn(answer(503), answer(200, {"access_token": "tok-2-s3cr3t"}))
    with FaultServer(answer(200, ROWS), token=token) as server, client_for(server) as p44:
        assert p44.answer("GET", "/api/v4/faults/things") == ROWS
        assert server.data_calls()[0].bearer == "tok-2-s3cr3t"


@pytest.mark.parametrize(
    "token",
    [
        answer(200, {"token_type": "BEARER", "expires_in": 43200}),
        answer(200, {"access_token": ""}),
        answer(200, {"access_token": 12345}),
        answer(200, ["not", "an", "object"]),
        answer(200, "hello, this is not JSON"),
        answer(200, HTML, content_type="text/html"),
        answer(200, b""),
    ],
    ids=["missing", "empty", "number", "list", "text", "html", "no-body"],
)
def test_token_answer_200_without_a_usable_access_token(token):
    with FaultServer(answer(200, ROWS), token=token) as server, client_for(server) as p44:
        with pytest.raises(P44AuthError) as caught:
            p44.login()
        assert len(server.token_calls()) == 1  # no point retrying a 200
    assert_clear(caught.value, "without an access_token")


@pytest.mark.parametrize(
    "status, body, words",
    [
        (
            401,
            {
                "error": "invalid_client",
                "error_description": "The client secret supplied for a confidential client "
                "is invalid",
            },
            ["HTTP 401", "invalid_client", "confidential client is invalid", "client id"],
        ),
        (
            400,
            {"error": "invalid_request", "error_description": "Missing grant_type parameter"},
            ["HTTP 400", "invalid_request", "Missing grant_type parameter"],
        ),
        (400, {"error": "unsupported_grant_type"}, ["HTTP 400", "unsupported_grant_type"]),
        (403, {"errorMessage": "Client is disabled"}, ["HTTP 403", "Client is disabled"]),
        (401, HTML, ["HTTP 401"]),
    ],
    ids=["401-invalid_client", "400-invalid_request", "400-no-description", "403", "401-html"],
)
@pytest.mark.parametrize("style", ["basic", "form"])
def test_token_refusals_say_what_the_server_said_and_are_not_retried(status, body, words, style):
    kind = {"content_type": "text/html"} if isinstance(body, str) else {}
    with FaultServer(answer(200, ROWS), token=answer(status, body, **kind)) as server:
        with (
            client_for(server, auth=style, retries=3) as p44,
            pytest.raises(P44AuthError) as caught,
        ):
            p44.request("GET", "/api/v4/faults/things")
        assert len(server.token_calls()) == 1 and not server.data_calls()
    assert caught.value.status_code == status
    text = assert_clear(caught.value, *words)
    assert "<" not in text


def test_a_fresh_token_the_data_api_rejects_is_renewed_once_then_a_clear_401():
    unauthorized = {"httpStatusCode": 401, "errorMessage": "Unauthorized"}
    with FaultServer(answer(401, unauthorized)) as server, client_for(server) as p44:
        with pytest.raises(P44HTTPError) as caught:
            p44.request("GET", "/api/v4/faults/things")
        data = server.data_calls()
        assert len(server.token_calls()) == 2 and len(data) == 2
        assert [r.bearer for r in data] == ["tok-1-s3cr3t", "tok-2-s3cr3t"]
    assert caught.value.status_code == 401
    assert_clear(caught.value, "HTTP 401", "roles")


# -- redirects -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "status, method",
    [(301, "GET"), (302, "GET"), (303, "GET"), (307, "GET"), (308, "GET"), (307, "POST")],
)
def test_a_redirect_to_another_host_arrives_without_authorization(status, method):
    body = {"a": 1} if method == "POST" else None
    with FaultServer(answer(200, [{"elsewhere": True}])) as other:
        target = other.url("/landing", host="localhost")  # another host, same machine
        with FaultServer(answer(status, headers={"Location": target})) as server:
            with client_for(server) as p44:
                got = p44.answer(method, "/api/v4/faults/things", json=body)
                assert got == [{"elsewhere": True}]
            assert server.data_calls()[0].bearer == "tok-1-s3cr3t"
        arrived = other.received
        assert [r.path for r in arrived] == ["/landing"]
        assert "authorization" not in arrived[0].headers
        assert all(SECRET not in str(r) and "s3cr3t" not in str(r) for r in arrived)
        if method == "POST":
            assert arrived[0].body == b'{"a": 1}'  # 307 keeps the body, but never the token


@pytest.mark.parametrize("status", [301, 302, 307, 308])
@pytest.mark.parametrize("style", ["basic", "form"])
def test_a_redirected_token_request_never_carries_the_secret_to_another_host(status, style):
    stolen = answer(200, {"access_token": "stolen", "expires_in": 1})
    with FaultServer(stolen, token=stolen) as other:
        location = other.url(TOKEN_PATH, host="localhost")
        redirect = answer(status, headers={"Location": location})
        with FaultServer(answer(200, ROWS), token=redirect) as server:
            with client_for(server, auth=style) as p44, pytest.raises(P44AuthError) as caught:
                p44.login()
            with client_for(server, auth=style) as p44, pytest.raises(P44AuthError):
                p44.request("GET", "/api/v4/faults/things")  # the same through the auth flow
            home = server.token_calls()[0]
            assert (BASIC in home.headers.get("authorization", "")) == (style == "basic")
            assert (SECRET.encode() in home.body) == (style == "form")
        for arrived in other.received:
            assert BASIC not in arrived.headers.get("authorization", "")
            assert SECRET.encode() not in arrived.body
            assert SECRET not in arrived.path
        assert not server.data_calls()
    assert caught.value.status_code == status
    assert_clear(caught.value, f"HTTP {status}")


def test_a_redirect_on_one_host_keeps_the_token_and_a_loop_is_bounded():
    def data(conn: Conn) -> None:
        if conn.request.path == "/api/v4/faults/old":
            return conn.reply(301, headers={"Location": "/api/v4/faults/new"})
        if conn.request.path == "/api/v4/faults/loop":
            return conn.reply(302, headers={"Location": "/api/v4/faults/loop"})
        return conn.reply(200, {"auth": conn.request.headers.get("authorization", "")})

    with FaultServer(data) as server, client_for(server) as p44:
        assert p44.answer("GET", "/api/v4/faults/old") == {"auth": "Bearer tok-1-s3cr3t"}
        assert [r.path for r in server.data_calls()] == ["/api/v4/faults/old", "/api/v4/faults/new"]
        started = time.monotonic()
        with pytest.raises(P44ConnectionError) as caught:
            p44.request("GET", "/api/v4/faults/loop")
        assert time.monotonic() - started < 2
        loops = [r for r in server.data_calls() if r.path == "/api/v4/faults/loop"]
        assert len(loops) == 6  # the request and 5 redirects
    assert_clear(caught.value, "Too many redirects")


def test_an_absolute_url_on_another_host_is_refused():
    with FaultServer(answer(200, [])) as server, client_for(server) as p44:
        with pytest.raises(P44UsageError, match="requests go only to"):
            p44.request("GET", "http://localhost:1/api/v4/faults/things")
        assert p44.request("GET", server.url("/api/v4/faults/things")).status_code == 200
        assert len(server.data_calls()) == 1  # the refused one was never sent


def test_a_redirect_loop_between_two_hosts_is_bounded():
    ports: dict[str, int] = {}

    def to_b(conn: Conn) -> None:
        conn.reply(307, headers={"Location": f"http://localhost:{ports['b']}/b"})

    def to_a(conn: Conn) -> None:
        conn.reply(307, headers={"Location": f"http://127.0.0.1:{ports['a']}/a"})

    with FaultServer(to_b) as a, FaultServer(to_a) as b:
        ports.update(a=a.port, b=b.port)
        with client_for(a) as p44, pytest.raises(P44ConnectionError) as caught:
            p44.request("POST", "/api/v4/faults/create", json={"x": 1})
        assert len(a.data_calls()) + len(b.data_calls()) == 6
        assert all("authorization" not in r.headers for r in b.received)
    assert_clear(caught.value, "Too many redirects")


# -- paging --------------------------------------------------------------------------------


def page_number(conn: Conn) -> int:
    return int(parse_qs(urlsplit(conn.request.path).query)["page"][0])


def pages_of(total: int, *, shown_total=None, short_page: int | None = None) -> Behaviour:
    """A search endpoint over ``total`` rows ``{"n": i}`` with page/pageSize paging."""
    rows = [{"n": i, "at": f"2026-11-{i % 28 + 1:02d}T10:00:00Z"} for i in range(total)]

    def run(conn: Conn) -> None:
        query = parse_qs(urlsplit(conn.request.path).query)
        page, size = int(query["page"][0]), int(query["pageSize"][0])
        chunk = rows[(page - 1) * size : page * size]
        if page == short_page:
            chunk = chunk[:-1]
        said = shown_total(page) if shown_total else total
        conn.reply(200, {"paginationInfo": {"total": said, "pageSize": size}, "results": chunk})

    return run


def fail_page(inner: Behaviour, page: int, fault: Behaviour, times: int | None = None):
    """``fault`` for the first ``times`` requests of ``page`` (always when None)."""
    seen: Counter[int] = Counter()
    lock = threading.Lock()

    def run(conn: Conn) -> None:
        number = page_number(conn)
        with lock:
            seen[number] += 1
            count = seen[number]
        if number == page and (times is None or count <= times):
            return fault(conn)
        return inner(conn)

    return run


@pytest.mark.parametrize(
    "fault",
    [answer(500, {"errorMessage": "x"}), answer(429), reset_mid_body, short_body, bad_gzip],
    ids=["500", "429", "reset", "short", "gzip"],
)
def test_a_page_that_fails_once_is_retried_and_every_row_arrives_in_order(fault):
    with FaultServer(fail_page(pages_of(95), 3, fault, times=1)) as server:
        with client_for(server, max_concurrency=4) as p44:
            frame = p44.frame("POST", SEARCH, json={}, all_pages=True)
            joined = p44.all_pages("POST", SEARCH, json={})
        assert frame["n"].tolist() == list(range(95))
        assert frame["at"].dt.tz is not None
        assert [row["n"] for row in joined["results"]] == list(range(95))
        assert len([r for r in server.data_calls() if "page=3&" in r.path]) == 3  # 2 + 1 retry


@pytest.mark.parametrize(
    "fault, sent, words",
    [
        (answer(500, {"errorMessage": "boom"}), 2, "page 4 of 10 failed"),
        (answer(503), 2, "page 4 of 10 failed"),
        (reset_mid_body, 2, "page 4 of 10 failed"),
        (answer(404, {"errorMessage": "gone"}), 1, "page 4 of 10 failed"),
        (answer(200, [1, 2]), 1, "page 4 is not a"),
    ],
    ids=["500", "503", "reset", "404", "not-a-page"],
)
def test_a_page_that_keeps_failing_fails_the_whole_call_naming_the_page(fault, sent, words):
    """``sent``: the requests for the failing page in one call (a search is retried once)."""

    def page_4_calls() -> int:
        return len([r for r in server.data_calls() if "page=4&" in r.path])

    with FaultServer(fail_page(pages_of(95), 4, fault)) as server:
        with client_for(server, retries=1) as p44:
            for call in (
                lambda: p44.frame("POST", SEARCH, json={}, all_pages=True),
                lambda: p44.all_pages("POST", SEARCH, json={}),
            ):
                before = page_4_calls()
                with pytest.raises(P44PagingError) as caught:
                    call()
                assert_clear(caught.value, "page 4", words)
                assert page_4_calls() - before == sent


def test_a_page_that_times_out_fails_the_whole_call_within_the_bound():
    timeout = 0.3
    with FaultServer(fail_page(pages_of(95), 2, never_answer)) as server:
        with client_for(server, timeout=timeout, retries=1) as p44:
            started = time.monotonic()
            with pytest.raises(P44PagingError) as caught:
                p44.frame("POST", SEARCH, json={}, all_pages=True)
            assert time.monotonic() - started < timeout * 2 + 1.5
    assert_clear(caught.value, "page 2 of 10", "0.3 s")


def test_total_changing_between_pages_fails_the_whole_call():
    behaviour = pages_of(95, shown_total=lambda page: 95 if page < 6 else 96)
    with FaultServer(behaviour) as server, client_for(server) as p44:
        with pytest.raises(P44PagingError) as caught:
            p44.frame("POST", SEARCH, json={}, all_pages=True)
    assert_clear(caught.value, "total changed from 95 to 96")


def test_a_page_with_fewer_rows_than_promised_fails_the_whole_call():
    with FaultServer(pages_of(95, short_page=5)) as server, client_for(server) as p44:
        for call in (
            lambda: p44.frame("POST", SEARCH, json={}, all_pages=True),
            lambda: p44.all_pages("POST", SEARCH, json={}),
        ):
            with pytest.raises(P44PagingError) as caught:
                call()
            assert_clear(caught.value, "got 94 rows", "promised 95")


def test_a_first_page_without_a_total_is_a_paging_error():
    no_total = answer(200, {"paginationInfo": {}, "results": ROWS})
    with FaultServer(no_total) as server, client_for(server) as p44:
        with pytest.raises(P44PagingError) as caught:
            p44.frame("POST", SEARCH, json={}, all_pages=True)
    assert_clear(caught.value, "paginationInfo.total")


# -- what a POST may and may not do ----------------------------------------------------------


def test_post_is_resent_exactly_once_after_a_401_with_a_new_token():
    def data(conn: Conn) -> None:
        if conn.request.bearer == "tok-1-s3cr3t":
            return conn.reply(401, {"errorMessage": "token expired"})
        return conn.reply(200, {"id": "shipment-1"})

    with FaultServer(data) as server, client_for(server) as p44:
        assert p44.answer("POST", "/api/v4/faults/create", json={"ref": "A-1"}) == {
            "id": "shipment-1"
        }
        calls = server.data_calls()
        assert [r.bearer for r in calls] == ["tok-1-s3cr3t", "tok-2-s3cr3t"]
        assert [r.body for r in calls] == [b'{"ref": "A-1"}'] * 2
        assert len(server.token_calls()) == 2


def test_post_after_a_401_then_a_5xx_is_not_resent_again():
    responses = in_turn(answer(401), answer(502), answer(200, ROWS))
    with FaultServer(responses) as server, client_for(server, retries=3) as p44:
        with pytest.raises(P44HTTPError) as caught:
            p44.request("POST", "/api/v4/faults/create", json={"ref": "A-1"})
        assert len(server.data_calls()) == 2
    assert caught.value.status_code == 502


# -- through the magics --------------------------------------------------------------------


@pytest.fixture
def magic_shell(shell):
    """The shell with short timeouts and few retries (the shell fixture puts %config back)."""
    for line in (
        "P44Magics.timeout = 0.5",
        "P44Magics.retries = 1",
        "P44Magics.max_retry_after = 0.2",
    ):
        shell.run_line_magic("config", line)
    shell.user_ns[SECRET_VARIABLE] = SECRET
    return shell


def failed_cell(shell, capsys, source: str, *words: str) -> str:
    started = time.monotonic()
    result = shell.run_cell(source)
    elapsed = time.monotonic() - started
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert result.success is False, text
    assert elapsed < 5, f"the cell took {elapsed:.1f} s"
    assert "UsageError" in text
    assert len(text.strip().splitlines()) <= 6, text
    for bad in NOT_IN_MESSAGES:
        assert bad not in text, f"{bad!r} in {text!r}"
    for word in words:
        assert word in text, f"{word!r} not in {text!r}"
    return text


def test_magic_login_to_nothing_fails_the_cell_clearly(magic_shell, capsys):
    failed_cell(magic_shell, capsys, login_cell(f"http://127.0.0.1:{free_port()}"), "connect")


@pytest.mark.parametrize(
    "token, words",
    [
        (answer(503, HTML, content_type="text/html"), ["Login failed", "HTTP 503"]),
        (never_answer, ["within 0.5 s"]),
        (answer(200, {"hello": "world"}), ["without an access_token"]),
        (
            answer(401, {"error": "invalid_client", "error_description": "Bad client secret"}),
            ["invalid_client", "Bad client secret"],
        ),
    ],
    ids=["503", "silent", "no-token", "401"],
)
def test_magic_login_against_a_faulty_token_endpoint(magic_shell, capsys, token, words):
    with FaultServer(answer(200, ROWS), token=token) as server:
        failed_cell(magic_shell, capsys, login_cell(server.base_url), *words)
    assert magic_shell.magics_manager.registry["P44Magics"].client is None


@pytest.mark.parametrize(
    "data, cell, words",
    [
        (never_answer, "%p44 GET /api/v4/faults/things", ["No answer within 0.5 s"]),
        (reset_mid_body, "%p44 GET /api/v4/faults/things", ["connection broke", "GET"]),
        (
            answer(502, HTML, content_type="text/html"),
            "%p44 GET /api/v4/faults/things",
            ["HTTP 502", "Tried 2 times"],
        ),
        (
            answer(302, headers={"Location": "/api/v4/faults/things"}),
            "%p44 GET /api/v4/faults/things",
            ["Too many redirects"],
        ),
        (answer(401), "%p44 GET /api/v4/faults/things", ["HTTP 401", "roles"]),
        (
            fail_page(pages_of(95), 2, answer(500)),
            f"%%p44 orders --all-pages\nPOST {SEARCH}\nContent-Type: application/json\n\n{{}}",
            ["page 2 of 10 failed"],
        ),
        (
            short_body,
            '%%p44\nPOST /api/v4/faults/create\nContent-Type: application/json\n\n{"a": 1}',
            ["connection broke", "not resent"],
        ),
    ],
    ids=["silent", "reset", "html-502", "redirect-loop", "401", "paging", "post-short-body"],
)
def test_magic_requests_against_faulty_servers(magic_shell, capsys, data, cell, words):
    with FaultServer(data) as server:
        assert log_in(magic_shell, server.base_url).success
        capsys.readouterr()
        failed_cell(magic_shell, capsys, cell, *words)
        assert "orders" not in magic_shell.user_ns  # no partial result stored
