"""``python -m benchmarks [--quick]``: every workload, p44_magic against the baseline."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

from .kpi_workload import kpis
from .server import BenchServer
from .workloads import cached, each, large, paging, small, tokens

FULL = {
    "small_requests": 300,
    "repeats": 5,
    "large": 100_000,
    "page_rows": 25_000,
    "page": 500,
    "each": 300,
}
QUICK = {
    "small_requests": 30,
    "repeats": 1,
    "large": 5_000,
    "page_rows": 2_500,
    "page": 500,
    "each": 30,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, one round (< 1 min)")
    parser.add_argument(
        "--scale", action="store_true", help="how time and memory grow with answer size"
    )
    args = parser.parse_args(argv)
    if args.scale:
        return scale()
    sizes = QUICK if args.quick else FULL
    started = time.perf_counter()
    print(
        f"p44_magic benchmarks on {os.cpu_count()} cores, Python {sys.version.split()[0]}"
        + (" (quick: sizes too small for the targets)" if args.quick else "")
    )
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "p44_magic")
    with BenchServer(large=sizes["large"], page_rows=sizes["page_rows"]) as server:
        lines = small(server, sizes["small_requests"], sizes["repeats"], shell)
        lines += large(server, max(3, sizes["repeats"]) if not args.quick else 1)
        lines += paging(server, sizes["page"], sizes["repeats"])
        lines += each(server, sizes["each"], min(sizes["repeats"], 3))
        lines += cached(server, sizes["each"], 5 if not args.quick else 1)
        lines += kpis(500 if args.quick else 10_000, 1)
        for line in lines:
            print(line, flush=True)
        print(tokens(server, 1000 if not args.quick else 100, 64))
    missed = [line for line in lines if not line.met]
    print(
        f"{len(lines) - len(missed)} of {len(lines)} ratio targets met "
        f"in {time.perf_counter() - started:.0f} s"
    )
    return 0


SCALE_ROWS = (100_000, 200_000, 500_000, 1_000_000)
FLAT_TIME = 1.15  # the 1,000,000-row fetch within 1.15x ten times the 100,000-row one
MEMORY_PER_JSON = 2.5  # peak memory growth at most 2.5x the JSON answer's size


def scale(sizes: tuple[int, ...] = SCALE_ROWS, repeats: int = 3) -> int:
    """Time (median of ``repeats`` after a warm-up) and peak memory growth (resident set, a
    fresh process: see :mod:`benchmarks.memory`) of one large answer into a DataFrame."""
    from p44_magic import P44Client

    from .memory import peak_growth_mb
    from .server import CLIENT_ID, CLIENT_SECRET

    print("rows        JSON answer   time     per 100k rows   peak memory growth")
    times: dict[int, float] = {}
    worst = 0.0
    for rows in sizes:
        with BenchServer(small=1, large=rows, page_rows=1) as server:
            with P44Client(CLIENT_ID, CLIENT_SECRET, base_url=server.base_url, timeout=600) as p44:
                p44.frame("GET", "/bench/large")  # warm up
                runs = []
                for _ in range(repeats):
                    started = time.perf_counter()
                    p44.frame("GET", "/bench/large")
                    runs.append(time.perf_counter() - started)
            growth = peak_growth_mb("p44", server.base_url)
        times[rows] = statistics.median(runs)
        json_mb = server.large_bytes / 1e6
        worst = max(worst, growth / json_mb)
        per_row = times[rows] / rows * 100_000
        print(
            f"{rows:>9,}   {json_mb:8,.0f} MB   {times[rows]:6.2f} s   {per_row:8.3f} s   "
            f"{growth:8,.0f} MB = {growth / json_mb:.2f}x JSON"
        )
    if 100_000 in times and 1_000_000 in times:
        flat = times[1_000_000] / (10 * times[100_000])
        verdict = "met" if flat <= FLAT_TIME else "MISSED"
        print(
            f"time per row: 1,000,000 rows took {flat:.2f}x ten times 100,000  "
            f"target <= {FLAT_TIME:.2f}  {verdict}"
        )
    verdict = "met" if worst <= MEMORY_PER_JSON else "MISSED"
    print(
        f"peak memory growth: at most {worst:.2f}x the JSON size  "
        f"target <= {MEMORY_PER_JSON:.2f}  {verdict}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
