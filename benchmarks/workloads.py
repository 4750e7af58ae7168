"""Each workload twice: through p44_magic, and as the plain script an analyst would write."""

from __future__ import annotations

import gc
import json
import statistics
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import pandas as pd

from p44_magic import P44Client

from .memory import peak_growth_mb
from .server import CLIENT_ID, CLIENT_SECRET, TIMESTAMP_COLUMNS, BenchServer

SEARCH = "/api/v4/inventory/orders/search"


@dataclass
class Line:
    """One printed result: medians of both sides, their ratio and the target."""

    workload: str
    p44: float
    baseline: float
    target: float
    unit: str = "s"
    extra: str = ""

    @property
    def ratio(self) -> float:
        return self.p44 / self.baseline

    @property
    def met(self) -> bool:
        return self.ratio <= self.target

    def __str__(self) -> str:
        verdict = "met" if self.met else "MISSED"
        return (
            f"{self.workload:<26} p44 {self.p44:8.3f} {self.unit}  baseline {self.baseline:8.3f} "
            f"{self.unit}  ratio {self.ratio:5.2f}  target <= {self.target:.2f}  {verdict}"
            + (f"  ({self.extra})" if self.extra else "")
        )


# -- the baseline: httpx + json + pandas.json_normalize + a paging loop ---------------------


def baseline_session(base_url: str) -> tuple[httpx.Client, dict[str, str]]:
    http = httpx.Client(base_url=base_url, timeout=60)
    answer = http.post(
        "/api/v4/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(CLIENT_ID, CLIENT_SECRET),
    )
    answer.raise_for_status()
    return http, {"Authorization": f"Bearer {answer.json()['access_token']}"}


def baseline_frame(records: list) -> pd.DataFrame:
    frame = pd.json_normalize(records)
    for column in TIMESTAMP_COLUMNS:
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def baseline_get(http: httpx.Client, headers: dict[str, str], path: str) -> pd.DataFrame:
    response = http.get(path, headers=headers)
    response.raise_for_status()
    return baseline_frame(response.json())


def baseline_all_pages(http: httpx.Client, headers: dict[str, str], size: int) -> pd.DataFrame:
    rows: list = []
    page = 1
    while True:
        response = http.post(
            SEARCH, params={"page": page, "pageSize": size}, json={}, headers=headers
        )
        response.raise_for_status()
        body = response.json()
        rows.extend(body["results"])
        if not body["results"] or len(rows) >= body["paginationInfo"]["total"]:
            break
        page += 1
    return baseline_frame(rows)


# -- measuring ------------------------------------------------------------------------------


def alternate(
    p44_side: Callable[[], object], baseline_side: Callable[[], object], repeats: int
) -> tuple[float, float]:
    """Median seconds of each side, run alternately (order swapped every round)."""
    p44_times, baseline_times = [], []
    for round_ in range(repeats):
        pair = [(p44_side, p44_times), (baseline_side, baseline_times)]
        for side, times in pair if round_ % 2 == 0 else reversed(pair):
            gc.collect()
            started = time.perf_counter()
            side()
            times.append(time.perf_counter() - started)
    return statistics.median(p44_times), statistics.median(baseline_times)


def peak_memory(side: Callable[[], object]) -> float:
    """Peak traced memory (MB) while ``side`` runs."""
    gc.collect()
    tracemalloc.start()
    try:
        side()
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def same_rows(ours: pd.DataFrame, theirs: pd.DataFrame) -> None:
    """The two sides must produce the same table (column order aside)."""
    pd.testing.assert_frame_equal(
        ours[sorted(ours.columns)], theirs[sorted(theirs.columns)], check_dtype=False
    )


# -- workloads ------------------------------------------------------------------------------


