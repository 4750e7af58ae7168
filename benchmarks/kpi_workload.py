"""KPIs over a book of business: ``shipment_kpis`` + ``scorecard`` on the joined tables of
10,000 shipments, against the straightforward pandas an analyst would write (a loop over the
shipments, each one's events, states and positions picked out and reduced), in the same run."""

from __future__ import annotations

import statistics
import time

import pandas as pd

from p44_magic import P44Client
from p44_magic.demo import DemoServer, demo_data
from p44_magic.frames import TrackingTables
from p44_magic.kpis import scorecard, shipment_kpis

from .workloads import Line


def book_of_business(shipments: int, distinct: int = 50) -> TrackingTables:
    """The joined tables of ``shipments`` shipments: ``distinct`` demo shipments' tables, copied
    under new shipment ids until there are enough."""
    with (
        DemoServer() as demo,
        P44Client(demo.client_id, demo.client_secret, base_url=demo.base_url) as p44,
    ):
        ids = [record.id for record in demo_data().shipments[:distinct]]
        path = "/api/v4/shipments/{{sid}}/tracking/history"
        tables = p44.each("GET", path, ids, name="sid", tables=True).frame
    copies = -(-shipments // distinct)
    parts = {}
    for name in ("shipment", "stops", "segments", "events", "states", "positions", "related"):
        frame = getattr(tables, name)
        parts[name] = pd.concat(
            [frame.assign(shipment_id=frame["shipment_id"] + f"-{n}") for n in range(copies)],
            ignore_index=True,
        )
    return TrackingTables(**parts)


def baseline_kpis(tables: TrackingTables) -> pd.DataFrame:
    """The loop an analyst writes: per shipment, its frames filtered, then reduced."""
    rows = []
    events = dict(tuple(tables.events.groupby("shipment_id")))
    positions = dict(tuple(tables.positions.groupby("shipment_id")))
    segments = dict(tuple(tables.segments.groupby("shipment_id")))
    carriers = tables.shipment.set_index("shipment_id")["identifier.CARRIER_SCAC"]
    for sid, stops in tables.stops.groupby("shipment_id", sort=False):
        own = events.get(sid, pd.DataFrame(columns=tables.events.columns))
        first, last = stops["id"].iloc[0], stops["id"].iloc[-1]
        left = own[(own["stopId"] == first) & (own["type"] == "DEPARTURE_FROM_STOP")]["dateTime"]
        came = own[(own["stopId"] == last) & (own["type"] == "ARRIVAL_AT_STOP")]
        arrival = came["dateTime"].max() if len(came) else pd.NaT
        planned = came["plannedDateTime"].max() if len(came) else pd.NaT
        trail = positions.get(sid)
        gaps = trail["dateTime"].sort_values().diff().max() if trail is not None else pd.NaT
        co2 = segments[sid]["emissions.totalCO2Emissions.value"].sum() if sid in segments else None
        rows.append(
            {
                "shipment_id": sid,
                "carrier": carriers.get(sid),
                "transit_hours": (arrival - left.max()).total_seconds() / 3600
                if len(left)
                else None,
                "delivery_delay_min": (arrival - planned).total_seconds() / 60,
                "max_gap_hours": gaps.total_seconds() / 3600 if pd.notna(gaps) else None,
                "co2_kg": co2,
            }
        )
    frame = pd.DataFrame(rows)
    return frame.groupby("carrier")["delivery_delay_min"].describe()


def kpis(shipments: int, repeats: int) -> list[Line]:
    tables = book_of_business(shipments)
    ours, theirs = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        scorecard(shipment_kpis(tables))
        ours.append(time.perf_counter() - started)
        started = time.perf_counter()
        baseline_kpis(tables)
        theirs.append(time.perf_counter() - started)
    return [
        Line(
            f"KPIs of {shipments:,} shipments",
            statistics.median(ours),
            statistics.median(theirs),
            0.50,
            extra="baseline: a loop over the shipments",
        )
    ]
