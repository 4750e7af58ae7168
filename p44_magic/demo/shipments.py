"""One demo shipment: a route for its mode, then the events, states and positions a tracker reports.

Times are fixed in Oct–Nov 2026 and measured against ``AS_OF``, the demo's "now": milestones before
it have actual times, later ones only estimates, so some shipments are delivered and some en route.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from .geo import Track
from .reference_data import (
    AIRLINE_PREFIXES,
    CUSTOMERS,
    LTL_CARRIERS,
    OCEAN_CARRIERS,
    STREETS,
    TRUCKLOAD_CARRIERS,
    Place,
)
from .routes import Plan, plan_air, plan_ocean, plan_road

BASE = datetime(2026, 10, 1, tzinfo=UTC)
AS_OF = datetime(2026, 11, 20, 12, tzinfo=UTC)
PERIOD_END = datetime(2026, 12, 1, tzinfo=UTC)
#: ``.invalid`` never resolves, so nobody mistakes a demo link for a real one.
SHARE_LINK = "https://demo.p44-magic.invalid/share/{id}"

MODES = ("OCEAN", "TRUCKLOAD", "LTL", "AIR")

Json = dict[str, Any]


@dataclass
class ShipmentRecord:
    """A shipment object as the API returns it, plus its tracking history and demo bookkeeping."""

    shipment: Json
    events: list[Json]
    states: list[Json]
    positions: list[Json]
    mode: str
    completed: bool
    info_messages: list[Json] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.shipment["id"]


def iso(t: datetime) -> str:
    """ISO 8601 in UTC with a Z, as project44 writes timestamps."""
    # Sliced isoformat is several times faster than strftime; generation formats ~35k stamps.
    return t.isoformat(timespec="seconds")[:19] + "Z"


def new_id(rng: random.Random) -> str:
    """A UUID drawn from ``rng``, so ids repeat from run to run."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _unique(used: set[str], make: Callable[[], str]) -> str:
    value = make()
    while value in used:
        value = make()
    used.add(value)
    return value


def _container_check_digit(code: str) -> int:
    """ISO 6346 check digit of a 10-character container owner code and serial."""
    values, v = {}, 10
    for letter in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        v += v % 11 == 0
        values[letter] = v
        v += 1
    total = sum((values[c] if c.isalpha() else int(c)) << i for i, c in enumerate(code))
    return total % 11 % 10


def _identifiers(rng: random.Random, mode: str, used: set[str]) -> list[Json]:
    def digits(n: int) -> str:
        return "".join(rng.choice("0123456789") for _ in range(n))

    if mode == "OCEAN":
        scac, owner = rng.choice(OCEAN_CARRIERS)

        def container() -> str:
            code = owner + digits(6)
            return f"{code}{_container_check_digit(code)}"

        pairs = [
            ("BILL_OF_LADING", _unique(used, lambda: scac + digits(9))),
            ("BOOKING_NUMBER", _unique(used, lambda: digits(10))),
            ("CONTAINER_ID", _unique(used, container)),
            ("CARRIER_SCAC", scac),
        ]
    elif mode == "AIR":
        prefix = rng.choice(AIRLINE_PREFIXES)

        def waybill() -> str:
            serial = rng.randrange(10**6, 10**7)
            return f"{prefix}-{serial:07d}{serial % 7}"

        pairs = [("AIR_WAYBILL", _unique(used, waybill))]
    else:
        scac = rng.choice(LTL_CARRIERS if mode == "LTL" else TRUCKLOAD_CARRIERS)
        pairs = [("BILL_OF_LADING", _unique(used, lambda: digits(8)))]
        if mode == "LTL":
            pairs.insert(0, ("PRO", _unique(used, lambda: digits(10))))
        pairs.append(("CARRIER_SCAC", scac))
    return [{"type": t, "value": v} for t, v in pairs]


def _stop(rng: random.Random, kind: str, place: Place, name: str) -> Json:
    return {
        "id": new_id(rng),
        "type": kind,
        "location": {
            "name": name,
            "address": {
                "addressLines": [f"{rng.randint(1, 9999)} {rng.choice(STREETS)}"],
                "city": place.city,
                "state": place.state,
                "postalCode": place.postal_code,
                "country": place.country,
            },
            "coordinates": {"latitude": place.latitude, "longitude": place.longitude},
        },
    }


