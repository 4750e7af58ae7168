"""The ways real project44 answers differ from tidy ones, applied to the generated data set.

See "How real answers vary" in the project's API notes: ocean ports known only by UN/LOCODE and
coordinates; future events without ``dateTime``; events and states without ``stopId``;
shipments with no positions yet (no ``positions`` key at all); two flight numbers on an air
shipment; related shipments; route segments with identifiers and emissions; ``dateTimes[]`` on
events; timestamps spelt ``Z``, ``.000Z``, ``+0000`` and ``-0500`` within one answer; orders with
project44's order fields. Each shipment draws from its own generator (seeded by its id), so the
variety is the same on every run and the base data are drawn exactly as before.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from typing import Any

from .geo import distance_km
from .shipments import AS_OF, ShipmentRecord, iso

Json = dict[str, Any]

#: Port city → (UN/LOCODE, IANA time zone).
PORTS = {
    "Los Angeles": ("USLAX", "America/Los_Angeles"),
    "Long Beach": ("USLGB", "America/Los_Angeles"),
    "Seattle": ("USSEA", "America/Los_Angeles"),
    "Newark": ("USEWR", "America/New_York"),
    "Savannah": ("USSAV", "America/New_York"),
    "Houston": ("USHOU", "America/Chicago"),
    "Rotterdam": ("NLRTM", "Europe/Amsterdam"),
    "Hamburg": ("DEHAM", "Europe/Berlin"),
    "Antwerp": ("BEANR", "Europe/Brussels"),
    "Felixstowe": ("GBFXT", "Europe/London"),
    "Shanghai": ("CNSHA", "Asia/Shanghai"),
    "Ningbo": ("CNNGB", "Asia/Shanghai"),
    "Shenzhen": ("CNYTN", "Asia/Shanghai"),
    "Hong Kong": ("HKHKG", "Asia/Hong_Kong"),
    "Singapore": ("SGSIN", "Asia/Singapore"),
    "Busan": ("KRPUS", "Asia/Seoul"),
    "Tokyo": ("JPTYO", "Asia/Tokyo"),
    "Ho Chi Minh City": ("VNSGN", "Asia/Ho_Chi_Minh"),
}
PORT_STOPS = ("PORT_OF_LOADING", "PORT_OF_DISCHARGE")
FLIGHT_CARRIERS = ("QR", "LH", "CX", "EK", "AF", "KE", "NH")
#: g CO2 per tonne-km by mode (typical published intensities).
CO2_INTENSITY = {"OCEAN": 8.0, "TRUCKLOAD": 62.0, "AIR": 602.0}
CARGO_TONNES = 12.0
NO_POSITIONS_EVERY = 13  # shipment n with n % 13 == 6 has no positions yet
STOPLESS_EVERY = 5  # shipment n with n % 5 == 2 reports (un)loading without its stop
RELATED_EVERY = 4  # ocean shipment n with n % 4 == 1 has a related shipment
DATE_TIMES_EVERY = 3  # shipment n with n % 3 == 0 has dateTimes[] on its events
_EST = timezone(timedelta(hours=-5))


def vary_shipments(shipments: list[ShipmentRecord]) -> None:
    """Give the generated shipments the real variety, in place (see the module docstring)."""
    ocean = [record for record in shipments if record.mode == "OCEAN"]
    for n, record in enumerate(shipments):
        rng = random.Random(f"variety-{record.id}")
        shipment = record.shipment
        stops = shipment["routeInfo"]["stops"]
        if record.mode == "OCEAN":
            for stop in stops:
                if stop["type"] in PORT_STOPS:
                    _port_only(stop)
            if n % RELATED_EVERY == 1 and len(ocean) > 1:
                _relate(shipment, ocean[(ocean.index(record) + 1) % len(ocean)])
        flights = _flight_numbers(rng) if record.mode == "AIR" else []
        shipment["identifiers"] += [{"type": "FLIGHT_NUMBER", "value": f} for f in flights]
        stops_by_id = {stop["id"]: stop for stop in stops}
        for segment in shipment["routeInfo"]["routeSegments"]:
            _segment_details(rng, segment, stops_by_id, flights)
        for event in record.events:
            if event.get("dateTime") is None:
                event.pop("dateTime", None)  # not happened yet: planned and estimate only
            if n % DATE_TIMES_EVERY == 0:
                event["dateTimes"] = _date_times(event)
            if n % STOPLESS_EVERY == 2 and event["type"] in ("LOAD", "UNLOAD"):
                del event["stopId"], event["routeSegmentId"]
        for state in record.states:
            for key in ("stopId", "routeSegmentId"):
                if state.get(key) is None:
                    del state[key]
        if n % NO_POSITIONS_EVERY == 6:
            record.positions = None
        _spell_timestamps(record)


def _port_only(stop: Json) -> None:
    """An ocean port as carriers report it: name, UN/LOCODE, coordinates and time zone."""
    location = stop["location"]
    city = location["address"]["city"]
    locode, zone = PORTS.get(city, (None, "UTC"))
    stop["location"] = {
        "name": location["name"],
        "identifiers": [{"type": "PORT_UN_LOCODE", "value": locode}] if locode else [],
        "coordinates": location["coordinates"],
        "timeZone": zone,
    }


def _relate(shipment: Json, other: ShipmentRecord) -> None:
    """Found by project44 after creation: the booking's other container, say."""
    container = [i for i in other.shipment["identifiers"] if i["type"] == "CONTAINER_ID"]
    created = datetime.fromisoformat(shipment["createdDateTime"]) + timedelta(days=2)
    shipment["relatedShipments"] = [
        {"id": other.id, "identifiers": container, "createdDateTime": iso(min(created, AS_OF))}
    ]


