"""Real answers, not tidy ones (issue 14): absent lists, errors that say what to fix, answers
that claim to be JSON and are not. Over real HTTP to scripted servers on 127.0.0.1; the demo's
own variety is tested in tests/demo/test_variety.py."""

from __future__ import annotations

import pandas as pd
import pytest

from p44_magic import P44HTTPError, P44Warning, ServerMessage
from tests.servers import Reply, ScriptedServer, client_for, log_in, with_tokens

SID = "0f6d1c2e-9a8b-4c7d-8e6f-5a4b3c2d1e0f"
NO_POSITIONS = {"shipment": {"id": SID, "identifiers": [{"type": "CONTAINER_ID", "value": "C1"}]}}


def _data(reply: Reply):
    return ScriptedServer(with_tokens(reply))


def test_a_preset_whose_list_is_absent_gives_an_empty_frame_and_a_note(shell, capsys):
    with _data(Reply(200, NO_POSITIONS)) as server:
        log_in(shell, server.base_url)
        capsys.readouterr()
        shell.user_ns["sid"] = SID
        result = shell.run_cell("%p44 GET /api/v4/shipments/{{sid}}/positionhistory")
    assert result.error_in_exec is None
    frame = result.result
    assert isinstance(frame, pd.DataFrame) and len(frame) == 0
    err = capsys.readouterr().err
    assert "The answer has no positions (none yet): an empty table." in err
    assert "--path" not in err  # the user never typed it


def test_a_path_the_user_typed_still_names_the_option_when_absent(shell, capsys):
    with _data(Reply(200, NO_POSITIONS)) as server:
        log_in(shell, server.base_url)
        shell.user_ns["sid"] = SID
        result = shell.run_cell(
            "%p44 --path positions GET /api/v4/shipments/{{sid}}/positionhistory"
        )
    assert result.error_in_exec is not None
    assert "--path positions: the answer has no key 'positions'" in str(result.error_in_exec)


def test_the_python_api_and_each_take_an_absent_preset_list_too():
    with _data(Reply(200, NO_POSITIONS)) as server:
        with client_for(server) as p44:
            with pytest.warns(P44Warning, match=r"^The answer has no positions \(none yet\)"):
                frame = p44.frame("GET", f"/api/v4/shipments/{SID}/positionhistory")
            assert len(frame) == 0
            with pytest.warns(P44Warning, match="has no positions"):
                each = p44.each(
                    "GET", "/api/v4/shipments/{{sid}}/positionhistory", [SID, "other"], name="sid"
                )
    assert each.failures.empty and len(each.frame) == 0 and each.succeeded == 2


FIX_THESE = {
    "httpStatusCode": 400,
    "httpMessage": "Bad Request",
    "errorMessage": "Invalid request",
    "errors": [
        {
            "severity": "ERROR",
            "message": "Appointment in the Past",
            "diagnostic": "pickupWindow.startDateTime",
            "source": "SYSTEM",
        },
        {"severity": "WARNING", "message": "Unknown stop type", "diagnostic": "stops[1].type"},
        {"severity": "ERROR", "message": "Invalid request"},  # the same as errorMessage
        {"severity": "ERROR", "message": "Text '2022-03-23T18:38:00Z' could not be parsed"},
        {"severity": "INFO", "message": "a fourth different one"},
    ],
    "supportReferenceId": "ref-123",
}


def test_errors_items_that_say_what_to_fix_are_shown_with_their_diagnostic(shell):
    with _data(Reply(400, FIX_THESE)) as server:
        log_in(shell, server.base_url)
        shown = str(shell.run_cell("%p44 GET /api/v4/capacityprovideraccounts").error_in_exec)
        with client_for(server) as p44:
            with pytest.raises(P44HTTPError) as caught:
                p44.frame("GET", "/api/v4/capacityprovideraccounts")
    error = caught.value
    assert shown.splitlines()[:5] == str(error).splitlines()[:5]  # the cell shows the same
    lines = str(error).splitlines()
    assert lines[0].endswith(": Invalid request")
    assert lines[1:4] == [
        "  - Appointment in the Past (diagnostic: pickupWindow.startDateTime)",
        "  - WARNING: Unknown stop type (diagnostic: stops[1].type)",
        "  - Text '2022-03-23T18:38:00Z' could not be parsed",
    ]
    assert lines[4] == "  (and 1 more in the answer's errors[])"
    assert error.errors[0] == ServerMessage(
        "Appointment in the Past", "ERROR", "pickupWindow.startDateTime", "SYSTEM"
    )
    assert [item.severity for item in error.errors] == [
        "ERROR",
        "WARNING",
        "ERROR",
        "ERROR",
        "INFO",
    ]
    assert error.messages[1] == "Unknown stop type"


def test_errors_items_that_repeat_the_error_message_are_not_shown_again():
    body = {"errorMessage": "Shipment not found", "errors": [{"message": "Shipment not found"}]}
    with _data(Reply(404, body)) as server:
        with client_for(server) as p44:
            with pytest.raises(P44HTTPError) as caught:
                p44.frame("GET", "/api/v4/shipments/x/tracking")
    assert str(caught.value).count("Shipment not found") == 1
    assert caught.value.errors == [ServerMessage("Shipment not found")]


@pytest.mark.parametrize("raw", [b'{"shipment": {"id": "a"}, "events": [{"type"', b'{"a": 1,}'])
def test_json_that_does_not_parse_fails_the_cell_except_with_raw(shell, raw):
    with _data(Reply(200, raw, {"Content-Type": "application/json"})) as server:
        log_in(shell, server.base_url)
        failed = shell.run_cell("%p44 GET /api/v4/capacityprovideraccounts")
        tables = shell.run_cell("%p44 --tables GET /api/v4/shipments/x/tracking/history")
        raw_cell = shell.run_cell("%p44 --raw GET /api/v4/capacityprovideraccounts")
    for result in (failed, tables):
        assert result.error_in_exec is not None  # the cell fails: Run All stops here
        assert "The answer says it is JSON (application/json) but is not valid JSON" in str(
            result.error_in_exec
        )
    assert raw_cell.error_in_exec is None and raw_cell.result == raw.decode()