class _Clock:
    """Turns hour offsets into timestamps once the shipment's start is known."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self.as_of_hours = (AS_OF - start).total_seconds() / 3600

    def at(self, hours: float) -> datetime:
        return self.start + timedelta(minutes=round(hours * 60))


def build_shipment(rng: random.Random, mode: str, used_identifiers: set[str]) -> ShipmentRecord:
    """Generate one shipment of ``mode`` with its history; identifier values stay unique."""
    customer = rng.choice(CUSTOMERS)
    plan = (
        plan_ocean(rng, customer)
        if mode == "OCEAN"
        else plan_air(rng, customer)
        if mode == "AIR"
        else plan_road(rng, customer, mode)
    )

    # Planned and actual arrival/departure per stop, in hours from the start.
    planned: list[tuple[float, float]] = []
    actual: list[tuple[float, float]] = []
    t_plan, t_act = 0.0, rng.uniform(-0.5, 2.0)
    for i, dwell in enumerate(plan.dwell_hours):
        planned.append((t_plan, t_plan + dwell))
        actual.append((t_act, t_act + dwell * rng.uniform(0.8, 1.5)))
        if i < len(plan.legs):
            hours = plan.legs[i].hours
            t_plan = planned[-1][1] + hours
            t_act = actual[-1][1] + hours * rng.uniform(0.92, 1.25)

    # Start early enough that the last estimate still falls in November, and at least a day
    # before AS_OF so every shipment has moved.
    span = timedelta(hours=max(planned[-1][1], actual[-1][1]) + 4)
    earliest = BASE + timedelta(days=5)
    latest = max(earliest, min(AS_OF - timedelta(days=1), PERIOD_END - span))
    quarter_hours = int((latest - earliest).total_seconds() // 900)
    clock = _Clock(earliest + timedelta(minutes=15 * rng.randint(0, quarter_hours)))

    stops = [_stop(rng, kind, place, name) for kind, place, name in plan.stops]
    segments = [
        {
            "id": new_id(rng),
            "fromStopId": stops[i]["id"],
            "toStopId": stops[i + 1]["id"],
            "transportationMode": leg.mode,
        }
        for i, leg in enumerate(plan.legs)
    ]
    events = _events(rng, clock, stops, segments, planned, actual)
    states = _states(clock, stops, segments, actual)
    positions = _positions(rng, clock, plan, segments, actual)

    shipment_id = new_id(rng)
    received = [e["receivedDateTime"] for e in events] + [p["receivedDateTime"] for p in positions]
    shipment = {
        "id": shipment_id,
        "identifiers": _identifiers(rng, mode, used_identifiers),
        "attributes": [
            {"name": "mode", "values": [mode]},
            {"name": "customer", "values": [customer]},
            {"name": "priority", "values": ["EXPEDITED" if rng.random() < 0.2 else "STANDARD"]},
        ],
        "relatedShipments": [],
        "routeInfo": {"stops": stops, "routeSegments": segments},
        "createdDateTime": iso(clock.start - timedelta(hours=rng.uniform(24, 120))),
        "lastModifiedDateTime": max(received),
        "shipmentShareLink": SHARE_LINK.format(id=shipment_id),
    }
    completed = actual[-1][1] <= clock.as_of_hours
    return ShipmentRecord(shipment, events, states, positions, mode, completed)


def _events(
    rng: random.Random,
    clock: _Clock,
    stops: list[Json],
    segments: list[Json],
    planned: list[tuple[float, float]],
    actual: list[tuple[float, float]],
) -> list[Json]:
    """Milestones per stop: arrival, (un)loading, departure; delivery at the last stop."""
    last = len(stops) - 1
    events: list[Json] = []

    def add(kind: str, stop: int, segment: int, share: float) -> None:
        p = planned[stop][0] + (planned[stop][1] - planned[stop][0]) * share
        a = actual[stop][0] + (actual[stop][1] - actual[stop][0]) * share
        when = clock.at(a)
        if when <= AS_OF:
            happened = iso(when)
            estimate = when + timedelta(minutes=rng.randint(-90, 90))
            received = min(when + timedelta(minutes=rng.randint(1, 45)), AS_OF)
        else:
            happened = None
            estimate = when + timedelta(minutes=rng.randint(-180, 180))
            received = AS_OF - timedelta(minutes=rng.randint(5, 240))
        events.append(
            {
                "type": kind,
                "dateTime": happened,
                "plannedDateTime": iso(clock.at(p)),
                "estimateDateTime": iso(estimate),
                # The estimate shown was last calculated an hour before a reached milestone,
                # or when the latest news came for one ahead.
                "estimateLastCalculatedDateTime": iso(
                    when - timedelta(hours=1) if happened else received
                ),
                "receivedDateTime": iso(received),
                "stopId": stops[stop]["id"],
                "routeSegmentId": segments[min(segment, len(segments) - 1)]["id"],
            }
        )

    for i in range(len(stops)):
        inbound, outbound = i - 1, i
        add("ARRIVAL_AT_STOP", i, max(inbound, 0), 0.0)
        if i == last:
            add("DELIVERY", i, inbound, 1.0)
            continue
        if i > 0:
            add("UNLOAD", i, inbound, 0.3)
        add("LOAD", i, outbound, 0.6)
        add("DEPARTURE_FROM_STOP", i, outbound, 1.0)
    return events


def _states(
    clock: _Clock, stops: list[Json], segments: list[Json], actual: list[tuple[float, float]]
) -> list[Json]:
    """AT_STOP and IN_TRANSIT periods up to AS_OF, then COMPLETED once delivered."""
    periods: list[tuple[str, float, float | None, str | None, str | None]] = []
    for i, stop in enumerate(stops):
        periods.append(("AT_STOP", actual[i][0], actual[i][1], stop["id"], None))
        if i < len(segments):
            periods.append(("IN_TRANSIT", actual[i][1], actual[i + 1][0], None, segments[i]["id"]))
    periods.append(("COMPLETED", actual[-1][1], None, stops[-1]["id"], None))
    states = []
    for kind, start, end, stop_id, segment_id in periods:
        if clock.at(start) > AS_OF:
            break
        finished = end is not None and clock.at(end) <= AS_OF
        states.append(
            {
                "type": kind,
                "startDateTime": iso(clock.at(start)),
                "endDateTime": iso(clock.at(end)) if finished and end is not None else None,
                "stopId": stop_id,
                "routeSegmentId": segment_id,
            }
        )
    return states


def _positions(
    rng: random.Random,
    clock: _Clock,
    plan: Plan,
    segments: list[Json],
    actual: list[tuple[float, float]],
) -> list[Json]:
    """10–60 fixes spread over the time spent moving before AS_OF, ascending by time."""
    moving = []  # (leg index, departure, arrival, clipped end) in hours
    for i in range(len(plan.legs)):
        departure, arrival = actual[i][1], actual[i + 1][0]
        if departure < clock.as_of_hours:
            moving.append((i, departure, arrival, min(arrival, clock.as_of_hours)))
    total = sum(end - dep for _, dep, _, end in moving)
    offsets = sorted(rng.uniform(0, total) for _ in range(rng.randint(10, 60)))
    jitter = {"OCEAN": 0.05, "AIR": 0.02}
    tracks = [Track(leg.track) for leg in plan.legs]
    positions = []
    for offset in offsets:
        leg_index, departure, arrival, end = moving[-1]
        for candidate in moving:
            if offset <= candidate[3] - candidate[1]:
                leg_index, departure, arrival, end = candidate
                break
            offset -= candidate[3] - candidate[1]
        leg = plan.legs[leg_index]
        hours = departure + min(offset, end - departure)
        lat, lon = tracks[leg_index].at((hours - departure) / (arrival - departure))
        spread = jitter.get(leg.mode, 0.01)
        when = clock.start + timedelta(seconds=round(hours * 3600))
        positions.append(
            {
                "dateTime": iso(when),
                "receivedDateTime": iso(
                    min(when + timedelta(seconds=rng.randint(30, 1200)), AS_OF)
                ),
                "latitude": round(lat + rng.uniform(-spread, spread), 5),
                "longitude": round((lon + rng.uniform(-spread, spread) + 180) % 360 - 180, 5),
                "routeSegmentId": segments[leg_index]["id"],
            }
        )
    return positions
