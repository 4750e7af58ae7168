"""Small geometry for the demo: great-circle distances and points along a route."""

from __future__ import annotations

import math

Point = tuple[float, float]  # (latitude, longitude) in degrees

#: Sea lanes from East Asia to Northern Europe: Malacca, Indian Ocean, Red Sea, Suez,
#: Mediterranean, Gibraltar, Bay of Biscay, English Channel. Keeps ocean tracks off the land.
ASIA_TO_EUROPE_LANE: tuple[Point, ...] = (
    (1.20, 104.00),
    (5.90, 80.50),
    (12.60, 43.40),
    (27.50, 34.00),
    (31.40, 32.35),
    (36.00, -5.60),
    (43.50, -10.00),
    (48.50, -5.50),
    (50.20, -0.50),
)


def distance_km(a: Point, b: Point) -> float:
    """Great-circle distance in kilometres."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))


def _unwrap(points: list[Point]) -> list[Point]:
    """Shift longitudes so consecutive points never jump by more than 180 degrees.

    Interpolating on the unwrapped track crosses the Pacific instead of circling the globe.
    """
    out = [points[0]]
    for lat, lon in points[1:]:
        prev = out[-1][1]
        while lon - prev > 180:
            lon -= 360
        while lon - prev < -180:
            lon += 360
        out.append((lat, lon))
    return out


class Track:
    """A polyline to interpolate along; longitudes unwrapped once, lengths measured once."""

    def __init__(self, points: list[Point]) -> None:
        self.points = _unwrap(points)
        self.lengths = [math.dist(a, b) for a, b in zip(self.points, self.points[1:], strict=False)]
        self.total = sum(self.lengths)

    def at(self, fraction: float) -> Point:
        """The point at ``fraction`` (0..1) of the length, with longitude in [-180, 180)."""
        remaining = min(max(fraction, 0.0), 1.0) * self.total
        lat, lon = self.points[-1]
        for i, length in enumerate(self.lengths):
            if remaining <= length and length > 0:
                (lat_a, lon_a), (lat_b, lon_b) = self.points[i], self.points[i + 1]
                f = remaining / length
                lat, lon = lat_a + (lat_b - lat_a) * f, lon_a + (lon_b - lon_a) * f
                break
            remaining -= length
        return lat, (lon + 180.0) % 360.0 - 180.0
