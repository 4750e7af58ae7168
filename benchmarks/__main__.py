"""``python -m benchmarks [--quick]``: every workload, p44_magic against the baseline."""

from __future__ import annotations

import argparse
import os
import sys
import time

from .server import BenchServer
from .workloads import large, paging, small, tokens

FULL = {"small_requests": 300, "repeats": 5, "large": 100_000, "page_rows": 25_000, "page": 500}
QUICK = {"small_requests": 30, "repeats": 1, "large": 5_000, "page_rows": 2_500, "page": 500}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, one round (< 1 min)")
    args = parser.parse_args(argv)
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
        for line in lines:
            print(line, flush=True)
        print(tokens(server, 1000 if not args.quick else 100, 64))
    missed = [line for line in lines if not line.met]
    print(
        f"{len(lines) - len(missed)} of {len(lines)} ratio targets met "
        f"in {time.perf_counter() - started:.0f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
