"""The demo serves the variety of real answers, and frames and linked tables take all of it
(issue 14). Over real HTTP to the demo API, through the magics; exact values each time."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pandas as pd
import pytest

from p44_magic.demo.data import demo_data
from p44_magic.demo.variety import PORTS, spelt

DATA = demo_data()


def _ts(text: str) -> pd.Timestamp:
    return pd.Timestamp(datetime.fromisoformat(text).astimezone(UTC))


def _first(check) -> object:
    return next(record for record in DATA.shipments if check(record))


def _run(shell, source: str, **names):
    shell.user_ns.update(names)
    result = shell.run_cell(source)
    assert result.success, (source, result.error_in_exec)
    return result.result


def test_every_spelling_of_a_timestamp_gives_one_utc_instant_in_one_column(logged_in):
    record = _first(lambda r: len(r.events) >= 8)
    events = _run(logged_in, "%p44 GET /api/v4/shipments/{{sid}}/eventhistory", sid=record.id)
    raw = [event["receivedDateTime"] for event in record.events]
    assert {text[19:] for text in raw} >= {"Z", ".000Z", "+0000", "-0500"}  # mixed in one answer
    assert str(events["receivedDateTime"].dtype) == "datetime64[us, UTC]"
    assert list(events["receivedDateTime"]) == [_ts(text) for text in raw]
    # the same instant, whatever the spelling
    assert spelt("2026-11-20T12:00:00Z", 3) == "2026-11-20T07:00:00-0500"
    one = pd.DataFrame({"at": [spelt("2026-11-20T12:00:00Z", how) for how in range(4)]}).pipe(
        lambda f: pd.to_datetime(f["at"], utc=True, format="ISO8601")
    )
    assert set(one) == {pd.Timestamp("2026-11-20T12:00:00Z")}


def test_an_event_that_has_not_happened_has_no_datetime_and_stays_nat(logged_in):
    record = _first(lambda r: not r.completed and any("dateTime" not in e for e in r.events))
    future = [i for i, event in enumerate(record.events) if "dateTime" not in event]
    events = _run(logged_in, "%p44 GET /api/v4/shipments/{{sid}}/eventhistory", sid=record.id)
    assert events["dateTime"].isna().tolist() == [i in future for i in range(len(events))]
    assert events.loc[future, "estimateDateTime"].notna().all()
    assert events.loc[future, "plannedDateTime"].notna().all()


def test_a_shipment_with_no_positions_yet_is_an_empty_frame_with_a_note(logged_in, capsys):
    record = _first(lambda r: r.positions is None)
    capsys.readouterr()
    positions = _run(logged_in, "%p44 GET /api/v4/shipments/{{sid}}/positionhistory", sid=record.id)
    assert isinstance(positions, pd.DataFrame) and len(positions) == 0
    err = capsys.readouterr().err
    assert "The answer has no positions (none yet): an empty table." in err
    assert "--path" not in err
    tables = _run(logged_in, "%p44 --tables GET /api/v4/shipments/{{sid}}/tracking/history")
    assert len(tables.positions) == 0 and len(tables.events) == len(record.events)


def test_ocean_ports_without_an_address_get_name_unlocode_and_coordinates(logged_in):
    record = _first(lambda r: r.mode == "OCEAN")
    tables = _run(logged_in, "%p44 --tables GET /api/v4/shipments/{{sid}}/tracking", sid=record.id)
    stops = tables.stops.set_index("type")
    for kind in ("PORT_OF_LOADING", "PORT_OF_DISCHARGE"):
        stop = next(s for s in record.shipment["routeInfo"]["stops"] if s["type"] == kind)
        location = stop["location"]
        assert "address" not in location
        row = stops.loc[kind]
        assert row["name"] == location["name"]
        assert row["unlocode"] == location["identifiers"][0]["value"]
        assert row["unlocode"] in {code for code, _ in PORTS.values()}
        assert row["latitude"] == location["coordinates"]["latitude"]
        assert row["longitude"] == location["coordinates"]["longitude"]
        assert pd.isna(row["location.address.city"])
    assert stops.loc["ORIGIN", "location.address.city"]  # a facility keeps its address
    assert math.isnan(stops.loc["ORIGIN", "unlocode"]) or stops.loc["ORIGIN", "unlocode"] is None


def test_events_and_states_without_a_stop_keep_their_rows_with_stop_columns_missing(logged_in):
    record = _first(lambda r: any("stopId" not in e for e in r.events))
    tables = _run(
        logged_in, "%p44 --tables GET /api/v4/shipments/{{sid}}/tracking/history", sid=record.id
    )
    stopless = [i for i, event in enumerate(record.events) if "stopId" not in event]
    events = tables.events
    assert len(events) == len(record.events)
    assert events["type"].tolist() == [event["type"] for event in record.events]
    for column in ("stopId", "stop.type", "stop.name", "stop.city"):
        assert events.loc[stopless, column].isna().all(), column
    assert events.drop(index=stopless)["stop.type"].notna().all()
    states = tables.states
    in_transit = states["type"] == "IN_TRANSIT"
    assert in_transit.any() and states.loc[in_transit, "stop.type"].isna().all()
    assert len(states) == len(record.states)


def test_the_current_state_has_no_end(logged_in):
    record = _first(lambda r: not r.completed)
    assert record.states[-1]["endDateTime"] is None
    states = _run(
        logged_in,
        "%p44 --path states GET /api/v4/shipments/{{sid}}/tracking/history",
        sid=record.id,
    )
    assert pd.isna(states["endDateTime"].iloc[-1]) and states["endDateTime"].iloc[:-1].notna().all()


def test_two_flight_numbers_keep_both_values(logged_in):
    record = _first(lambda r: r.mode == "AIR")
    flights = [i["value"] for i in record.shipment["identifiers"] if i["type"] == "FLIGHT_NUMBER"]
    assert len(flights) == 2 and flights[0] != flights[1]
    tables = _run(logged_in, "%p44 --tables GET /api/v4/shipments/{{sid}}/tracking", sid=record.id)
    assert tables.shipment["identifier.FLIGHT_NUMBER"].iloc[0] == ", ".join(flights)
    assert tables.segments["identifier.FLIGHT_NUMBER"].tolist() == [", ".join(flights)]


def test_segments_table_has_modes_identifiers_and_emissions_with_units(logged_in):
    record = _first(lambda r: r.mode == "OCEAN" and r.positions)
    tables = _run(
        logged_in, "%p44 --tables GET /api/v4/shipments/{{sid}}/tracking/history", sid=record.id
    )
    segments = tables.segments
    raw = record.shipment["routeInfo"]["routeSegments"]
    assert segments["id"].tolist() == [s["id"] for s in raw]
    assert segments["transportationMode"].tolist() == ["TRUCKLOAD", "OCEAN", "TRUCKLOAD"]
    ocean = segments.set_index("transportationMode").loc["OCEAN"]
    assert ocean["identifier.VESSEL_IMO"] == raw[1]["identifiers"][0]["value"]
    assert (
        ocean["emissions.totalCO2Emissions.value"]
        == raw[1]["emissions"]["totalCO2Emissions"]["value"]
    )
    assert ocean["emissions.totalCO2Emissions.unit"] == "KG"
    assert ocean["emissions.distance.unit"] == "KM"
    assert ocean["emissions.co2EmissionIntensity.unit"] == "G_PER_TONNE_KM"
    assert segments["fromStopId"].tolist() == [s["fromStopId"] for s in raw]
    modes = {s["id"]: s["transportationMode"] for s in raw}
    events, positions = tables.events, tables.positions
    with_segment = events["routeSegmentId"].notna()
    assert events.loc[with_segment, "transportationMode"].tolist() == [
        modes[s] for s in events.loc[with_segment, "routeSegmentId"]
    ]
    assert positions["transportationMode"].tolist() == [
        modes[p["routeSegmentId"]] for p in record.positions
    ]


def test_related_shipments_get_their_own_table(logged_in):
    record = _first(lambda r: r.shipment["relatedShipments"])
    (related,) = record.shipment["relatedShipments"]
    tables = _run(logged_in, "%p44 --tables GET /api/v4/shipments/{{sid}}/tracking", sid=record.id)
    assert tables.related["relatedShipmentId"].tolist() == [related["id"]]
    assert tables.related["identifier.CONTAINER_ID"].tolist() == [
        related["identifiers"][0]["value"]
    ]
    assert tables.related["createdDateTime"].iloc[0] == _ts(related["createdDateTime"])
    other = _first(lambda r: not r.shipment["relatedShipments"])
    empty = _run(logged_in, "%p44 --tables GET /api/v4/shipments/{{sid}}/tracking", sid=other.id)
    assert len(empty.related) == 0 and len(empty.segments) >= 1


def test_events_may_carry_date_times_per_source(logged_in):
    record = _first(lambda r: any("dateTimes" in e for e in r.events))
    events = _run(logged_in, "%p44 GET /api/v4/shipments/{{sid}}/eventhistory", sid=record.id)
    first = events["dateTimes"].iloc[0]
    assert [entry["type"] for entry in first][:2] == ["PLANNED", "ESTIMATE"]


def test_order_search_has_project44s_order_fields_and_only_a_total(logged_in):
    orders = _run(
        logged_in,
        "%%p44 --all-pages\nPOST /api/v4/inventory/orders/search?page=1&pageSize=200\n"
        'Content-Type: application/json\n\n{"statusCodes": ["DELIVERED"]}',
    )
    expected = [o for o in DATA.orders if o["statusCode"] == "DELIVERED"]
    assert len(orders) == len(expected) > 200  # every page joined from a total alone
    for column in (
        "orderIdentifier",
        "statusCode",
        "statusCodeDateTime",
        "additionalOrderIdentifiers",
        "orderTags",
        "lineItems",
        "shipmentIds",
    ):
        assert column in orders.columns, column
    assert orders["orderIdentifier"].tolist() == [o["orderIdentifier"] for o in expected]
    assert list(orders["statusCodeDateTime"]) == [_ts(o["statusCodeDateTime"]) for o in expected]
    lines = _run(
        logged_in,
        "%%p44 --all-pages --path lineItems --meta orderIdentifier\n"
        "POST /api/v4/inventory/orders/search?page=1&pageSize=500\n"
        'Content-Type: application/json\n\n{"statusCodes": ["DELIVERED"]}',
    )
    assert len(lines) == sum(len(o["lineItems"]) for o in expected)


@pytest.mark.parametrize("kind", ["eventhistory", "positionhistory", "tracking/history"])
def test_to_frame_on_the_demos_answers_equals_json_normalize(logged_in, kind):
    record = _first(lambda r: r.mode == "OCEAN" and r.positions)
    answer = _run(logged_in, f"%p44 --raw GET /api/v4/shipments/{{{{sid}}}}/{kind}", sid=record.id)
    from p44_magic import to_frame

    for key in ("events", "positions", "states"):
        if key in answer:
            ours = to_frame(answer, record_path=key, parse_dates=False)
            theirs = pd.json_normalize(answer, record_path=key)
            pd.testing.assert_frame_equal(ours, theirs[list(ours.columns)], check_exact=True)
            assert set(ours.columns) == set(theirs.columns)
