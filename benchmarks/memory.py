"""Peak memory of one large fetch, as the operating system sees it.

tracemalloc sees only Python's allocator, not Arrow's or numpy's buffers, so a route that
keeps its columns in Arrow would look almost free there. Each side runs instead in a fresh
process (``python -m benchmarks.memory``: no heap inherited from this one), imports and warms
up with a small request, then fetches once; the figure is the growth of its resident set: the
peak during the fetch (VmHWM, reset first through /proc/self/clear_refs) less the resident size
before it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SIDES = ("p44", "baseline", "p44-polars")


def peak_growth_mb(side: str, base_url: str, path: str = "/bench/large") -> float:
    """Megabytes the fetch of ``path`` added to a fresh process at its peak."""
    here = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.memory", side, base_url, path],
        capture_output=True,
        text=True,
        cwd=here,
        check=True,
        timeout=1800,
    )
    return float(done.stdout.split()[-1])


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def _measure(side: str, base_url: str, path: str) -> float:
    from p44_magic import P44Client

    from .server import CLIENT_ID, CLIENT_SECRET
    from .workloads import baseline_get, baseline_session

    if side == "baseline":
        http, headers = baseline_session(base_url)
        baseline_get(http, headers, "/bench/small")

        def fetch() -> object:
            return baseline_get(http, headers, path)
    else:
        options = {"frames": "polars"} if side == "p44-polars" else {}
        client = P44Client(CLIENT_ID, CLIENT_SECRET, base_url=base_url, timeout=600)
        client.frame("GET", "/bench/small", **options)

        def fetch() -> object:
            return client.frame("GET", path, **options)

    try:
        Path("/proc/self/clear_refs").write_text("5")  # the peak starts again from here
    except OSError:
        pass
    before = _status("VmRSS")
    result = fetch()
    peak = _status("VmHWM")
    del result
    return (peak - before) / 1e6


if __name__ == "__main__":
    print(_measure(*sys.argv[1:4]))
