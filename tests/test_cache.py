"""The answer cache through the Python API, over real HTTP to loopback servers: what answers
from it, what is kept and under which key, resuming a fan-out, paging, the age limit, offline,
the size bound, file permissions, and that the file never holds a credential."""

from __future__ import annotations

import base64
import json
import sqlite3
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from p44_magic import P44Error, P44Interrupted
from p44_magic.cache import Store, store_at
from tests.servers import (
    CLIENT_ID,
    SECRET,
    Reply,
    ScriptedServer,
    TokenIssuer,
    client_for,
    with_tokens,
)


def positions(got) -> Reply:
    shipment = got.path.split("/")[4]
    return Reply(200, {"shipment": {"id": shipment}, "positions": [{"latitude": 1.0}]})


@pytest.fixture
def cache_file(tmp_path) -> Path:
    return tmp_path / "cache.sqlite"


@pytest.fixture
def server():
    with ScriptedServer(with_tokens(positions)) as running:
        yield running


def test_a_fresh_entry_answers_and_nothing_is_sent(server, cache_file):
    with client_for(server, cache="on", cache_path=str(cache_file)) as p44:
        first = p44.frame("GET", "/api/v4/shipments/a1/positionhistory")
        assert not p44.last_exchange.from_cache
        again = p44.frame("GET", "/api/v4/shipments/a1/positionhistory")
        assert p44.last_exchange.from_cache
        assert p44.last_exchange.fetched_at is not None
    assert len(server.data_calls()) == 1
    assert first.equals(again)


def test_the_key_sorts_the_query_and_reads_the_body_as_json(cache_file):
    def search(got) -> Reply:
        return Reply(200, {"paginationInfo": {"total": 1}, "results": [{"id": 1}]})

    with ScriptedServer(with_tokens(search)) as server:
        with client_for(server, cache_path=str(cache_file)) as p44:
            path = "/api/v4/inventory/orders/search"
            p44.frame("POST", path + "?page=1&pageSize=5", json={"a": 1, "b": [1, 2]}, cache=True)
            p44.frame(
                "POST",
                path,
                params={"pageSize": 5, "page": 1},
                content='{ "b": [1,2],\n"a":1}',
                cache=True,
            )
            assert p44.last_exchange.from_cache
            p44.frame("POST", path + "?page=1&pageSize=5", json={"a": 2}, cache=True)
            assert not p44.last_exchange.from_cache
    assert len(server.data_calls()) == 2


def test_two_tenants_never_share_an_entry(server, cache_file):
    for client_id in ("tenant-one", "tenant-two"):
        with client_for(server, cache="on", cache_path=str(cache_file)) as p44:
            p44.session.client_id = client_id  # same server, another client application
            p44.frame("GET", "/api/v4/shipments/a1/positionhistory")
            assert not p44.last_exchange.from_cache
    assert len(server.data_calls()) == 2


def test_only_successful_gets_and_searches_are_kept_unless_the_call_asks(cache_file):
    def answer(got) -> Reply:
        if "missing" in got.path:
            return Reply(404, {"httpStatusCode": 404, "errorMessage": "nope"})
        return Reply(200, {"rateQuotes": [{"total": 1}]})

    with ScriptedServer(with_tokens(answer)) as server:
        with client_for(server, cache="on", cache_path=str(cache_file)) as p44:
            quotes = "/api/v4/ltl/quotes/rates/query"
            for _ in range(2):  # a POST that is no search: not kept with the setting alone
                p44.frame("POST", quotes, json={"x": 1})
            for _ in range(2):  # asked for on the call: kept
                p44.frame("POST", quotes, json={"x": 2}, cache=True)
            for _ in range(2):
                with pytest.raises(P44Error):
                    p44.frame("GET", "/api/v4/missing")
            for _ in range(2):  # PUT and DELETE change things: never kept
                p44.answer("DELETE", "/api/v4/webhooks/1", cache=True)
    assert [r.path for r in server.data_calls()].count(quotes) == 3
    assert len(server.data_calls()) == 3 + 2 + 2


def test_an_entry_older_than_the_age_limit_is_fetched_again(server, cache_file):
    with client_for(server, cache_path=str(cache_file)) as p44:
        p44.frame("GET", "/api/v4/shipments/a1/positionhistory", cache=True)
        with sqlite3.connect(cache_file) as db:
            db.execute("UPDATE entries SET fetched_at = fetched_at - 3600")
        p44.frame("GET", "/api/v4/shipments/a1/positionhistory", cache="2h")
        assert p44.last_exchange.from_cache
        p44.frame("GET", "/api/v4/shipments/a1/positionhistory", cache="30m")
        assert not p44.last_exchange.from_cache
        p44.frame("GET", "/api/v4/shipments/a1/positionhistory", cache="30m")
        assert p44.last_exchange.from_cache  # the fetch replaced the old entry
    assert len(server.data_calls()) == 2


