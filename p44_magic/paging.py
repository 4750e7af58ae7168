"""``--all-pages``: fetch every page of a ``{paginationInfo, results}`` search and join the rows.

Given a function that fetches one page, so the rules are testable with fake pages and no socket.
The first page gives ``paginationInfo.total``; the rest are fetched concurrently by workers that
only fetch, while the calling thread reads each page in page order. Any failed page, a total that
changes, or a row count that does not match fails the whole call: never partial data.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import httpx
import msgspec

from . import settings
from .call_state import PagesCallback
from .errors import P44Error, P44Interrupted, P44PagingError, P44UsageError
from .pacing import StopSignal, stop_on
from .workers import Workers

DEFAULT_PAGE_SIZE = 100  # when a catalogued search is paged without a page size
DEFAULT_PAGE_LIMIT: int = settings.default("max_pages")  # pages one --all-pages may fetch
Fetched = TypeVar("Fetched")


@dataclass(frozen=True)
class PagePlan:
    """Where the pages are: the URL without its query, the query, the first page, the size key."""

    base: httpx.URL
    query: httpx.QueryParams
    first_page: int
    size_key: str
    size_named: bool = False  # the request names its page size: pages are known in advance

    @classmethod
    def of(
        cls, url: httpx.URL, params: Mapping[str, Any] | None, default_size_key: str | None
    ) -> PagePlan:
        """Read the plan from a request URL; ``default_size_key`` adds a page size when none."""
        # QueryParams keep repeated parameters (status=A&status=B); only page is replaced.
        query = url.params.merge({k: str(v) for k, v in (params or {}).items()})
        try:
            first_page = int(query.get("page", 1))
        except ValueError:
            first_page = 0
        if first_page < 1:
            raise P44UsageError(
                f"--all-pages: page={query.get('page')!r} is not a page number (1, 2, …).",
                hint="Pages start at 1.",
            )
        named = "pageSize" in query or "size" in query
        if default_size_key and not named:
            query = query.set(default_size_key, str(DEFAULT_PAGE_SIZE))
        size_key = "size" if "size" in query and "pageSize" not in query else "pageSize"
        return cls(url.copy_with(query=None), query, first_page, size_key, named)

    def query_for(self, page: int) -> httpx.QueryParams:
        return self.query.set("page", str(page))

    def page_size(self, info: dict[str, Any], first_rows: int) -> int:
        size = _int_or_none(self.query.get(self.size_key)) or _int_or_none(info.get(self.size_key))
        return size or _int_or_none(info.get("size")) or first_rows or 1


@dataclass
class PageReader(Generic[Fetched]):
    """Reads fetched pages in page order and keeps the count of rows; the call's state."""

    decode: Callable[[Fetched], Any]
    on_page: Callable[[int, list[Any]], None] | None = None
    results: dict[int, list[Any]] = field(default_factory=dict)
    rows: int = 0
    _seen: dict[bytes, int] = field(default_factory=dict)  # a page's ends → its number

    def read(self, page: int, fetched: Fetched) -> dict[str, Any]:
        body = self.decode(fetched)
        if not (isinstance(body, dict) and isinstance(body.get("results"), list)):
            raise P44PagingError(
                f"--all-pages: page {page} is not a {{paginationInfo, results}} answer.",
                hint="Use --all-pages only on search endpoints that page.",
            )
        self._check_new(page, body["results"])
        if self.on_page is not None:
            self.on_page(page, body["results"])
        self.results[page] = body["results"]
        self.rows += len(body["results"])
        return body

    def _check_new(self, page: int, rows: list[Any]) -> None:
        """A page equal to an earlier one (a server that ignores ``page``) fails the call: its
        rows would be joined twice. Pages are told apart by their first and last rows and
        length, and compared whole only when those match."""
        if not rows:
            return
        ends = msgspec.json.encode([len(rows), rows[0], rows[-1]])
        earlier = self._seen.setdefault(ends, page)
        if earlier != page and self.results.get(earlier) == rows:
            raise P44PagingError(
                f"--all-pages: page {page} repeats page {earlier} (the same rows), so the "
                "server is not paging this search; no rows are returned.",
                hint="Check that the endpoint takes page and pageSize (or size) as written.",
            )


