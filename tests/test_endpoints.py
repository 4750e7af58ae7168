"""The endpoint catalogue: presets, linked tracking tables, completion and help, on the demo."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest
from IPython.core.completer import provisionalcompleter

from p44_magic import ENDPOINTS, find_endpoint, tracking_tables
from p44_magic.demo import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET


@pytest.fixture
def p44(logged_in):
    """Logged in to the demo, with a few orders and one shipment id (``sid``) at hand."""
    shell = logged_in
    shell.run_cell("%%p44 orders\nPOST /api/v4/inventory/orders/search?page=1&pageSize=5\n\n{}")
    shell.user_ns["sid"] = shell.user_ns["orders"]["shipmentIds"][0][0]
    return shell


def cell(shell, source):
    result = shell.run_cell(source)
    assert result.success, source
    return result.result


def test_catalogue_is_data_and_matches_paths_with_placeholders():
    assert find_endpoint("GET", "/api/v4/shipments/abc/positionhistory").rows == "positions"
    assert find_endpoint("get", "https://x/api/v4/webhooks?x=1").rows == "webhookEndpoints"
    assert find_endpoint("POST", "/api/v4/shipments/abc/positionhistory") is None
    assert find_endpoint("GET", "/api/v4/nothing/here") is None
    assert {e.paging for e in ENDPOINTS} >= {"pageSize", "size"}


def test_endpoints_magic_lists_and_filters(p44):
    everything = cell(p44, "%p44_endpoints")
    assert len(everything) == len(ENDPOINTS)
    assert set(everything.columns) >= {"method", "path", "description", "rows", "meta", "paging"}
    ltl = cell(p44, "%p44_endpoints ltl")
    assert len(ltl) == 2 and all("ltl" in path for path in ltl["path"])


@pytest.mark.parametrize(
    "request_line, column",
    [
        ("GET /api/v4/shipments/{{sid}}/positionhistory", "latitude"),
        ("GET /api/v4/shipments/{{sid}}/eventhistory", "type"),
        ("GET /api/v4/capacityprovideraccounts", "capacityProviderIdentifier.value"),
        ("GET /api/v4/webhooks", "url"),
    ],
)
def test_presets_pick_the_rows(p44, request_line, column):
    frame = cell(p44, f"%p44 {request_line}")
    assert column in frame.columns and len(frame) > 1


def test_positionhistory_preset_carries_shipment_id(p44):
    frame = cell(p44, "%p44 GET /api/v4/shipments/{{sid}}/positionhistory")
    assert set(frame["shipment.id"]) == {p44.user_ns["sid"]}


def test_rate_quotes_and_ltl_statuses_presets(p44, demo):
    quotes = cell(
        p44,
        "%%p44\nPOST /api/v4/ltl/quotes/rates/query\nContent-Type: application/json\n\n"
        '{"originAddress": {"postalCode": "60601"}, "destinationAddress": {"postalCode": "10001"}}',
    )
    assert "carrierCode" in quotes.columns and "rateQuoteDetail.total" in quotes.columns
    from p44_magic.demo import demo_data

    ltl = next(s for s in demo_data().shipments if s.mode == "LTL")
    pro = next(i["value"] for i in ltl.shipment["identifiers"] if i["type"] == "PRO")
    p44.user_ns["pro"] = pro
    statuses = cell(
        p44,
        "%p44 GET /api/v4/ltl/trackedshipments/statuses?shipmentIdentifier.type=PRO"
        "&shipmentIdentifier.value={{pro}}",
    )
    assert len(statuses) >= 1


def test_paged_search_preset_needs_no_page_size(p44, demo):
    frame = cell(p44, "%%p44 --all-pages\nPOST /api/v4/inventory/orders/search\n\n{}")
    assert len(frame) == 1000
    assert "pageSize=100" in demo.requests[-1].path


def test_explicit_options_always_win(p44):
    states = cell(p44, "%p44 GET /api/v4/shipments/{{sid}}/tracking/history --path states")
    assert "shipment.id" not in states.columns  # the preset's meta does not ride along
    assert set(states["type"]) <= {"AT_STOP", "IN_TRANSIT", "COMPLETED"}
    with_meta = cell(
        p44, "%p44 GET /api/v4/shipments/{{sid}}/positionhistory --meta shipment.identifiers"
    )
    assert "shipment.identifiers" in with_meta.columns and "shipment.id" not in with_meta.columns
    raw = cell(p44, "%p44 --raw GET /api/v4/shipments/{{sid}}/positionhistory")
    assert isinstance(raw, dict)
    generic = cell(p44, "%p44 --no-presets GET /api/v4/shipments/{{sid}}/positionhistory")
    assert "latitude" in generic.columns and "shipment.id" not in generic.columns


def test_tables_link_events_to_stops(p44):
    tables = cell(p44, "%p44 --tables GET /api/v4/shipments/{{sid}}/tracking/history")
    sid = p44.user_ns["sid"]
    assert [name for name, _ in tables] == [
        "shipment",
        "stops",
        "segments",
        "events",
        "states",
        "positions",
        "related",
    ]
    for _, frame in tables:
        assert set(frame["shipment_id"]) <= {sid}
    assert len(tables.shipment) == 1
    assert any(c.startswith("identifier.") for c in tables.shipment.columns)
    assert any(c.startswith("attribute.") for c in tables.shipment.columns)
    events = tables.events
    assert {"stop.city", "stop.country", "stop.type"} <= set(events.columns)
    stops = tables.stops.set_index("id")
    for _, event in events.dropna(subset=["stopId"]).iterrows():
        city = stops.loc[event["stopId"]].get("location.address.city")
        assert event["stop.city"] == city or (pd.isna(event["stop.city"]) and pd.isna(city))
    assert f"TrackingTables for shipment {sid}" in repr(tables)
    assert "events" in tables._repr_html_() and f"{len(events)} rows" in repr(tables)


def test_tracking_tables_from_python(demo):
    from p44_magic import P44Client

    with P44Client(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, base_url=demo.base_url) as client:
        orders = client.answer("POST", "/api/v4/inventory/orders/search?page=1&pageSize=1", json={})
        sid = orders["results"][0]["shipmentIds"][0]
        tables = tracking_tables(client.answer("GET", f"/api/v4/shipments/{sid}/tracking"))
    assert len(tables.stops) >= 2 and tables.events.empty


def completions(shell, text: str) -> list[str]:
    with provisionalcompleter():
        return [c.text for c in shell.Completer.completions(text, len(text))]


def test_tab_completes_methods_then_catalogue_paths(shell):
    assert completions(shell, "%p44 PO") == ["POST"]
    paths = completions(shell, "%p44 GET /api/v4/shipments/")
    assert "/api/v4/shipments/{{shipmentId}}/positionhistory" in paths  # a placeholder to fill
    assert "/api/v4/inventory/orders/search" not in paths  # a POST endpoint
    assert completions(shell, "df = %p44 --raw POST /api/v4/inv") == [
        "/api/v4/inventory/items/search",
        "/api/v4/inventory/orders/search",
    ]
    assert completions(shell, "%%p44 orders --all-pages\n# search\nPO") == ["POST"]
    assert "/api/v4/webhooks" in completions(shell, "%%p44\nGET /api/v4/w")
    assert completions(shell, "%%p44\nGET /x\nContent-Type: app") == []


def test_a_completed_path_asks_for_its_variable_and_never_sends_braces(logged_in, capsys):
    shell = logged_in
    path = "/api/v4/shipments/{{shipmentId}}/tracking/history"
    assert path in completions(shell, "%p44 GET /api/v4/shipments/")
    assert not shell.run_cell(f"%p44 GET {path}").success
    out = capsys.readouterr()
    assert "no variable named 'shipmentId'" in out.out + out.err
    orders = shell.run_cell("%p44 --raw POST /api/v4/inventory/orders/search").result
    shell.user_ns["shipmentId"] = orders["results"][0]["shipmentIds"][0]
    assert shell.run_cell(f"events = %p44 GET {path}").success and len(shell.user_ns["events"])


@pytest.mark.parametrize(
    "cell",
    [
        "%p44 GET /api/v4/shipments/{shipmentId}/tracking/history",
        "%p44 --dry-run GET /api/v4/shipments/{shipmentId}/tracking/history",
        "%%p44\nGET /api/v4/shipments/abc/x/{sid}",
    ],
)
def test_a_single_brace_placeholder_is_refused_before_sending(shell, capsys, cell):
    from tests.servers import ScriptedServer, log_in, with_tokens

    with ScriptedServer(with_tokens()) as server:
        assert log_in(shell, server.base_url).success
        assert not shell.run_cell(cell).success
        assert server.data_calls() == []
    out = capsys.readouterr()
    name = "sid" if "{sid}" in cell else "shipmentId"
    assert f"holds {{{name}}}" in out.out + out.err
    assert f"Write {{{{{name}}}}} to take it from a notebook variable" in out.out + out.err


def test_the_terminal_completion_menu_shows_whole_paths(shell):
    from IPython.terminal import ptutils

    path = "/api/v4/shipments/{{shipmentId}}/tracking/history"
    assert ptutils._elide(path, "", min_elide=30) == path  # IPython would show /a…}/history
    dotted = "package.module.submodule.function_name"
    assert ptutils._elide(dotted, "", min_elide=30) != dotted  # anything else as IPython has it


def test_help_shows_grammar_options_and_examples(shell, capsys):
    assert shell.run_cell("%%p44 --help\nGET /api/v4/webhooks").success
    assert shell.run_cell("%p44 --help").success
    text = capsys.readouterr().out
    for words in ("Cell form", "--all-pages", "--tables", "/positionhistory", "%p44_endpoints"):
        assert words in text
    assert "Examples" in shell.magics_manager.magics["line"]["p44"].__doc__


def test_the_demo_serves_every_catalogue_endpoint(demo):
    from p44_magic import P44Client
    from p44_magic.demo import demo_data

    data = demo_data()
    truck = next(s for s in data.shipments if s.mode == "TRUCKLOAD")
    ltl = next(s for s in data.shipments if s.mode == "LTL")
    pro = next(i["value"] for i in ltl.shipment["identifiers"] if i["type"] == "PRO")
    bodies = {
        "/api/v4/shipments/tracking": {"identifiers": truck.shipment["identifiers"][:1]},
        "/api/v4/tl/shipments": {"shipmentIdentifiers": truck.shipment["identifiers"][:1]},
        "/api/v4/ltl/quotes/rates/query": {"originAddress": {"postalCode": "60601"}},
    }
    queries = {
        "/api/v4/ltl/trackedshipments/statuses": {
            "shipmentIdentifier.type": "PRO",
            "shipmentIdentifier.value": pro,
        }
    }
    with P44Client(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, base_url=demo.base_url) as client:
        for endpoint in ENDPOINTS:
            path = endpoint.path.replace("{shipmentId}", truck.id)
            body = bodies.get(endpoint.path, {}) if endpoint.method == "POST" else None
            with warnings.catch_warnings(record=True) as notes:
                warnings.simplefilter("always")
                frame = client.frame(
                    endpoint.method, path, params=queries.get(endpoint.path), json=body
                )
            told = [str(note.message) for note in notes]
            # The demo's position data is delayed on some shipments (an infoMessage), and the
            # tracking start answer holds several lists: both are told, nothing else is.
            assert all(
                text.startswith(("project44 WARNING:", "The answer holds several lists"))
                for text in told
            ), told
            assert len(frame) >= 1, endpoint.path
            if endpoint.rows and endpoint.rows != "results":
                assert len(frame.columns) > 1, endpoint.path
