"""Session: one tenant's shared parts (pool, token holder, rate gate, settings, counters); it
sends a request for a Call and keeps nothing of that call. Real HTTP to 127.0.0.1."""

from __future__ import annotations

import pytest

from p44_magic import P44HTTPError, P44UsageError
from p44_magic.call_state import Call
from p44_magic.request import HttpRequest
from p44_magic.session import Session
from tests.servers import (
    CLIENT_ID,
    SECRET,
    Received,
    Reply,
    ScriptedServer,
    TokenIssuer,
    with_tokens,
)


def session_for(server, **values) -> Session:
    return Session(CLIENT_ID, SECRET, base_url=server.base_url, **values)


def answers(got: Received) -> Reply:
    if got.path.endswith("/missing"):
        return Reply(404, {"errorMessage": "no such thing"})
    if got.path.endswith("/busy"):
        return Reply(429, {"errorMessage": "slow down"}, headers={"Retry-After": "0"})
    return Reply(200, {"path": got.path})


def test_send_gives_the_call_its_exchange_and_keeps_only_counters():
    issuer = TokenIssuer()
    with ScriptedServer(with_tokens(answers, issuer)) as server:
        session = session_for(server, retries=1, backoff=0.0)
        try:
            first, second = Call(), Call()
            response = session.send(HttpRequest("GET", "/api/v4/a"), first)
            assert response.json() == {"path": "/api/v4/a"}
            assert first.exchange.url.endswith("/api/v4/a") and first.attempts == 1
            with pytest.raises(P44HTTPError):
                session.send(HttpRequest("GET", "/api/v4/busy"), second)
            assert second.exchange.status_code == 429 and second.attempts == 2
            assert second.exchange.attempts == 2 and first.exchange.attempts == 1
            assert first.exchange.url.endswith("/api/v4/a")  # untouched by the other call
            assert session.requests_sent == 3 and session.token_fetches == 1 == issuer.fetches
            assert not {"exchange", "last_exchange", "notes"} & set(vars(session))
        finally:
            session.close()


def test_settings_are_attributes_and_configure_checks_them():
    with ScriptedServer(with_tokens(answers)) as server:
        session = session_for(server, timeout=5.0, max_rate=3.0)
        try:
            assert (session.timeout, session.max_rate, session.retries) == (5.0, 3.0, 3)
            session.configure(retries=0, timezone=None)
            assert session.policy.retries == 0 and session.timezone is None
            assert session.pacer.max_rate == 3.0
            with pytest.raises(P44UsageError, match="retries = -1"):
                session.configure(retries=-1)
            assert session.retries == 0
            with pytest.raises(AttributeError):
                session.no_such_setting  # noqa: B018
        finally:
            session.close()


def test_a_url_off_the_configured_host_is_refused():
    with ScriptedServer(with_tokens(answers)) as server:
        session = session_for(server)
        try:
            with pytest.raises(P44UsageError):
                session.url_for("https://elsewhere.example/api/v4/x")
            assert str(session.url_for("/api/v4/x")) == f"{server.base_url}/api/v4/x"
        finally:
            session.close()
