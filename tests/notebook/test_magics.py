"""The magics through a real IPython InteractiveShell, against the demo API on 127.0.0.1."""

from __future__ import annotations

import time

from p44_magic.demo import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from tests.servers import Reply, ScriptedServer, log_in, with_tokens

SEARCH = """\
%%p44 orders --all-pages
POST /api/v4/inventory/orders/search?page=1&pageSize=100
Content-Type: application/json

{}
"""


def out_of(capsys) -> str:
    captured = capsys.readouterr()
    return captured.out + captured.err


def test_load_ext_registers_the_magics(shell):
    magics = shell.magics_manager.magics
    for name in ("p44_login", "p44_logout", "p44_status", "p44"):
        assert name in magics["line"]
    assert "p44" in magics["cell"]


def test_login_prints_one_line_without_the_token(shell, demo, capsys):
    log_in(shell, demo.base_url, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)
    login_line = out_of(capsys)
    assert len(login_line.strip().splitlines()) == 1
    shell.run_line_magic("p44_status", "")
    text = login_line + out_of(capsys)
    assert f"Logged in to {demo.base_url} as client {DEMO_CLIENT_ID}" in text
    assert "a token is held" in text
    assert "token fetches: 1" in text and "auth:          basic" in text
    assert DEMO_CLIENT_SECRET not in text


def test_login_with_environment_variables_and_form_auth(shell, demo, monkeypatch, capsys):
    monkeypatch.setenv("P44_CLIENT_ID", DEMO_CLIENT_ID)
    monkeypatch.setenv("P44_CLIENT_SECRET", DEMO_CLIENT_SECRET)
    monkeypatch.setenv("P44_BASE_URL", demo.base_url)
    before = len(demo.requests)
    assert shell.run_cell("%p44_login --auth form").success
    token_call = demo.requests[before]
    assert b"client_secret=" in token_call.body and "authorization" not in token_call.headers
    assert "(form auth)" in out_of(capsys)


def test_env_demo_needs_no_credentials(shell, capsys):
    assert shell.run_cell("%p44_login --env demo").success
    assert "(demo) as client demo-client" in out_of(capsys)
    assert shell.run_cell("hooks = %p44 GET /api/v4/webhooks").success
    assert len(shell.user_ns["hooks"]) == 3


def test_wrong_credentials_fail_at_login_with_the_servers_words(shell, demo, capsys):
    result = log_in(shell, demo.base_url, DEMO_CLIENT_ID, "not-the-secret")
    text = out_of(capsys)
    assert not result.success
    assert "invalid_client" in text and "confidential client is invalid" in text
    assert "Traceback" not in text and "not-the-secret" not in text
    assert shell.magics_manager.registry["P44Magics"].client is None


def test_a_literal_secret_is_refused(shell, capsys):
    result = shell.run_cell("%p44_login --env demo --client-id x --client-secret hunter2")
    text = out_of(capsys)
    assert not result.success
    assert "--client-secret takes $name" in text and "P44_CLIENT_SECRET" in text
    assert "hunter2" not in text


def test_plain_http_is_refused_off_loopback(shell, capsys):
    result = log_in(shell, "http://api.example.com", "a", "x")
    assert not result.success
    assert "credentials travel only over HTTPS" in out_of(capsys)


def test_logout_forgets_everything(logged_in, capsys):
    logged_in.run_line_magic("p44_logout", "")
    result = logged_in.run_cell("%p44 GET /api/v4/webhooks")
    assert not result.success
    assert "Not logged in" in out_of(capsys)


def test_cell_with_name_stores_the_frame_and_prints_a_summary(logged_in, demo, capsys):
    result = logged_in.run_cell(SEARCH)
    assert result.success and result.result is None
    orders = logged_in.user_ns["orders"]
    assert "orders: 1,000 rows ×" in out_of(capsys)
    assert len(orders) == 1000 and orders["id"].is_unique
    assert "supplier.location.address.city" in orders.columns  # dotted columns


def test_all_pages_count_equals_total_and_max_pages_bounds_it(logged_in, demo):
    logged_in.run_cell(SEARCH.replace("pageSize=100", "pageSize=300"))
    assert len(logged_in.user_ns["orders"]) == 1000
    logged_in.run_cell(SEARCH.replace("--all-pages", "--all-pages --max-pages 2"))
    assert len(logged_in.user_ns["orders"]) == 200


def test_line_form_with_substitution_path_and_meta(logged_in, demo):
    logged_in.run_cell(SEARCH)
    logged_in.user_ns["sid"] = logged_in.user_ns["orders"]["shipmentIds"][0][0]
    result = logged_in.run_cell(
        "ev = %p44 GET /api/v4/shipments/{{sid}}/tracking/history --path events --meta shipment.id"
    )
    assert result.success
    events = logged_in.user_ns["ev"]
    assert set(events["shipment.id"]) == {logged_in.user_ns["sid"]}
    assert events["dateTime"].dt.tz is not None
    assert demo.requests[-1].path.endswith(
        f"/shipments/{logged_in.user_ns['sid']}/tracking/history"
    )


