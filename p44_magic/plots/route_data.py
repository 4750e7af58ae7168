"""What the route pictures draw, read from tracking tables: stops and positions with
coordinates, and the colours of stop types, transport modes and states (shared by the static
and the interactive map)."""

from __future__ import annotations

import pandas as pd

STOP_COLOURS = {
    "ORIGIN": "#2b8a3e",
    "DESTINATION": "#c92a2a",
    "PORT_OF_LOADING": "#1971c2",
    "PORT_OF_DISCHARGE": "#1864ab",
    "TERMINAL": "#5f3dc4",
}
MODE_COLOURS = {
    "OCEAN": "#1c7ed6",
    "AIR": "#e8590c",
    "RAIL": "#5c940d",
    "TRUCKLOAD": "#495057",
    "LTL": "#862e9c",
}
STATE_COLOURS = {"AT_STOP": "#f08c00", "IN_TRANSIT": "#1c7ed6", "COMPLETED": "#2b8a3e"}
OTHER = "#868e96"


def stops_of(stops: pd.DataFrame) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "shipment_id": stops.get("shipment_id"),
            "id": stops.get("id"),
            "type": stops.get("type"),
            "name": stops.get("name"),
            "lat": pd.to_numeric(stops.get("latitude"), errors="coerce"),
            "lon": pd.to_numeric(stops.get("longitude"), errors="coerce"),
        },
        index=stops.index,
    )
    return frame.dropna(subset=["lat", "lon"])


def positions_of(positions: pd.DataFrame) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "shipment_id": positions.get("shipment_id"),
            "when": pd.to_datetime(positions.get("dateTime"), utc=True, errors="coerce"),
            "lat": pd.to_numeric(positions.get("latitude"), errors="coerce"),
            "lon": pd.to_numeric(positions.get("longitude"), errors="coerce"),
        },
        index=positions.index,
    )
    return frame.dropna(subset=["lat", "lon"]).sort_values(["shipment_id", "when"], kind="stable")
