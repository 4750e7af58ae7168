"""The older LTL endpoints: rate quotes and tracked-shipment statuses."""

from __future__ import annotations

import hashlib
import json
import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

from .reference_data import LTL_CARRIERS
from .shipments import ShipmentRecord, iso, new_id

Json = dict[str, Any]

_SERVICE_LEVELS = (
    ("STD", "Standard"),
    ("GUARANTEED", "Guaranteed by 5 PM"),
    ("EXPEDITED", "Expedited"),
)
_DEFAULT_PICKUP = date(2026, 11, 20)
_STATUS_CODES = {"AT_STOP": "AT_STOP", "IN_TRANSIT": "IN_TRANSIT", "COMPLETED": "DELIVERED"}


def _weight(body: Json) -> float:
    items = body.get("lineItems")
    weights = [item.get("totalWeight") for item in items or () if isinstance(item, dict)]
    total = sum(w for w in weights if isinstance(w, int | float) and w > 0)
    return float(total) or 500.0


def _pickup_date(body: Json) -> date:
    window = body.get("pickupWindow")
    if isinstance(window, dict) and isinstance(window.get("date"), str):
        try:
            return date.fromisoformat(window["date"])
        except ValueError:
            pass
    return _DEFAULT_PICKUP


def rate_quotes(body: Json) -> Json:
    """5–8 quotes, cheapest first; the same request body always gets the same quotes."""
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).digest()
    rng = random.Random(int.from_bytes(digest[:8], "big"))
    weight = _weight(body)
    pickup = datetime.combine(_pickup_date(body), datetime.min.time(), tzinfo=UTC)
    accessorials = [
        a.get("code")
        for a in body.get("accessorialServices") or ()
        if isinstance(a, dict) and isinstance(a.get("code"), str)
    ]
    quotes = []
    for carrier in rng.sample(LTL_CARRIERS, rng.randint(5, 8)):
        level, level_text = rng.choices(_SERVICE_LEVELS, weights=(70, 20, 10))[0]
        linehaul = round(rng.uniform(90, 180) + weight * rng.uniform(0.18, 0.45), 2)
        discount = round(-linehaul * rng.uniform(0.6, 0.75), 2)
        fuel = round((linehaul + discount) * rng.uniform(0.25, 0.35), 2)
        charges = [
            {"code": "ITEM", "description": "Linehaul", "amount": linehaul},
            {"code": "DSC", "description": "Discount", "amount": discount},
            {"code": "FSC", "description": "Fuel surcharge", "amount": fuel},
        ]
        if level != "STD":
            charges.append(
                {
                    "code": level[:3],
                    "description": level_text,
                    "amount": round(rng.uniform(35, 90), 2),
                }
            )
        charges += [
            {
                "code": code,
                "description": f"Accessorial {code}",
                "amount": round(rng.uniform(25, 120), 2),
            }
            for code in accessorials
        ]
        transit = rng.randint(1, 5) if level == "STD" else rng.randint(1, 3)
        quotes.append(
            {
                "id": new_id(rng),
                "quoteNumber": f"{carrier}{rng.randint(10**7, 10**8 - 1)}",
                "carrierCode": carrier,
                "serviceLevel": {"code": level, "description": level_text},
                "transitDays": transit,
                "deliveryDateTime": iso(pickup + timedelta(days=transit, hours=17)),
                "rateQuoteDetail": {
                    "total": round(sum(c["amount"] for c in charges), 2),
                    "charges": charges,
                },
                "currencyCode": "USD",
                "quoteEffectiveDateTime": iso(pickup),
                "quoteExpirationDateTime": iso(pickup + timedelta(days=7)),
                "errorMessages": [],
            }
        )
    quotes.sort(key=lambda q: q["rateQuoteDetail"]["total"])
    return {"rateQuotes": quotes}


def shipment_status(record: ShipmentRecord) -> Json:
    """An LTL shipment in the older status shape: ``statusUpdates`` built from its states."""
    shipment = record.shipment
    stops = {stop["id"]: (n + 1, stop) for n, stop in enumerate(shipment["routeInfo"]["stops"])}
    last_position = record.positions[-1] if record.positions else None
    updates = []
    for state in record.states:
        number, stop = stops.get(state.get("stopId"), (None, None))
        if stop is not None:
            address = stop["location"]["address"]
            coords = stop["location"]["coordinates"]
        else:
            address = None
            coords = (
                {"latitude": last_position["latitude"], "longitude": last_position["longitude"]}
                if last_position
                else None
            )
        updates.append(
            {
                "statusCode": _STATUS_CODES[state["type"]],
                "dateTime": state["startDateTime"],
                "stopNumber": number,
                "address": address,
                "geoCoordinates": coords,
            }
        )
    scac = next((i["value"] for i in shipment["identifiers"] if i["type"] == "CARRIER_SCAC"), None)
    latest_stops = []
    for number, stop in stops.values():
        arrival = next(
            (
                e
                for e in record.events
                if e.get("stopId") == stop["id"] and e["type"] == "ARRIVAL_AT_STOP"
            ),
            None,
        )
        departed = any(
            e.get("stopId") == stop["id"]
            and e["type"] in ("DEPARTURE_FROM_STOP", "DELIVERY")
            and e.get("dateTime")
            for e in record.events
        )
        arrived = bool(arrival and arrival.get("dateTime"))
        latest_stops.append(
            {
                "stopNumber": number,
                "statusCode": "DEPARTED" if departed else "ARRIVED" if arrived else "EN_ROUTE",
                "arrivalEstimate": arrival and arrival["estimateDateTime"],
            }
        )
    return {
        "shipment": {
            "id": shipment["id"],
            "shipmentIdentifiers": shipment["identifiers"],
            "carrierIdentifier": {"type": "SCAC", "value": scac},
        },
        "latestStatusUpdate": updates[-1] if updates else None,
        "statusUpdates": updates,
        "latestStopStatuses": latest_stops,
        "infoMessages": record.info_messages,
    }
