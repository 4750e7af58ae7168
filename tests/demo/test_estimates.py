"""The demo's estimates between fetches: reached milestones replay the estimate as it stood 72,
24 and 4 hours before them, so ETA accuracy from snapshot runs has hand-computable answers."""

from __future__ import annotations

import pandas as pd
import pytest

import p44_magic
from p44_magic.demo import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DemoServer, demo_data
from p44_magic.demo.estimates import step_minutes
from p44_magic.kpis import eta_accuracy
from tests.servers import log_in


def test_eta_accuracy_from_four_snapshot_runs(shell, tmp_path):
    shell.run_line_magic("config", f"P44Magics.cache_path = {str(tmp_path / 'c.sqlite')!r}")
    record = next(r for r in demo_data().shipments if r.completed)
    shell.user_ns["sid"] = record.id
    with DemoServer() as own:  # its first fetch of the shipment is the first snapshot
        assert log_in(shell, own.base_url, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET).success
        for _ in range(4):
            cell = "%%p44 ev --snapshot\nGET /api/v4/shipments/{{sid}}/eventhistory"
            assert shell.run_cell(cell).success
    accuracy = eta_accuracy(p44_magic.history(record.id), hours_out=(72, 24, 4))
    arrivals = [e for e in record.events if e["type"] == "ARRIVAL_AT_STOP"]
    assert len(accuracy) == 3 * len(arrivals)
    step = step_minutes(record.id)
    expected = {72: 4 * step, 24: 4 * step * 24 / 72, 4: 4 * step * 4 / 72}
    for hours, error in expected.items():
        errors = accuracy.loc[accuracy["hours_out"] == hours, "error_min"]
        assert errors.tolist() == pytest.approx([error] * len(arrivals))
    made = accuracy["arrival"] - accuracy["estimated_at"]
    assert set(made.dt.total_seconds() // 3600) == {72, 24, 4}  # offsets read as instants
    assert isinstance(accuracy["estimated_at"].iloc[0], pd.Timestamp)
