"""--all-pages against a scripted loopback server: every page joined in page order, whichever
size parameter the endpoint uses, with the query kept as written.

How a page that fails, comes up short or moves fails the whole call is in test_faults.py.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from p44_magic import P44PagingError, P44UsageError
from p44_magic.paging import PagePlan, PageReader, all_pages
from tests.servers import Received, Reply, ScriptedServer, client_for, with_tokens


def paged(total: int, size_key: str = "pageSize"):
    rows = [{"n": i} for i in range(total)]

    def data(got: Received) -> Reply:
        query = parse_qs(urlsplit(got.path).query)
        page, size = int(query["page"][0]), int(query[size_key][0])
        chunk = rows[(page - 1) * size : page * size]
        return Reply(200, {"paginationInfo": {"total": total}, "results": chunk})

    return data


def test_all_pages_joins_in_page_order_with_size_or_page_size():
    for key in ("pageSize", "size"):
        with ScriptedServer(with_tokens(paged(1234, key))) as server, client_for(server) as p44:
            frame = p44.frame(
                "POST", f"/api/v4/inventory/items/search?page=1&{key}=100", all_pages=True
            )
            assert frame["n"].tolist() == list(range(1234))
            assert len(server.data_calls()) == 13


def test_all_pages_keeps_repeated_parameters_and_refuses_a_bad_page():
    with ScriptedServer(with_tokens(paged(150))) as server, client_for(server) as p44:
        path = "/api/v4/inventory/orders/search?status=A&status=B&page=1&pageSize=100"
        assert len(p44.frame("POST", path, all_pages=True)) == 150
        assert all("status=A&status=B" in r.path for r in server.data_calls())
        with pytest.raises(P44UsageError, match="is not a page number"):
            p44.all_pages("POST", "/api/v4/inventory/orders/search?page=abc&pageSize=10")


# -- the paging rules alone: fake pages, no socket ---------------------------------------------


def fake_pages(total: int, size: int, changed_total_on: int | None = None):
    def fetch(page: int) -> dict:
        rows = [{"n": n} for n in range((page - 1) * size, min(page * size, total))]
        shown = total + 1 if page == changed_total_on else total
        return {"paginationInfo": {"total": shown}, "results": rows}

    return fetch


def test_paging_rules_join_fake_pages_in_order_without_a_socket():
    plan = PagePlan.of(httpx.URL("/x/search?page=1&size=7&tag=a&tag=b"), None, None)
    assert plan.size_key == "size" and plan.query_for(3).get_list("tag") == ["a", "b"]
    seen: list[int] = []
    reader = PageReader(lambda body: body, lambda page, rows: seen.append(page))
    joined = all_pages(plan, fake_pages(30, 7), reader, max_concurrency=3)
    assert [row["n"] for row in joined["results"]] == list(range(30))
    assert seen == [1, 2, 3, 4, 5] and joined["paginationInfo"]["pagesFetched"] == 5


def test_paging_rules_refuse_a_moving_total_and_a_default_size_is_added():
    plan = PagePlan.of(httpx.URL("/x/search?page=1"), None, "pageSize")
    assert plan.query.get("pageSize") == "100"
    with pytest.raises(P44PagingError, match="changed from 250 to 251"):
        all_pages(plan, fake_pages(250, 100, changed_total_on=2), PageReader(lambda b: b))
