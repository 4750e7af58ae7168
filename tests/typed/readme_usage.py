"""The public API used as the README uses it, for a type checker (tests/test_typing.py runs mypy
over this file): where a DataFrame comes back, the checker must see a DataFrame. Never run."""

from __future__ import annotations

from typing import Any, assert_type

import httpx
import pandas as pd

from p44_magic import (
    EachResult,
    Exchange,
    HttpRequest,
    P44Client,
    P44Error,
    Result,
    TrackingTables,
    to_frame,
    tracking_tables,
)
from p44_magic.calls import Wanted


def readme_python_api(secret: str, sid: str, shipment_ids: list[str]) -> None:
    with P44Client(client_id="0oa1b2c3", client_secret=secret, env="sandbox", auth="basic") as p44:
        p44.login()
        response = p44.request("GET", "/api/v4/webhooks")
        assert_type(response, httpx.Response)
        events = p44.frame(
            "GET",
            f"/api/v4/shipments/{sid}/tracking/history",
            record_path="events",
            meta=["shipment.id"],
        )
        assert_type(events, pd.DataFrame)
        print(events.head(), events["eventType"].value_counts())
        orders = p44.frame(
            "POST",
            "/api/v4/inventory/orders/search?page=1&pageSize=100",
            json={"statusCodes": ["IN_TRANSIT"]},
            all_pages=True,
        )
        orders.to_excel("orders.xlsx")

        result = p44.each(
            "GET", "/api/v4/shipments/{{sid}}/tracking/history", shipment_ids, name="sid"
        )
        assert_type(result, EachResult)
        assert_type(result.failures, pd.DataFrame)
        print(result.frame, result.answers, result.succeeded)

        tables = p44.tables("GET", f"/api/v4/shipments/{sid}/tracking/history")
        assert_type(tables, TrackingTables)
        assert_type(tables.events, pd.DataFrame)
        print(tables.stops.head())

        answer = p44.answer("GET", "/api/v4/webhooks")
        assert_type(tracking_tables(answer), TrackingTables)
        assert_type(to_frame(answer, record_path="events"), pd.DataFrame)

        called = p44.call(HttpRequest("GET", "/api/v4/webhooks"), Wanted("frame"))
        assert_type(called, Result)
        assert_type(called.exchange, Exchange | None)
        assert_type(p44.last_exchange, Exchange | None)
        status: dict[str, Any] = p44.status()
        print(status["requests"], p44.token_fetches, p44.requests_sent)


def readme_errors(p44: P44Client) -> str | None:
    try:
        p44.frame("GET", "/api/v4/shipments/nope/tracking/history")
    except P44Error as error:
        return error.message
    return None