def test_refresh_fetches_and_overwrites(server, cache_file):
    with client_for(server, cache_path=str(cache_file)) as p44:
        for choice in (True, "refresh", True):
            p44.frame("GET", "/api/v4/shipments/a1/positionhistory", cache=choice)
        assert p44.last_exchange.from_cache
    assert len(server.data_calls()) == 2


def test_offline_answers_only_from_the_cache_and_a_miss_names_the_request(server, cache_file):
    with client_for(server, cache_path=str(cache_file)) as p44:
        p44.frame("GET", "/api/v4/shipments/a1/positionhistory", cache=True)
        p44.frame("GET", "/api/v4/shipments/a1/positionhistory", cache="offline")
        with pytest.raises(P44Error) as caught:
            p44.frame("GET", "/api/v4/shipments/zz9/positionhistory?b=2&a=1", cache="offline")
    assert str(caught.value).splitlines()[0] == (
        "GET /api/v4/shipments/zz9/positionhistory?a=1&b=2 is not in the cache "
        "(offline: nothing was sent)."
    )
    assert len(server.data_calls()) == 1


def test_an_interrupted_each_resumes_where_it_stopped(server, cache_file):
    ids = [f"s{n:03d}" for n in range(300)]

    def interrupt_at_120(done, total, rows, failures):
        if done == 120:
            raise KeyboardInterrupt

    path = "/api/v4/shipments/{{sid}}/positionhistory"
    with client_for(server, cache="on", cache_path=str(cache_file), max_concurrency=1) as p44:
        with pytest.raises(P44Interrupted):
            p44.each("GET", path, ids, name="sid", progress=interrupt_at_120)
        assert len(server.data_calls()) == 120
        p44.configure(max_concurrency=8)
        result = p44.each("GET", path, ids, name="sid")
    assert len(server.data_calls()) == 300  # the re-run sent 180
    assert list(result.frame["sid"]) == ids


def test_all_pages_keeps_each_page(cache_file):
    def search(got) -> Reply:
        page = int(got.path.split("page=")[1].split("&")[0])
        rows = [{"id": (page - 1) * 10 + n} for n in range(10)]
        return Reply(200, {"paginationInfo": {"total": 30, "page": page}, "results": rows})

    with ScriptedServer(with_tokens(search)) as server:
        with client_for(server, cache_path=str(cache_file)) as p44:
            path = "/api/v4/inventory/orders/search?page=1&pageSize=10"
            first = p44.frame("POST", path, json={}, all_pages=True, cache=True)
            sent = len(server.data_calls())
            again = p44.frame("POST", path, json={}, all_pages=True, cache=True)
    # three pages, and those of pages 4-8 that went out with page 1 before it said there
    # are three (the request names its page size); the re-run sends nothing
    assert 3 <= sent <= p44.max_concurrency and len(server.data_calls()) == sent
    assert list(again["id"]) == list(first["id"]) == list(range(30))


def test_past_the_size_limit_the_oldest_entries_go_first(server, cache_file):
    big = {"positions": [{"note": "x" * 200_000}]}

    with ScriptedServer(with_tokens(Reply(200, big))) as big_server:
        with client_for(big_server, cache="on", cache_path=str(cache_file), cache_max_mb=1) as p44:
            for n in range(12):
                p44.answer("GET", f"/api/v4/shipments/b{n}/positionhistory")
    store = store_at(cache_file, 1)
    kept = store.summary()[0]
    assert 0 < kept["entries"] < 12
    assert kept["bytes"] <= 1 << 20
    with sqlite3.connect(cache_file) as db:
        targets = [row[0] for row in db.execute("SELECT target FROM entries ORDER BY fetched_at")]
    assert targets[-1] == "/api/v4/shipments/b11/positionhistory"  # the newest stayed


def test_the_cache_file_is_readable_by_its_owner_only(server, tmp_path):
    where = tmp_path / "private" / "cache.sqlite"
    with client_for(server, cache="on", cache_path=str(where)) as p44:
        p44.frame("GET", "/api/v4/shipments/a1/positionhistory")
    for path in (where, where.with_name("cache.sqlite-wal")):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(where.parent.stat().st_mode) == 0o700


