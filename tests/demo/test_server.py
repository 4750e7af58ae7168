"""The demo API over real HTTP on 127.0.0.1: token endpoint, errors, every data endpoint, paging."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import datetime
from http import HTTPStatus
from http.client import HTTPConnection
from urllib.parse import urlsplit

import httpx
import pytest

from p44_magic.demo import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    LIMITED_CLIENT_ID,
    LIMITED_CLIENT_SECRET,
    DemoServer,
    demo_data,
    start_demo_server,
)
from p44_magic.demo.data import generate

TOKEN = "/api/v4/oauth2/token"
GRANT = {"grant_type": "client_credentials"}
# Every spelling real answers use: Z, .000Z, +0000, -0500 (see p44_magic/demo/variety.py)
ISO_8601 = re.compile(r"20\d\d-[01]\d-\d\dT\d\d:\d\d:\d\d(\.000)?(Z|[+-]\d{4})")


@pytest.fixture(scope="module")
def server() -> Iterator[DemoServer]:
    with DemoServer() as running:
        yield running


@pytest.fixture(scope="module")
def http(server: DemoServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=5) as client:
        yield client


def fetch_token(
    client: httpx.Client, client_id: str = DEMO_CLIENT_ID, secret: str = DEMO_CLIENT_SECRET
) -> str:
    response = client.post(TOKEN, data=GRANT, auth=(client_id, secret))
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


@pytest.fixture
def auth(http: httpx.Client) -> dict[str, str]:
    """A fresh bearer header per test, so invalidating tokens in one test spares the others."""
    return {"Authorization": f"Bearer {fetch_token(http)}"}


def assert_p44_error(response: httpx.Response, status: int) -> dict:
    """The answer is project44's standard error body with this status."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["httpStatusCode"] == status
    assert body["httpMessage"] == HTTPStatus(status).phrase
    assert body["errorMessage"]
    assert set(body["errors"][0]) == {"severity", "message", "diagnostic", "source"}
    assert body["errors"][0]["severity"] == "ERROR"
    assert re.fullmatch(r"[0-9a-f]{32}", body["supportReferenceId"])
    return body


