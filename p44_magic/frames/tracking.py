"""A tracking answer as linked tables: shipment, stops, segments, events, states, positions,
related.

Every table carries ``shipment_id``; events and states are joined to their stop (type, name,
city, country, UN/LOCODE) by ``stopId``, events and positions to their route segment's
``transportationMode`` by ``routeSegmentId``. Rows without a stop or segment keep their place
with those columns missing; parts an answer lacks give empty tables. Repeated identifier types
keep every value, joined with ", ". Pure: usable on any parsed answer without IPython.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields, replace
from html import escape
from typing import Any

import pandas as pd

from ..words import counted
from .columns import DEFAULT_TIMEZONE, in_timezone
from .normalize import to_frame
from .rows import name_taken

_STOP_COLUMNS = {
    "id": "stopId",
    "type": "stop.type",
    "name": "stop.name",
    "location.address.city": "stop.city",
    "location.address.country": "stop.country",
    "unlocode": "stop.unlocode",
}
UNLOCODE = "PORT_UN_LOCODE"


@dataclass
class TrackingTables:
    """One DataFrame per part of a tracking answer."""

    shipment: pd.DataFrame
    stops: pd.DataFrame
    segments: pd.DataFrame
    events: pd.DataFrame
    states: pd.DataFrame
    positions: pd.DataFrame
    related: pd.DataFrame

    def __iter__(self) -> Iterator[tuple[str, pd.DataFrame]]:
        return ((f.name, getattr(self, f.name)) for f in fields(self))

    def map(self, interactive: bool = False, title: str | None = None) -> Any:
        """The route as a matplotlib figure: stops, segments by mode, the positions'
        breadcrumb (several shipments: latest positions by state), over the shipped land
        outline; ``interactive=True``: a folium map (``p44_magic[maps]``, tiles online)."""
        from ..plots import route_map

        return route_map(self._in_pandas(), interactive=interactive, title=title)

    def timeline(self, shipment: str | None = None, tolerance: str = "30min") -> Any:
        """One shipment's stops as a matplotlib figure: plan, latest estimate, actual arrival
        and departure, the delay in hours, the current stop highlighted."""
        from ..plots import stop_timeline

        return stop_timeline(self._in_pandas(), shipment, tolerance)

    def __getitem__(self, name: str) -> pd.DataFrame:
        return getattr(self, name)

    def polars_tables(self, convert: Any) -> TrackingTables:
        """The same tables as polars DataFrames (``convert``: one pandas frame to polars);
        map() and timeline() draw from pandas, so they take the tables back through Arrow."""
        return replace(self, **{name: convert(frame) for name, frame in self})

    def _in_pandas(self) -> TrackingTables:
        if isinstance(self.shipment, pd.DataFrame):
            return self
        return replace(self, **{name: frame.to_pandas() for name, frame in self})

    def _shipment_id(self) -> str:
        if "shipment_id" not in self.shipment.columns or not len(self.shipment):
            return "?"
        ids = self.shipment["shipment_id"]
        more = f" and {len(ids) - 1:,} more" if len(ids) > 1 else ""
        return f"{next(iter(ids))}{more}"

    def __repr__(self) -> str:
        lines = [f"TrackingTables for shipment {self._shipment_id()}:"]
        lines += [
            f"  {name:<10} {counted(len(frame), 'row'):>11} × {counted(frame.shape[1], 'column')}"
            for name, frame in self
        ]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        items = "".join(
            f"<li><code>{escape(name)}</code>: {counted(len(frame), 'row')} × "
            f"{counted(frame.shape[1], 'column')}</li>"
            for name, frame in self
        )
        return f"<b>TrackingTables</b> for shipment {escape(self._shipment_id())}<ul>{items}</ul>"


def tracking_tables(
    answer: dict[str, Any], parse_dates: bool = True, timezone: str | None = DEFAULT_TIMEZONE
) -> TrackingTables:
    """Split a tracking answer (history, eventhistory, positionhistory or tracking);
    timestamps in ``timezone`` (see :func:`p44_magic.to_frame`)."""
    tables = _tracking_tables(answer, parse_dates)
    for _, frame in tables:
        in_timezone(frame, timezone)
    return tables


def _tracking_tables(answer: dict[str, Any], parse_dates: bool) -> TrackingTables:
    shipment = answer.get("shipment") if isinstance(answer, dict) else None
    if not isinstance(shipment, dict):
        from ..errors import P44UsageError

        raise P44UsageError(
            "--tables needs a tracking answer with a 'shipment' object.",
            hint="Use it on /shipments/{id}/tracking/history, eventhistory, positionhistory "
            "or tracking.",
        )
    shipment_id = shipment.get("id")
    route = shipment.get("routeInfo") if isinstance(shipment.get("routeInfo"), dict) else {}
    stops = _stops(_records(route.get("stops")), shipment_id, parse_dates)
    segments = _segments(_records(route.get("routeSegments")), stops, shipment_id, parse_dates)
    stop_lookup = _stop_lookup(stops)
    modes = _mode_lookup(segments)
    events = _joined(_table(answer, "events", shipment_id, parse_dates), stop_lookup, "stopId")
    events = _joined(events, modes, "routeSegmentId")
    states = _joined(_table(answer, "states", shipment_id, parse_dates), stop_lookup, "stopId")
    positions = _joined(
        _table(answer, "positions", shipment_id, parse_dates), modes, "routeSegmentId"
    )
    return TrackingTables(
        shipment=_shipment_row(shipment, parse_dates),
        stops=stops,
        segments=segments,
        events=events,
        states=states,
        positions=positions,
        related=_related(_records(shipment.get("relatedShipments")), shipment_id, parse_dates),
    )


def _records(value: Any) -> list[dict[str, Any]]:
    """The objects of a list an answer may leave out, set to null or fill with odd items."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _identifier_columns(items: Any) -> dict[str, str]:
    """``[{type, value}, …]`` → ``{"identifier.TYPE": "v1, v2"}``: a repeated type keeps every
    value, in the answer's order."""
    columns: dict[str, str] = {}
    for item in _records(items):
        column = f"identifier.{item.get('type')}"
        value = str(item.get("value"))
        columns[column] = f"{columns[column]}, {value}" if column in columns else value
    return columns


