"""Several named sessions in one notebook (issue 22, first part): open, pick per cell without
switching, see, close, credentials per session, and Python access; over real HTTP."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pytest

import p44_magic
from p44_magic import P44Client, P44HTTPError, P44UsageError
from tests.servers import (
    SECRET_VARIABLE,
    Received,
    Reply,
    ScriptedServer,
    TokenIssuer,
    client_for,
    with_tokens,
)


def named(server: ScriptedServer, name: str, client_id: str = "client-eu-7788") -> str:
    return (
        f"%p44_login --name {name} --base-url {server.base_url} --client-id {client_id} "
        f"--client-secret ${SECRET_VARIABLE}"
    )


def echo(got: Received) -> Reply:
    return Reply(200, [{"path": got.path}])


@pytest.fixture
def two_sessions(shell, demo, capsys):
    with ScriptedServer(with_tokens(echo)) as eu:
        shell.user_ns[SECRET_VARIABLE] = "eu-s3cret-value"
        assert shell.run_cell("%p44_login --env demo").success
        assert shell.run_cell(named(eu, "eu")).success
        shell.run_cell("%config P44Magics.progress = False")
        capsys.readouterr()
        yield shell, eu
    shell.run_cell("%p44_logout --all")


def test_two_sessions_are_listed_and_the_last_login_is_current(two_sessions):
    shell, eu = two_sessions
    table = shell.run_line_magic("p44_connections", "")
    assert isinstance(table, pd.DataFrame) and list(table["name"]) == ["default", "eu"]
    assert list(table["current"]) == ["", "*"]
    assert list(table["client_id"]) == ["…ient", "…7788"]
    assert list(table.columns) == [
        "current",
        "name",
        "env",
        "base_url",
        "client_id",
        "auth",
        "token_age_s",
        "requests",
    ]
    assert p44_magic.sessions() == ["default", "eu"]
    assert p44_magic.session("eu").base_url == eu.base_url


def test_conn_runs_one_cell_on_a_session_without_switching(two_sessions, capsys):
    shell, eu = two_sessions
    before = len(eu.data_calls())
    assert shell.run_cell("%%p44 hooks --conn default\nGET /api/v4/webhooks").success
    out = capsys.readouterr().out
    assert out.startswith("hooks: ") and out.strip().endswith("(default)")
    assert len(eu.data_calls()) == before  # sent to the demo, not to eu
    assert shell.user_ns["_p44_last"].session == "default"
    assert shell.run_cell("%%p44 mine\nGET /api/v4/things").success  # the current one: eu
    out = capsys.readouterr().out
    assert out.strip().endswith("(eu)") and len(eu.data_calls()) == before + 1
    assert shell.user_ns["_p44_last"].session == "eu"


def test_an_unknown_session_is_a_short_error_naming_the_open_ones(two_sessions, capsys):
    shell, eu = two_sessions
    before = len(eu.data_calls())
    assert not shell.run_cell("%p44 --conn nope GET /api/v4/things").success
    err = capsys.readouterr().err
    assert "No session named 'nope'; the open sessions: default, eu." in err
    assert len(eu.data_calls()) == before


def test_use_login_again_and_logout(two_sessions, capsys):
    shell, eu = two_sessions
    assert shell.run_cell("%p44_use default").success
    assert shell.run_line_magic("p44_connections", "")["current"].tolist() == ["*", ""]
    capsys.readouterr()
    assert shell.run_cell(named(eu, "eu")).success  # the same line: kept, and current again
    assert "Already logged in" in capsys.readouterr().out and len(eu.token_calls()) == 1
    assert shell.run_cell(named(eu, "eu", client_id="client-other-1234")).success
    assert "Session eu replaced" in capsys.readouterr().out and len(eu.token_calls()) == 2
    assert shell.run_cell("%p44_logout eu").success
    assert "Logged out of session eu" in capsys.readouterr().out
    assert p44_magic.sessions() == ["default"]
    with pytest.raises(P44UsageError, match="No session named 'eu'"):
        p44_magic.session("eu")
    assert shell.run_cell("%p44_logout --all").success and p44_magic.sessions() == []


def test_each_session_takes_its_own_environment_variables(shell, monkeypatch, capsys):
    with ScriptedServer(with_tokens(echo)) as eu:
        monkeypatch.setenv("P44_EU_CLIENT_ID", "eu-app-from-env")
        monkeypatch.setenv("P44_EU_CLIENT_SECRET", "eu-secret-from-env")
        monkeypatch.setenv("P44_EU_BASE_URL", eu.base_url)
        monkeypatch.setenv("P44_CLIENT_ID", "plain-app")
        assert shell.run_cell("%p44_login --name eu").success
        assert "as client eu-app-from-env" in capsys.readouterr().out
        assert eu.token_calls()[0].headers["authorization"].startswith("Basic ")
        shell.run_cell("%p44_logout --all")


def test_two_sessions_from_threads_each_send_their_own_token(shell, capsys):
    issuers = TokenIssuer(), TokenIssuer()
    with (
        ScriptedServer(with_tokens(echo, issuers[0])) as na,
        ScriptedServer(with_tokens(echo, issuers[1])) as eu,
    ):
        shell.user_ns[SECRET_VARIABLE] = "some-s3cret-value"
        assert shell.run_cell(named(na, "na", "client-na-1111")).success
        assert shell.run_cell(named(eu, "eu")).success
        start = threading.Barrier(2)

        def hammer(name: str) -> int:
            start.wait()
            client = p44_magic.session(name)
            for n in range(30):
                client.answer("GET", f"/api/v4/{name}/{n}")
            return n + 1

        with ThreadPoolExecutor(2) as pool:
            assert list(pool.map(hammer, ["na", "eu"])) == [30, 30]
        for server, name in ((na, "na"), (eu, "eu")):
            tokens = {r.headers["authorization"] for r in server.data_calls()}
            assert len(tokens) == 1  # its own session's token, and only that
            assert all(f"/api/v4/{name}/" in r.path for r in server.data_calls())
        shell.run_cell("%p44_logout --all")
    capsys.readouterr()


def test_the_rate_gate_is_per_client_application():
    told: list[float] = []

    def limited(got: Received) -> Reply:
        if got.path.endswith("/first"):
            told.append(time.monotonic())
            return Reply(429, {"errorMessage": "slow down"}, headers={"Retry-After": "1"})
        return Reply(200, [{"at": time.monotonic()}])

    with ScriptedServer(with_tokens(limited)) as server:
        same_a = client_for(server, retries=0, max_retry_after=2.0)
        same_b = client_for(server, retries=0, max_retry_after=2.0)
        other = P44Client("another-app-id", "another-s3cret", base_url=server.base_url, retries=0)
        try:
            for client in (same_a, same_b, other):
                client.login()
            with pytest.raises(P44HTTPError):
                same_a.answer("GET", "/api/v4/first")
            other_at = other.answer("GET", "/api/v4/other")[0]["at"]
            same_at = same_b.answer("GET", "/api/v4/same")[0]["at"]
        finally:
            for client in (same_a, same_b, other):
                client.close()
    assert other_at - told[0] < 0.9  # another client application does not wait
    assert same_at - told[0] >= 0.9  # the same one waits with the session that was told


def test_the_demos_second_tenant_has_its_own_client_and_data(shell, capsys):
    assert shell.run_cell("%p44_login --env demo").success
    assert shell.run_cell("%p44_login --name second --env demo --tenant 2").success
    assert "as client demo-client-2" in capsys.readouterr().out
    search = "POST /api/v4/inventory/orders/search?page=1&pageSize=5"
    assert shell.run_cell(f"one = %p44 --conn default --raw {search}").success
    assert shell.run_cell(f"two = %p44 --conn second --raw {search}").success
    first = {o["orderIdentifier"] for o in shell.user_ns["one"]["results"]}
    second = {o["orderIdentifier"] for o in shell.user_ns["two"]["results"]}
    assert first and second and not first & second  # each tenant its own orders
    sid = shell.user_ns["one"]["results"][0]["shipmentIds"][0]
    shell.user_ns["sid"] = sid
    assert not shell.run_cell("%p44 --conn second GET /api/v4/shipments/{{sid}}/tracking").success
    assert "HTTP 404" in capsys.readouterr().err  # tenant 1's shipment is not tenant 2's
    shell.run_cell("%p44_logout --all")
    with P44Client(env="demo", tenant=2) as p44:
        assert p44.client_id == "demo-client-2"
    for env, tenant in (("na", 2), ("demo", 3)):
        with pytest.raises(P44UsageError, match="--tenant"):
            P44Client("id", "secret", env=env, tenant=tenant)
    assert not shell.run_cell("%p44_login --env eu --tenant 2 --prompt").success
    assert "--tenant 2" in capsys.readouterr().err


def test_reload_keeps_every_session_and_the_form_names_its_session(shell, demo, capsys):
    assert shell.run_cell("%p44_login --env demo").success
    assert shell.run_cell("%p44_login --name second --env demo --tenant 2").success
    before = dict(shell.magics_manager.registry["P44Magics"].sessions)
    assert shell.run_cell("%reload_ext p44_magic").success
    after = dict(shell.magics_manager.registry["P44Magics"].sessions)
    assert after == before and p44_magic.sessions() == ["default", "second"]
    assert shell.run_cell("%p44 --conn second GET /api/v4/webhooks").success
    assert shell.run_cell("%p44_login --name eu --form").success
    form = shell.magics_manager.registry["P44Magics"].login_form
    assert "session <code>eu</code>" in form.title.value
    form.close()
    shell.run_cell("%p44_logout --all")
    capsys.readouterr()