def test_without_name_the_frame_is_returned_and_several_lists_hint(logged_in, capsys):
    logged_in.run_cell(SEARCH)
    logged_in.user_ns["sid"] = logged_in.user_ns["orders"]["shipmentIds"][0][0]
    result = logged_in.run_cell(
        "%%p44 --no-presets\nGET /api/v4/shipments/{{sid}}/tracking/history\n"
    )
    assert result.success and len(result.result) == 1
    assert "several lists: events (" in out_of(capsys)


def test_raw_returns_parsed_json(logged_in):
    result = logged_in.run_cell("%p44 --raw GET /api/v4/webhooks")
    assert isinstance(result.result, dict) and "webhookEndpoints" in result.result


def test_dry_run_sends_nothing_and_masks_authorization(logged_in, demo, capsys):
    logged_in.user_ns["sid"] = "abc"
    before = len(demo.requests)
    cell = "%%p44 --dry-run\nPOST /api/v4/shipments/{{sid}}/x\nContent-Type: application/json\n\n{}"
    assert logged_in.run_cell(cell).success
    assert len(demo.requests) == before
    text = out_of(capsys)
    assert f"POST {demo.base_url}/api/v4/shipments/abc/x" in text
    assert "Authorization: Bearer ********" in text and "dry run" in text


def test_ipython_expansion_is_off_for_p44(logged_in, capsys):
    logged_in.user_ns["id"] = "SHOULD-NOT-APPEAR"
    logged_in.run_cell("%p44 --dry-run GET /api/v4/shipments/{id}/tracking")
    text = out_of(capsys)
    assert "The path holds {id}" in text and "SHOULD-NOT-APPEAR" not in text


def test_http_error_is_short_fails_the_cell_and_keeps_the_exchange(logged_in, capsys):
    result = logged_in.run_cell("%p44 GET /api/v4/shipments/no-such-id/tracking")
    text = out_of(capsys)
    assert not result.success
    assert "HTTP 404 Not Found from GET" in text and "Shipment not found" in text
    assert "supportReferenceId:" in text and "Traceback" not in text
    assert len(text.strip().splitlines()) <= 6
    last = logged_in.user_ns["_p44_last"]
    assert last.status_code == 404 and last.body["httpStatusCode"] == 404
    assert last.request_headers["authorization"] == "Bearer ********"


def test_last_exchange_after_success(logged_in):
    logged_in.run_cell("%p44 GET /api/v4/webhooks")
    last = logged_in.user_ns["_p44_last"]
    assert (last.method, last.status_code) == ("GET", 200)
    assert "webhookEndpoints" in last.body


def test_unknown_name_bad_syntax_and_unknown_option_are_one_line(logged_in, capsys):
    for cell, words in [
        ("%p44 GET /api/v4/shipments/{{nope}}/tracking", "no variable named 'nope'"),
        ("%%p44\nFETCH /x", "not an HTTP method"),
        ("%p44 --bogus GET /x", "unrecognized arguments: --bogus"),
        ("%%p44 a b\nGET /x", "at most one NAME"),
        ("%p44 --max-pages", "expected one argument"),
    ]:
        result = logged_in.run_cell(cell)
        text = out_of(capsys)
        assert not result.success, cell
        assert words in text and "Traceback" not in text, text


def test_config_sets_defaults(shell, demo, capsys):
    shell.run_line_magic("config", "P44Magics.auth = 'form'")
    shell.run_line_magic("config", "P44Magics.timeout = 5.0")
    shell.run_cell("%p44_login --env demo")
    magics = shell.magics_manager.registry["P44Magics"]
    assert magics.client.auth_style == "form" and magics.client.timeout == 5.0


def test_info_messages_show_as_warnings(logged_in, demo, capsys):
    from p44_magic.demo import demo_data

    flagged = next(s.id for s in demo_data().shipments if s.info_messages)
    logged_in.user_ns["sid"] = flagged
    assert logged_in.run_cell("%p44 GET /api/v4/shipments/{{sid}}/tracking").success
    assert "project44 WARNING: Position data delayed by carrier" in out_of(capsys)


def scripted_login(shell, server: ScriptedServer) -> None:
    assert log_in(shell, server.base_url).success


def test_non_json_answer_is_returned_as_text_with_a_note(shell, capsys):
    with ScriptedServer(with_tokens(Reply(200, "plain words"))) as server:
        scripted_login(shell, server)
        result = shell.run_cell("%p44 GET /api/v4/x")
    assert result.result == "plain words"
    assert "not JSON" in out_of(capsys)


def test_204_gives_none(shell, capsys):
    with ScriptedServer(with_tokens(Reply(204))) as server:
        scripted_login(shell, server)
        result = shell.run_cell("%p44 DELETE /api/v4/webhooks/1")
    assert result.success and result.result is None
    assert "no content" in out_of(capsys)


