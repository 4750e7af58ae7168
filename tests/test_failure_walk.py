"""After a failure, nothing reachable from it holds the secret or a token (issue 11, item 4).

The walk follows what a debugger, a traceback printer or a careless ``print`` could reach:
``sys.last_value`` and ``sys.last_traceback`` (exception chains, attributes, every frame in the
traceback and its locals, objects' attributes and slots, containers, httpx requests and
responses). It does not enter the IPython shell or the user's namespace: the user's own
``secret = getpass()`` variable is theirs to hold.
"""

from __future__ import annotations

import pytest

from p44_magic import P44Error
from tests.credential_walk import findings, walk_last_failure
from tests.servers import (
    CLIENT_ID,
    TOKEN_PATH,
    Received,
    Reply,
    ScriptedServer,
    TokenIssuer,
    client_for,
    log_in,
    with_tokens,
)


def wrong_secret(got: Received) -> Reply:
    return Reply(401, {"error": "invalid_client", "error_description": "bad secret"})


def renewal_refused(issuer: TokenIssuer):
    def handle(got: Received) -> Reply:
        return issuer.issue() if got.path == TOKEN_PATH else Reply(401, {"errorMessage": "no"})

    return handle


@pytest.mark.parametrize("auth", ["basic", "form"])
def test_a_failed_login_in_a_shell_leaves_no_credential_reachable(shell, capsys, auth):
    shell.run_cell(f"%config P44Magics.auth = '{auth}'")
    with ScriptedServer(wrong_secret) as server:
        assert not log_in(shell, server.base_url).success
    assert walk_last_failure(shell) == []
    capsys.readouterr()


@pytest.mark.parametrize(
    ("case", "cell"),
    [
        ("401 twice", "%p44 GET /api/v4/x"),
        ("timeout", "%p44 GET /api/v4/slow"),
        ("403 echoing the token", "%p44 GET /api/v4/echo"),
        ("not reachable", "%p44 GET http://127.0.0.1:1/api/v4/x"),
        ("bad cell", "%%p44\nGET /api/v4/x\nAuthorization: Bearer {{p44_secret}}"),
    ],
)
def test_a_failed_request_in_a_shell_leaves_no_credential_reachable(shell, capsys, case, cell):
    issuer = TokenIssuer()

    def data(got: Received) -> Reply:
        if got.path == "/api/v4/slow":
            return Reply(200, [], delay=1.0)
        if got.path == "/api/v4/echo":
            return Reply(403, {"errorMessage": got.headers["authorization"]})
        return Reply(401, {"errorMessage": "no"})

    handler = renewal_refused(issuer) if case == "401 twice" else with_tokens(data, issuer)
    with ScriptedServer(handler) as server:
        assert log_in(shell, server.base_url).success
        shell.run_cell("%config P44Magics.timeout = 0.3")
        assert not shell.run_cell(cell).success
    assert walk_last_failure(shell) == [], case
    capsys.readouterr()


@pytest.mark.parametrize("auth", ["basic", "form"])
def test_python_api_failures_carry_no_credential(auth):
    issuer = TokenIssuer()
    with ScriptedServer(wrong_secret) as server, client_for(server, auth=auth) as p44:
        with pytest.raises(P44Error) as caught:
            p44.login()
        assert findings(caught.value) == []
    with ScriptedServer(renewal_refused(issuer)) as server, client_for(server, auth=auth) as p44:
        for call in (
            lambda: p44.request("GET", "/api/v4/x"),
            lambda: p44.frame("GET", "/api/v4/x"),
            lambda: p44.answer("GET", "/api/v4/x"),
        ):
            with pytest.raises(P44Error) as caught:
                call()
            assert findings(caught.value) == []
        assert CLIENT_ID  # the id is not a credential
