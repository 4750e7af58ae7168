"""The benchmark command keeps working (speed is measured there, never asserted here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_quick_benchmark_runs_every_workload():
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    workloads = ("small", "%p44", "large", "peak memory", "paging", "--each", "tokens")
    for workload in (*workloads, "large re-run from cache", "from cache", "KPIs of 500 shipments"):
        assert workload in done.stdout
    assert "ratio targets met" in done.stdout
