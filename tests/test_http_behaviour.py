"""P44Client's HTTP rules against scripted loopback servers: retries, redirects, hosts, paging."""

from __future__ import annotations

import email.utils
import time
from urllib.parse import parse_qs, urlsplit

import pytest

from p44_magic import (
    P44Client,
    P44ConnectionError,
    P44HTTPError,
    P44PagingError,
    P44UsageError,
)
from tests.servers import TOKEN_PATH, Received, Reply, ScriptedServer, TokenIssuer


def with_tokens(data, issuer: TokenIssuer | None = None):
    issuer = issuer or TokenIssuer()

    def handle(got: Received) -> Reply:
        return issuer.issue() if got.path == TOKEN_PATH else data(got)

    return handle


def data_calls(server: ScriptedServer) -> list[Received]:
    return [r for r in server.received if r.path != TOKEN_PATH]


def client(server: ScriptedServer, **kw) -> P44Client:
    return P44Client("c", "secret-xyz", base_url=server.base_url, backoff=0.01, **kw)


def flaky(status: int, failures: int, headers: dict[str, str] | None = None):
    calls = {"n": 0}

    def data(got: Received) -> Reply:
        calls["n"] += 1
        if calls["n"] <= failures:
            return Reply(status, {"errorMessage": "busy"}, headers=headers or {})
        return Reply(200, [{"ok": 1}])

    return data


def test_429_is_retried_honouring_retry_after_seconds():
    with ScriptedServer(with_tokens(flaky(429, 2, {"Retry-After": "0"}))) as server:
        with client(server) as p44:
            assert p44.request("POST", "/api/v4/tl/shipments").status_code == 200
        assert len(data_calls(server)) == 3


def test_retry_after_as_http_date_and_a_huge_one_is_capped_and_told():
    soon = email.utils.formatdate(time.time() + 1, usegmt=True)
    with ScriptedServer(with_tokens(flaky(503, 1, {"Retry-After": soon}))) as server:
        with client(server) as p44:
            started = time.monotonic()
            assert p44.request("GET", "/api/v4/x").status_code == 200
            assert time.monotonic() - started < 3
    with ScriptedServer(with_tokens(flaky(503, 1, {"Retry-After": "86400"}))) as server:
        with client(server, max_retry_after=0.2) as p44:
            assert p44.request("GET", "/api/v4/x").status_code == 200
            assert "asked to wait 86400 s" in p44.notices[0]


def test_5xx_retried_for_get_but_never_for_post():
    with ScriptedServer(with_tokens(flaky(502, 2))) as server:
        with client(server) as p44:
            assert p44.request("GET", "/api/v4/x").status_code == 200
        assert len(data_calls(server)) == 3
    with ScriptedServer(with_tokens(flaky(502, 2))) as server:
        with client(server) as p44, pytest.raises(P44HTTPError) as caught:
            p44.request("POST", "/api/v4/tl/shipments", json={"a": 1})
        assert caught.value.status_code == 502
        assert len(data_calls(server)) == 1


def test_retries_are_bounded():
    with ScriptedServer(with_tokens(flaky(503, 100))) as server:
        with client(server, retries=2) as p44, pytest.raises(P44HTTPError) as caught:
            p44.request("GET", "/api/v4/x")
        assert caught.value.attempts == 3 and len(data_calls(server)) == 3


def test_absolute_url_on_another_host_is_refused():
    with ScriptedServer(with_tokens(lambda got: Reply(200, []))) as server:
        with client(server) as p44:
            with pytest.raises(P44UsageError, match="requests go only to"):
                p44.request("GET", "http://localhost:1/api/v4/x")
            assert p44.request("GET", server.base_url + "/api/v4/x").status_code == 200


def test_redirect_to_another_host_arrives_without_authorization():
    with ScriptedServer(lambda got: Reply(200, [{"elsewhere": True}])) as other:
        target = f"http://localhost:{other.port}/landing"

        def data(got: Received) -> Reply:
            return Reply(307, None, headers={"Location": target})

        with ScriptedServer(with_tokens(data)) as server, client(server) as p44:
            answer = p44.answer("POST", "/api/v4/x", json={"a": 1})
            assert answer == [{"elsewhere": True}]
            assert data_calls(server)[0].headers["authorization"].startswith("Bearer ")
        arrived = other.received[0]
        assert "authorization" not in arrived.headers
        assert arrived.body == b'{"a": 1}'  # 307 keeps the body, but never the token


