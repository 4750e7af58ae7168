"""``%p44_run FILE.http`` and cells of several requests, in a real shell against the demo."""

from __future__ import annotations

import json
import re

import pytest

DEMO_FILE = """\
@base = /api/v4
@search = {{base}}/inventory/orders/search

### In-transit orders
# @name orders
# @p44 --all-pages
POST {{search}}?page=1&pageSize=100
Content-Type: application/json
Authorization: Bearer {{$auth.token("p44")}}

< ./filter.json

###
// @name track
# @p44 --tables
GET {{host}}{{base}}/shipments/{{orders.response.body.$.results[0].shipmentIds[0]}}/tracking/history
X-Who: {{$dotenv WHO}}

###
GET /api/v4/webhooks
"""


@pytest.fixture
def http_file(tmp_path):
    (tmp_path / "filter.json").write_text('{"statusCodes": ["IN_TRANSIT"]}')
    (tmp_path / ".env").write_text("WHO=analyst\n")
    path = tmp_path / "demo.http"
    path.write_text(DEMO_FILE)
    return path


def test_run_a_file_binds_each_name_and_prints_each_line(logged_in, demo, http_file, capsys):
    before = len(demo.requests)
    assert logged_in.run_cell(f"%p44_run {http_file}").success
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "orders: 124 rows × 13 columns"
    assert out[1] == "track: TrackingTables"
    assert re.fullmatch(r"request 3 \(line 20\): 3 rows × 4 columns", out[2])
    ns = logged_in.user_ns
    assert len(ns["orders"]) == 124
    first = ns["orders"]["shipmentIds"][0][0]
    assert ns["track"].shipment["id"][0] == first
    sent = demo.requests[before:]
    assert [r.headers.get("x-who") for r in sent if "tracking" in r.path] == ["analyst"]
    assert all(r.headers["authorization"].startswith("Bearer ") for r in sent)


def test_run_only_the_named_requests_and_dry_run(logged_in, demo, http_file, capsys):
    before = len(demo.requests)
    logged_in.run_cell(f"%p44_run {http_file} --name orders --dry-run")
    out = capsys.readouterr().out
    assert out.startswith("### orders\nPOST http://127.0.0.1:")
    assert '{"statusCodes": ["IN_TRANSIT"]}' in out and "(dry run: nothing was sent)" in out
    assert len(demo.requests) == before
    logged_in.run_cell(f"%p44_run {http_file} --name orders")
    assert capsys.readouterr().out == "orders: 124 rows × 13 columns\n"


def test_a_failing_request_stops_the_run_naming_the_file_and_line(logged_in, tmp_path):
    path = tmp_path / "bad.http"
    path.write_text("# @name one\nGET /api/v4/webhooks\n\n###\n# @name two\nGET /api/v4/nope\n")
    result = logged_in.run_cell(f"%p44_run {path}")
    assert not result.success
    text = str(result.error_in_exec)
    assert text.startswith("bad.http, request 'two' at line 6: HTTP 404")
    assert "one" in logged_in.user_ns and "two" not in logged_in.user_ns
    missing = logged_in.run_cell(f"%p44_run {path} --name three")
    assert "bad.http has no request named three; its names: one, two." in str(missing.error_in_exec)


def test_a_cell_of_several_requests(logged_in, capsys):
    cell = (
        "%%p44 hooks\n@v4 = /api/v4\n# @name accounts\nGET {{v4}}/capacityprovideraccounts\n"
        "\n###\nGET {{host}}{{v4}}/webhooks\n"
    )
    assert logged_in.run_cell(cell).success
    assert capsys.readouterr().out == ("accounts: 12 rows × 6 columns\nhooks: 3 rows × 4 columns\n")
    assert len(logged_in.user_ns["accounts"]) == 12


def test_file_level_names_work_in_any_cell(logged_in, monkeypatch):
    monkeypatch.setenv("P44_TEST_HOOKS", "webhooks")
    assert logged_in.run_cell("x = %p44 GET {{host}}/api/v4/{{$processEnv P44_TEST_HOOKS}}").success
    assert len(logged_in.user_ns["x"]) == 3


def test_to_http_and_export_hand_requests_back_without_credentials(logged_in, demo, tmp_path):
    from p44_magic.demo import DEMO_CLIENT_SECRET

    big = {"statusCodes": ["IN_TRANSIT"], "note": "x" * 3000}
    logged_in.user_ns["big"] = big
    cell = (
        "%%p44 found --all-pages\nPOST /api/v4/inventory/orders/search?page=1&pageSize=100\n"
        "Content-Type: application/json\nX-Team: ops\n\n{{big}}"
    )
    assert logged_in.run_cell(cell).success
    text = logged_in.user_ns["_p44_last"].to_http()
    assert text.startswith("POST {{host}}/api/v4/inventory/orders/search?page=")
    assert 'Authorization: Bearer {{$auth.token("p44")}}' in text and "x-team: ops" in text
    result = logged_in.run_cell(f"%p44_export {tmp_path / 'out.http'} --with-env")
    assert result.success
    exported = (tmp_path / "out.http").read_text()
    assert exported.startswith("### found\n# @name found\n# @p44 --all-pages\nPOST {{host}}/")
    assert exported.rstrip().endswith("< ./out.1.json")
    assert json.loads((tmp_path / "out.1.json").read_text()) == big
    env = json.loads((tmp_path / "http-client.env.json").read_text())
    entry = env["default"]["Security"]["Auth"]["p44"]
    assert env["default"]["host"] == demo.base_url
    assert entry["Client Secret"] == "{{p44_client_secret}}"
    tokens = [r.headers.get("authorization", "")[7:] for r in demo.requests]
    everything = exported + json.dumps(env) + text
    assert DEMO_CLIENT_SECRET not in everything
    assert not [token for token in tokens if len(token) > 8 and token in everything]


def test_export_before_anything_was_sent_is_a_short_error(shell, tmp_path):
    shell.magics_manager.registry["P44Magics"].sent = []  # as in a new kernel
    result = shell.run_cell(f"%p44_export {tmp_path / 'x.http'}")
    assert "Nothing to export yet: run a %%p44 cell or %p44_run first." in str(result.error_in_exec)


def test_export_writes_environment_values_back_as_their_placeholders(logged_in, tmp_path):
    (tmp_path / ".env").write_text("PARTNER_KEY=pk_live_very_secret_123\n")
    path = tmp_path / "keyed.http"
    path.write_text("GET /api/v4/webhooks\nX-Partner-Key: {{$dotenv PARTNER_KEY}}\n")
    assert logged_in.run_cell(f"%p44_run {path}").success
    assert logged_in.run_cell(f"%p44_export {tmp_path / 'out.http'}").success
    exported = (tmp_path / "out.http").read_text()
    assert "X-Partner-Key: {{$dotenv PARTNER_KEY}}" in exported
    assert "pk_live_very_secret_123" not in exported
