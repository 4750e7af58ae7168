"""The demo API without HTTP: a request (method, target, headers, body) in, an Answer out.

Order of checks on data endpoints: unknown path (404), then the token (401/403), then the method
(405), then the parameters (400).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from . import ltl
from .auth import TENANT_OF, TokenStore, token_endpoint
from .data import DemoData
from .estimates import EstimateDrift
from .responses import Answer, ApiError
from .shipments import ShipmentRecord

TOKEN_PATH = "/api/v4/oauth2/token"
DEPRECATED_TOKEN_PATH = "/api/v4/oauth/token"
MAX_PAGE_SIZE = 500

Json = dict[str, Any]


@dataclass
class Call:
    """What a handler needs from a request."""

    params: dict[str, str]  # from the path
    query: dict[str, list[str]]
    body: bytes

    def arg(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def json(self, *, required: bool = False) -> Json:
        """The body as a JSON object; an empty body is ``{}`` unless ``required``."""
        if not self.body.strip():
            if required:
                raise ApiError(400, "A JSON request body is required", source="body")
            return {}
        try:
            value = json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ApiError(
                400, "The request body is not valid JSON", diagnostic=str(exc), source="body"
            ) from None
        if not isinstance(value, dict):
            raise ApiError(400, "The request body must be a JSON object", source="body")
        return value

    def int_arg(self, name: str, default: int, high: int | None = None) -> int:
        raw = self.arg(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            value = 0
        if value < 1 or (high is not None and value > high):
            limit = f"from 1 to {high}" if high else "of at least 1"
            raise ApiError(
                400,
                f"Invalid value {raw!r} for parameter '{name}'",
                diagnostic=f"'{name}' must be an integer {limit}.",
                source=name,
            )
        return value


Handler = Callable[[Call], Json]


class DemoApi:
    """Routes requests to handlers over one shared DemoData."""

    def __init__(
        self,
        data: DemoData,
        tokens: TokenStore,
        latency: float = 0.0,
        tenant_data: Callable[[int], DemoData] | None = None,
    ) -> None:
        self._data = data  # tenant 1's; another tenant's is read per request (tenant_data)
        self._tenant_data = tenant_data
        self._request = threading.local()  # the data of the request this thread answers
        self.tokens = tokens
        self.latency = latency
        self.drift = EstimateDrift()  # estimates move between fetches, as real ones do
        shipment = r"/api/v4/shipments/(?P<shipment_id>[^/]+)"
        table: list[tuple[str, dict[str, Handler]]] = [
            (r"/api/v4/shipments/tracking", {"POST": self._track}),
            (shipment + r"/tracking/history", {"GET": self._history}),
            (shipment + r"/tracking", {"GET": self._tracking}),
            (shipment + r"/eventhistory", {"GET": self._event_history}),
            (shipment + r"/positionhistory", {"GET": self._position_history}),
            (r"/api/v4/inventory/orders/search", {"POST": self._search_orders}),
            (r"/api/v4/inventory/items/search", {"POST": self._search_items}),
            (r"/api/v4/capacityprovideraccounts", {"GET": self._accounts}),
            (r"/api/v4/ltl/quotes/rates/query", {"POST": self._rate_quotes}),
            (r"/api/v4/ltl/trackedshipments/statuses", {"GET": self._ltl_statuses}),
            (r"/api/v4/webhooks", {"GET": self._webhooks}),
            (r"/api/v4/tl/shipments", {"POST": self._truckload}),
        ]
        self._routes = [(re.compile(pattern), handlers) for pattern, handlers in table]

    @property
    def data(self) -> DemoData:
        """The data of the tenant whose token the current request carries."""
        return getattr(self._request, "data", None) or self._data

    def _serve_tenant_of(self, client_id: str) -> None:
        tenant = TENANT_OF.get(client_id, 1)
        data = self._data if tenant == 1 or self._tenant_data is None else None
        self._request.data = data or self._tenant_data(tenant)  # type: ignore[misc]

    def authenticated(self, target: str, headers: dict[str, str], status: int) -> bool:
        """Whether a request proved who sent it: a token request that got a token, or a data
        request with a valid access token."""
        if urlsplit(target).path.rstrip("/") == TOKEN_PATH:
            return status == 200
        try:
            self.tokens.authorize(headers.get("authorization"))
        except ApiError as error:
            return error.answer.status == 403  # a known client, without the role
        return True

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes) -> Answer:
        """Answer one request; ``headers`` has lower-case names."""
        parts = urlsplit(target)
        path = parts.path.rstrip("/") or "/"
        try:
            if path == TOKEN_PATH:
                return token_endpoint(self.tokens, method, headers, body)
            if path == DEPRECATED_TOKEN_PATH:
                raise ApiError(
                    404,
                    "Not Found",
                    diagnostic="/api/v4/oauth/token is deprecated; use POST /api/v4/oauth2/token.",
                    source="path",
                )
            handlers, params = self._route(method, path)
            self._serve_tenant_of(self.tokens.authorize(headers.get("authorization")))
            handler = handlers.get(method)
            if handler is None:
                allowed = ", ".join(handlers)
                raise ApiError(
                    405,
                    f"Method {method} is not allowed here",
                    diagnostic=f"{path} accepts {allowed}.",
                    source="method",
                    headers={"Allow": allowed},
                )
            if self.latency > 0:
                time.sleep(self.latency)
            return Answer(200, handler(Call(params, parse_qs(parts.query), body)))
        except ApiError as error:
            return error.answer

    def _route(self, method: str, path: str) -> tuple[dict[str, Handler], dict[str, str]]:
        for pattern, handlers in self._routes:
            found = pattern.fullmatch(path)
            if found:
                return handlers, found.groupdict()
        raise ApiError(
            404, "Not Found", diagnostic=f"No endpoint at {method} {path}.", source="path"
        )

    # Unified shipment tracking -------------------------------------------------------------

    def _record(self, call: Call) -> ShipmentRecord:
        record = self.data.shipment(call.params["shipment_id"])
        if record is None:
            raise ApiError(
                404,
                "Shipment not found",
                diagnostic=f"No shipment with id {call.params['shipment_id']}.",
                source="shipmentId",
            )
        return record

    @staticmethod
    def _with_info(record: ShipmentRecord, answer: Json) -> Json:
        if record.info_messages:
            answer["infoMessages"] = record.info_messages
        return answer

    def _track(self, call: Call) -> Json:
        identifiers = call.json(required=True).get("identifiers")
        pairs = []
        if isinstance(identifiers, list):
            pairs = [(i.get("type"), i.get("value")) for i in identifiers if isinstance(i, dict)]
        if not pairs or not all(
            isinstance(t, str) and t and isinstance(v, str) and v for t, v in pairs
        ):
            raise ApiError(
                400,
                "identifiers must be a non-empty list of {type, value}",
                diagnostic='e.g. {"identifiers": [{"type": "BILL_OF_LADING", '
                '"value": "MAEU123456789"}]}',
                source="identifiers",
            )
        record = self.data.match(pairs)
        if record is None:
            raise ApiError(
                404,
                "Shipment not found",
                diagnostic="No shipment carries any of these identifiers.",
                source="identifiers",
            )
        return self._with_info(record, dict(record.shipment))

    def _truckload(self, call: Call) -> Json:
        """The older truckload API: a TL shipment found by its identifiers, with status updates."""
        body = call.json(required=True)
        identifiers = body.get("shipmentIdentifiers") or body.get("identifiers")
        pairs = [
            (i.get("type"), i.get("value"))
            for i in identifiers or []
            if isinstance(i, dict) and isinstance(i.get("type"), str)
        ]
        record = self.data.match(pairs) if pairs else None
        if record is None or record.mode != "TRUCKLOAD":
            raise ApiError(
                404 if pairs else 400,
                "Truckload shipment not found" if pairs else "shipmentIdentifiers are required",
                diagnostic='e.g. {"shipmentIdentifiers": [{"type": "BILL_OF_LADING", '
                '"value": "..."}]}',
                source="shipmentIdentifiers",
            )
        updates = [
            {
                "statusCode": event["type"],
                "timestamp": event.get("dateTime") or event["estimateDateTime"],
                "stopId": event.get("stopId"),
            }
            for event in record.events
        ]
        happened = [u for u in updates if u["timestamp"]]
        return {
            "shipment": {"id": record.id, "shipmentIdentifiers": record.shipment["identifiers"]},
            "latestStatusUpdate": happened[-1] if happened else None,
            "statusUpdates": updates,
            "latestStopStatuses": [
                {"stopId": s["stopId"], "statusCode": s["type"]}
                for s in record.states
                if s.get("stopId")
            ],
            "infoMessages": record.info_messages,
            "mapUrl": f"https://demo.p44-magic.invalid/map/{record.id}",
        }

    def _tracking(self, call: Call) -> Json:
        record = self._record(call)
        happened = [e for e in record.events if e.get("dateTime")]
        return self._with_info(
            record,
            {
                "shipment": record.shipment,
                "latestState": record.states[-1] if record.states else None,
                "latestEvent": happened[-1] if happened else None,
            },
        )

    def _history(self, call: Call) -> Json:
        record = self._record(call)
        return self._with_info(
            record,
            {
                "shipment": record.shipment,
                "events": self.drift.events(record),
                "states": record.states,
                **_positions_of(record),
            },
        )

    def _event_history(self, call: Call) -> Json:
        record = self._record(call)
        answer = {"shipment": record.shipment, "events": self.drift.events(record)}
        return self._with_info(record, answer)

    def _position_history(self, call: Call) -> Json:
        record = self._record(call)
        return self._with_info(record, {"shipment": record.shipment, **_positions_of(record)})

    # Inventory search ----------------------------------------------------------------------

    @staticmethod
    def _filters(body: Json, names: tuple[str, ...]) -> dict[str, set[str]]:
        filters = {}
        for name in names:
            if name not in body or body[name] is None:
                continue
            values = body[name]
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                raise ApiError(400, f"'{name}' must be a list of strings", source=name)
            filters[name] = set(values)
        return filters

    @staticmethod
    def _page(call: Call, rows: list[Json], size_name: str) -> Json:
        page = call.int_arg("page", 1)
        size = call.int_arg(size_name, 100, MAX_PAGE_SIZE)
        # Only the total is reliably there in real answers; page and size are the request's.
        return {
            "paginationInfo": {"total": len(rows)},
            "results": rows[(page - 1) * size : page * size],
        }

    def _search_orders(self, call: Call) -> Json:
        names = ("shipmentIds", "orderIdentifiers", "orderNumbers", "statusCodes", "statuses")
        f = self._filters(call.json(), names)
        numbers = f.get("orderIdentifiers", set()) | f.get("orderNumbers", set())
        statuses = f.get("statusCodes", set()) | f.get("statuses", set())
        rows = [
            o
            for o in self.data.orders
            if ("shipmentIds" not in f or f["shipmentIds"].intersection(o["shipmentIds"]))
            and (not numbers or o["orderIdentifier"] in numbers)
            and (not statuses or o["statusCode"] in statuses)
        ]
        return self._page(call, rows, "pageSize")

    def _search_items(self, call: Call) -> Json:
        f = self._filters(call.json(), ("shipmentIds", "orderIds", "skus"))
        rows = [
            i
            for i in self.data.items
            if ("shipmentIds" not in f or i["shipmentId"] in f["shipmentIds"])
            and ("orderIds" not in f or i["orderId"] in f["orderIds"])
            and ("skus" not in f or i["sku"] in f["skus"])
        ]
        return self._page(call, rows, "size")

    # Carriers, LTL, webhooks ---------------------------------------------------------------

    def _accounts(self, call: Call) -> Json:
        group = call.arg("accountGroupCode")
        return {
            "accounts": [
                a for a in self.data.accounts if group is None or a["group"]["code"] == group
            ]
        }

    def _rate_quotes(self, call: Call) -> Json:
        return ltl.rate_quotes(call.json(required=True))

    def _ltl_statuses(self, call: Call) -> Json:
        kind, value = call.arg("shipmentIdentifier.type"), call.arg("shipmentIdentifier.value")
        if not kind or not value:
            raise ApiError(
                400,
                "shipmentIdentifier.type and shipmentIdentifier.value are required",
                diagnostic="e.g. ?shipmentIdentifier.type=PRO&shipmentIdentifier.value=0123456789",
                source="shipmentIdentifier",
            )
        records = [r for r in self.data.with_identifier(kind, value) if r.mode == "LTL"]
        if not records:
            raise ApiError(
                404,
                "Shipment not found",
                diagnostic=f"No LTL shipment with {kind.upper()} {value}.",
                source="shipmentIdentifier",
            )
        return {"shipmentStatuses": [ltl.shipment_status(r) for r in records]}

    def _webhooks(self, call: Call) -> Json:
        return {"webhookEndpoints": self.data.webhooks}


def _positions_of(record: ShipmentRecord) -> Json:
    """``{"positions": […]}``, or nothing at all for a shipment with no positions yet."""
    return {} if record.positions is None else {"positions": record.positions}
