"""The token holder against real HTTP: token request shape, reuse, renewal, single flight."""

from __future__ import annotations

import base64
import threading
from urllib.parse import parse_qs

import httpx
import pytest

from p44_magic import P44AuthError, P44Client, P44HTTPError, Secret, TokenHolder
from tests.servers import (
    CLIENT_ID,
    SECRET,
    TOKEN_PATH,
    Received,
    Reply,
    ScriptedServer,
    TokenIssuer,
    client_for,
    with_tokens,
)


@pytest.mark.parametrize("style", ["basic", "form"])
def test_token_request_has_the_documented_shape(style):
    issuer = TokenIssuer()
    with (
        ScriptedServer(with_tokens(issuer=issuer)) as server,
        client_for(server, auth=style) as p44,
    ):
        p44.login()
        token_call = server.received[0]
    assert token_call.method == "POST" and token_call.path == TOKEN_PATH
    assert token_call.headers["content-type"] == "application/x-www-form-urlencoded"
    form = parse_qs(token_call.body.decode())
    assert form["grant_type"] == ["client_credentials"]
    basic = token_call.headers.get("authorization")
    if style == "basic":
        assert basic == "Basic " + base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()
        assert "client_id" not in form and "client_secret" not in form
    else:
        assert basic is None
        assert form["client_id"] == [CLIENT_ID] and form["client_secret"] == [SECRET]


def test_one_token_serves_many_requests():
    issuer = TokenIssuer()
    with ScriptedServer(with_tokens(issuer=issuer)) as server, client_for(server) as p44:
        for _ in range(25):
            p44.request("GET", "/api/v4/x")
        assert issuer.fetches == 1
        assert p44.token_fetches == 1
        assert all(r.headers["authorization"] == "Bearer tok-1-s3cr3t" for r in server.data_calls())


def test_401_fetches_one_new_token_and_retries_once():
    issuer = TokenIssuer()
    with ScriptedServer(with_tokens(issuer=issuer)) as server, client_for(server) as p44:
        p44.request("GET", "/api/v4/x")
        server.handler = with_tokens(
            issuer=issuer, reject={issuer.current}
        )  # tok-1 is now rejected
        response = p44.request("GET", "/api/v4/x")
        assert response.status_code == 200
        assert issuer.fetches == 2
        assert [r.headers["authorization"] for r in server.data_calls()[-2:]] == [
            "Bearer tok-1-s3cr3t",
            "Bearer tok-2-s3cr3t",
        ]


def test_second_401_is_an_error_not_a_loop():
    issuer = TokenIssuer()
    with (
        ScriptedServer(with_tokens(issuer=issuer, always_401=True)) as server,
        client_for(server) as p44,
    ):
        with pytest.raises(P44HTTPError) as caught:
            p44.request("GET", "/api/v4/x")
        assert caught.value.status_code == 401
        assert "roles" in str(caught.value)
        assert issuer.fetches == 2  # the first token, then exactly one renewal
        assert len(server.data_calls()) == 2


