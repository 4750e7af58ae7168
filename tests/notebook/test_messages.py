"""Messages that lead somewhere (issue 21, item 6): each as a cell shows it."""

from __future__ import annotations

import logging
import sys

import pytest

from tests.servers import Received, Reply, ScriptedServer, client_for, log_in, with_tokens

HISTORY = "/api/v4/shipments/{{sid}}/tracking/history"


def test_a_refused_config_value_fails_the_cell_and_keeps_the_old_one(shell, caplog, capsys):
    magics = shell.magics_manager.registry["P44Magics"]
    with caplog.at_level(logging.ERROR):
        result = shell.run_cell('%config P44Magics.timezone = "Europe/Berlni"')
    captured = capsys.readouterr()
    shown = captured.out + captured.err + caplog.text
    assert not result.success and magics.timezone == "UTC"
    assert "not a time zone name" in shown and "Traceback" not in shown


def test_a_dollar_name_in_the_path_is_refused_suggesting_double_braces(logged_in, demo, capsys):
    before = len(demo.requests)
    assert not logged_in.run_cell("%p44 GET /api/v4/shipments/$sid/tracking").success
    err = capsys.readouterr().err
    assert "$sid" in err and "{{sid}}" in err and len(demo.requests) == before


def test_help_alone_in_a_cell_shows_the_help(shell, capsys):
    assert shell.run_cell("%%p44 --help").success
    out = capsys.readouterr().out
    assert "--all-pages" in out and '"statusCodes"' in out and '"statuses"' not in out


def demo_shipment(shell) -> str:
    shell.run_cell("orders = %p44 --raw POST /api/v4/inventory/orders/search?page=1&pageSize=1")
    return shell.user_ns["orders"]["results"][0]["shipmentIds"][0]


def test_a_mistyped_path_option_suggests_the_key_and_names_no_internal_class(logged_in, capsys):
    cell = "%%p44 --path evnts --no-presets\nGET /api/v4/shipments/{{sid}}/tracking/history"
    logged_in.user_ns["sid"] = demo_shipment(logged_in)
    assert not logged_in.run_cell(cell).success
    err = capsys.readouterr().err
    assert "did you mean 'events'?" in err and "AbsentKey" not in err


def test_failures_start_with_the_status_and_notes_name_their_value(shell, capsys):
    def answers(got: Received) -> Reply:
        sid = got.path.split("/")[4]
        if sid == "gone":
            return Reply(404, {"errorMessage": "Shipment not found"})
        info = [{"severity": "WARNING", "message": "Position data delayed"}] if sid == "b" else []
        return Reply(200, {"infoMessages": info, "events": [{"n": 1}]})

    with ScriptedServer(with_tokens(answers)) as server:
        assert log_in(shell, server.base_url).success
        shell.run_cell("%config P44Magics.progress = False")
        shell.user_ns["ids"] = ["a", "b", "gone"]
        assert shell.run_cell(f"%%p44 rows --each sid=ids --path events\nGET {HISTORY}").success
    error = shell.user_ns["_p44_failures"]["error"][0]
    assert error.startswith("HTTP 404: Shipment not found")
    err = capsys.readouterr().err
    assert "sid='b': project44 WARNING: Position data delayed" in err


def test_one_row_is_one_row(shell, capsys):
    with ScriptedServer(with_tokens(lambda got: Reply(200, [{"n": 1}]))) as server:
        assert log_in(shell, server.base_url).success
        assert shell.run_cell("%%p44 one\nGET /api/v4/things").success
    assert "one: 1 row × 1 column" in capsys.readouterr().out


def test_a_terminal_bar_ends_its_line_before_an_error(shell, capsys, monkeypatch):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)

    def answers(got: Received) -> Reply:
        if "page=3" in got.path:
            return Reply(500, {"errorMessage": "boom"})
        rows = [{"n": got.path}]
        return Reply(200, {"paginationInfo": {"total": 5}, "results": rows})

    with ScriptedServer(with_tokens(answers)) as server:
        assert log_in(shell, server.base_url).success
        shell.run_cell("%config P44Magics.retries = 0")
        cell = "%%p44 --all-pages\nGET /api/v4/x/search?page=1&pageSize=1"
        assert not shell.run_cell(cell).success
    err = capsys.readouterr().err
    bar_line = next(line for line in err.split("\n") if "[#" in line or "[-" in line)
    assert "page 3" not in bar_line and "HTTP 500" not in bar_line  # the error has its own line


def test_logout_without_a_session_and_a_dry_run_without_login(shell, capsys):
    assert shell.run_cell("%p44_logout").success
    assert capsys.readouterr().out.strip() == "Not logged in."
    shell.run_cell("%config P44Magics.env = 'eu'")
    assert shell.run_cell("%p44 --dry-run GET /api/v4/webhooks").success
    out = capsys.readouterr().out
    assert "GET https://eu12.api.project44.com/api/v4/webhooks" in out


@pytest.mark.parametrize("host, loopback", [("127.0.0.1", True), ("example.invalid", False)])
def test_is_the_server_running_only_for_a_loopback_host(host, loopback):
    import httpx

    from p44_magic import P44ConnectionError
    from p44_magic.retries import Target, transport_error

    error = transport_error(httpx.ConnectError("refused"), Target("GET", "/x", host, 1.0), True)
    assert isinstance(error, P44ConnectionError)
    assert ("is the server running" in str(error)) is loopback


def test_a_refused_connection_on_loopback_asks_if_the_server_runs():
    with client_for("http://127.0.0.1:9", retries=0) as p44:
        from p44_magic import P44ConnectionError

        with pytest.raises(P44ConnectionError, match="is the server running"):
            p44.answer("GET", "/api/v4/x")
