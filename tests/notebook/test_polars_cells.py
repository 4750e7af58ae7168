"""Polars output from a real IPython shell against the demo API: ``--polars`` on one cell,
``%config P44Magics.frames = "polars"`` for every cell, and the one line without polars."""

from __future__ import annotations

import polars as pl

SEARCH = (
    "POST /api/v4/inventory/orders/search?page=1&pageSize=50\nContent-Type: application/json\n\n{}"
)
HISTORY = "GET /api/v4/shipments/{{sid}}/tracking/history"


def test_polars_on_one_cell_and_the_next_is_pandas_again(logged_in, capsys):
    logged_in.run_cell(f"%%p44 orders --all-pages --polars\n{SEARCH}")
    orders = logged_in.user_ns["orders"]
    assert isinstance(orders, pl.DataFrame)
    assert orders.schema["shipmentIds"] == pl.List(pl.String)
    assert f"orders: {orders.height:,} rows × {orders.width} columns" in capsys.readouterr().out
    logged_in.run_cell(f"%%p44 again\n{SEARCH}")
    assert type(logged_in.user_ns["again"]).__module__.startswith("pandas")


def test_the_frames_setting_makes_each_tables_and_failures_polars(logged_in):
    logged_in.run_line_magic("config", 'P44Magics.frames = "polars"')
    logged_in.run_cell(f"%%p44 orders\n{SEARCH}")
    sids = [ids[0] for ids in logged_in.user_ns["orders"]["shipmentIds"].to_list()[:3]]
    logged_in.user_ns["sids"] = [*sids, "no-such-shipment"]
    logged_in.run_cell(f"%%p44 events --each sid=sids\n{HISTORY}")
    events, failures = logged_in.user_ns["events"], logged_in.user_ns["_p44_failures"]
    assert isinstance(events, pl.DataFrame) and isinstance(failures, pl.DataFrame)
    assert events["sid"].unique().sort().to_list() == sorted(sids)
    assert failures["sid"].to_list() == ["no-such-shipment"]
    logged_in.user_ns["sid"] = sids[0]
    tables = logged_in.run_cell(f"%p44 --tables {HISTORY}").result
    assert isinstance(tables.events, pl.DataFrame) and tables.stops.height > 0


def test_a_refused_frames_value_fails_the_cell(logged_in):
    result = logged_in.run_cell('%config P44Magics.frames = "arrow"')
    assert not result.success
    assert "unknown frame library" in str(result.error_in_exec)