def all_pages(
    plan: PagePlan,
    fetch: Callable[[int], Fetched],
    reader: PageReader[Fetched],
    *,
    max_pages: int | None = None,
    page_limit: int = DEFAULT_PAGE_LIMIT,
    max_concurrency: int = 8,
    progress: PagesCallback | None = None,
) -> dict[str, Any]:
    """Every page joined in page order: ``{paginationInfo: {…, pagesFetched}, results}``.

    ``max_pages`` (the user's --max-pages) fetches only the first pages; without it, a search
    of more than ``page_limit`` pages is refused once page 1 is read (only the pages sent with
    it, at most ``max_concurrency - 1``, went out). Pages are handed to the workers
    ``max_concurrency`` at a time, never all at once (``total`` is the server's)."""
    first_page = plan.first_page
    try:
        with Workers(max_concurrency) as pool:
            early = _sent_with_page_one(plan, pool, fetch, max_concurrency, max_pages, page_limit)
            first_sent = pool.submit(fetch, first_page)  # waited for as the others: interruptible
            first = reader.read(first_page, pool.result_of(first_sent))
            info, total, size, last_page = _plan_from(plan, first, max_pages, page_limit)
            pages = range(first_page + 1, last_page + 1)
            if progress:
                progress(1, len(pages) + 1, reader.rows)
            for page, (_, stop) in early.items():
                if page > last_page:
                    stop.set()  # no such page: not sent, or its retries and waits end now
            ahead = {page: future for page, (future, _) in early.items() if page <= last_page}
            del early
            upcoming = iter(page for page in pages if page not in ahead)
            for page in pages:  # a few pages ahead of the reading, never all of them
                while (
                    len(ahead) < 2 * max_concurrency and (nxt := next(upcoming, None)) is not None
                ):
                    ahead[nxt] = pool.submit(fetch, nxt)
                _read_page(reader, page, pool, ahead.pop(page), total, last_page)
                if progress:
                    progress(len(reader.results), len(pages) + 1, reader.rows)
    except KeyboardInterrupt:
        if not reader.results:  # stopped before page 1 was read
            raise P44Interrupted(0, 1, None) from None
        partial = _joined(info, reader)
        raise P44Interrupted(len(reader.results), len(pages) + 1, partial) from None
    joined = _joined(info, reader)
    expected = total - (first_page - 1) * size
    if last_page >= math.ceil(total / size) and len(joined["results"]) != expected:
        raise P44PagingError(
            f"--all-pages: got {len(joined['results'])} rows, but paginationInfo.total promised "
            f"{expected}.",
            hint="The data changed while paging, or the server pages differently: run again.",
        )
    return joined


def _sent_with_page_one(
    plan: PagePlan,
    pool: Workers,
    fetch: Callable[[int], Any],
    max_concurrency: int,
    max_pages: int | None,
    page_limit: int,
) -> dict[int, tuple[Future, StopSignal]]:
    """When the request names its page size, the next pages go out with page 1 (one round
    trip less; at most ``max_concurrency - 1`` requests wasted when there is one page), each
    under a stop of its own, set once page 1 shows the page does not exist."""
    if not plan.size_named:
        return {}
    count = min(max_concurrency, max_pages or page_limit, page_limit) - 1
    sent = {}
    for page in range(plan.first_page + 1, plan.first_page + 1 + count):
        stop = StopSignal(pool.stop)
        sent[page] = (pool.submit(_under(stop, fetch), page), stop)
    return sent


def _under(stop: StopSignal, work: Callable[[int], Any]) -> Callable[[int], Any]:
    def run(page: int) -> Any:
        with stop_on(stop):
            return work(page)

    return run


def _plan_from(
    plan: PagePlan, first: dict[str, Any], max_pages: int | None, page_limit: int
) -> tuple[dict[str, Any], int, int, int]:
    """Page 1's paginationInfo, its total, the page size and the last page to fetch."""
    info = first.get("paginationInfo") or {}
    total = _int_or_none(info.get("total") if isinstance(info, dict) else None)
    if total is None:
        raise P44PagingError(
            "--all-pages: the answer has no paginationInfo.total, so the page count is unknown."
        )
    size = plan.page_size(info, len(first["results"]))
    return info, total, size, _last_page(plan.first_page, total, size, max_pages, page_limit)


def _joined(info: dict[str, Any], reader: PageReader[Any]) -> dict[str, Any]:
    """The pages read so far, joined in page order, as one answer."""
    rows = [row for page in sorted(reader.results) for row in reader.results[page]]
    return {"paginationInfo": {**info, "pagesFetched": len(reader.results)}, "results": rows}


def _last_page(
    first_page: int, total: int, size: int, max_pages: int | None, page_limit: int
) -> int:
    """The last page to fetch; more than ``page_limit`` pages without --max-pages is refused."""
    last_page = max(first_page, math.ceil(total / size))
    if max_pages is not None:
        return min(last_page, first_page + max(max_pages, 1) - 1)
    if last_page - first_page + 1 > page_limit:
        raise P44PagingError(
            f"--all-pages: this search has {last_page - first_page + 1:,} pages "
            f"(paginationInfo.total {total:,}), more than max_pages ({page_limit:,}).",
            hint="Narrow the search, fetch the first pages with --max-pages N, or raise "
            "%config P44Magics.max_pages.",
        )
    return last_page


def _read_page(
    reader: PageReader[Fetched],
    page: int,
    pool: Workers,
    future: Future,
    total: int,
    last_page: int,
) -> None:
    """Wait for one page and read it; a failure names the page and fails the call."""
    try:
        body = reader.read(page, pool.result_of(future))
    except P44PagingError:
        raise
    except P44Error as error:
        raise P44PagingError(
            f"--all-pages: page {page} of {last_page} failed, so no rows are returned.\n"
            f"{error.message}",
            hint=error.hint,
        ) from None
    info = body.get("paginationInfo")
    page_total = _int_or_none(info.get("total") if isinstance(info, dict) else None)
    if page_total is not None and page_total != total:
        raise P44PagingError(
            f"--all-pages: paginationInfo.total changed from {total} to {page_total} while "
            f"paging (page {page}); the data moved, so run the cell again."
        )


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
