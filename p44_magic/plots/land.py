"""The land outline the maps draw: Natural Earth's 1:110m land (public domain), as world-atlas
2.0.2 ships it (ISC), made compact by :mod:`.make_land` (``land_110m.json`` beside this file)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

LAND_FILE = Path(__file__).with_name("land_110m.json")


@cache
def land_rings() -> tuple[tuple[tuple[float, float], ...], ...]:
    """Every ring of the land outline, as (longitude, latitude) in degrees."""
    made = json.loads(LAND_FILE.read_text(encoding="utf-8"))
    scale = float(made["scale"])
    rings = []
    for flat in made["rings"]:
        x = y = 0
        points = []
        for dx, dy in zip(flat[::2], flat[1::2], strict=True):
            x, y = x + dx, y + dy
            points.append((x / scale, y / scale))
        rings.extend(_across_the_antimeridian(points))
    return tuple(rings)


def _across_the_antimeridian(
    points: list[tuple[float, float]],
) -> list[tuple[tuple[float, float], ...]]:
    """A ring that jumps from +180° to -180° (Chukotka, Fiji) drawn as one continuous ring
    past 180°, and again shifted by 360°, so no line crosses the whole map."""
    lons = [points[0][0]]
    for (previous, _), (lon, _) in zip(points, points[1:], strict=False):
        step = lon - previous
        lons.append(lons[-1] + step - 360 * round(step / 360))
    if all(abs(a - b) < 1e-9 for a, (b, _) in zip(lons, points, strict=True)):
        return [tuple(points)]
    ring = tuple((lon, lat) for lon, (_, lat) in zip(lons, points, strict=True))
    shift = -360 if max(lons) > 180 else 360
    return [ring, tuple((lon + shift, lat) for lon, lat in ring)]
