"""KPIs on hand-computed shipments: every number below is worked out by hand from the answer."""

from __future__ import annotations

import pandas as pd
import pytest

from p44_magic import P44UsageError, P44Warning, tracking_tables
from p44_magic.frames import joined_tables
from p44_magic.kpis import eta_accuracy, scorecard, shipment_kpis, stop_performance


def answer(shipment_id="S1", scac="ABCD", positions=True, dwell_states=True):
    """Origin (LA) → port (Oakland) → destination (Seattle), two road segments."""
    stops = [
        {
            "id": "o",
            "type": "ORIGIN",
            "location": {"name": "LA DC", "address": {"city": "Los Angeles"}},
        },
        {
            "id": "p",
            "type": "PORT_OF_LOADING",
            "location": {
                "name": "Oakland",
                "identifiers": [{"type": "PORT_UN_LOCODE", "value": "USOAK"}],
            },
        },
        {
            "id": "d",
            "type": "DESTINATION",
            "location": {"name": "Seattle DC", "address": {"city": "Seattle"}},
        },
    ]
    segments = [
        {
            "id": "s1",
            "fromStopId": "o",
            "toStopId": "p",
            "transportationMode": "TRUCKLOAD",
            "emissions": {
                "distance": {"value": 600, "unit": "KM"},
                "totalCO2Emissions": {"value": 400.5, "unit": "KG"},
            },
        },
        {
            "id": "s2",
            "fromStopId": "p",
            "toStopId": "d",
            "transportationMode": "RAIL",
            "emissions": {
                "distance": {"value": 1300, "unit": "KM"},
                "totalCO2Emissions": {"value": 250000, "unit": "G"},
            },
        },
    ]
    events = [
        # origin: left 10:00 (plan none for arrival: picked up)
        {"type": "DEPARTURE_FROM_STOP", "stopId": "o", "dateTime": "2026-11-01T10:00:00Z"},
        # port: window 18:00–20:00, arrived 20:45 → 45 min late; left 23:15
        {
            "type": "ARRIVAL_AT_STOP",
            "stopId": "p",
            "dateTime": "2026-11-01T20:45:00Z",
            "plannedDateTime": "2026-11-01T18:00:00Z",
            "plannedEndDateTime": "2026-11-01T20:00:00Z",
            "estimateDateTime": "2026-11-01T20:30:00Z",
        },
        {"type": "DEPARTURE_FROM_STOP", "stopId": "p", "dateTime": "2026-11-01T23:15:00Z"},
        # destination: planned 2026-11-03 12:00, arrived 11:40 (offset form) → 20 min early
        {
            "type": "ARRIVAL_AT_STOP",
            "stopId": "d",
            "dateTime": "2026-11-03T06:40:00-0500",
            "plannedDateTime": "2026-11-03T12:00:00Z",
            "estimateDateTime": "2026-11-03T11:50:00Z",
        },
        {"type": "DELIVERY", "stopId": "d", "dateTime": "2026-11-03T13:00:00Z"},
    ]
    states = (
        [
            {
                "type": "AT_STOP",
                "stopId": "p",
                "startDateTime": "2026-11-01T20:45:00Z",
                "endDateTime": "2026-11-01T22:00:00Z",
            },
            {
                "type": "AT_STOP",
                "stopId": "p",
                "startDateTime": "2026-11-01T22:30:00Z",
                "endDateTime": "2026-11-01T23:15:00Z",
            },
            {"type": "IN_TRANSIT", "routeSegmentId": "s2", "startDateTime": "2026-11-01T23:15:00Z"},
        ]
        if dwell_states
        else []
    )
    body = {
        "shipment": {
            "id": shipment_id,
            "identifiers": [{"type": "CARRIER_SCAC", "value": scac}],
            "routeInfo": {"stops": stops, "routeSegments": segments},
        },
        "events": events,
        "states": states,
    }
    if positions:  # 3 positions, gaps 2 h and 30 h
        body["positions"] = [
            {"dateTime": when, "latitude": 40.0, "longitude": -120.0}
            for when in ("2026-11-01T12:00:00Z", "2026-11-01T14:00:00Z", "2026-11-02T20:00:00Z")
        ]
    return body


@pytest.fixture
def one():
    return tracking_tables(answer())


