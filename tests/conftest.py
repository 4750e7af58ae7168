"""Fixtures: an isolated IPython shell (its %config put back after each test), the demo API, a
shell logged in to it, and a loopback-only network guard."""

from __future__ import annotations

import ipaddress
import os
import socket
import sys
import tempfile

import pytest

# Isolate IPython's profile and history before IPython is imported anywhere.
_IPYTHONDIR = tempfile.mkdtemp(prefix="p44-ipython-")
os.environ["IPYTHONDIR"] = _IPYTHONDIR
for _name in ("P44_CLIENT_ID", "P44_CLIENT_SECRET", "P44_ENV", "P44_BASE_URL"):
    os.environ.pop(_name, None)
# The demo's data are placed around "today"; the tests pin the day (kernels, notebooks and the
# browser test's server inherit it), so every shown output is the same on any day.
os.environ["P44_DEMO_TODAY"] = "2026-11-20"
# The answer cache's default file goes in the user's cache folder: the tests' own, not the user's.
os.environ["XDG_CACHE_HOME"] = tempfile.mkdtemp(prefix="p44-cache-")
for _name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
    os.environ.pop(_name, None)  # every test server is on loopback: talk to it directly

_real_connect = socket.socket.connect


def _loopback_only(sock: socket.socket, address, *args, **kwargs):
    """No test may reach any address but loopback."""
    if sock.family in (socket.AF_INET, socket.AF_INET6):
        host = address[0]
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = host == "localhost"
        if not loopback:
            raise ConnectionRefusedError(f"tests may only connect to loopback, not {host}")
    return _real_connect(sock, address, *args, **kwargs)


socket.socket.connect = _loopback_only


@pytest.fixture(autouse=True)
def failures_leave_no_credential():
    """After every test, nothing its failures left reachable holds a credential (issue 11).

    Every P44Error the test created, and ``sys.last_value`` / ``sys.last_traceback`` when the
    test changed them, are walked (chains, frames and their locals, attributes, responses) for
    the test secret, the demo secret and every token a test server or the demo issued. So every
    failure mode the suite provokes is also a secrets test.
    """
    from IPython.core.interactiveshell import InteractiveShell

    from p44_magic.demo.auth import DEMO_CLIENT_SECRET, TokenStore
    from p44_magic.errors import P44Error
    from tests.credential_walk import TEST_CREDENTIALS, findings

    created: list[P44Error] = []
    demo_tokens: list[str] = []
    record_error, issue_token = P44Error.__init__, TokenStore.issue

    def recording_error(self, *args, **kwargs):
        record_error(self, *args, **kwargs)
        created.append(self)

    def recording_token(self, client_id):
        demo_tokens.append(token := issue_token(self, client_id))
        return token

    P44Error.__init__, TokenStore.issue = recording_error, recording_token
    last = getattr(sys, "last_value", None)
    try:
        yield
    finally:
        P44Error.__init__, TokenStore.issue = record_error, issue_token
    roots: list[object] = [error for error in created if _reached_the_test(error)]
    if getattr(sys, "last_value", None) is not last:
        roots += [getattr(sys, "last_value", None), getattr(sys, "last_traceback", None)]
    credentials = (*TEST_CREDENTIALS, DEMO_CLIENT_SECRET, *demo_tokens)
    shell = InteractiveShell._instance
    hits = [
        f"{type(root).__name__}{hit}"
        for root in roots
        for hit in findings(root, shell, credentials)
    ]
    assert hits == [], "a failure left a credential reachable"


def _reached_the_test(error: BaseException) -> bool:
    """True for an error never raised, or caught in a test's frame: one the library (or a worker
    thread's future) caught itself and dropped is unreachable garbage."""
    caught_in = error.__traceback__
    return caught_in is None or caught_in.tb_frame.f_code.co_filename.startswith(_TESTS)


_TESTS = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope="session")
def ipython_shell():
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    config = Config()
    config.HistoryManager.hist_file = os.path.join(_IPYTHONDIR, "history.sqlite")
    shell = InteractiveShell.instance(config=config)
    shell.run_line_magic("load_ext", "p44_magic")
    return shell


@pytest.fixture
def shell(ipython_shell):
    """The shared shell with a fresh namespace and nobody logged in.

    Every ``%config P44Magics...`` value a test sets is put back afterwards, so tests just run
    ``%config`` in their body.
    """
    from traitlets.config import Config

    magics = ipython_shell.magics_manager.registry["P44Magics"]
    saved = {name: getattr(magics, name) for name in magics.trait_names(config=True)}
    section = Config(ipython_shell.config.get("P44Magics", {}))  # what %reload_ext reads
    ipython_shell.run_line_magic("p44_logout", "")
    magics.login_form = None  # a form an earlier test showed (and closed) is not this test's
    ipython_shell.reset()
    yield ipython_shell
    ipython_shell.run_line_magic("p44_logout", "")
    magics = ipython_shell.magics_manager.registry["P44Magics"]  # a test may have reloaded
    magics.update_config(Config({type(magics).__name__: saved}))  # what %config does
    ipython_shell.config["P44Magics"] = section
    assert {name: getattr(magics, name) for name in saved} == saved


@pytest.fixture(scope="session")
def demo():
    from p44_magic.demo import DemoServer

    with DemoServer() as server:
        yield server


@pytest.fixture
def logged_in(shell, demo):
    """The shell logged in to the demo API with the demo credentials."""
    from p44_magic.demo import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
    from tests.servers import log_in

    assert log_in(shell, demo.base_url, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET).success
    return shell