def _stops(records: list[dict[str, Any]], shipment_id: Any, parse_dates: bool) -> pd.DataFrame:
    """One row per stop, with name, UN/LOCODE and coordinates read from the location whether
    or not it has an address (ocean ports often have none)."""
    stops = _with_id(to_frame(records, parse_dates=parse_dates), shipment_id)
    if not records:
        return stops
    locations = [r.get("location") if isinstance(r.get("location"), dict) else {} for r in records]
    coordinates = [
        loc.get("coordinates") if isinstance(loc.get("coordinates"), dict) else {}
        for loc in locations
    ]
    stops["name"] = [loc.get("name") for loc in locations]
    stops["unlocode"] = [
        _identifier_columns(loc.get("identifiers")).get(f"identifier.{UNLOCODE}")
        for loc in locations
    ]
    stops["latitude"] = pd.to_numeric([c.get("latitude") for c in coordinates], errors="coerce")
    stops["longitude"] = pd.to_numeric([c.get("longitude") for c in coordinates], errors="coerce")
    return stops


def _segments(
    records: list[dict[str, Any]], stops: pd.DataFrame, shipment_id: Any, parse_dates: bool
) -> pd.DataFrame:
    """One row per route segment: from/to stop, mode, identifiers pivoted as the shipment's,
    emissions flattened with their units (``emissions.distance.value``, ``….unit``)."""
    rows = []
    for record in records:
        row = {key: value for key, value in record.items() if key != "identifiers"}
        rows.append({**row, **_identifier_columns(record.get("identifiers"))})
    segments = _with_id(to_frame(rows, parse_dates=parse_dates), shipment_id)
    if len(segments) and "id" in stops.columns:
        names = dict(zip(stops["id"], stops["name"], strict=False))
        for end in ("from", "to"):
            column = f"{end}StopId"
            if column in segments.columns:
                at = segments.columns.get_loc(column) + 1
                segments.insert(at, f"{end}.name", segments[column].map(names))
    return segments