def test_stop_performance_by_hand(one):
    stops = stop_performance(one, tolerance="30min").set_index("stop_id")
    assert list(stops.index) == ["o", "p", "d"]  # route order
    port, dest, origin = stops.loc["p"], stops.loc["d"], stops.loc["o"]
    assert port["delay_min"] == 45.0  # against the window's end, not its start
    assert port["on_time"] is not pd.NA and not port["on_time"]
    assert port["dwell_min"] == 75.0 + 45.0  # two AT_STOP states
    assert port["unlocode"] == "USOAK"
    assert dest["delay_min"] == -20.0 and bool(dest["on_time"]) is True  # early, -0500 parsed
    assert pd.isna(dest["dwell_min"])  # no AT_STOP state and no departure
    assert pd.isna(origin["delay_min"]) and pd.isna(origin["on_time"])  # never planned
    assert stops.loc["p", "estimate"] == pd.Timestamp("2026-11-01T20:30:00Z")
    late = stop_performance(one, tolerance="1h").set_index("stop_id")
    assert bool(late.loc["p", "on_time"]) is True


def test_dwell_falls_back_to_arrival_and_departure():
    stops = stop_performance(tracking_tables(answer(dwell_states=False))).set_index("stop_id")
    assert stops.loc["p", "dwell_min"] == 150.0  # 20:45 → 23:15


def test_shipment_kpis_by_hand(one):
    row = shipment_kpis(one).iloc[0]
    assert row["carrier"] == "ABCD"
    assert row["mode"] == "RAIL"  # the longest segment
    assert row["lane"] == "Los Angeles → Seattle"
    assert row["transit_hours"] == pytest.approx(48 + 1 + 40 / 60)  # Nov 1 10:00 → Nov 3 11:40
    assert bool(row["on_time_delivery"]) is True and row["delivery_delay_min"] == -20.0
    assert row["positions"] == 3 and row["max_gap_hours"] == 30.0
    assert row["co2_kg"] == pytest.approx(400.5 + 250.0)  # grams counted as kilograms / 1000


def test_missing_times_are_na_never_an_error():
    bare = answer(positions=False, dwell_states=False)
    for event in bare["events"]:
        event.pop("dateTime", None)
    bare["shipment"]["routeInfo"]["routeSegments"][0].pop("emissions")
    bare["shipment"]["routeInfo"]["routeSegments"][1].pop("emissions")
    row = shipment_kpis(tracking_tables(bare)).iloc[0]
    assert pd.isna(row["transit_hours"]) and pd.isna(row["on_time_delivery"])
    assert pd.isna(row["delivery_delay_min"]) and pd.isna(row["co2_kg"])
    assert row["positions"] == 0 and pd.isna(row["max_gap_hours"])
    empty = tracking_tables({"shipment": {"id": "E"}})
    assert shipment_kpis(empty)["shipment_id"].tolist() == ["E"]
    assert stop_performance(empty).empty


def test_scorecard_by_carrier_and_any_columns():
    parts = [
        ("S1", tracking_tables(answer("S1", "ABCD"))),
        ("S2", tracking_tables(answer("S2", "ABCD", positions=False))),
        ("S3", tracking_tables(answer("S3", "WXYZ"))),
    ]
    kpis = shipment_kpis(joined_tables("sid", parts))
    kpis.loc[kpis["shipment_id"] == "S2", "delivery_delay_min"] = 40.0  # a late one, by hand
    kpis.loc[kpis["shipment_id"] == "S2", "on_time_delivery"] = False
    card = scorecard(kpis).set_index("carrier")
    abcd = card.loc["ABCD"]
    assert abcd["shipments"] == 2 and abcd["on_time_pct"] == 50.0
    assert abcd["delay_p50_min"] == 10.0  # median of -20 and 40
    assert abcd["delay_p90_min"] == pytest.approx(-20 + 0.9 * 60)
    assert abcd["tracking_compliance_pct"] == 0.0  # 30 h gap; no positions at all
    assert card.loc["WXYZ", "shipments"] == 1
    by_lane = scorecard(kpis, by=["mode", "lane"])
    assert list(by_lane.columns[:3]) == ["mode", "lane", "shipments"]
    with pytest.raises(P44UsageError, match="no column 'vendor'"):
        scorecard(kpis, by="vendor")


