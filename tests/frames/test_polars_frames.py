"""Polars output (issue 26): every DataFrame result as a polars.DataFrame of the same content as
the pandas one, compared column by column on the demo and on random shapes."""

from __future__ import annotations

import datetime as dt
import json
import math
import subprocess
import sys

import pandas as pd
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings

from benchmarks.server import make_records
from p44_magic import P44Client, P44UsageError, to_frame
from p44_magic.frames.arrow_route import json_frame
from tests.test_properties import RECORDS, real_events

ORDERS = "/api/v4/inventory/orders/search?page=1&pageSize=50"
pytestmark = pytest.mark.filterwarnings("ignore:.*Position data delayed:UserWarning")


def plain(value):
    """A cell as plain Python, so the two libraries' cells compare (NaN/NaT/None: missing)."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime(warn=False)  # polars keeps microseconds
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return plain(value.tolist())
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def fixed(ours: pl.DataFrame, theirs: pd.DataFrame) -> tuple[pl.DataFrame, pd.DataFrame]:
    """Both without the estimates, which the demo moves between two fetches."""
    moving = [name for name in theirs.columns if "estimate" in str(name).lower()]
    return ours.drop(moving), theirs.drop(columns=moving)


def same_content(ours: pl.DataFrame, theirs: pd.DataFrame) -> None:
    """Column by column: names, order, missing values as null, timestamps as instants in the
    same zone, lists of scalars as List, lists of objects as their JSON text."""
    assert isinstance(ours, pl.DataFrame)
    assert ours.columns == [str(name) for name in theirs.columns]
    assert ours.height == (len(theirs) if ours.width else 0)  # polars: no columns, no rows
    for name in ours.columns:
        column, expected = ours[name], theirs[name]
        assert column.dtype != pl.Object, name
        if column.dtype.is_float():
            assert not column.is_nan().any(), f"{name}: NaN where null was meant"
        if isinstance(column.dtype, pl.Datetime):
            assert column.dtype.time_unit == "us"
            zone = getattr(expected.dtype, "tz", None)
            assert column.dtype.time_zone == (str(zone) if zone else None), name
        for got, want in zip(column.to_list(), expected.tolist(), strict=True):
            want = plain(want)
            if column.dtype == pl.String and not isinstance(want, str | None):
                want = json.loads(json.dumps(want))  # an object or a mixed list, as JSON text
                got = json.loads(got) if got is not None else None
                if isinstance(want, int | float | bool) and isinstance(got, str):
                    got = json.loads(got)  # a mixed column's number, as text
            if isinstance(want, float) and isinstance(got, int | float):
                assert got == pytest.approx(want), name
            else:
                assert got == want, f"{name}: {got!r} != {want!r}"


@pytest.fixture(scope="module")
def demo():
    with P44Client(env="demo") as p44:
        yield p44


def test_a_single_answer_all_pages_and_each_are_polars_frames_equal_to_pandas(demo):
    orders = demo.frame("POST", ORDERS, json={}, all_pages=True)
    same_content(demo.frame("POST", ORDERS, json={}, all_pages=True, frames="polars"), orders)
    first = demo.frame("POST", ORDERS, json={})
    same_content(demo.frame("POST", ORDERS, json={}, frames="polars"), first)
    sids = [ids[0] for ids in orders["shipmentIds"][:6] if len(ids)] + ["no-such-shipment"]
    path = "/api/v4/shipments/{{sid}}/tracking/history"
    each = demo.each("GET", path, sids, name="sid")
    ours = demo.each("GET", path, sids, name="sid", frames="polars")
    same_content(*fixed(ours.frame, each.frame))
    same_content(
        *(f.drop("support_reference_id") for f in [ours.failures]),
        each.failures.drop(columns="support_reference_id"),
    )
    assert ours.failures.height == 1


def test_tables_are_polars_frames_and_still_draw(demo):
    sid = demo.frame("POST", ORDERS, json={})["shipmentIds"][0][0]
    path = f"/api/v4/shipments/{sid}/tracking/history"
    theirs = demo.tables("GET", path)
    ours = demo.tables("GET", path, frames="polars")
    for (_, table), (_, expected) in zip(ours, theirs, strict=True):
        same_content(*fixed(table, expected))
    assert "TrackingTables for shipment" in repr(ours)
    assert ours.timeline().axes  # drawn from the same tables


def test_the_client_setting_and_time_zones(demo):
    with P44Client(env="demo", frames="polars", timezone="Europe/Berlin") as p44:
        ours = p44.frame("POST", ORDERS, json={})
    with P44Client(env="demo", timezone="Europe/Berlin") as p44:
        theirs = p44.frame("POST", ORDERS, json={})
    same_content(ours, theirs)
    zones = {c.dtype.time_zone for c in ours.iter_columns() if isinstance(c.dtype, pl.Datetime)}
    assert zones == {"Europe/Berlin"}


def test_naive_utc_with_timezone_none():
    answer = [{"at": "2026-11-20T10:00:00+02:00"}, {"at": None}]
    ours = to_frame(answer, timezone=None, frames="polars")
    assert ours.schema["at"] == pl.Datetime("us")
    assert ours["at"].to_list() == [dt.datetime(2026, 11, 20, 8, 0), None]


def test_lists_of_scalars_are_lists_and_lists_of_objects_json_text():
    answer = [
        {"ids": ["a", "b"], "refs": [{"type": "PO", "value": "1"}], "n": 1, "x": None},
        {"ids": [], "refs": [], "n": None, "x": 2.5},
    ]
    ours = to_frame(answer, frames="polars")
    assert ours.schema["ids"] == pl.List(pl.String)
    assert ours.schema["refs"] == pl.String
    assert json.loads(ours["refs"][0]) == [{"type": "PO", "value": "1"}]
    assert ours["n"].to_list() == [1, None] and ours["x"].to_list() == [None, 2.5]
    same_content(ours, to_frame(answer))


def test_a_large_answer_takes_the_native_route_for_polars_too():
    records = make_records(3_000)
    raw = json.dumps(records).encode()
    ours = json_frame(raw, True, "polars")
    assert isinstance(ours, pl.DataFrame)
    same_content(ours, to_frame(records))
    assert ours.schema["dateTime"] == pl.Datetime("us", "UTC")


PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))


@PROPERTY
@given(answer=RECORDS)
def test_random_shapes_have_the_same_content(answer):
    try:
        theirs = to_frame(answer)
    except P44UsageError:
        return
    same_content(to_frame(answer, frames="polars"), theirs)
    raw = json.dumps(answer).encode()
    fast = json_frame(raw, True, "polars")
    if fast is not None:
        same_content(fast, theirs)


@PROPERTY
@given(events=real_events())
def test_real_shapes_have_the_same_content(events):
    same_content(to_frame(events, frames="polars"), to_frame(events))


def test_without_polars_one_line_names_the_extra(tmp_path):
    """A fresh interpreter where polars cannot be imported."""
    blocker = tmp_path / "polars.py"
    blocker.write_text("raise ImportError('no polars here')\n")
    code = (
        "import sys; sys.modules['polars'] = None\n"
        "from p44_magic import P44Client, to_frame\n"
        "try:\n    to_frame([{'a': 1}], frames='polars')\n"
        "except Exception as e:\n    print(type(e).__name__, e)\n"
        "try:\n    P44Client(env='demo', frames='polars')\n"
        "except Exception as e:\n    print(type(e).__name__, e)\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "shell = InteractiveShell.instance()\n"
        "shell.run_line_magic('load_ext', 'p44_magic')\n"
        "shell.run_line_magic('p44_login', '--env demo')\n"
        "result = shell.run_cell('%p44 --polars GET /api/v4/capacityprovideraccounts')\n"
        "print('cell failed' if not result.success else 'cell passed')\n"
    )
    shown = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    lines = [line for line in shown.stdout.strip().splitlines() if "Logged in" not in line]
    assert lines[-1] == "cell failed"
    assert len(lines) == 3, shown.stdout
    assert all("p44_magic[polars]" in line for line in lines[:2]), lines
    assert lines[0].startswith("P44UsageError")
    shown_error = [line for line in shown.stderr.splitlines() if line.strip()]
    assert len(shown_error) == 1 and "p44_magic[polars]" in shown_error[0], shown.stderr


def test_lists_of_objects_with_a_missing_field_keep_their_text():
    """Arrow would fill the missing field with null; the route gives up for another path."""
    records = make_records(3_000)
    records[5]["identifiers"] = [{"type": "BILL_OF_LADING"}]
    records[6]["identifiers"] = [{"type": "X", "value": None}]
    ours = json_frame(json.dumps(records).encode(), True, "polars")
    assert json.loads(ours["identifiers"][5]) == [{"type": "BILL_OF_LADING"}]
    assert json.loads(ours["identifiers"][6]) == [{"type": "X", "value": None}]
    same_content(ours, to_frame(records))


def test_lists_of_objects_keep_their_timestamps_and_numbers_as_written():
    records = make_records(3_000)
    for record in records:
        record["stops"] = [{"arrival": "2024-01-01T10:00:00+02:00", "n": 1, "x": 1.0}]
    ours = json_frame(json.dumps(records).encode(), True, "polars")
    assert json.loads(ours["stops"][0]) == [
        {"arrival": "2024-01-01T10:00:00+02:00", "n": 1, "x": 1.0}
    ]
    assert "+02:00" in ours["stops"][0]


def test_a_list_of_huge_integers_and_a_parent_object_as_meta():
    assert json.loads(to_frame([{"a": [2**70]}], frames="polars")["a"][0]) == [2**70]
    answer = {"s": {"id": {"x": 1}}, "events": [{"a": 1}]}
    ours = to_frame(answer, record_path="events", meta="s.id", frames="polars")
    assert json.loads(ours["s.id"][0]) == {"x": 1}