def small(server: BenchServer, requests: int, repeats: int, shell=None) -> list[Line]:
    http, headers = baseline_session(server.base_url)
    lines = []
    with P44Client(CLIENT_ID, CLIENT_SECRET, base_url=server.base_url) as p44:
        same_rows(p44.frame("GET", "/bench/small"), baseline_get(http, headers, "/bench/small"))

        def p44_side() -> None:
            for _ in range(requests):
                p44.frame("GET", "/bench/small")

        def baseline_side() -> None:
            for _ in range(requests):
                baseline_get(http, headers, "/bench/small")

        ours, theirs = alternate(p44_side, baseline_side, repeats)
        lines.append(Line(f"small x{requests} P44Client.frame", ours, theirs, 1.00))
    if shell is not None:
        shell.user_ns["bench_secret"] = CLIENT_SECRET
        shell.run_line_magic(
            "p44_login",
            f"--base-url {server.base_url} --client-id {CLIENT_ID} --client-secret $bench_secret",
        )

        def magic_side() -> None:
            for _ in range(requests):
                shell.run_line_magic("p44", "GET /bench/small")

        ours, theirs = alternate(magic_side, baseline_side, repeats)
        lines.append(Line(f"small x{requests} %p44", ours, theirs, 1.00))
        shell.run_line_magic("p44_logout", "")
    http.close()
    return lines


def large(server: BenchServer, repeats: int) -> list[Line]:
    """One GET of many nested records; its peak memory; and polars output against pandas."""
    http, headers = baseline_session(server.base_url)
    with P44Client(CLIENT_ID, CLIENT_SECRET, base_url=server.base_url, timeout=120) as p44:

        def p44_side() -> pd.DataFrame:
            return p44.frame("GET", "/bench/large")

        def polars_side() -> object:
            return p44.frame("GET", "/bench/large", frames="polars")

        def baseline_side() -> pd.DataFrame:
            return baseline_get(http, headers, "/bench/large")

        same_rows(p44_side(), baseline_side())
        same_polars(polars_side(), p44_side())
        ours, theirs = alternate(p44_side, baseline_side, repeats)
        polars_time, pandas_time = alternate(polars_side, p44_side, repeats)
    http.close()
    ours_mb = peak_growth_mb("p44", server.base_url)
    theirs_mb = peak_growth_mb("baseline", server.base_url)
    megabytes = server.large_bytes // 1_000_000
    return [
        Line(f"large ({megabytes} MB answer)", ours, theirs, 0.20),
        Line("large peak memory (RSS)", ours_mb, theirs_mb, 0.50, unit="MB"),
        Line(
            "large, polars output",
            polars_time,
            pandas_time,
            1.00,
            extra="baseline: p44_magic's pandas output",
        ),
    ]


def same_polars(ours: object, theirs: pd.DataFrame) -> None:
    """The polars frame holds what the pandas one does (timestamps as the same instants)."""
    frame = ours.to_pandas()  # type: ignore[attr-defined]
    for name in frame.columns:
        if str(frame[name].dtype).startswith("datetime64"):
            frame[name] = frame[name].dt.as_unit("us")
            theirs = theirs.assign(**{name: theirs[name].dt.as_unit("us")})
    if "identifiers" in frame:  # lists of objects are JSON text in polars
        frame["identifiers"] = frame["identifiers"].map(json.loads)
    pd.testing.assert_frame_equal(frame, theirs, check_dtype=False)


