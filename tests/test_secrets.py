"""A known secret and every issued token appear nowhere a user or a file could see them.

Checked: stdout/stderr, reprs, exception texts, In/Out, the IPython history database, DEBUG logs,
%xmode Verbose tracebacks, and an executed notebook (outputs, metadata, widget state).
"""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path

import nbformat
from nbclient import NotebookClient

import p44_magic
from p44_magic.demo import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DemoServer

SEARCH = """%%p44 orders --all-pages
POST /api/v4/inventory/orders/search?page=1&pageSize=200
Content-Type: application/json

{}"""


def issued_tokens(server: DemoServer) -> set[str]:
    tokens = set()
    for request in server.requests:
        value = request.headers.get("authorization", "")
        if value.startswith("Bearer "):
            tokens.add(value.removeprefix("Bearer "))
    assert tokens, "no token was ever used, so the check would prove nothing"
    return tokens


def assert_clean(text: str, secrets: set[str], where: str) -> None:
    for secret in secrets:
        assert secret not in text, f"a secret or token leaked into {where}"


def history_text(shell) -> str:
    shell.history_manager.writeout_cache()
    path = shell.history_manager.hist_file
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT source, source_raw FROM history").fetchall()
    return "\n".join(a + "\n" + b for a, b in rows) + Path(path).read_bytes().decode("latin-1")


def test_in_process_shell_leaks_nothing(shell, capsys, caplog):
    caplog.set_level(logging.DEBUG)
    with DemoServer() as server:
        shell.user_ns["pw"] = DEMO_CLIENT_SECRET
        cells = [
            f"%p44_login --base-url {server.base_url} --client-id {DEMO_CLIENT_ID} "
            "--client-secret $pw",
            "%p44_status",
            SEARCH,
            "%p44 GET /api/v4/webhooks",
            "%p44 --dry-run GET /api/v4/webhooks",
            "%p44 GET /api/v4/shipments/missing/tracking",
            "%xmode Verbose",
            "%p44 GET /api/v4/shipments/missing/tracking",
            "_p44_last",
            "get_ipython().magics_manager.registry['P44Magics'].client",
            "p = get_ipython().magics_manager.registry['P44Magics'].client; p.request('GET', '/x')",
            "%xmode Context",
        ]
        errors = []
        for cell in cells:
            result = shell.run_cell(cell, store_history=True)
            if result.error_in_exec is not None:
                errors.append(result.error_in_exec)
        client = shell.magics_manager.registry["P44Magics"].client
        server.invalidate_tokens()
        shell.run_cell("%p44 GET /api/v4/webhooks", store_history=True)  # renews the token
        secrets = issued_tokens(server) | {DEMO_CLIENT_SECRET}
        assert len(secrets) >= 3  # the secret and two tokens
        captured = capsys.readouterr()
        assert_clean(captured.out + captured.err, secrets, "stdout/stderr")
        assert_clean(caplog.text, secrets, "DEBUG log records")
        assert len(errors) == 3
        for error in errors:
            assert_clean(str(error) + repr(error) + repr(error.args), secrets, "an exception")
        last = shell.user_ns["_p44_last"]
        public = [client, client._token_holder, last, last.request_headers, client.status()]
        assert_clean(" ".join(repr(obj) + str(obj) for obj in public), secrets, "a repr")
        assert_clean(repr(shell.user_ns["In"]) + repr(shell.user_ns["Out"]), secrets, "In/Out")
        history = history_text(shell)
        assert "--client-secret $pw" in history and "%xmode Verbose" in history
        assert_clean(history, secrets, "the history database")
        assert_clean(repr(vars(p44_magic)), secrets, "the package namespace")


NOTEBOOK_CELLS = [
    ("%load_ext p44_magic", []),
    ("%p44_login --base-url {base_url}", []),
    (SEARCH, []),
    ("%p44 GET /api/v4/shipments/missing/tracking", ["raises-exception"]),
    ("%xmode Verbose", []),
    ("%p44 GET /api/v4/shipments/missing/tracking", ["raises-exception"]),
    ("_p44_last", []),
    ("get_ipython().magics_manager.registry['P44Magics'].client", []),
    ("%p44_status", []),
    (
        # No front end renders widgets here: a thread types into the form as a person would,
        # while the next cell waits for the login.
        "import os, threading, time\n"
        "def fill(magics=get_ipython().magics_manager.registry['P44Magics']):\n"
        "    while magics.login_form is None:\n"
        "        time.sleep(0.05)\n"
        "    form = magics.login_form\n"
        "    form.environment.value = 'custom'\n"
        "    form.base_url.value = '{base_url}'\n"
        "    form.client_id.value = os.environ['P44_CLIENT_ID']\n"
        "    form.secret.value = os.environ['FORM_SECRET']\n"
        "    form.submit()\n"
        "threading.Thread(target=fill, daemon=True).start()",
        [],
    ),
    ("%p44_login --form", []),
    ("get_ipython().magics_manager.registry['P44Magics'].login_form.status.value", []),
    ("%p44 GET /api/v4/webhooks", []),
]


def test_executed_notebook_and_its_history_leak_nothing(tmp_path, monkeypatch):
    ipython_dir = tmp_path / "ipython"
    monkeypatch.setenv("IPYTHONDIR", str(ipython_dir))
    with DemoServer() as server:
        monkeypatch.setenv("P44_CLIENT_ID", DEMO_CLIENT_ID)
        monkeypatch.setenv("P44_CLIENT_SECRET", DEMO_CLIENT_SECRET)
        monkeypatch.setenv("FORM_SECRET", DEMO_CLIENT_SECRET)
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
        for source, tags in NOTEBOOK_CELLS:
            cell = nbformat.v4.new_code_cell(source.replace("{base_url}", server.base_url))
            cell.metadata["tags"] = tags
            nb.cells.append(cell)
        NotebookClient(
            nb,
            timeout=60,
            kernel_name="python3",
            store_widget_state=True,
            ipython_hist_file=str(ipython_dir / "history.sqlite"),
        ).execute()
        path = tmp_path / "executed.ipynb"
        nbformat.write(nb, path)
        secrets = issued_tokens(server) | {DEMO_CLIENT_SECRET}
    saved = path.read_text()
    assert "Logged in to" in saved and "P44HTTPError: HTTP 404" in saved
    assert "application/vnd.jupyter.widget-state+json" in saved  # widget state was saved
    assert_clean(saved, secrets, "the saved notebook")
    history = ipython_dir / "history.sqlite"
    assert history.exists()
    history_bytes = history.read_bytes().decode("latin-1")
    assert "p44_login --form" in history_bytes
    assert_clean(history_bytes, secrets, "the kernel's history")
    assert os.environ["P44_CLIENT_SECRET"] == DEMO_CLIENT_SECRET  # the check above was meaningful
