"""Linked tracking tables from the Python API (issue 19, item 5): ``P44Client.tables``,
``P44Client.each(..., tables=True)``, and the client's ``timezone`` on both; over the demo."""

from __future__ import annotations

import pandas as pd
import pytest

from p44_magic import P44Client, TrackingTables, tracking_tables
from p44_magic.demo import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from tests.servers import without_estimates

HISTORY = "/api/v4/shipments/{{sid}}/tracking/history"


def demo_client(demo, **settings) -> P44Client:
    return P44Client(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, base_url=demo.base_url, **settings)


def shipment_ids(p44: P44Client, count: int) -> list[str]:
    orders = p44.frame("POST", "/api/v4/inventory/orders/search", all_pages=True)
    return list(orders["shipmentIds"].explode().dropna().unique()[:count])


def test_tables_from_python_are_the_magics_tables(demo, logged_in):
    with demo_client(demo) as p44:
        sid = shipment_ids(p44, 1)[0]
        path = HISTORY.replace("{{sid}}", sid)
        tables = p44.tables("GET", path)
        expected = tracking_tables(p44.answer("GET", path))
    assert isinstance(tables, TrackingTables) and len(tables.events) and len(tables.stops)
    logged_in.user_ns["sid"] = sid
    assert logged_in.run_cell(f"t = %p44 --tables GET {HISTORY}").success
    for name, frame in tables:  # three fetches: the demo's estimates moved between them
        still = without_estimates(frame)
        pd.testing.assert_frame_equal(still, without_estimates(expected[name]))
        pd.testing.assert_frame_equal(still, without_estimates(logged_in.user_ns["t"][name]))


@pytest.mark.parametrize("timezone, zone", [(None, None), ("Europe/Berlin", "Europe/Berlin")])
def test_tables_follow_the_clients_timezone(demo, timezone, zone):
    with demo_client(demo, timezone=timezone) as p44:
        sid = shipment_ids(p44, 1)[0]
        tables = p44.tables("GET", HISTORY.replace("{{sid}}", sid))
        each = p44.each("GET", HISTORY, [sid], name="sid", tables=True)
    for result in (tables, each.frame):
        stamps = result.events["dateTime"]
        assert pd.api.types.is_datetime64_any_dtype(stamps)
        assert str(getattr(stamps.dt.tz, "key", stamps.dt.tz)) == str(zone)


@pytest.mark.filterwarnings("ignore::p44_magic.errors.P44Warning")  # the demo says so
def test_each_with_tables_joins_every_shipments_tables(demo):
    with demo_client(demo) as p44:
        ids = shipment_ids(p44, 4)
        each = p44.each("GET", HISTORY, ids, name="sid", tables=True)
    tables = each.frame
    assert isinstance(tables, TrackingTables)
    assert list(tables.shipment["sid"]) == ids == list(tables.shipment["shipment_id"])
    for name, frame in tables:
        assert frame.columns[0] == "sid", name
    assert set(tables.events["sid"]) == set(ids)
    assert each.failures.empty and set(each.answers) == set(ids)
