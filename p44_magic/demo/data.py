"""The demo's whole data set, generated once from a fixed seed so every run serves the same data."""

from __future__ import annotations

import os
import random
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from .reference_data import LTL_CARRIERS, PLACES, PRODUCTS, SUPPLIERS, TRUCKLOAD_CARRIERS
from .shipments import AS_OF, BASE, MODES, ShipmentRecord, build_shipment, iso, new_id
from .variety import vary_orders, vary_shipments

SEED = 44
SHIPMENT_COUNT = 300
ORDER_COUNT = 1000
ITEM_COUNT = 500
#: Every n-th shipment's tracking answers carry an ``infoMessages`` warning.
WARN_EVERY = 25

Json = dict[str, Any]


@dataclass(frozen=True)
class DemoData:
    """Everything the demo API serves. Treat it as read-only: it is shared by every server."""

    shipments: list[ShipmentRecord]
    orders: list[Json]
    items: list[Json]
    accounts: list[Json]
    webhooks: list[Json]

    _by_id: dict[str, ShipmentRecord] = field(init=False, repr=False, compare=False)
    _by_identifier: dict[tuple[str, str], list[ShipmentRecord]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        by_identifier: dict[tuple[str, str], list[ShipmentRecord]] = {}
        for record in self.shipments:
            for ident in record.shipment["identifiers"]:
                by_identifier.setdefault((ident["type"], ident["value"]), []).append(record)
        # frozen: the indexes are set once, here
        object.__setattr__(self, "_by_id", {record.id: record for record in self.shipments})
        object.__setattr__(self, "_by_identifier", by_identifier)

    def shipment(self, shipment_id: str) -> ShipmentRecord | None:
        """The shipment with this id, or None."""
        return self._by_id.get(shipment_id)

    def with_identifier(self, kind: str, value: str) -> list[ShipmentRecord]:
        """Shipments carrying the identifier; the type is matched case-insensitively."""
        return list(self._by_identifier.get((kind.upper(), value), ()))

    def match(self, identifiers: list[tuple[str, str]]) -> ShipmentRecord | None:
        """The shipment sharing the most of these identifiers (the first one on a tie), or None.

        Scoring lets a shared identifier such as CARRIER_SCAC ride along with a unique one.
        """
        scores: dict[str, int] = {}
        for kind, value in identifiers:
            for record in self.with_identifier(kind, value):
                scores[record.id] = scores.get(record.id, 0) + 1
        if not scores:
            return None
        order = {record.id: n for n, record in enumerate(self.shipments)}
        best = max(scores, key=lambda sid: (scores[sid], -order[sid]))
        return self.shipment(best)


_cache: dict[int, DemoData] = {}
_cache_lock = threading.Lock()


def demo_data(tenant: int = 1) -> DemoData:
    """A tenant's shared data set, generated on first use (a fraction of a second); tenant 2
    has shipments and orders of its own (another seed)."""
    with _cache_lock:
        if tenant not in _cache:
            _cache[tenant] = generate(SEED if tenant == 1 else SEED + 1000 * tenant)
        return _cache[tenant]


def demo_today() -> date:
    """The demo's "today": ``P44_DEMO_TODAY`` (an ISO date, as tests pin it), else today (UTC)."""
    pinned = os.environ.get("P44_DEMO_TODAY", "").strip()
    return date.fromisoformat(pinned) if pinned else datetime.now(UTC).date()


def generate(seed: int = SEED, today: date | None = None) -> DemoData:
    """Build a fresh data set placed around ``today`` (the demo's "now" is its noon, UTC): the
    same seed and day always give the same data, and in-transit shipments have estimates in
    the future whatever the day."""
    data = _generate(seed)
    days = ((today or demo_today()) - ANCHOR_DAY).days
    if days:
        for part in (data.shipments, data.orders, data.items, data.accounts, data.webhooks):
            _shift(part, timedelta(days=days))
    return data


ANCHOR_DAY = AS_OF.date()  # the day the data are generated for, then moved to today
_STAMP = re.compile(r"(\d{4}-\d{2}-\d{2})(?=T\d)")


def _shift(node: Any, days: timedelta) -> Any:
    """Every ISO 8601 timestamp in ``node`` moved by whole ``days``, in place, its spelling
    kept (``Z``, ``+0000``, ``-0500``, fractions)."""
    if isinstance(node, str):
        match = _STAMP.match(node)
        if match is None:
            return node
        moved = date.fromisoformat(match.group(1)) + days
        return moved.isoformat() + node[match.end() :]
    if isinstance(node, dict):
        for key, value in node.items():
            node[key] = _shift(value, days)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            node[index] = _shift(value, days)
    elif isinstance(node, ShipmentRecord):
        for part in (node.shipment, node.events, node.states, node.positions, node.info_messages):
            _shift(part, days)
    return node


def _generate(seed: int) -> DemoData:
    rng = random.Random(seed)
    used: set[str] = set()
    modes = rng.choices(MODES, weights=(30, 28, 27, 15), k=SHIPMENT_COUNT)
    shipments = [build_shipment(rng, mode, used) for mode in modes]
    for n, record in enumerate(shipments):
        if n % WARN_EVERY == 0:
            record.info_messages.append(
                {
                    "severity": "WARNING",
                    "message": "Position data delayed by carrier",
                    "diagnostic": "The carrier's last position update arrived over 6 hours late.",
                    "source": "CARRIER",
                }
            )
    orders = _orders(rng, shipments)
    items = _items(rng, orders)
    vary_shipments(shipments)
    vary_orders(orders, shipments)
    return DemoData(shipments, orders, items, _accounts(rng), _webhooks(rng))


def _skus() -> list[tuple[str, str, str]]:
    return [(f"SKU-{10001 + n}", text, unit) for n, (text, unit) in enumerate(PRODUCTS)]


def _orders(rng: random.Random, shipments: list[ShipmentRecord]) -> list[Json]:
    """Orders referencing 1–2 shipments; a purchase order's number also lands on its shipment."""
    numbers = rng.sample(range(1_000_000, 10_000_000), ORDER_COUNT)
    places = {p.city: p for p in PLACES}
    skus = _skus()
    orders = []
    for number in numbers:
        kind = "PURCHASE_ORDER" if rng.random() < 0.6 else "SALES_ORDER"
        linked = rng.sample(shipments, rng.choice((1, 1, 1, 2)))
        delivered = sum(record.completed for record in linked)
        status = (
            "DELIVERED"
            if delivered == len(linked)
            else "PARTIALLY_DELIVERED"
            if delivered
            else "IN_TRANSIT"
        )
        supplier, city = rng.choice(SUPPLIERS)
        first_created = min(datetime.fromisoformat(r.shipment["createdDateTime"]) for r in linked)
        created = max(
            BASE + timedelta(hours=rng.uniform(0, 48)),
            first_created - timedelta(hours=rng.uniform(2, 72)),
        )
        order_number = f"{'PO' if kind == 'PURCHASE_ORDER' else 'SO'}-{number}"
        orders.append(
            {
                "id": new_id(rng),
                "orderNumber": order_number,
                "orderType": kind,
                "status": status,
                "supplier": {
                    "name": supplier,
                    "location": {"address": {"city": city, "country": places[city].country}},
                },
                "shipmentIds": [record.id for record in linked],
                "lineItems": [
                    {"sku": sku, "quantity": rng.randint(1, 200) * 10, "unitOfMeasure": unit}
                    for sku, _, unit in rng.sample(skus, rng.randint(1, 4))
                ],
                "createdDateTime": iso(created),
            }
        )
        if kind == "PURCHASE_ORDER":
            for record in linked:
                idents = record.shipment["identifiers"]
                if not any(i["type"] == "PURCHASE_ORDER" for i in idents):
                    idents.append({"type": "PURCHASE_ORDER", "value": order_number})
    return orders


def _items(rng: random.Random, orders: list[Json]) -> list[Json]:
    """Inventory items: part of an order's line, travelling on one of the order's shipments."""
    descriptions = {sku: text for sku, text, _ in _skus()}
    items = []
    for _ in range(ITEM_COUNT):
        order = rng.choice(orders)
        line = rng.choice(order["lineItems"])
        items.append(
            {
                "id": new_id(rng),
                "sku": line["sku"],
                "description": descriptions[line["sku"]],
                "quantity": rng.randint(1, line["quantity"]),
                "unitOfMeasure": line["unitOfMeasure"],
                "shipmentId": rng.choice(order["shipmentIds"]),
                "orderId": order["id"],
            }
        )
    return items


def _accounts(rng: random.Random) -> list[Json]:
    """One carrier account per LTL carrier and three truckload carriers, in three groups."""
    groups = {
        "Default": "Default",
        "LTL_CONTRACT": "LTL contract carriers",
        "TL_SPOT": "Truckload spot market",
    }
    membership = {
        "ODFL": "Default",
        "FXFE": "Default",
        "SAIA": "Default",
        "JBHT": "Default",
        "SNDR": "TL_SPOT",
        "KNXN": "TL_SPOT",
    }
    accounts = []
    for scac in (*LTL_CARRIERS, *TRUCKLOAD_CARRIERS[:3]):
        group = membership.get(scac, "LTL_CONTRACT")
        accounts.append(
            {
                "id": new_id(rng),
                "code": f"{scac}_DEMO",
                "capacityProviderIdentifier": {"type": "SCAC", "value": scac},
                "group": {"code": group, "name": groups[group]},
            }
        )
    return accounts


def _webhooks(rng: random.Random) -> list[Json]:
    """A few subscriptions; ``example.com`` is reserved, so nothing is ever delivered."""
    hooks = (
        ("https://hooks.example.com/p44/tracking-events", ["TRACKING_EVENT", "STATE_CHANGE"]),
        ("https://hooks.example.com/p44/positions", ["POSITION_UPDATE"]),
        (
            "https://erp.example.com/inbound/project44",
            ["TRACKING_EVENT", "ETA_CHANGE", "SHIPMENT_COMPLETED"],
        ),
    )
    return [
        {
            "id": new_id(rng),
            "url": url,
            "eventTypes": types,
            "createdDateTime": iso(BASE + timedelta(days=rng.randint(0, 20))),
        }
        for url, types in hooks
    ]