def test_timeout_is_a_short_error(shell, capsys):
    shell.run_line_magic("config", "P44Magics.timeout = 0.3")
    with ScriptedServer(with_tokens(Reply(200, [], delay=1.5))) as server:
        scripted_login(shell, server)
        result = shell.run_cell("%p44 GET /api/v4/x")
    text = out_of(capsys)
    assert not result.success and "No answer within 0.3 s" in text and "Traceback" not in text


def test_refused_connection_is_a_short_error(shell, capsys):
    with ScriptedServer(with_tokens(Reply(200, []))) as server:
        port = server.port
    result = log_in(shell, f"http://127.0.0.1:{port}", "c", "x")
    text = out_of(capsys)
    assert not result.success and "Could not connect" in text and "Traceback" not in text


def test_5xx_with_project44_body_after_retries(shell, capsys):
    body = {"httpStatusCode": 500, "errorMessage": "Internal failure", "supportReferenceId": "R-1"}
    shell.run_line_magic("config", "P44Magics.retries = 1")
    with ScriptedServer(with_tokens(Reply(500, body))) as server:
        scripted_login(shell, server)
        result = shell.run_cell("%p44 GET /api/v4/x")
        data_calls = server.data_calls()
    text = out_of(capsys)
    assert not result.success and len(data_calls) == 2
    assert "HTTP 500" in text and "Internal failure" in text and "R-1" in text
    assert "Tried 2 times" in text and "Traceback" not in text


def test_expired_token_is_renewed_once_behind_the_scenes(shell, capsys):
    from p44_magic.demo import DemoServer

    with DemoServer(token_lifetime=0.3) as short_lived:
        log_in(shell, short_lived.base_url, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)
        assert shell.run_cell("%p44 GET /api/v4/webhooks").success
        time.sleep(0.4)
        assert shell.run_cell("%p44 GET /api/v4/webhooks").success
        capsys.readouterr()
        shell.run_line_magic("p44_status", "")
        assert "token fetches: 2" in capsys.readouterr().out
        assert short_lived.token_fetches == 2


def test_env_demo_ignores_real_credentials_from_the_environment(shell, monkeypatch, capsys):
    monkeypatch.setenv("P44_CLIENT_ID", "real-production-id")
    monkeypatch.setenv("P44_CLIENT_SECRET", "real-production-secret")
    assert shell.run_cell("%p44_login --env demo").success
    assert "as client demo-client" in out_of(capsys)


def test_bodies_that_are_not_utf8_and_huge_cells_get_a_short_message(logged_in, capsys):
    result = logged_in.run_cell('%%p44\nPOST /api/v4/inventory/orders/search\n\n{"x": "\udcff"}')
    text = out_of(capsys)
    assert not result.success and "UTF-8" in text and "Traceback" not in text
    huge = "%%p44 --dry-run\nPOST /api/v4/inventory/orders/search\n\n" + "x" * 2_000_000
    assert logged_in.run_cell(huge).success  # sent as written; nothing is special about size
    body = '{"statuses": ["' + "X" * 1_000_000 + '"]}'
    result = logged_in.run_cell("%%p44\nPOST /api/v4/inventory/orders/search\n\n" + body)
    assert result.success and len(result.result) == 0


def test_dry_run_refuses_an_authorization_typed_into_the_cell_without_showing_it(logged_in, capsys):
    logged_in.user_ns["mine"] = "typed-token-value"
    cell = "%%p44 --dry-run\nGET /api/v4/webhooks\nAuthorization: Bearer {{mine}}\n"
    assert not logged_in.run_cell(cell).success  # as it would be refused when sent
    text = out_of(capsys)
    assert "typed-token-value" not in text and "Authorization is set by p44_magic" in text


def test_a_header_written_twice_in_a_cell_is_sent_twice(shell):
    with ScriptedServer(with_tokens(lambda got: Reply(200, []))) as server:
        assert log_in(shell, server.base_url).success
        result = shell.run_cell(
            "%%p44 --raw\nGET /api/v4/things\nX-Tag: first\nX-Tag: second\nAccept: */*\n"
        )
        assert result.success, result.error_in_exec
        sent = server.data_calls()[-1].header_lines
    assert [value for key, value in sent if key.lower() == "x-tag"] == ["first", "second"]


def test_a_mistyped_path_gets_a_hint_not_a_support_message(logged_in, capsys):
    shell = logged_in
    shell.user_ns["sid"] = "abc"
    assert not shell.run_cell("%p44 GET /api/v4/shipment/{{sid}}/tracking").success
    text = out_of(capsys)
    assert "Did you mean GET /api/v4/shipments/{{shipmentId}}/tracking?" in text
    assert "quote it to project44 support" not in text
    assert not shell.run_cell("%p44 GET /api/v4/nothing/like/this/at/all").success
    text = out_of(capsys)
    assert "HTTP 404" in text and "Did you mean" not in text
    assert "quote it to project44 support" not in text
    # A known path whose id does not exist: that one is for project44 support.
    assert not shell.run_cell("%p44 GET /api/v4/shipments/{{sid}}/tracking").success
    text = out_of(capsys)
    assert "quote it to project44 support" in text and "Did you mean" not in text