def _flight_numbers(rng: random.Random) -> list[str]:
    carrier = rng.choice(FLIGHT_CARRIERS)
    first = rng.randrange(100, 9000)
    return [f"{carrier}{first}", f"{carrier}{first + rng.randrange(1, 800)}"]


def _segment_details(
    rng: random.Random, segment: Json, stops_by_id: dict[str, Json], flights: list[str]
) -> None:
    mode = segment["transportationMode"]
    points = [
        stops_by_id[segment[end]]["location"]["coordinates"] for end in ("fromStopId", "toStopId")
    ]
    km = distance_km(*[(p["latitude"], p["longitude"]) for p in points])
    if mode == "OCEAN":
        imo = f"IMO{rng.randrange(9_000_000, 9_999_999)}"
        segment["identifiers"] = [{"type": "VESSEL_IMO", "value": imo}]
        km *= 1.3  # sea lanes are longer than the great circle
    elif mode == "AIR":
        segment["identifiers"] = [{"type": "FLIGHT_NUMBER", "value": f} for f in flights]
    else:
        segment["identifiers"] = []
    intensity = CO2_INTENSITY.get(mode)
    if intensity is None:
        return  # LTL carriers report no emissions here
    segment["emissions"] = {
        "distance": {"value": round(km, 1), "unit": "KM"},
        "co2EmissionIntensity": {"value": intensity, "unit": "G_PER_TONNE_KM"},
        "totalCO2Emissions": {
            "value": round(km * CARGO_TONNES * intensity / 1000, 1),
            "unit": "KG",
        },
    }


def _date_times(event: Json) -> list[Json]:
    """One entry per source's assertion; the selected one is what ``dateTime`` would say."""
    happened = event.get("dateTime")
    entries = [
        {"type": "PLANNED", "source": "SHIPPER", "dateTime": event["plannedDateTime"]},
        {
            "type": "ESTIMATE",
            "source": "PROJECT44",
            "dateTime": event["estimateDateTime"],
            "selected": happened is None,
        },
    ]
    if happened is not None:
        entries.append(
            {"type": "ACTUAL", "source": "CARRIER", "dateTime": happened, "selected": True}
        )
    return entries


# Timestamps: every spelling of the same instant, mixed within one answer ----------------------


def spelt(stamp: str, how: int) -> str:
    """``stamp`` (``…Z``) spelt as ``Z``, ``.000Z``, ``+0000`` or ``-0500`` (same instant)."""
    how %= 4
    if how == 0:
        return stamp
    if how == 1:
        return stamp[:-1] + ".000Z"
    if how == 2:
        return stamp[:-1] + "+0000"
    when = datetime.fromisoformat(stamp).astimezone(_EST)
    return when.strftime("%Y-%m-%dT%H:%M:%S-0500")


_EVENT_STAMPS = ("dateTime", "plannedDateTime", "estimateDateTime", "receivedDateTime")


def _spell_timestamps(record: ShipmentRecord) -> None:
    for i, event in enumerate(record.events):
        for k, key in enumerate(_EVENT_STAMPS):
            if event.get(key):
                event[key] = spelt(event[key], i + k)
    for i, state in enumerate(record.states):
        for key in ("startDateTime", "endDateTime"):
            if state.get(key):
                state[key] = spelt(state[key], i)
    for i, position in enumerate(record.positions or []):
        position["dateTime"] = spelt(position["dateTime"], i)


# Orders ---------------------------------------------------------------------------------------

ORDER_TAGS = ("PROMO", "SEASONAL", "TEMPERATURE_CONTROLLED", "HAZMAT", "VIP_CUSTOMER")


def vary_orders(orders: list[Json], shipments: list[ShipmentRecord]) -> None:
    """Orders as project44's order search returns them: ``orderIdentifier``, ``statusCode``
    and ``statusCodeDateTime``, ``additionalOrderIdentifiers``, ``orderTags``, in place."""
    modified = {record.id: record.shipment["lastModifiedDateTime"] for record in shipments}
    for n, order in enumerate(orders):
        rng = random.Random(f"variety-{order['id']}")
        number, status = order.pop("orderNumber"), order.pop("status")
        changed = (
            order["createdDateTime"]
            if status == "IN_TRANSIT"
            else max(modified[sid] for sid in order["shipmentIds"])
        )
        fields = {
            "id": order.pop("id"),
            "orderIdentifier": number,
            "orderType": order.pop("orderType"),
            "statusCode": status,
            "statusCodeDateTime": spelt(changed, rng.randrange(4)),
            "additionalOrderIdentifiers": [
                {"type": "SUPPLIER_REFERENCE", "value": f"SR-{number[3:]}"},
                *(
                    [{"type": "CUSTOMER_REFERENCE", "value": f"CR-{rng.randrange(10**6):06d}"}]
                    if rng.random() < 0.3
                    else []
                ),
            ],
            "orderTags": rng.sample(ORDER_TAGS, rng.choice((0, 0, 1, 2))),
        }
        orders[n] = {**fields, **order}  # project44's fields first, then the rest as they were