def statuses_after_a_401(p44: P44Client, server, issuer: TokenIssuer, threads: int, **reply_kw):
    """Reject the held token, then send one request from each of ``threads`` threads at once."""
    p44.request("GET", "/api/v4/x")
    server.handler = with_tokens(issuer=issuer, reject={issuer.current}, **reply_kw)
    barrier = threading.Barrier(threads)
    statuses: list[int] = []

    def worker() -> None:
        barrier.wait()
        statuses.append(p44.request("GET", "/api/v4/x").status_code)

    workers = [threading.Thread(target=worker) for _ in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join(timeout=30)
    return statuses


def test_32_threads_meeting_a_401_fetch_one_token():
    issuer = TokenIssuer()
    with (
        ScriptedServer(with_tokens(issuer=issuer)) as server,
        client_for(server, max_concurrency=32, timeout=10) as p44,  # 32 connects at once
    ):
        assert statuses_after_a_401(p44, server, issuer, 32) == [200] * 32
        assert issuer.fetches == 2


def test_wrong_credentials_fail_at_login_with_the_servers_words():
    def handle(got: Received) -> Reply:
        return Reply(
            401,
            {
                "error": "invalid_client",
                "error_description": "The client secret supplied for a confidential client "
                "is invalid",
            },
        )

    with ScriptedServer(handle) as server, client_for(server) as p44:
        with pytest.raises(P44AuthError) as caught:
            p44.login()
    error = caught.value
    assert error.status_code == 401 and error.error == "invalid_client"
    assert "client secret supplied for a confidential client is invalid" in str(error)
    assert SECRET not in str(error) and SECRET not in repr(error)


def test_token_answer_without_access_token_is_a_clear_error():
    with ScriptedServer(lambda got: Reply(200, {"hello": "world"})) as server:
        with (
            client_for(server) as p44,
            pytest.raises(P44AuthError, match="without an access_token"),
        ):
            p44.login()


def test_reprs_hide_secret_and_token():
    issuer = TokenIssuer()
    with ScriptedServer(with_tokens(issuer=issuer)) as server, client_for(server) as p44:
        p44.login()
        holder = p44._token_holder
        for text in (repr(p44), str(p44), repr(holder), str(p44.status()), repr(Secret(SECRET))):
            assert SECRET not in text and "tok-1" not in text
    assert f"{Secret(SECRET)}" == "********"
    with pytest.raises(TypeError):
        import pickle

        pickle.dumps(Secret(SECRET))
    assert "s3cret" not in repr(TokenHolder("http://127.0.0.1/t", "id", SECRET))


def test_more_threads_than_connections_meeting_a_401_do_not_starve_the_renewal():
    issuer = TokenIssuer()
    with (
        ScriptedServer(with_tokens(issuer=issuer)) as server,
        client_for(server, timeout=10) as p44,
    ):
        # 16 pooled connections at the default concurrency; slow 401s keep every one busy
        # when the first thread renews
        statuses = statuses_after_a_401(p44, server, issuer, 64, delay_401=0.3)
        assert statuses == [200] * 64
        assert issuer.fetches == 2


# -- the invariant about rejected tokens (see TokenHolder's docstring) -------------------------
# These drive the holder's own httpx.Auth flow by hand, so each interleaving is exact: the
# holder does no I/O of its own, and the answers it is handed are real httpx.Responses.

TOKEN_URL = "http://127.0.0.1:9/api/v4/oauth2/token"


class Flow:
    """One request going through the holder: ``.sent`` is every request it yielded."""

    def __init__(self, holder: TokenHolder, name: str) -> None:
        self.request = httpx.Request("GET", f"http://127.0.0.1:9/api/v4/{name}")
        self.flow = holder.sync_auth_flow(self.request)
        self.sent: list[str] = []
        self._yielded = self._record(next(self.flow))

    def _record(self, request: httpx.Request) -> httpx.Request:
        fetch = request.url.path.endswith("/oauth2/token")
        self.sent.append("fetch" if fetch else request.headers["Authorization"][len("Bearer ") :])
        return request

    @property
    def bearer(self) -> str:
        return self.sent[-1]

    def answer(self, status: int, body: dict | None = None) -> bool:
        """Hand the holder the answer to what it yielded last; False when the flow ended."""
        response = httpx.Response(status, json=body or {}, request=self._yielded)
        try:
            self._yielded = self._record(self.flow.send(response))
        except StopIteration:
            return False
        return True


def token_answer(token: str) -> dict:
    return {"access_token": token, "expires_in": 43200, "token_type": "BEARER"}


def logged_in_holder(token: str = "T1") -> TokenHolder:
    holder = TokenHolder(TOKEN_URL, "id", SECRET)
    flow = holder.fetch_flow()
    request = next(flow)
    with pytest.raises(StopIteration):
        flow.send(httpx.Response(200, json=token_answer(token), request=request))
    return holder


def test_a_token_is_never_attached_again_once_its_401_was_seen():
    holder = logged_in_holder("T1")
    a, b = Flow(holder, "a"), Flow(holder, "b")
    assert a.bearer == b.bearer == "T1"  # both on their way before anything was rejected
    assert a.answer(401)  # the holder sees T1 rejected and asks for a token
    assert a.sent[-1] == "fetch" and a.answer(200, token_answer("T2"))
    assert a.bearer == "T2"  # a's resend
    assert Flow(holder, "c").bearer == "T2"  # a new request after the 401: never T1
    assert b.answer(401)  # b's T1 was already in flight; its resend reuses T2, no fetch
    assert b.bearer == "T2" and holder.token_fetches == 2
    assert not a.answer(200) and not b.answer(200)


def test_a_resend_never_carries_a_token_that_was_rejected_meanwhile():
    holder = logged_in_holder("T1")
    a, b = Flow(holder, "a"), Flow(holder, "b")
    assert a.answer(401) and a.answer(200, token_answer("T2"))
    assert a.answer(401) is False  # a's resend with T2 is rejected too: the 401 stands
    # b's T1 comes back 401 now. T2 is current but known rejected, so b fetches T3 rather
    # than resend with T2.
    assert b.answer(401)
    assert b.sent[-1] == "fetch" and b.answer(200, token_answer("T3"))
    assert b.bearer == "T3"
    assert b.sent == ["T1", "fetch", "T3"] and holder.token_fetches == 3
    assert Flow(holder, "c").bearer == "T3"


def test_invalidate_and_forget_keep_the_rejected_token_off_every_later_request():
    holder = logged_in_holder("T1")
    holder.invalidate()
    c = Flow(holder, "c")
    assert c.sent == ["fetch"]  # a token request first
    assert c.answer(200, token_answer("T2")) and c.bearer == "T2"
    holder.forget()
    d = Flow(holder, "d")
    assert d.sent == ["fetch"] and not holder.has_token
