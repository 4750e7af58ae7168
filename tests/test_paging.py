"""--all-pages against a scripted loopback server: every page joined in page order, whichever
size parameter the endpoint uses, with the query kept as written.

How a page that fails, comes up short or moves fails the whole call is in test_faults.py.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from p44_magic import P44UsageError
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
        with pytest.raises(P44UsageError, match="not a whole number"):
            p44.all_pages("POST", "/api/v4/inventory/orders/search?page=abc&pageSize=10")