def _related(records: list[dict[str, Any]], shipment_id: Any, parse_dates: bool) -> pd.DataFrame:
    """One row per related shipment (found by project44 after creation: container ↔ booking)."""
    rows = []
    for record in records:
        row = {key: value for key, value in record.items() if key not in ("id", "identifiers")}
        pivoted = _identifier_columns(record.get("identifiers"))
        rows.append({"relatedShipmentId": record.get("id"), **pivoted, **row})
    return _with_id(to_frame(rows, parse_dates=parse_dates), shipment_id)


def _shipment_row(shipment: dict[str, Any], parse_dates: bool) -> pd.DataFrame:
    plain = {
        key: value
        for key, value in shipment.items()
        if key not in ("identifiers", "attributes", "routeInfo", "relatedShipments")
    }
    row = to_frame([plain], parse_dates=parse_dates)
    row.insert(0, "shipment_id", shipment.get("id"))
    for column, value in _identifier_columns(shipment.get("identifiers")).items():
        row[column] = value
    for item in _records(shipment.get("attributes")):
        values = item.get("values")
        text = ", ".join(map(str, values)) if isinstance(values, list) else values
        row[f"attribute.{item.get('name')}"] = text
    row["relatedShipments"] = [shipment.get("relatedShipments") or []]
    return row


def _table(answer: dict[str, Any], key: str, shipment_id: Any, parse_dates: bool) -> pd.DataFrame:
    return _with_id(to_frame(answer.get(key) or [], parse_dates=parse_dates), shipment_id)


def _with_id(frame: pd.DataFrame, shipment_id: Any) -> pd.DataFrame:
    frame.insert(0, "shipment_id", pd.Series([shipment_id] * len(frame), dtype=object))
    return frame


def _stop_lookup(stops: pd.DataFrame) -> pd.DataFrame:
    present = [column for column in _STOP_COLUMNS if column in stops.columns]
    if "id" not in present:
        return pd.DataFrame(columns=["stopId"])
    return stops[present].rename(columns=_STOP_COLUMNS).drop_duplicates("stopId")


def _mode_lookup(segments: pd.DataFrame) -> pd.DataFrame:
    if not {"id", "transportationMode"} <= set(segments.columns):
        return pd.DataFrame(columns=["routeSegmentId"])
    modes = segments[["id", "transportationMode"]].rename(columns={"id": "routeSegmentId"})
    return modes.drop_duplicates("routeSegmentId")


def _joined(frame: pd.DataFrame, lookup: pd.DataFrame, key: str) -> pd.DataFrame:
    """``frame`` with ``lookup``'s columns by ``key``; rows without a key keep their place."""
    if frame.empty or key not in frame.columns or len(lookup.columns) < 2:
        return frame
    taken = [column for column in lookup.columns if column != key and column in frame.columns]
    lookup = lookup.drop(columns=taken)  # the row's own field wins
    if len(lookup.columns) < 2:
        return frame
    lookup = lookup[lookup[key].notna()]  # a missing key must match nothing, not NaN to NaN
    return frame.merge(lookup, on=key, how="left", validate="many_to_one")


def joined_tables(name: str, parts: list[tuple[Any, TrackingTables]]) -> TrackingTables:
    """``--tables --each``: every value's tables concatenated, table by table, with the value
    first under ``name`` (the ``shipment`` table gets one row per shipment)."""
    joined = {}
    for table in (f.name for f in fields(TrackingTables)):
        frames = []
        for value, tables in parts:
            frame = tables[table]
            if name in frame.columns:
                raise name_taken(name, name)
            if len(frame):
                frame = frame.copy(deep=False)
                frame.insert(0, name, [value] * len(frame))
                frames.append(frame)
        joined[table] = (
            pd.concat(frames, ignore_index=True, sort=False)
            if frames
            else pd.DataFrame(columns=[name])
        )
    return TrackingTables(**joined)