def test_eta_accuracy_hours_out():
    arrival = pd.Timestamp("2026-11-03T12:00:00Z")
    rows = []
    for hours_before, estimate in (
        (80, "2026-11-03T16:00:00Z"),
        (30, "2026-11-03T13:00:00Z"),
        (5, "2026-11-03T12:10:00Z"),
        (-1, "2026-11-03T12:05:00Z"),
    ):
        rows.append(
            {
                "fetched_at": arrival - pd.Timedelta(hours=hours_before),
                "type": "ARRIVAL_AT_STOP",
                "stopId": "d",
                "shipment.id": "S1",
                "estimateDateTime": pd.Timestamp(estimate),
                "dateTime": arrival if hours_before < 0 else pd.NaT,
            }
        )
    history = pd.DataFrame(rows)
    accuracy = eta_accuracy(history, hours_out=(72, 24, 4)).set_index("hours_out")
    assert accuracy.loc[72, "error_min"] == 240.0  # the 80-hours-out snapshot
    assert accuracy.loc[24, "error_min"] == 60.0  # the 30-hours-out one
    assert accuracy.loc[4, "error_min"] == 10.0  # the 5-hours-out one
    early = eta_accuracy(history, hours_out=(100,))
    assert pd.isna(early["error_min"].iloc[0])  # no snapshot that early
    assert eta_accuracy(pd.DataFrame()).empty


def test_kpis_of_many_shipments_match_each_shipment_alone():
    parts = [(f"S{n}", tracking_tables(answer(f"S{n}", f"C{n % 7}"))) for n in range(50)]
    joined = shipment_kpis(joined_tables("sid", parts))
    alone = pd.concat([shipment_kpis(tables) for _, tables in parts], ignore_index=True)
    pd.testing.assert_frame_equal(joined, alone)
    assert len(scorecard(joined)) == 7


def test_kpis_of_demo_shipments_match_their_events_worked_out_by_hand(demo):
    """From the demo's own records: the destination's delay and the transit time."""
    from datetime import datetime

    from p44_magic import P44Client
    from p44_magic.demo import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, demo_data

    def at(text):
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    records = [r for r in demo_data().shipments if r.completed][:5]
    with P44Client(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, base_url=demo.base_url) as p44:
        path = "/api/v4/shipments/{{sid}}/tracking/history"
        with pytest.warns(P44Warning):  # the demo's "position data delayed" notes
            each = p44.each("GET", path, [r.id for r in records], name="sid", tables=True)
        tables = each.frame
    kpis = shipment_kpis(tables).set_index("shipment_id")
    for record in records:
        stops = record.shipment["routeInfo"]["stops"]
        first, last = stops[0]["id"], stops[-1]["id"]
        events = {(e["type"], e.get("stopId")): e for e in record.events}
        arrival = events[("ARRIVAL_AT_STOP", last)]
        delay = (at(arrival["dateTime"]) - at(arrival["plannedDateTime"])).total_seconds() / 60
        left = at(events[("DEPARTURE_FROM_STOP", first)]["dateTime"])
        transit = (at(arrival["dateTime"]) - left).total_seconds() / 3600
        row = kpis.loc[record.id]
        assert row["delivery_delay_min"] == pytest.approx(delay)
        assert row["transit_hours"] == pytest.approx(transit)
        assert bool(row["on_time_delivery"]) is (delay <= 30)


def test_review_cases_naive_history_minutes_tolerance_and_unknown_units():
    rows = [
        {
            "fetched_at": pd.Timestamp("2026-11-01T00:00:00"),
            "type": "ARRIVAL_AT_STOP",
            "stopId": "d",
            "shipment.id": "S1",
            "estimateDateTime": pd.Timestamp("2026-11-03T13:00"),
            "dateTime": pd.NaT,
        },
        {
            "fetched_at": pd.Timestamp("2026-11-04T00:00:00"),
            "type": "ARRIVAL_AT_STOP",
            "stopId": "d",
            "shipment.id": "S1",
            "estimateDateTime": pd.Timestamp("2026-11-03T12:00"),
            "dateTime": pd.Timestamp("2026-11-03T12:00"),
        },
    ]
    accuracy = eta_accuracy(pd.DataFrame(rows), hours_out=(24,))  # naive: timezone=None
    assert accuracy["error_min"].tolist() == [60.0]
    one = tracking_tables(answer())
    by_number = stop_performance(one, tolerance=60).set_index("stop_id")  # minutes
    assert bool(by_number.loc["p", "on_time"]) is True
    odd = answer()
    odd["shipment"]["routeInfo"]["routeSegments"][1]["emissions"]["totalCO2Emissions"]["unit"] = (
        "MT"
    )
    assert pd.isna(shipment_kpis(tracking_tables(odd))["co2_kg"].iloc[0])
