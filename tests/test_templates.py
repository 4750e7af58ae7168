"""``{{name}}`` by place (issue 21, item 1): what reaches a server on 127.0.0.1 is the value
itself, in the path, the query, a header and a JSON body, from a cell, ``--each`` and Python."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, unquote, urlsplit

import numpy as np
import pandas as pd
import pytest

from p44_magic import P44UsageError
from tests.servers import Received, Reply, ScriptedServer, client_for, log_in, with_tokens

HARD_VALUES = ["PO#12", "A/B", "C+D", "E?x=1", "50% off", "ü ß"]


def echo(got: Received) -> Reply:
    return Reply(200, [{"ok": True}])


@pytest.fixture
def server_shell(shell):
    with ScriptedServer(with_tokens(echo)) as server:
        assert log_in(shell, server.base_url).success
        shell.run_cell("%config P44Magics.progress = False")
        yield server, shell


def sent(server) -> Received:
    return server.data_calls()[-1]


def test_a_bare_placeholder_in_a_json_body_is_the_values_json(server_shell):
    server, shell = server_shell
    shell.user_ns.update(
        codes=["IN_TRANSIT", "DELIVERED"],
        limits={"max": np.int64(5), "ratio": np.float64(0.5)},
        flag=np.bool_(True),
        nothing=None,
        when=pd.Timestamp("2026-11-20T12:00:00Z"),
        gap=float("nan"),
    )
    cell = (
        "%%p44\nPOST /api/v4/inventory/orders/search\nContent-Type: application/json\n\n"
        '{"statusCodes": {{codes}}, "limits": {{limits}}, "flag": {{flag}}, "none": {{nothing}},'
        ' "when": {{when}}, "gap": {{gap}}}'
    )
    assert shell.run_cell(cell).success
    assert json.loads(sent(server).body) == {
        "statusCodes": ["IN_TRANSIT", "DELIVERED"],
        "limits": {"max": 5, "ratio": 0.5},
        "flag": True,
        "none": None,
        "when": "2026-11-20T12:00:00+00:00",
        "gap": None,
    }


def test_a_placeholder_inside_a_json_string_is_escaped_as_string_content(server_shell):
    server, shell = server_shell
    shell.user_ns["ref"] = 'PO "12" \\ x\nnext'
    cell = '%%p44\nPOST /api/v4/inventory/orders/search\n\n{"orderNumber": "{{ref}}-A", "n": 1}'
    assert shell.run_cell(cell).success
    assert json.loads(sent(server).body) == {"orderNumber": 'PO "12" \\ x\nnext-A', "n": 1}


@pytest.mark.parametrize("value", HARD_VALUES)
def test_a_path_value_is_one_segment_and_a_query_value_one_value(server_shell, value):
    server, shell = server_shell
    shell.user_ns["v"] = value
    assert shell.run_cell("%p44 GET /api/v4/shipments/{{v}}/tracking?ref={{v}}&n=1").success
    path, _, query = sent(server).path.partition("?")
    segments = path.split("/")
    assert len(segments) == 6 and unquote(segments[4]) == value
    assert parse_qs(query) == {"ref": [value], "n": ["1"]}


def test_a_header_value_with_a_line_break_is_refused(server_shell, capsys):
    server, shell = server_shell
    before = len(server.data_calls())
    shell.user_ns["evil"] = "x\r\nX-Injected: 1"
    assert not shell.run_cell("%%p44\nGET /api/v4/webhooks\nX-Ref: {{evil}}\n").success
    assert "line break" in capsys.readouterr().err
    assert len(server.data_calls()) == before


def test_a_json_body_that_does_not_parse_is_refused_naming_line_and_column(server_shell, capsys):
    server, shell = server_shell
    before = len(server.data_calls())
    shell.user_ns["codes"] = ["A"]
    cell = (
        "%%p44\nPOST /api/v4/inventory/orders/search\nContent-Type: application/json\n\n"
        '{\n  "statusCodes": "{{codes}}" "x"\n}'
    )
    assert not shell.run_cell(cell).success
    err = capsys.readouterr().err
    assert "does not parse" in err and "line 2, column" in err
    assert len(server.data_calls()) == before


def test_each_value_goes_in_by_its_place_too(server_shell):
    server, shell = server_shell
    shell.user_ns["ids"] = ["PO#1", 'say "hi"', "A/B"]
    cell = (
        "%%p44 rows --each sid=ids\nPOST /api/v4/things/{{sid}}/search\n"
        'Content-Type: application/json\n\n{"id": "{{sid}}", "ids": [{{sid}}]}'
    )
    assert shell.run_cell(cell).success
    calls = server.data_calls()[-3:]  # sent concurrently: in any order
    seen = {unquote(got.path.split("/")[4]): json.loads(got.body) for got in calls}
    assert seen == {value: {"id": value, "ids": [value]} for value in shell.user_ns["ids"]}


def test_the_python_api_takes_numpy_and_pandas_values_and_each_templates_json():
    with ScriptedServer(with_tokens(echo)) as server, client_for(server) as p44:
        p44.request(
            "POST",
            "/api/v4/x/search",
            json={"n": np.int64(3), "when": pd.Timestamp("2026-01-02", tz="UTC"), "xs": (1, 2)},
        )
        assert json.loads(sent(server).body) == {
            "n": 3,
            "when": "2026-01-02T00:00:00+00:00",
            "xs": [1, 2],
        }
        p44.each("POST", "/api/v4/x/{{v}}/search", ["a b", 'q"t'], name="v", json={"id": "{{v}}"})
        bodies = [json.loads(r.body) for r in server.data_calls()[-2:]]
        assert sorted(b["id"] for b in bodies) == ["a b", 'q"t']
        paths = sorted(
            unquote(urlsplit(r.path).path.split("/")[4]) for r in server.data_calls()[-2:]
        )
        assert paths == ["a b", 'q"t']
        with pytest.raises(P44UsageError, match="cannot be written as JSON"):
            p44.request("POST", "/api/v4/x", json={"bad": object()})


def test_subscripts_attributes_and_unicode_names_are_read_nothing_is_evaluated(server_shell):
    server, shell = server_shell
    shell.user_ns.update(ids=["S-1", "S-2"], row={"id": "S-3"}, sendung_ä="S-4")
    for expression, value in (
        ("ids[0]", "S-1"),
        ("ids[-1]", "S-2"),
        ('row["id"]', "S-3"),
        ("row['id']", "S-3"),
        ("sendung_ä", "S-4"),
    ):
        assert shell.run_cell(f"%p44 GET /api/v4/shipments/{{{{{expression}}}}}").success
        assert sent(server).path == f"/api/v4/shipments/{value}"
    for bad in ("ids[0:1]", "len(ids)", "ids + ids", "__import__('os')"):
        assert not shell.run_cell(f"%p44 GET /api/v4/shipments/{{{{{bad}}}}}").success
