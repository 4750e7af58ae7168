"""Files Excel, CSV and parquet readers open (issue 21, item 2): ``--save-as`` and
``p44_magic.save``, each read back with openpyxl or pandas, over the demo API."""

from __future__ import annotations

import datetime as dt
import json

import openpyxl
import pandas as pd
import pytest

from p44_magic import P44UsageError, save

HISTORY = "/api/v4/shipments/{{sid}}/tracking/history"


def a_shipment(shell) -> str:
    shell.run_cell("o = %p44 --raw POST /api/v4/inventory/orders/search?page=1&pageSize=5")
    return next(s for r in shell.user_ns["o"]["results"] for s in r["shipmentIds"])


def test_save_as_xlsx_writes_naive_local_times_and_json_text(logged_in, tmp_path, capsys):
    shell = logged_in
    shell.run_cell("%config P44Magics.timezone = 'Europe/Berlin'")
    target = tmp_path / "orders.xlsx"
    cell = f"%%p44 orders --all-pages --save-as {target}\nPOST /api/v4/inventory/orders/search"
    assert shell.run_cell(cell).success
    assert f"saved to {target}" in capsys.readouterr().out
    orders = shell.user_ns["orders"]
    sheet = openpyxl.load_workbook(target).active
    header = [cell.value for cell in sheet[1]]
    row = dict(zip(header, [cell.value for cell in sheet[2]], strict=True))
    stamp = next(c for c in orders.columns if isinstance(orders[c].dtype, pd.DatetimeTZDtype))
    local = orders[stamp].iloc[0].tz_localize(None).to_pydatetime()
    assert isinstance(row[stamp], dt.datetime) and row[stamp].tzinfo is None
    assert abs(row[stamp] - local) < dt.timedelta(seconds=1)  # Berlin wall time, as shown
    listed = next(c for c in orders.columns if isinstance(orders[c].iloc[0], list))
    assert json.loads(row[listed]) == orders[listed].iloc[0]  # JSON text, not a Python repr


def test_tracking_tables_are_one_sheet_or_file_per_table(logged_in, tmp_path):
    shell = logged_in
    shell.user_ns["sid"] = a_shipment(shell)
    book, csv = tmp_path / "tracking.xlsx", tmp_path / "tracking.csv"
    assert shell.run_cell(f"t = %p44 --tables --save-as {book} GET {HISTORY}").success
    tables = shell.user_ns["t"]
    names = [name for name, _ in tables]
    assert openpyxl.load_workbook(book).sheetnames == names
    written = save(tables, csv)
    assert [path.name for path in written] == [f"tracking_{name}.csv" for name in names]
    events = pd.read_csv(tmp_path / "tracking_events.csv")
    assert len(events) == len(tables.events)
    assert "+" not in str(events["dateTime"].dropna().iloc[0])  # naive local time


def test_parquet_keeps_time_zones(logged_in, tmp_path):
    shell = logged_in
    shell.user_ns["sid"] = a_shipment(shell)
    target = tmp_path / "events.parquet"
    assert shell.run_cell(f"%%p44 events --save-as {target}\nGET {HISTORY}").success
    back = pd.read_parquet(target)
    events = shell.user_ns["events"]
    assert len(back) == len(events)
    assert isinstance(back["dateTime"].dtype, pd.DatetimeTZDtype)
    assert (back["dateTime"] == events["dateTime"]).all()


def test_an_unknown_format_or_no_table_is_one_short_error(tmp_path):
    frame = pd.DataFrame({"a": [1]})
    with pytest.raises(P44UsageError, match="not a format"):
        save(frame, tmp_path / "x.json")
    with pytest.raises(P44UsageError, match="no table to save"):
        save({"a": 1}, tmp_path / "x.csv")


def test_a_missing_extra_is_one_line_naming_it(tmp_path, monkeypatch):
    import sys

    frame = pd.DataFrame({"a": [1]})
    for module, suffix, extra in (
        ("openpyxl", ".xlsx", "excel"),
        ("pyarrow", ".parquet", "parquet"),
    ):
        monkeypatch.setitem(sys.modules, module, None)  # as if not installed: import fails
        with pytest.raises(P44UsageError, match=rf"p44_magic\[{extra}\]"):
            save(frame, tmp_path / f"x{suffix}")
