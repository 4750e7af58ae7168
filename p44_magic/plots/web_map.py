"""``TrackingTables.map(interactive=True)``: the same route on a folium (Leaflet) map, when the
optional extra ``p44_magic[maps]`` is installed. Its tiles (and Leaflet itself) load from the
internet, so it is said once, when the map is made; the static map works offline."""

from __future__ import annotations

import sys
from typing import Any

from ..errors import P44UsageError
from .route_data import MODE_COLOURS, OTHER, STOP_COLOURS, positions_of, stops_of

TILES_NOTE = (
    "The interactive map's tiles and Leaflet load from the internet (OpenStreetMap); "
    "map() without interactive=True draws offline."
)


def folium_map(tables: Any) -> Any:
    """A folium map of the stops, segments and positions."""
    try:
        import folium
    except ImportError:
        raise P44UsageError(
            "map(interactive=True) needs folium, which is not installed.",
            hint="pip install 'p44_magic[maps]' (or use map() for the offline picture).",
        ) from None
    print(TILES_NOTE, file=sys.stderr)
    stops, positions = stops_of(tables.stops), positions_of(tables.positions)
    points = list(zip(stops["lat"], stops["lon"], strict=True))
    points += list(zip(positions["lat"], positions["lon"], strict=True))
    world = folium.Map(tiles="OpenStreetMap", location=[20, 0], zoom_start=2)
    for kind, name, lat, lon in zip(
        stops["type"], stops["name"], stops["lat"], stops["lon"], strict=True
    ):
        folium.CircleMarker(
            [lat, lon],
            radius=6,
            color=STOP_COLOURS.get(kind, OTHER),
            fill=True,
            tooltip=f"{name} ({kind})",
        ).add_to(world)
    place = stops.drop_duplicates(["shipment_id", "id"]).set_index(["shipment_id", "id"])
    segments = tables.segments
    if not segments.empty and "fromStopId" in segments:
        for _, segment in segments.iterrows():
            ends = [
                place.loc[(segment["shipment_id"], segment[key])]
                for key in ("fromStopId", "toStopId")
                if (segment["shipment_id"], segment[key]) in place.index
            ]
            if len(ends) == 2:
                folium.PolyLine(
                    [[end["lat"], end["lon"]] for end in ends],
                    color=MODE_COLOURS.get(segment.get("transportationMode"), OTHER),
                ).add_to(world)
    for _, group in positions.groupby("shipment_id", sort=False):
        folium.PolyLine(
            list(zip(group["lat"], group["lon"], strict=True)), weight=2, color="#212529"
        ).add_to(world)
    if points:
        world.fit_bounds(
            [
                [min(p[0] for p in points), min(p[1] for p in points)],
                [max(p[0] for p in points), max(p[1] for p in points)],
            ]
        )
    return world
