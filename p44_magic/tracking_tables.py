"""A tracking answer as linked tables: shipment, stops, events, states, positions.

Every table carries ``shipment_id``; events and states are joined to their stop (type, city,
country) by ``stopId``. Pure: usable on any parsed tracking answer without IPython.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, fields
from html import escape
from typing import Any

import pandas as pd

from .frame_columns import DEFAULT_TIMEZONE, in_timezone
from .frames import to_frame

_STOP_COLUMNS = {
    "id": "stopId",
    "type": "stop.type",
    "location.address.city": "stop.city",
    "location.address.country": "stop.country",
}


@dataclass
class TrackingTables:
    """One DataFrame per part of a tracking answer."""

    shipment: pd.DataFrame
    stops: pd.DataFrame
    events: pd.DataFrame
    states: pd.DataFrame
    positions: pd.DataFrame

    def __iter__(self) -> Iterator[tuple[str, pd.DataFrame]]:
        return ((f.name, getattr(self, f.name)) for f in fields(self))

    def __getitem__(self, name: str) -> pd.DataFrame:
        return getattr(self, name)

    def _shipment_id(self) -> str:
        ids = self.shipment.get("shipment_id")
        if ids is None or not len(ids):
            return "?"
        more = f" and {len(ids) - 1:,} more" if len(ids) > 1 else ""
        return f"{ids.iloc[0]}{more}"

    def __repr__(self) -> str:
        lines = [f"TrackingTables for shipment {self._shipment_id()}:"]
        lines += [
            f"  {name:<10} {len(frame):>6} rows × {frame.shape[1]} columns" for name, frame in self
        ]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        items = "".join(
            f"<li><code>{escape(name)}</code>: {len(frame)} rows × {frame.shape[1]} columns</li>"
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
        from .errors import P44UsageError

        raise P44UsageError(
            "--tables needs a tracking answer with a 'shipment' object.",
            hint="Use it on /shipments/{id}/tracking/history, eventhistory, positionhistory "
            "or tracking.",
        )
    shipment_id = shipment.get("id")
    stops = _with_id(
        to_frame(((shipment.get("routeInfo") or {}).get("stops")) or [], parse_dates=parse_dates),
        shipment_id,
    )
    stop_lookup = _stop_lookup(stops)
    events = _joined(_table(answer, "events", shipment_id, parse_dates), stop_lookup)
    states = _joined(_table(answer, "states", shipment_id, parse_dates), stop_lookup)
    return TrackingTables(
        shipment=_shipment_row(shipment, parse_dates),
        stops=stops,
        events=events,
        states=states,
        positions=_table(answer, "positions", shipment_id, parse_dates),
    )


def _shipment_row(shipment: dict[str, Any], parse_dates: bool) -> pd.DataFrame:
    plain = {
        key: value
        for key, value in shipment.items()
        if key not in ("identifiers", "attributes", "routeInfo", "relatedShipments")
    }
    row = to_frame([plain], parse_dates=parse_dates)
    row.insert(0, "shipment_id", shipment.get("id"))
    for item in shipment.get("identifiers") or []:
        column = f"identifier.{item.get('type')}"
        previous = row[column].iloc[0] if column in row else None
        value = str(item.get("value"))
        row[column] = f"{previous}, {value}" if previous else value
    for item in shipment.get("attributes") or []:
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


def _joined(frame: pd.DataFrame, stop_lookup: pd.DataFrame) -> pd.DataFrame:
    if frame.empty or "stopId" not in frame.columns or len(stop_lookup.columns) < 2:
        return frame
    return frame.merge(stop_lookup, on="stopId", how="left", validate="many_to_one")


def joined_tables(name: str, parts: list[tuple[Any, TrackingTables]]) -> TrackingTables:
    """``--tables --each``: every value's tables concatenated, table by table, with the value
    first under ``name`` (the ``shipment`` table gets one row per shipment)."""
    joined = {}
    for table in (f.name for f in fields(TrackingTables)):
        frames = []
        for value, tables in parts:
            frame = tables[table]
            if name in frame.columns:
                from .bulk import name_taken

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
