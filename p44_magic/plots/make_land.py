"""Make ``land_110m.json`` (the land outline the maps draw) from world-atlas's ``land-110m.json``.

Source: Natural Earth's 1:110m land polygons (public domain, naturalearthdata.com), as the npm
package ``world-atlas`` 2.0.2 ships them in TopoJSON (package licence ISC, Copyright 2013-2019
Michael Bostock). Made compact: each ring as whole numbers of hundredths of a degree, delta
encoded. Run once, by hand: ``npm pack world-atlas@2.0.2``, unpack, then
``python -m p44_magic.plots.make_land package/land-110m.json p44_magic/plots/land_110m.json``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

SCALE = 100  # hundredths of a degree: finer than 1:110m's detail


def rings(topology: dict[str, Any]) -> list[list[tuple[float, float]]]:
    """Every ring of the ``land`` object, in degrees."""
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)

    def ring(indexes: list[int]) -> list[tuple[float, float]]:
        points: list[tuple[float, float]] = []
        for index in indexes:
            arc = arcs[index] if index >= 0 else arcs[~index][::-1]
            points.extend(arc[1:] if points else arc)
        return points

    out = []
    for geometry in topology["objects"]["land"]["geometries"]:
        polygons = geometry["arcs"] if geometry["type"] == "MultiPolygon" else [geometry["arcs"]]
        for polygon in polygons:
            out.extend(ring(indexes) for indexes in polygon)
    return out


def compact(all_rings: list[list[tuple[float, float]]]) -> dict[str, Any]:
    encoded = []
    for points in all_rings:
        flat, last = [], (0, 0)
        for lon, lat in points:
            now = (round(lon * SCALE), round(lat * SCALE))
            flat += [now[0] - last[0], now[1] - last[1]]
            last = now
        encoded.append(flat)
    return {
        "source": "Natural Earth 1:110m land (public domain), via world-atlas 2.0.2 (ISC)",
        "scale": SCALE,
        "rings": encoded,
    }


def main() -> None:
    source, target = Path(sys.argv[1]), Path(sys.argv[2])
    made = compact(rings(json.loads(source.read_text())))
    target.write_text(json.dumps(made, separators=(",", ":")))


if __name__ == "__main__":
    main()
