"""The project44 v4 endpoints an analyst uses: data, not code.

Each entry says where its rows are, which parent fields to carry onto them, and how it pages,
so ``%p44`` can do the right thing without options. Sources: project44's v4 API reference and
its published integration code.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from functools import cached_property

import pandas as pd


@dataclass(frozen=True)
class Endpoint:
    """One known endpoint. ``rows`` is the (dotted) list that holds its rows, if any."""

    method: str
    path: str
    description: str
    rows: str | None = None
    meta: tuple[str, ...] = ()
    paging: str | None = None  # the page-size parameter: "pageSize" or "size"
    tracking: bool = False  # a tracking answer that --tables splits into linked tables

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        parts = re.split(r"\{[^}/]+\}", self.path)
        return re.compile("^" + "[^/]+".join(map(re.escape, parts)) + "/?$")


SHIPMENT = "/api/v4/shipments/{shipmentId}"
ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint(
        "POST",
        "/api/v4/shipments/tracking",
        "Start or find tracking for a shipment by its identifiers (all modes).",
    ),
    Endpoint(
        "GET",
        f"{SHIPMENT}/tracking/history",
        "A shipment's events, states and positions.",
        rows="events",
        meta=("shipment.id",),
        tracking=True,
    ),
    Endpoint(
        "GET",
        f"{SHIPMENT}/eventhistory",
        "A shipment's milestone events.",
        rows="events",
        meta=("shipment.id",),
        tracking=True,
    ),
    Endpoint(
        "GET",
        f"{SHIPMENT}/positionhistory",
        "A shipment's positions, oldest first.",
        rows="positions",
        meta=("shipment.id",),
        tracking=True,
    ),
    Endpoint(
        "GET",
        f"{SHIPMENT}/tracking",
        "A shipment with its route: stops and route segments.",
        rows="shipment.routeInfo.stops",
        meta=("shipment.id",),
        tracking=True,
    ),
    Endpoint(
        "POST",
        "/api/v4/inventory/orders/search",
        "Search inventory orders (paged: page, pageSize).",
        rows="results",
        paging="pageSize",
    ),
    Endpoint(
        "POST",
        "/api/v4/inventory/items/search",
        "Search inventory items (paged: page, size).",
        rows="results",
        paging="size",
    ),
    Endpoint(
        "POST",
        "/api/v4/tl/shipments",
        "Track a truckload shipment by its identifiers (older TL API): status updates.",
        rows="statusUpdates",
        meta=("shipment.id",),
    ),
    Endpoint(
        "GET",
        "/api/v4/ltl/trackedshipments/statuses",
        "LTL shipment statuses by identifier (shipmentIdentifier.type/value).",
        rows="shipmentStatuses",
    ),
    Endpoint(
        "POST",
        "/api/v4/ltl/quotes/rates/query",
        "LTL rate quotes for an origin, destination and line items.",
        rows="rateQuotes",
    ),
    Endpoint(
        "GET",
        "/api/v4/capacityprovideraccounts",
        "Capacity provider (carrier) accounts, by accountGroupCode.",
        rows="accounts",
    ),
    Endpoint("GET", "/api/v4/webhooks", "Registered webhook endpoints.", rows="webhookEndpoints"),
)


def find_endpoint(method: str, path: str) -> Endpoint | None:
    """The catalogue entry for a request (query string and host ignored), or None."""
    path = re.sub(r"^https?://[^/]+", "", path).split("?", 1)[0]
    for endpoint in ENDPOINTS:
        if endpoint.method == method.upper() and endpoint.pattern.match(path):
            return endpoint
    return None


def closest_endpoint(method: str, path: str, cutoff: float = 0.85) -> Endpoint | None:
    """The catalogue entry a mistyped path most likely meant (same method, as many segments,
    placeholders taking the typed segment), or None when none is close."""
    path = re.sub(r"^https?://[^/]+", "", path).split("?", 1)[0].rstrip("/")
    typed = path.split("/")
    best, best_ratio = None, cutoff
    for endpoint in ENDPOINTS:
        known = endpoint.path.split("/")
        if endpoint.method != method.upper() or len(known) != len(typed):
            continue
        filled = "/".join(t if k.startswith("{") else k for k, t in zip(known, typed, strict=True))
        ratio = difflib.SequenceMatcher(None, path, filled).ratio()
        if ratio > best_ratio:
            best, best_ratio = endpoint, ratio
    return best


def endpoints_frame(word: str | None = None) -> pd.DataFrame:
    """The catalogue as a DataFrame, optionally only entries mentioning ``word``."""
    rows = [
        {
            "method": e.method,
            "path": e.path,
            "description": e.description,
            "rows": e.rows or "",
            "meta": ", ".join(e.meta),
            "paging": f"page/{e.paging}" if e.paging else "",
            "tables": "--tables" if e.tracking else "",
        }
        for e in ENDPOINTS
    ]
    frame = pd.DataFrame(rows)
    if word:
        text = frame.astype(str).agg(" ".join, axis=1).str.lower()
        frame = frame[text.str.contains(word.lower(), regex=False)].reset_index(drop=True)
    return frame
