"""``python -m benchmarks [--quick]``: every workload, p44_magic against the baseline."""

from __future__ import annotations

import argparse
import os
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


def scale(sizes: tuple[int, ...] = (100_000, 200_000, 400_000)) -> int:
    """Time and peak memory of one large answer into a DataFrame, at growing sizes."""
    from p44_magic import P44Client

    from .server import CLIENT_ID, CLIENT_SECRET
    from .workloads import peak_memory

    print("rows      MB answer   p44 time   p44 peak memory")
    for rows in sizes:
        with BenchServer(small=1, large=rows, page_rows=1) as server:
            with P44Client(CLIENT_ID, CLIENT_SECRET, base_url=server.base_url, timeout=300) as p44:
                p44.frame("GET", "/bench/large")  # warm up
                started = time.perf_counter()
                frame = p44.frame("GET", "/bench/large")
                took = time.perf_counter() - started
                del frame
                peak = peak_memory(lambda: p44.frame("GET", "/bench/large"))
            print(f"{rows:>7,}   {server.large_bytes / 1e6:9.0f}   {took:7.2f} s   {peak:9.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
