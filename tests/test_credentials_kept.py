"""Credentials stay ours (issue 11): what the Python API returns and what a hostile server
echoes back carry neither the secret nor any token, over real HTTP."""

from __future__ import annotations

import base64
from urllib.parse import quote

import pytest

from p44_magic import P44AuthError, P44HTTPError
from tests.servers import (
    CLIENT_ID,
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

BASIC = base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()


def test_a_returned_response_has_its_token_masked_and_no_token_exchange_in_its_history():
    issuer = TokenIssuer()
    with ScriptedServer(with_tokens(None, issuer)) as server, client_for(server) as p44:
        p44.login()
        p44.invalidate_token()
        server.handler = with_tokens(None, issuer, reject={"tok-1-s3cr3t"})
        response = p44.request("GET", "/api/v4/x")
    assert response.status_code == 200 and response.json() == [{"ok": True}]
    assert response.request.headers["authorization"] == "Bearer ********"
    assert response.history == []
    seen = repr(response.request.headers) + repr(response.headers) + str(response.extensions)
    for credential in (SECRET, BASIC, "tok-1-s3cr3t", "tok-2-s3cr3t"):
        assert credential not in seen


def echoing_token_endpoint(got: Received) -> Reply:
    if got.path == TOKEN_PATH:
        said = f"{got.headers.get('authorization')} / {got.body.decode()}"
        return Reply(401, {"error": "invalid_client", "error_description": f"you sent {said}"})
    return Reply(404, {})


@pytest.mark.parametrize("style", ["basic", "form"])
def test_a_token_endpoint_that_echoes_the_credentials_shows_them_masked(style):
    with ScriptedServer(echoing_token_endpoint) as server, client_for(server, auth=style) as p44:
        with pytest.raises(P44AuthError) as caught:
            p44.login()
    shown = str(caught.value) + repr(caught.value.error_description)
    assert "you sent" in shown and "********" in shown
    for credential in (SECRET, quote(SECRET, safe=""), BASIC):
        assert credential not in shown


def test_a_data_answer_that_echoes_the_token_is_masked_everywhere_it_is_kept(shell, capsys):
    def echo(got: Received) -> Reply:
        bearer = got.headers["authorization"]
        return Reply(403, {"errorMessage": f"no role for {bearer}"}, headers={"X-Echo": bearer})

    issuer = TokenIssuer()
    with ScriptedServer(with_tokens(echo, issuer)) as server:
        assert log_in(shell, server.base_url).success
        assert not shell.run_cell("%p44 GET /api/v4/x").success
        last = shell.user_ns["_p44_last"]
        with client_for(server) as p44, pytest.raises(P44HTTPError) as caught:
            p44.answer("GET", "/api/v4/x")
    shown = capsys.readouterr().err
    kept = [shown, repr(last.body), repr(last.response_headers), last.content.decode()]
    kept += [str(caught.value), repr(caught.value.body)]
    assert "no role for Bearer ********" in shown
    for text in kept:
        assert "s3cr3t" not in text and "tok-" not in text, text


def test_cookies_set_by_the_host_never_cross_to_another_origin():
    with ScriptedServer(lambda got: Reply(200, [{"elsewhere": True}])) as other:
        issuer = TokenIssuer()

        def data(got: Received) -> Reply:
            if got.path == "/api/v4/first":
                return Reply(200, [{"n": 1}], headers={"Set-Cookie": "sid=s3ssion; Path=/"})
            if got.path == "/api/v4/same":
                return Reply(307, headers={"Location": "/api/v4/landed"})
            if got.path == "/api/v4/landed":
                return Reply(200, [{"cookie": got.headers.get("cookie")}])
            return Reply(302, headers={"Location": f"{other.base_url}/api/v4/elsewhere"})

        with ScriptedServer(with_tokens(data, issuer)) as server, client_for(server) as p44:
            p44.answer("GET", "/api/v4/first")
            assert p44.answer("GET", "/api/v4/same") == [{"cookie": "sid=s3ssion"}]
            assert p44.answer("GET", "/api/v4/away") == [{"elsewhere": True}]
        crossed = other.received[-1]
    assert "cookie" not in crossed.headers and "authorization" not in crossed.headers


def test_no_serialiser_gets_at_the_credentials():
    import copy
    import pickle

    from p44_magic import Secret

    with ScriptedServer(with_tokens()) as server, client_for(server) as p44:
        p44.login()
        for thing in (p44, p44._token_holder, Secret(SECRET)):
            for serialise in (pickle.dumps, copy.deepcopy, copy.copy, lambda t: t.__getstate__()):
                with pytest.raises(TypeError):
                    serialise(thing)


def test_reload_ext_hands_the_session_over_and_logout_reaches_it(shell, capsys):
    with ScriptedServer(with_tokens()) as server:
        assert log_in(shell, server.base_url).success
        old = shell.magics_manager.registry["P44Magics"]
        client = old.client
        shell.run_line_magic("reload_ext", "p44_magic")
        new = shell.magics_manager.registry["P44Magics"]
        assert new is not old and new.client is client and old.client is None
        assert [c for c in shell.configurables if type(c).__name__ == "P44Magics"] == [new]
        assert shell.run_cell("%p44 GET /api/v4/x").success
        shell.run_cell("%p44_logout")
        assert not client._token_holder.has_token and new.client is None
    capsys.readouterr()


class LoopbackProxy:
    """A listener on 127.0.0.1 that hands each accepted connection to ``handle``."""

    def __init__(self) -> None:
        import socket
        import threading

        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self.handle(conn)

    def handle(self, conn) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self._sock.close()


class RecordingProxy(LoopbackProxy):
    """A 'proxy' that records the first line of what each client sends it."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        super().__init__()

    def handle(self, conn) -> None:
        with conn:
            conn.settimeout(2)
            try:
                self.lines.append(conn.recv(4096).decode("latin-1").split("\r\n")[0])
                conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
            except OSError:
                pass


@pytest.fixture
def proxy_everywhere(monkeypatch):
    proxy = RecordingProxy()
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(name, proxy.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    yield proxy
    proxy.close()


def test_loopback_is_never_proxied(proxy_everywhere):
    with ScriptedServer(with_tokens()) as server, client_for(server) as p44:
        p44.login()
        assert p44.answer("GET", "/api/v4/x") == [{"ok": True}]
        assert len(server.data_calls()) == 1
    assert proxy_everywhere.lines == []  # neither the Basic credentials nor the token went there


def test_an_https_host_goes_through_the_proxy_only_as_a_connect_tunnel(proxy_everywhere):
    from p44_magic import P44Client, P44ConnectionError

    with P44Client(CLIENT_ID, SECRET, base_url="https://api.example.test", timeout=2) as p44:
        with pytest.raises(P44ConnectionError):
            p44.login()
    assert proxy_everywhere.lines and all(
        line.startswith("CONNECT api.example.test:443 ") for line in proxy_everywhere.lines
    )


class TunnellingProxy(LoopbackProxy):
    """An HTTP proxy that answers CONNECT for any host by tunnelling to ``target`` (a local
    port), as a corporate proxy tunnels to the real host."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.connects: list[str] = []
        super().__init__()

    def handle(self, client) -> None:
        import socket
        import threading

        head = b""
        while b"\r\n\r\n" not in head:
            head += client.recv(4096) or b"\r\n\r\n"
        self.connects.append(head.decode("latin-1").split("\r\n")[0])
        upstream = socket.create_connection(("127.0.0.1", self.target))
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        for source, sink in ((client, upstream), (upstream, client)):
            threading.Thread(target=_pipe, args=(source, sink), daemon=True).start()


def _pipe(source, sink) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for end in (source, sink):
            end.close()


def test_the_answer_deadline_holds_behind_a_proxy(monkeypatch, tmp_path):
    """A server behind the proxy that sends its answer a byte every 0.1 s for 20 s: each read
    is quick, so only the total deadline (timeout 0.5 s) can end it."""
    import socket
    import ssl
    import threading
    import time

    import trustme

    from p44_magic import P44Client, P44TimeoutError

    authority = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("api.example.test").configure_cert(context)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    stop = threading.Event()

    def trickle() -> None:
        while not stop.is_set():
            try:
                conn = context.wrap_socket(listener.accept()[0], server_side=True)
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
                for _ in range(200):
                    if stop.wait(0.1):
                        break
                    conn.sendall(b"x")
                conn.close()
            except OSError:
                pass

    threading.Thread(target=trickle, daemon=True).start()
    proxy = TunnellingProxy(listener.getsockname()[1])
    authority.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
    for name in ("HTTPS_PROXY", "https_proxy"):
        monkeypatch.setenv(name, proxy.url)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    try:
        base_url = "https://api.example.test"
        with P44Client(CLIENT_ID, SECRET, base_url=base_url, timeout=0.5, retries=0) as p44:
            started = time.monotonic()
            with pytest.raises(P44TimeoutError):
                p44.login()
            took = time.monotonic() - started
    finally:
        stop.set()
        proxy.close()
        listener.close()
    assert proxy.connects and proxy.connects[0].startswith("CONNECT api.example.test:443 ")
    assert took < 5, f"the 0.5 s deadline did not hold behind the proxy ({took:.1f} s)"
