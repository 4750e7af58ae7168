"""The route map of tracking tables (``TrackingTables.map()``).

One shipment: its stops as labelled points coloured by stop type, its route segments as lines
coloured by transport mode, its positions as a breadcrumb with the latest one marked. Several
shipments (the joined tables of ``--each --tables``): their routes faint, and each one's latest
position coloured by its current state. Drawn over the shipped land outline and framed to the
data. Every artist carries a ``gid`` naming what it draws (``stops``, ``segment``,
``breadcrumb``, ``latest``, ``land``), which is how the tests read the picture.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..errors import P44UsageError
from .land import land_rings
from .route_data import (
    MODE_COLOURS,
    OTHER,
    STATE_COLOURS,
    STOP_COLOURS,
    positions_of,
    stops_of,
)


def pyplot() -> Any:
    """matplotlib's pyplot, or one clear line saying how to get it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise P44UsageError(
            "Maps and timelines are drawn with matplotlib, which is not installed.",
            hint="pip install 'p44_magic[plots]'",
        ) from None
    return plt


def route_map(tables: Any, interactive: bool = False, title: str | None = None) -> Any:
    """A matplotlib figure of the tables (see the module); ``interactive``: a folium map."""
    if interactive:
        from .web_map import folium_map

        return folium_map(tables)
    plt = pyplot()
    stops = stops_of(tables.stops)
    positions = positions_of(tables.positions)
    figure = plt.figure(figsize=(10, 6))
    plt.close(figure)  # shown once, as the value of the cell, never again by pyplot
    axes = figure.add_subplot()
    _land(axes)
    several = stops["shipment_id"].nunique() > 1 or positions["shipment_id"].nunique() > 1
    _segments(axes, tables.segments, stops, faint=several)
    _stop_points(axes, stops, labels=not several)
    if several:
        _latest_by_state(axes, positions, tables.states)
    else:
        _breadcrumb(axes, positions)
    _frame(axes, stops, positions)
    axes.set_title(title or _title(stops, several))
    axes.set_xlabel("longitude")
    axes.set_ylabel("latitude")
    axes.legend(loc="lower left", fontsize="small", framealpha=0.8)
    return figure


def _land(axes: Any) -> None:
    from matplotlib.collections import PolyCollection

    land = PolyCollection(
        list(land_rings()), facecolor="#f1f3f5", edgecolor="#adb5bd", linewidth=0.5, zorder=0
    )
    land.set_gid("land")
    axes.add_collection(land)
    axes.set_facecolor("#e7f5ff")


def _segments(axes: Any, segments: pd.DataFrame, stops: pd.DataFrame, faint: bool) -> None:
    """One line per route segment whose two stops have coordinates."""
    if segments.empty or "fromStopId" not in segments:
        return
    place = stops.drop_duplicates(["shipment_id", "id"]).set_index(["shipment_id", "id"])
    ends = segments.join(place[["lat", "lon"]], on=["shipment_id", "fromStopId"])
    ends = ends.join(place[["lat", "lon"]].add_suffix("_to"), on=["shipment_id", "toStopId"])
    ends = ends.dropna(subset=["lat", "lon", "lat_to", "lon_to"])
    shown: set[str] = set()
    for mode, lat, lon, lat_to, lon_to in zip(
        ends["transportationMode"],
        ends["lat"],
        ends["lon"],
        ends["lat_to"],
        ends["lon_to"],
        strict=True,
    ):
        label = None if mode in shown else str(mode)
        shown.add(mode)
        (line,) = axes.plot(
            [lon, lon_to],
            [lat, lat_to],
            color=MODE_COLOURS.get(mode, OTHER),
            linewidth=1.0 if faint else 2.2,
            alpha=0.35 if faint else 0.9,
            label=label,
            zorder=2,
        )
        line.set_gid("segment")


def _stop_points(axes: Any, stops: pd.DataFrame, labels: bool) -> None:
    """The stops, one point each, coloured by type (and named, for one shipment)."""
    if stops.empty:
        return
    colours = [STOP_COLOURS.get(kind, OTHER) for kind in stops["type"]]
    points = axes.scatter(
        stops["lon"], stops["lat"], c=colours, s=40, edgecolors="white", zorder=4, label="stops"
    )
    points.set_gid("stops")
    if labels:
        for name, lon, lat in zip(stops["name"], stops["lon"], stops["lat"], strict=True):
            axes.annotate(
                str(name)[:40],
                (lon, lat),
                xytext=(4, 4),
                textcoords="offset points",
                fontsize="x-small",
                zorder=5,
            )


def _breadcrumb(axes: Any, positions: pd.DataFrame) -> None:
    if positions.empty:
        return
    (trail,) = axes.plot(
        positions["lon"],
        positions["lat"],
        color="#212529",
        linewidth=0.8,
        marker=".",
        markersize=3,
        label=f"positions ({len(positions):,})",
        zorder=3,
    )
    trail.set_gid("breadcrumb")
    last = positions.iloc[-1]
    latest = axes.scatter(
        [last["lon"]],
        [last["lat"]],
        s=120,
        marker="*",
        color="#fa5252",
        zorder=6,
        label="latest position",
    )
    latest.set_gid("latest")


def _latest_by_state(axes: Any, positions: pd.DataFrame, states: pd.DataFrame) -> None:
    """Each shipment's latest position, coloured by its current state."""
    if positions.empty:
        return
    latest = positions.groupby("shipment_id", sort=False).tail(1)
    current = _current_state(states)
    kinds = latest["shipment_id"].map(current).fillna("UNKNOWN")
    for kind, group in latest.groupby(kinds, sort=True):
        points = axes.scatter(
            group["lon"],
            group["lat"],
            s=60,
            marker="o",
            zorder=6,
            edgecolors="white",
            color=STATE_COLOURS.get(kind, OTHER),
            label=f"{kind} ({len(group)})",
        )
        points.set_gid("latest")


def _current_state(states: pd.DataFrame) -> pd.Series:
    if states.empty or "type" not in states:
        return pd.Series(dtype=object)
    start = pd.to_datetime(states.get("startDateTime"), utc=True, errors="coerce")
    ordered = states.assign(_start=start).sort_values("_start", kind="stable")
    return ordered.groupby("shipment_id", sort=False)["type"].last()


def _frame(axes: Any, stops: pd.DataFrame, positions: pd.DataFrame) -> None:
    """Framed to the data, with a margin; the world when there is nothing to frame."""
    lons = pd.concat([stops["lon"], positions["lon"]])
    lats = pd.concat([stops["lat"], positions["lat"]])
    if lons.empty:
        axes.set_xlim(-180, 180)
        axes.set_ylim(-60, 85)
        return
    margin = max(2.0, 0.12 * max(lons.max() - lons.min(), lats.max() - lats.min()))
    axes.set_xlim(max(-180, lons.min() - margin), min(180, lons.max() + margin))
    axes.set_ylim(max(-90, lats.min() - margin), min(90, lats.max() + margin))
    axes.set_aspect("equal", adjustable="box")


def _title(stops: pd.DataFrame, several: bool) -> str:
    if several:
        return f"{stops['shipment_id'].nunique():,} shipments: latest positions by state"
    ids = stops["shipment_id"].dropna()
    return f"Shipment {ids.iloc[0]}" if len(ids) else "Shipment"
