"""The demo's route plans: where a shipment of each mode goes, by which legs, and how long it
stays at each stop. Drawn from the caller's random generator, so the data repeat run to run."""

from __future__ import annotations

import random
from dataclasses import dataclass

from .geo import ASIA_TO_EUROPE_LANE, Point, distance_km
from .reference_data import PLACES, Place

_EU_TO_NA_LANE: tuple[Point, ...] = ((51.00, 1.80), (49.80, -6.00))
_WEST_COAST = ("Los Angeles", "Long Beach", "Seattle")
_EAST_COAST = ("Newark", "Savannah", "Houston")


@dataclass
class Leg:
    mode: str
    track: list[Point]
    hours: float


@dataclass
class Plan:
    stops: list[tuple[str, Place, str]]  # (stop type, place, location name)
    legs: list[Leg]  # legs[i] runs from stops[i] to stops[i + 1]
    dwell_hours: list[float]  # time at each stop; at the last one, arrival to delivery


def _coords(place: Place) -> Point:
    return place.latitude, place.longitude


def _nearest(place: Place, candidates: list[Place]) -> Place:
    return min(candidates, key=lambda p: distance_km(_coords(place), _coords(p)))


def _road_leg(a: Place, b: Place, mode: str, base_hours: float, kmh: float) -> Leg:
    hours = base_hours + distance_km(_coords(a), _coords(b)) / kmh
    return Leg(mode, [_coords(a), _coords(b)], hours)


def plan_ocean(rng: random.Random, customer: str) -> Plan:
    lane = rng.choices(("ASIA-NA", "ASIA-EU", "EU-NA"), weights=(55, 25, 20))[0]
    source, target = lane.split("-")
    origin = rng.choice([p for p in PLACES if p.region == source])
    pol = _nearest(origin, [p for p in PLACES if p.region == source and p.port])
    if target == "NA":
        coast = _WEST_COAST if source == "ASIA" else _EAST_COAST
        pod = rng.choice([p for p in PLACES if p.city in coast])
    else:
        pod = rng.choice([p for p in PLACES if p.region == "EU" and p.port])
    near_pod = [
        p for p in PLACES if p.region == target and distance_km(_coords(p), _coords(pod)) < 2500
    ]
    destination = rng.choice(near_pod)
    waypoints = {"ASIA-EU": ASIA_TO_EUROPE_LANE, "EU-NA": _EU_TO_NA_LANE}.get(lane, ())
    sea = [_coords(pol), *waypoints, _coords(pod)]
    sea_km = sum(distance_km(a, b) for a, b in zip(sea, sea[1:], strict=False))
    return Plan(
        stops=[
            ("ORIGIN", origin, f"{origin.city} shipper facility"),
            ("PORT_OF_LOADING", pol, pol.port or pol.city),
            ("PORT_OF_DISCHARGE", pod, pod.port or pod.city),
            ("DESTINATION", destination, f"{customer} distribution center"),
        ],
        legs=[
            _road_leg(origin, pol, "TRUCKLOAD", 3, 60),
            Leg("OCEAN", sea, 72 + sea_km / 30),  # ~16 knots plus port calls
            _road_leg(pod, destination, "TRUCKLOAD", 3, 60),
        ],
        dwell_hours=[
            rng.uniform(1, 3),
            rng.uniform(24, 96),
            rng.uniform(24, 72),
            rng.uniform(0.5, 3),
        ],
    )


def plan_road(rng: random.Random, customer: str, mode: str) -> Plan:
    na = [p for p in PLACES if p.region == "NA"]
    origin = rng.choice(na)
    destination = rng.choice([p for p in na if distance_km(_coords(p), _coords(origin)) > 150])
    leg = (
        _road_leg(origin, destination, mode, 2, 55)
        if mode == "TRUCKLOAD"
        else _road_leg(origin, destination, mode, 24, 30)
    )  # LTL waits at terminals
    return Plan(
        stops=[
            ("ORIGIN", origin, f"{origin.city} shipper facility"),
            ("DESTINATION", destination, f"{customer} distribution center"),
        ],
        legs=[leg],
        dwell_hours=[rng.uniform(0.5, 3), rng.uniform(0.25, 2)],
    )


def plan_air(rng: random.Random, customer: str) -> Plan:
    airports = [p for p in PLACES if p.airport]
    origin = rng.choice(airports)
    abroad = rng.random() < 0.75
    destination = rng.choice(
        [p for p in airports if p is not origin and (p.region != origin.region) == abroad]
    )
    return Plan(
        stops=[
            ("ORIGIN", origin, f"{origin.city} ({origin.airport}) air cargo terminal"),
            (
                "DESTINATION",
                destination,
                f"{destination.city} ({destination.airport}) air cargo terminal",
            ),
        ],
        legs=[_road_leg(origin, destination, "AIR", 12, 750)],
        dwell_hours=[rng.uniform(2, 6), rng.uniform(1, 4)],
    )