def paging(server: BenchServer, size: int, repeats: int) -> list[Line]:
    http, headers = baseline_session(server.base_url)
    path = f"{SEARCH}?page=1&pageSize={size}"
    with P44Client(CLIENT_ID, CLIENT_SECRET, base_url=server.base_url) as p44:

        def p44_side() -> pd.DataFrame:
            return p44.frame("POST", path, json={}, all_pages=True)

        def baseline_side() -> pd.DataFrame:
            return baseline_all_pages(http, headers, size)

        ours_frame, their_frame = p44_side(), baseline_side()
        same_rows(ours_frame, their_frame)  # identical rows, in page order
        ours, theirs = alternate(p44_side, baseline_side, repeats)
    http.close()
    pages = -(-server.page_count_rows // size)
    return [
        Line(
            f"paging {pages} pages x {size}",
            ours,
            theirs,
            0.16,
            extra=f"{server.latency * 1000:.0f} ms latency per page",
        )
    ]


def each(server: BenchServer, count: int, repeats: int) -> list[Line]:
    """``--each`` over ``count`` shipment ids, against the analyst's loop: one GET per id,
    ``json_normalize``, ``pd.concat``."""
    http, headers = baseline_session(server.base_url)
    ids = [f"shipment-{n:04d}" for n in range(count)]
    path = "/api/v4/shipments/{{sid}}/positionhistory"
    with P44Client(CLIENT_ID, CLIENT_SECRET, base_url=server.base_url) as p44:

        def p44_side() -> pd.DataFrame:
            return p44.each("GET", path, ids, name="sid").frame

        def baseline_side() -> pd.DataFrame:
            frames = []
            for sid in ids:
                response = http.get(path.replace("{{sid}}", sid), headers=headers)
                response.raise_for_status()
                answer = response.json()
                frame = pd.json_normalize(answer, "positions", meta=[["shipment", "id"]])
                frame.insert(0, "sid", sid)
                frames.append(frame)
            joined = pd.concat(frames, ignore_index=True)
            for column in TIMESTAMP_COLUMNS:
                joined[column] = pd.to_datetime(joined[column], utc=True)
            return joined

        same_rows(p44_side(), baseline_side())  # identical rows, in the order of the ids
        ours, theirs = alternate(p44_side, baseline_side, repeats)
    http.close()
    return [
        Line(
            f"--each {count} shipments",
            ours,
            theirs,
            0.13,
            extra=f"{server.latency * 1000:.0f} ms latency per request",
        )
    ]


def tokens(server: BenchServer, requests: int, threads: int) -> str:
    before = server.token_fetches
    with P44Client(CLIENT_ID, CLIENT_SECRET, base_url=server.base_url) as p44:
        for _ in range(requests):
            p44.request("GET", "/bench/small")
        first = server.token_fetches - before
        server.invalidate_tokens()
        barrier = threading.Barrier(threads)

        def one() -> None:
            barrier.wait()
            p44.request("GET", "/bench/small")

        workers = [threading.Thread(target=one) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        second = server.token_fetches - before - first
    verdict = "met" if (first, second) == (1, 1) else "MISSED"
    return (
        f"{'tokens':<26} {first} fetch for {requests} requests, then {second} for {threads} "
        f"threads after invalidation  target exactly 1, then 1  {verdict}"
    )


def cached(server: BenchServer, count: int, repeats: int) -> list[Line]:
    """Re-running the large workload and the ``--each`` of ``count`` ids from the cache (its
    file on disk: what a restarted kernel reads), against fetching them."""
    ids = [f"shipment-{n:04d}" for n in range(count)]
    path = "/api/v4/shipments/{{sid}}/positionhistory"
    with tempfile.TemporaryDirectory() as folder:
        where = f"{folder}/cache.sqlite"
        with P44Client(
            CLIENT_ID, CLIENT_SECRET, base_url=server.base_url, timeout=120, cache_path=where
        ) as p44:
            lines = []
            for name, fetch, again in (
                (
                    "large re-run from cache",
                    lambda: p44.frame("GET", "/bench/large"),
                    lambda: p44.frame("GET", "/bench/large", cache=True),
                ),
                (
                    f"--each {count} from cache",
                    lambda: p44.each("GET", path, ids, name="sid").frame,
                    lambda: p44.each("GET", path, ids, name="sid", cache=True).frame,
                ),
            ):
                again()  # kept (answers, and the frame of the large one)
                same_rows(again(), fetch())
                ours, theirs = alternate(again, fetch, repeats)
                lines.append(Line(name, ours, theirs, 0.10, extra="baseline: fetching it"))
    return lines