def test_the_cache_file_holds_no_credential_after_renewals_and_echoes(tmp_path):
    """A server that echoes the Authorization header (in the body and in headers), tokens
    renewed twice: the database file and its WAL hold no secret and no token."""
    issuer = TokenIssuer()
    echo_headers: dict[str, str] = {}

    def echo(got) -> Reply:
        sent = got.headers.get("authorization", "")
        echo_headers.update({"X-Echo": sent, "Set-Cookie": f"s={sent}", "Authorization": sent})
        body = {"positions": [{"auth": sent, "escaped": sent.replace("/", "\\/")}]}
        return Reply(200, body, headers=dict(echo_headers))

    where = tmp_path / "cache.sqlite"
    with ScriptedServer(with_tokens(echo, issuer)) as server:
        with client_for(server, cache="on", cache_path=str(where)) as p44:
            for n in range(3):
                p44.frame("GET", f"/api/v4/shipments/e{n}/positionhistory", cache="snapshot")
                p44.invalidate_token()  # the next request renews
            p44.frame("POST", "/api/v4/inventory/orders/search", json={"q": SECRET}, cache=True)
    assert issuer.fetches >= 3
    tokens = [f"tok-{n}-s3cr3t" for n in range(1, issuer.fetches + 1)]
    basic = base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
    files = [path for path in tmp_path.iterdir() if path.name.startswith("cache.sqlite")]
    assert any(path.name.endswith("-wal") for path in files)
    for path in files:
        data = path.read_bytes()
        for credential in (SECRET, basic, *tokens, "s3cr3t"):
            assert credential.encode() not in data, (path.name, credential)
    with sqlite3.connect(where) as db:
        stored = [json.loads(row[0]) for row in db.execute("SELECT headers FROM entries")]
    assert all("Set-Cookie" not in h and "Authorization" not in h for h in stored)
    assert all(h.get("X-Echo") == "Bearer ********" for h in stored if "X-Echo" in h)


def _writer(path: str, worker: int, count: int) -> None:
    from p44_magic.cache import Entry, Store

    store = Store(path)
    for n in range(count):
        body = json.dumps({"worker": worker, "n": n, "pad": "p" * (n * 37 % 5000)}).encode()
        for key in (f"shared-{n}", f"own-{worker}-{n}"):
            store.put(Entry(key, "id", "GET", f"/x/{n}", 200, {}, body, time.time()))
        seen = store.get(f"shared-{n}")
        assert seen is not None and json.loads(seen.body)["n"] == n  # whole, never half
    store.close()


def test_two_processes_share_one_cache_file_and_lose_nothing(tmp_path):
    """Two kernels (processes) writing the same keys and their own at once."""
    where = str(tmp_path / "cache.sqlite")
    Store(where).close()
    root = Path(__file__).resolve().parent.parent
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                f"from tests.test_cache import _writer; _writer({where!r}, {w}, 150)",
            ],
            cwd=root,
        )
        for w in (1, 2)
    ]
    for process in workers:
        assert process.wait(timeout=120) == 0
    store = Store(where)
    with sqlite3.connect(where) as db:
        keys = {row[0] for row in db.execute("SELECT key FROM entries")}
    assert keys == {f"shared-{n}" for n in range(150)} | {
        f"own-{w}-{n}" for w in (1, 2) for n in range(150)
    }
    for key in keys:
        entry = store.get(key)
        assert entry is not None and json.loads(entry.body)["n"] == int(key.rsplit("-", 1)[1])
    store.close()


def test_a_bad_cache_choice_is_a_short_error(server, cache_file):
    with client_for(server, cache_path=str(cache_file)) as p44:
        with pytest.raises(P44Error, match="not an age"):
            p44.frame("GET", "/api/v4/x", cache="fortnight")
    with pytest.raises(P44Error, match="unknown cache mode"):
        client_for(server, cache="sometimes")


def test_a_large_answer_echoing_the_token_is_kept_scrubbed_and_never_framed_raw(tmp_path):
    """An answer over 1 MB that echoes Authorization: its body is kept scrubbed, and no frame is
    kept from the raw bytes (a re-run frames the scrubbed body)."""
    issuer = TokenIssuer()

    def echo(got) -> Reply:
        sent = got.headers.get("authorization", "")
        return Reply(200, [{"n": n, "auth": sent, "pad": "p" * 600} for n in range(2_000)])

    where = tmp_path / "cache.sqlite"
    with ScriptedServer(with_tokens(echo, issuer)) as server:
        with client_for(server, cache_path=str(where)) as p44:
            p44.frame("GET", "/api/v4/echo", cache=True)
            again = p44.frame("GET", "/api/v4/echo", cache=True)  # framed from the kept body
            third = p44.frame("GET", "/api/v4/echo", cache=True)  # from the frame kept then
    assert set(again["auth"]) == {"Bearer ********"}
    assert third.equals(again) and len(server.data_calls()) == 1
    for path in tmp_path.iterdir():
        assert b"tok-1-s3cr3t" not in path.read_bytes(), path.name


def test_a_create_is_sent_not_answered_from_a_copy(cache_file):
    made = []

    def create(got) -> Reply:
        made.append(got)
        return Reply(200, {"id": f"created-{len(made)}"})

    with ScriptedServer(with_tokens(create)) as server:
        with client_for(server, cache="on", cache_path=str(cache_file)) as p44:
            first = p44.answer("POST", "/api/v4/shipments", json={"a": 1}, cache="refresh")
            second = p44.answer("POST", "/api/v4/shipments", json={"a": 1})
            assert not p44.last_exchange.from_cache
            offline = p44.answer("POST", "/api/v4/shipments", json={"a": 1}, cache="offline")
    assert (first, second, offline) == ({"id": "created-1"}, {"id": "created-2"}, first)
