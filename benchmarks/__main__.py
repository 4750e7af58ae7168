"""``python -m benchmarks [--quick]``: every workload, p44_magic against the baseline."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from dataclasses import replace
from pathlib import Path

from p44_magic import P44Warning

from .kpi_workload import kpis
from .server import BenchServer
from .workloads import Line, cached, each, large, paging, small, tokens

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
    parser.add_argument("--runs", type=int, default=1, help="full runs; medians are reported")
    parser.add_argument(
        "--write-readme",
        action="store_true",
        help="put the medians of the runs into README.md's performance table",
    )
    args = parser.parse_args(argv)
    if args.scale:
        return scale(write=args.write_readme)
    sizes = QUICK if args.quick else FULL
    started = time.perf_counter()
    print(
        f"p44_magic benchmarks on {os.cpu_count()} cores, Python {sys.version.split()[0]}"
        + (" (quick: sizes too small for the targets)" if args.quick else "")
    )
    runs = [one_run(sizes, args.quick) for _ in range(max(1, args.runs))]
    if len(runs) > 1:
        print(f"medians of {len(runs)} runs:")
        for line in medians(runs):
            print(line)
    if args.write_readme:
        write_readme(runs)
    lines = medians(runs) if len(runs) > 1 else runs[0]
    missed = [line for line in lines if not line.met]
    print(
        f"{len(lines) - len(missed)} of {len(lines)} ratio targets met "
        f"in {time.perf_counter() - started:.0f} s"
    )
    return 0


def one_run(sizes: dict[str, int], quick: bool) -> list[Line]:
    """Every workload once (each the median of its rounds), printed as it goes."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "p44_magic")
    with BenchServer(large=sizes["large"], page_rows=sizes["page_rows"]) as server:
        lines = small(server, sizes["small_requests"], sizes["repeats"], shell)
        lines += large(server, max(3, sizes["repeats"]) if not quick else 1)
        lines += paging(server, sizes["page"], sizes["repeats"])
        lines += each(server, sizes["each"], min(sizes["repeats"], 3))
        lines += cached(server, sizes["each"], 5 if not quick else 1)
        with warnings.catch_warnings():  # the demo's infoMessages, one per shipment
            warnings.simplefilter("ignore", P44Warning)
            lines += kpis(500 if quick else 10_000, 1)
        for line in lines:
            print(line, flush=True)
        print(tokens(server, 1000 if not quick else 100, 64))
    return lines


def medians(runs: list[list[Line]]) -> list[Line]:
    """Per workload, the run whose ratio is the median (its times, and every run's ratio)."""
    chosen = []
    for lines in zip(*runs, strict=True):
        ordered = sorted(lines, key=lambda line: line.ratio)
        middle = ordered[len(ordered) // 2]
        ratios = ", ".join(f"{line.ratio:.2f}" for line in lines)
        chosen.append(replace(middle, extra=f"runs {ratios}"))
    return chosen


MARK = "<!-- {name}: written by python -m benchmarks {how} -->"
END = "<!-- /{name} -->"


def write_readme(runs: list[list[Line]]) -> None:
    """The README's performance table: this run's medians."""
    rows = [
        "| workload | p44_magic | baseline | ratio (runs) | target |",
        "|---|---|---|---|---|",
    ]
    for line in medians(runs):
        unit = line.unit
        ratios = line.extra.removeprefix("runs ")
        rows.append(
            f"| {line.workload} | {line.p44:,.3f} {unit} | {line.baseline:,.3f} {unit} | "
            f"**{line.ratio:.2f}** ({ratios}) | ≤ {line.target:.2f} |"
        )
    when = time.strftime("%Y-%m-%d")
    stamp = f"Medians of {len(runs)} full runs on {os.cpu_count()} cores, {when}:"
    write_section("benchmarks", "--runs 3 --write-readme", [stamp, "", *rows])


def write_section(name: str, how: str, lines: list[str]) -> None:
    """Replace the README's section between its markers (``name``) with ``lines``."""
    readme = Path(__file__).resolve().parent.parent / "README.md"
    text = readme.read_text()
    start, end = MARK.format(name=name, how=how), END.format(name=name)
    if start not in text or end not in text:
        raise SystemExit(f"README.md has no {start} … {end} section")
    before, rest = text.split(start, 1)
    after = rest.split(end, 1)[1]
    readme.write_text(before + "\n".join([start, "", *lines, "", end]) + after)
    print(f"README.md: the {name} section is written")


SCALE_ROWS = (100_000, 200_000, 500_000, 1_000_000)
FLAT_TIME = 1.15  # the 1,000,000-row fetch within 1.15x ten times the 100,000-row one
MEMORY_PER_JSON = 2.5  # peak memory growth at most 2.5x the JSON answer's size


def scale(sizes: tuple[int, ...] = SCALE_ROWS, repeats: int = 3, write: bool = False) -> int:
    """Time (median of ``repeats`` after a warm-up) and peak memory growth (resident set, a
    fresh process: see :mod:`benchmarks.memory`) of one large answer into a DataFrame."""
    from p44_magic import P44Client

    from .memory import peak_growth_mb
    from .server import CLIENT_ID, CLIENT_SECRET

    print("rows        JSON answer   time     per 100k rows   peak memory growth")
    rows = [
        "| rows | JSON answer | time | per 100,000 rows | peak memory growth |",
        "|---|---|---|---|---|",
    ]
    times: dict[int, float] = {}
    largest = 0.0
    for count in sizes:
        with BenchServer(small=1, large=count, page_rows=1) as server:
            with P44Client(CLIENT_ID, CLIENT_SECRET, base_url=server.base_url, timeout=600) as p44:
                p44.frame("GET", "/bench/large")  # warm up
                runs = []
                for _ in range(repeats):
                    started = time.perf_counter()
                    p44.frame("GET", "/bench/large")
                    runs.append(time.perf_counter() - started)
            growth = peak_growth_mb("p44", server.base_url)
        times[count] = statistics.median(runs)
        json_mb = server.large_bytes / 1e6
        largest = growth / json_mb  # the target is at the largest size (1,000,000 rows)
        per_row = times[count] / count * 100_000
        print(
            f"{count:>9,}   {json_mb:8,.0f} MB   {times[count]:6.2f} s   {per_row:8.3f} s   "
            f"{growth:8,.0f} MB = {growth / json_mb:.2f}x JSON"
        )
        rows.append(
            f"| {count:,} | {json_mb:,.0f} MB | {times[count]:.2f} s | {per_row:.3f} s | "
            f"{growth:,.0f} MB ({growth / json_mb:.2f}× the JSON) |"
        )
    verdicts = []
    if 100_000 in times and 1_000_000 in times:
        flat = times[1_000_000] / (10 * times[100_000])
        verdict = "met" if flat <= FLAT_TIME else "MISSED"
        verdicts.append(
            f"time per row: 1,000,000 rows took {flat:.3f}x ten times 100,000  "
            f"target <= {FLAT_TIME:.2f}  {verdict}"
        )
    verdict = "met" if largest <= MEMORY_PER_JSON else "MISSED"
    verdicts.append(
        f"peak memory growth at {max(sizes):,} rows: {largest:.2f}x the JSON size  "
        f"target <= {MEMORY_PER_JSON:.2f}  {verdict}"
    )
    print("\n".join(verdicts))
    if write:
        write_section("scale", "--scale --write-readme", [*rows, "", *verdicts])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