def test_same_host_redirect_keeps_the_token_and_loops_are_bounded():
    def data(got: Received) -> Reply:
        if got.path == "/api/v4/old":
            return Reply(301, None, headers={"Location": "/api/v4/new"})
        if got.path == "/api/v4/loop":
            return Reply(302, None, headers={"Location": "/api/v4/loop"})
        return Reply(200, {"auth": got.headers.get("authorization", "")})

    with ScriptedServer(with_tokens(data)) as server, client(server) as p44:
        assert p44.answer("GET", "/api/v4/old")["auth"].startswith("Bearer tok-")
        with pytest.raises(P44ConnectionError, match="Too many redirects"):
            p44.request("GET", "/api/v4/loop")
        assert len([r for r in server.received if r.path == "/api/v4/loop"]) == 6


def paged(total: int, size_key: str = "pageSize", change_total_on: int | None = None):
    rows = [{"n": i} for i in range(total)]

    def data(got: Received) -> Reply:
        query = parse_qs(urlsplit(got.path).query)
        page, size = int(query["page"][0]), int(query[size_key][0])
        shown_total = total + 1 if page == change_total_on else total
        chunk = rows[(page - 1) * size : page * size]
        return Reply(200, {"paginationInfo": {"total": shown_total}, "results": chunk})

    return data


def test_all_pages_joins_in_page_order_with_size_or_page_size():
    for key in ("pageSize", "size"):
        with ScriptedServer(with_tokens(paged(1234, key))) as server, client(server) as p44:
            frame = p44.frame(
                "POST", f"/api/v4/inventory/items/search?page=1&{key}=100", all_pages=True
            )
            assert frame["n"].tolist() == list(range(1234))
            assert len(data_calls(server)) == 13


def test_changing_total_fails_the_whole_call():
    with ScriptedServer(with_tokens(paged(500, change_total_on=3))) as server:
        with client(server) as p44, pytest.raises(P44PagingError, match="total changed"):
            p44.frame("POST", "/api/v4/inventory/orders/search?page=1&pageSize=100", all_pages=True)


def test_a_page_that_keeps_failing_fails_the_call_and_names_it():
    inner = paged(500)

    def data(got: Received) -> Reply:
        if "page=4&" in got.path:
            return Reply(500, {"errorMessage": "boom"})
        return inner(got)

    with ScriptedServer(with_tokens(data)) as server:
        with client(server, retries=1) as p44, pytest.raises(P44PagingError) as caught:
            p44.frame("POST", "/api/v4/inventory/orders/search?page=1&pageSize=100", all_pages=True)
        assert "page 4 of 5 failed" in str(caught.value)
        assert len([r for r in data_calls(server) if "page=4&" in r.path]) == 2  # retried once


def test_short_pages_are_caught():
    def data(got: Received) -> Reply:
        return Reply(200, {"paginationInfo": {"total": 300}, "results": [{"n": 1}] * 50})

    with ScriptedServer(with_tokens(data)) as server:
        with client(server) as p44, pytest.raises(P44PagingError, match="promised 300"):
            p44.frame("POST", "/api/v4/inventory/orders/search?page=1&pageSize=100", all_pages=True)


def test_all_pages_keeps_repeated_parameters_and_refuses_a_bad_page():
    with ScriptedServer(with_tokens(paged(150))) as server, client(server) as p44:
        path = "/api/v4/inventory/orders/search?status=A&status=B&page=1&pageSize=100"
        assert len(p44.frame("POST", path, all_pages=True)) == 150
        assert all("status=A&status=B" in r.path for r in data_calls(server))
        with pytest.raises(P44UsageError, match="not a whole number"):
            p44.all_pages("POST", "/api/v4/inventory/orders/search?page=abc&pageSize=10")