def assert_oauth_error(response: httpx.Response, status: int, error: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["error"] == error and body["error_description"]
    return body


# Server basics -------------------------------------------------------------------------------


def test_binds_to_loopback_only(server: DemoServer) -> None:
    parts = urlsplit(server.base_url)
    assert parts.scheme == "http" and parts.hostname == "127.0.0.1"
    assert parts.port == server.port and server.port > 0
    assert not server.base_url.endswith("/")


def test_unknown_path_is_404(http: httpx.Client, auth: dict[str, str]) -> None:
    assert_p44_error(http.get("/api/v4/no/such/thing", headers=auth), 404)
    assert_p44_error(http.get("/", headers=auth), 404)


def test_wrong_method_is_405_with_allow(http: httpx.Client, auth: dict[str, str]) -> None:
    response = http.delete("/api/v4/webhooks", headers=auth)
    assert_p44_error(response, 405)
    assert response.headers["allow"] == "GET"


def test_requests_are_recorded(
    server: DemoServer, http: httpx.Client, auth: dict[str, str]
) -> None:
    http.post(
        "/api/v4/inventory/orders/search?page=2&pageSize=5",
        headers={**auth, "X-Trace": "abc"},
        content=b'{"statuses": ["DELIVERED"]}',
    )
    seen = server.requests[-1]
    assert seen.method == "POST"
    assert seen.path == "/api/v4/inventory/orders/search?page=2&pageSize=5"
    assert seen.headers["x-trace"] == "abc"
    assert seen.headers["authorization"] == auth["Authorization"]
    assert seen.body == b'{"statuses": ["DELIVERED"]}'
    assert seen.json() == {"statuses": ["DELIVERED"]}


def test_keep_alive_serves_several_requests_on_one_connection(
    server: DemoServer, auth: dict[str, str]
) -> None:
    connection = HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        for _ in range(3):
            connection.request("GET", "/api/v4/webhooks", headers=auth)
            response = connection.getresponse()
            assert response.status == 200
            assert int(response.getheader("Content-Length")) == len(response.read())
    finally:
        connection.close()


def test_chunked_request_body_is_read(http: httpx.Client, auth: dict[str, str]) -> None:
    chunks = iter([b'{"statuses": ', b'["IN_TRANSIT"]}'])
    response = http.post("/api/v4/inventory/orders/search", headers=auth, content=chunks)
    assert response.status_code == 200
    assert {o["statusCode"] for o in response.json()["results"]} == {"IN_TRANSIT"}


def test_shared_server_is_started_once() -> None:
    first = start_demo_server()
    assert start_demo_server() is first and first.running


def test_latency_delays_data_answers() -> None:
    with DemoServer(latency=0.1) as slow, httpx.Client(base_url=slow.base_url) as client:
        headers = {"Authorization": f"Bearer {fetch_token(client)}"}
        started = time.perf_counter()
        assert client.get("/api/v4/webhooks", headers=headers).status_code == 200
        assert time.perf_counter() - started >= 0.1


# Token endpoint ------------------------------------------------------------------------------


def test_token_by_http_basic(server: DemoServer, http: httpx.Client) -> None:
    before = server.token_fetches
    response = http.post(TOKEN, data=GRANT, auth=(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["token_type"] == "BEARER" and body["expires_in"] == 43200
    assert len(body["access_token"]) >= 32
    assert server.token_fetches == before + 1


def test_token_by_form_fields(http: httpx.Client) -> None:
    form = {**GRANT, "client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET}
    response = http.post(TOKEN, data=form)
    assert response.status_code == 200 and response.json()["access_token"]


def test_token_credentials_both_ways_or_neither_is_400(http: httpx.Client) -> None:
    both = http.post(
        TOKEN,
        data={**GRANT, "client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET},
        auth=(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET),
    )
    assert "not both" in assert_oauth_error(both, 400, "invalid_request")["error_description"]
    assert_oauth_error(http.post(TOKEN, data=GRANT), 400, "invalid_request")


def test_token_wrong_secret_or_client_is_401(http: httpx.Client) -> None:
    wrong = http.post(TOKEN, data=GRANT, auth=(DEMO_CLIENT_ID, "nope"))
    body = assert_oauth_error(wrong, 401, "invalid_client")
    assert body["error_description"] == (
        "The client secret supplied for a confidential client is invalid"
    )
    assert wrong.headers["www-authenticate"].startswith("Basic")
    assert_oauth_error(http.post(TOKEN, data=GRANT, auth=("stranger", "x")), 401, "invalid_client")


def test_token_grant_and_content_type_are_checked(http: httpx.Client) -> None:
    creds = (DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)
    assert_oauth_error(
        http.post(TOKEN, data={"grant_type": "password"}, auth=creds), 400, "unsupported_grant_type"
    )
    assert_oauth_error(http.post(TOKEN, data={}, auth=creds), 400, "invalid_request")
    assert_oauth_error(http.post(TOKEN, json=GRANT, auth=creds), 400, "invalid_request")


def test_deprecated_token_path_is_404(http: httpx.Client) -> None:
    response = http.post(
        "/api/v4/oauth/token", data=GRANT, auth=(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET)
    )
    assert_p44_error(response, 404)


# Data endpoint authorization -----------------------------------------------------------------


def test_data_without_or_with_unknown_token_is_401(http: httpx.Client) -> None:
    response = http.get("/api/v4/webhooks")
    assert_p44_error(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert_p44_error(http.get("/api/v4/webhooks", headers={"Authorization": "Bearer bogus"}), 401)


def test_invalidated_token_is_401_until_renewed() -> None:
    with DemoServer() as own, httpx.Client(base_url=own.base_url) as client:
        headers = {"Authorization": f"Bearer {fetch_token(client)}"}
        assert client.get("/api/v4/webhooks", headers=headers).status_code == 200
        own.invalidate_tokens()
        assert_p44_error(client.get("/api/v4/webhooks", headers=headers), 401)
        renewed = {"Authorization": f"Bearer {fetch_token(client)}"}
        assert client.get("/api/v4/webhooks", headers=renewed).status_code == 200
        assert own.token_fetches == 2


def test_token_expires_after_its_lifetime() -> None:
    with DemoServer(token_lifetime=0.2) as short, httpx.Client(base_url=short.base_url) as client:
        answer = client.post(TOKEN, data=GRANT, auth=(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET))
        assert answer.json()["expires_in"] == 0
        headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}
        assert client.get("/api/v4/webhooks", headers=headers).status_code == 200
        time.sleep(0.25)
        body = assert_p44_error(client.get("/api/v4/webhooks", headers=headers), 401)
        assert "expired" in body["errors"][0]["diagnostic"]


def test_limited_client_gets_403(http: httpx.Client) -> None:
    token = fetch_token(http, LIMITED_CLIENT_ID, LIMITED_CLIENT_SECRET)
    response = http.get("/api/v4/webhooks", headers={"Authorization": f"Bearer {token}"})
    assert_p44_error(response, 403)


# Shipment tracking ---------------------------------------------------------------------------


def test_track_by_identifier_returns_the_shipment(http: httpx.Client, auth: dict[str, str]) -> None:
    record = demo_data().shipments[3]
    bol = next(i for i in record.shipment["identifiers"] if i["type"] != "CARRIER_SCAC")
    response = http.post(
        "/api/v4/shipments/tracking",
        headers=auth,
        json={"identifiers": [bol, {"type": "PRO", "value": "none"}]},
    )
    assert response.status_code == 200
    shipment = response.json()
    assert shipment["id"] == record.id and bol in shipment["identifiers"]
    assert {"routeInfo", "attributes", "createdDateTime", "shipmentShareLink"} <= set(shipment)


def test_track_errors(http: httpx.Client, auth: dict[str, str]) -> None:
    url = "/api/v4/shipments/tracking"
    unknown = {"identifiers": [{"type": "BILL_OF_LADING", "value": "NOPE0000"}]}
    body = assert_p44_error(http.post(url, headers=auth, json=unknown), 404)
    assert body["errorMessage"] == "Shipment not found"
    assert_p44_error(http.post(url, headers=auth, json={}), 400)
    assert_p44_error(http.post(url, headers=auth, json={"identifiers": [{"type": "PRO"}]}), 400)
    assert_p44_error(http.post(url, headers=auth, content=b"{not json"), 400)


def test_tracking_history_shapes(http: httpx.Client, auth: dict[str, str]) -> None:
    record = demo_data().shipments[1]
    base = f"/api/v4/shipments/{record.id}"
    history = http.get(f"{base}/tracking/history", headers=auth).json()
    assert set(history) == {"shipment", "events", "states", "positions"}
    event, state, position = history["events"][0], history["states"][0], history["positions"][0]
    assert set(event) == {
        "type",
        "dateTime",
        "plannedDateTime",
        "estimateDateTime",
        "estimateLastCalculatedDateTime",
        "receivedDateTime",
        "stopId",
        "routeSegmentId",
    }
    assert set(state) == {"type", "startDateTime", "endDateTime", "stopId"}  # AT_STOP: no segment
    assert set(position) == {
        "dateTime",
        "receivedDateTime",
        "latitude",
        "longitude",
        "routeSegmentId",
    }
    assert set(http.get(f"{base}/eventhistory", headers=auth).json()) == {"shipment", "events"}
    assert set(http.get(f"{base}/positionhistory", headers=auth).json()) == {
        "shipment",
        "positions",
    }
    tracking = http.get(f"{base}/tracking", headers=auth).json()
    route = tracking["shipment"]["routeInfo"]
    assert route["stops"][0]["location"]["address"]["city"]
    assert route["routeSegments"][0]["fromStopId"] == route["stops"][0]["id"]
    assert_p44_error(http.get("/api/v4/shipments/00000000-0000/tracking", headers=auth), 404)


def test_every_25th_shipment_carries_info_messages(
    http: httpx.Client, auth: dict[str, str]
) -> None:
    warned, plain = demo_data().shipments[25], demo_data().shipments[26]
    answer = http.get(f"/api/v4/shipments/{warned.id}/eventhistory", headers=auth).json()
    assert answer["infoMessages"][0]["severity"] == "WARNING"
    assert (
        "infoMessages"
        not in http.get(f"/api/v4/shipments/{plain.id}/eventhistory", headers=auth).json()
    )


# Inventory search ----------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "size_name"), [("orders", "pageSize"), ("items", "size")])
def test_joining_all_pages_gives_total_distinct_results(
    http: httpx.Client, auth: dict[str, str], path: str, size_name: str
) -> None:
    url = f"/api/v4/inventory/{path}/search"
    first = http.post(url, headers=auth, params={"page": 1, size_name: 300}).json()
    info = first["paginationInfo"]
    assert set(info) == {"total"}  # as real answers: page and size are what was asked for
    ids = [row["id"] for row in first["results"]]
    for page in range(2, -(-info["total"] // 300) + 1):
        ids += [
            row["id"]
            for row in http.post(url, headers=auth, params={"page": page, size_name: 300}).json()[
                "results"
            ]
        ]
    assert len(ids) == len(set(ids)) == info["total"]
    beyond = http.post(url, headers=auth, params={"page": 99, size_name: 300}).json()
    assert beyond["results"] == [] and beyond["paginationInfo"]["total"] == info["total"]
    assert_p44_error(http.post(url, headers=auth, params={size_name: 501}), 400)
    assert_p44_error(http.post(url, headers=auth, params={"page": 0}), 400)


def test_search_filters(http: httpx.Client, auth: dict[str, str]) -> None:
    shipment_id = demo_data().orders[0]["shipmentIds"][0]
    orders = http.post(
        "/api/v4/inventory/orders/search", headers=auth, json={"shipmentIds": [shipment_id]}
    ).json()
    assert orders["results"] and all(shipment_id in o["shipmentIds"] for o in orders["results"])
    assert orders["results"][0]["supplier"]["location"]["address"]["country"]
    items = http.post(
        "/api/v4/inventory/items/search",
        headers=auth,
        json={"orderIds": [demo_data().items[0]["orderId"]]},
    ).json()
    assert items["paginationInfo"]["total"] == len(items["results"]) >= 1
    assert_p44_error(
        http.post(
            "/api/v4/inventory/orders/search", headers=auth, json={"shipmentIds": "not-a-list"}
        ),
        400,
    )
    assert_p44_error(
        http.post("/api/v4/inventory/orders/search", headers=auth, content=b"[1, 2]"), 400
    )


# Carriers, LTL, webhooks ---------------------------------------------------------------------


def test_capacity_provider_accounts(http: httpx.Client, auth: dict[str, str]) -> None:
    accounts = http.get("/api/v4/capacityprovideraccounts", headers=auth).json()["accounts"]
    assert len(accounts) == 12
    assert accounts[0]["capacityProviderIdentifier"]["type"] == "SCAC"
    grouped = http.get(
        "/api/v4/capacityprovideraccounts", headers=auth, params={"accountGroupCode": "TL_SPOT"}
    ).json()["accounts"]
    assert grouped and all(a["group"]["code"] == "TL_SPOT" for a in grouped)


def test_ltl_rate_quotes_are_deterministic(http: httpx.Client, auth: dict[str, str]) -> None:
    url = "/api/v4/ltl/quotes/rates/query"
    request = {
        "originAddress": {"postalCode": "60638"},
        "destinationAddress": {"postalCode": "75261"},
        "lineItems": [{"totalWeight": 1200}],
        "pickupWindow": {"date": "2026-11-23"},
    }
    first = http.post(url, headers=auth, json=request).json()
    assert first == http.post(url, headers=auth, json=request).json()
    quotes = first["rateQuotes"]
    assert 5 <= len(quotes) <= 8
    totals = [q["rateQuoteDetail"]["total"] for q in quotes]
    assert totals == sorted(totals)
    quote = quotes[0]
    assert quote["currencyCode"] == "USD" and quote["serviceLevel"]["code"]
    assert quote["quoteEffectiveDateTime"] == "2026-11-23T00:00:00Z"
    assert round(sum(c["amount"] for c in quote["rateQuoteDetail"]["charges"]), 2) == totals[0]
    assert_p44_error(http.post(url, headers=auth), 400)


def test_ltl_tracked_shipment_statuses(http: httpx.Client, auth: dict[str, str]) -> None:
    record = next(r for r in demo_data().shipments if r.mode == "LTL")
    pro = next(i["value"] for i in record.shipment["identifiers"] if i["type"] == "PRO")
    url = "/api/v4/ltl/trackedshipments/statuses"
    response = http.get(
        url,
        headers=auth,
        params={"shipmentIdentifier.type": "PRO", "shipmentIdentifier.value": pro},
    )
    statuses = response.json()["shipmentStatuses"]
    assert [s["shipment"]["id"] for s in statuses] == [record.id]
    assert statuses[0]["statusUpdates"] and statuses[0]["latestStatusUpdate"]
    assert_p44_error(
        http.get(
            url,
            headers=auth,
            params={"shipmentIdentifier.type": "PRO", "shipmentIdentifier.value": "0"},
        ),
        404,
    )
    assert_p44_error(http.get(url, headers=auth), 400)


def test_webhooks(http: httpx.Client, auth: dict[str, str]) -> None:
    hooks = http.get("/api/v4/webhooks", headers=auth).json()["webhookEndpoints"]
    assert hooks and {"id", "url", "eventTypes"} <= set(hooks[0])


# Data ----------------------------------------------------------------------------------------


def test_two_servers_serve_identical_data(
    server: DemoServer, http: httpx.Client, auth: dict[str, str]
) -> None:
    assert generate() == generate()
    record = demo_data().shipments[7]
    path = f"/api/v4/shipments/{record.id}/tracking/history"
    with DemoServer() as other, httpx.Client(base_url=other.base_url) as client:
        theirs = client.get(path, headers={"Authorization": f"Bearer {fetch_token(client)}"})
    assert theirs.content == http.get(path, headers=auth).content


def test_generated_data_is_plausible() -> None:
    data = demo_data()
    assert len(data.shipments) == 300 and len(data.orders) == 1000 and len(data.items) == 500
    assert {r.mode for r in data.shipments} == {"OCEAN", "TRUCKLOAD", "LTL", "AIR"}
    assert any(r.completed for r in data.shipments) and not all(r.completed for r in data.shipments)
    values = [
        (i["type"], i["value"])
        for r in data.shipments
        for i in r.shipment["identifiers"]
        if i["type"] not in ("CARRIER_SCAC", "PURCHASE_ORDER", "FLIGHT_NUMBER")
    ]
    assert len(values) == len(set(values))
    without_positions = [r for r in data.shipments if r.positions is None]
    assert 0 < len(without_positions) < len(data.shipments) // 10
    for record in data.shipments:
        times = [p["dateTime"] for p in record.positions or []]
        instants = [datetime.fromisoformat(t) for t in times]
        assert record.positions is None or 10 <= len(times) <= 60
        assert instants == sorted(instants)
        stamps = [
            record.shipment["createdDateTime"],
            record.shipment["lastModifiedDateTime"],
            *times,
            *(e["plannedDateTime"] for e in record.events),
            *(e["estimateDateTime"] for e in record.events),
            *(s["startDateTime"] for s in record.states),
        ]
        assert all(ISO_8601.fullmatch(t) for t in stamps), record.id
        assert all(datetime.fromisoformat(t).year == 2026 for t in stamps), record.id
        for position in record.positions or []:
            assert -90 <= position["latitude"] <= 90 and -180 <= position["longitude"] < 180
    assert datetime.fromisoformat(data.orders[0]["createdDateTime"]).year == 2026


def test_command_line_prints_base_url_and_credentials() -> None:
    import re
    import subprocess
    import sys

    process = subprocess.Popen(
        [sys.executable, "-m", "p44_magic.demo"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        first = process.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+)", first)
        assert match and "demo-client" in first
        answer = httpx.post(
            match.group(1) + "/api/v4/oauth2/token",
            data={"grant_type": "client_credentials"},
            auth=("demo-client", "demo-secret-do-not-use-in-production"),
        )
        assert answer.status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)
