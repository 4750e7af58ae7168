"""Supply-chain KPIs as plain functions over tracking tables (one shipment's, or the joined
tables of ``--each --tables``), vectorised: no loop over rows.

Definitions (project44's own and the common analyst ones; see ``docs/kpis.md``):

- a stop's **arrival** is its ``ARRIVAL_AT_STOP`` event's actual ``dateTime`` (a ``DELIVERY``
  when the stop has no arrival event), its **departure** the ``DEPARTURE_FROM_STOP`` one's;
  its **plan** the arrival event's ``plannedDateTime`` … ``plannedEndDateTime`` and its
  **estimate** that event's ``estimateDateTime``;
- ``delay_min``: arrival minus the plan's end (a window) or the planned time; negative when
  early; ``on_time``: ``delay_min`` ≤ the tolerance; NA when not arrived yet or never planned;
- ``dwell_min``: the stop's ``AT_STOP`` states, start to end (NA while the shipment is there),
  else arrival to departure.

Missing times give NA, never an error or a wrong number.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .errors import P44UsageError

ARRIVAL, DEPARTURE, DELIVERY = "ARRIVAL_AT_STOP", "DEPARTURE_FROM_STOP", "DELIVERY"
STOP_COLUMNS = (
    "shipment_id",
    "stop_id",
    "stop_type",
    "name",
    "unlocode",
    "city",
    "planned_start",
    "planned_end",
    "estimate",
    "arrival",
    "departure",
    "delay_min",
    "on_time",
    "dwell_min",
)
SHIPMENT_COLUMNS = (
    "shipment_id",
    "carrier",
    "mode",
    "lane",
    "transit_hours",
    "on_time_delivery",
    "delivery_delay_min",
    "dwell_min",
    "positions",
    "max_gap_hours",
    "co2_kg",
)
COMPLIANT_GAP_HOURS = 24.0
_CO2_TO_KG = {"KG": 1.0, "G": 0.001, "T": 1000.0, "TONNE": 1000.0, "TONNES": 1000.0}


def stop_performance(tables: Any, tolerance: str | pd.Timedelta = "30min") -> pd.DataFrame:
    """One row per stop, in route order: plan, estimate, actual arrival and departure, delay,
    on time and dwell (see the module for each definition)."""
    limit = _minutes(tolerance)
    stops = _stops(tables.stops)
    events = _events(tables.events)
    arrivals = _last_of(events[events["type"] == ARRIVAL])
    deliveries = _last_of(events[events["type"] == DELIVERY])
    arrivals = arrivals.combine_first(deliveries)
    departures = _last_of(events[events["type"] == DEPARTURE])
    key = ["shipment_id", "stop_id"]
    out = stops.join(arrivals[["planned_start", "planned_end", "estimate", "actual"]], on=key)
    out = out.rename(columns={"actual": "arrival"})
    out["departure"] = out.join(departures["actual"], on=key)["actual"]
    plan = out["planned_end"].fillna(out["planned_start"])
    out["delay_min"] = (out["arrival"] - plan).dt.total_seconds() / 60
    out["on_time"] = pd.array(out["delay_min"] <= limit, dtype="boolean")
    out.loc[out["delay_min"].isna(), "on_time"] = pd.NA
    out["dwell_min"] = _dwell(tables.states, out, key)
    return out[list(STOP_COLUMNS)].reset_index(drop=True)


def shipment_kpis(tables: Any, tolerance: str | pd.Timedelta = "30min") -> pd.DataFrame:
    """One row per shipment: carrier (SCAC), mode, lane (origin → destination), transit hours
    (origin departure → destination arrival), on-time delivery and its delay, total dwell,
    positions, the largest gap between positions (hours) and CO₂ (kg) of the route."""
    stops = stop_performance(tables, tolerance)
    grouped = stops.groupby("shipment_id", sort=False)
    first, last = grouped.head(1).set_index("shipment_id"), grouped.tail(1).set_index("shipment_id")
    ids = pd.Index(_shipment_ids(tables), name="shipment_id")
    out = pd.DataFrame(index=ids)
    out["carrier"] = _shipment_field(tables.shipment, "identifier.CARRIER_SCAC").reindex(ids)
    out["mode"] = _main_mode(tables.segments).reindex(ids)
    out["lane"] = (_place(first) + " → " + _place(last)).reindex(ids)
    transit = last["arrival"] - first["departure"]
    out["transit_hours"] = (transit.dt.total_seconds() / 3600).reindex(ids)
    out["on_time_delivery"] = last["on_time"].reindex(ids).astype("boolean")
    out["delivery_delay_min"] = last["delay_min"].reindex(ids)
    out["dwell_min"] = grouped["dwell_min"].sum(min_count=1).reindex(ids)
    positions, gaps = _tracking(tables.positions)
    out["positions"] = positions.reindex(ids).fillna(0).astype("int64")
    out["max_gap_hours"] = gaps.reindex(ids)
    out["co2_kg"] = _co2(tables.segments).reindex(ids)
    return out.reset_index()[list(SHIPMENT_COLUMNS)]


def scorecard(kpis: pd.DataFrame, by: Sequence[str] | str = ("carrier",)) -> pd.DataFrame:
    """Per group of ``by`` (any columns of :func:`shipment_kpis`): shipments, on-time %,
    delivery delay and dwell p50/p90 (minutes), and tracking compliance % (shipments whose
    largest gap between positions is under 24 h)."""
    by = [by] if isinstance(by, str) else list(by)
    missing = [name for name in by if name not in kpis.columns]
    if missing:
        raise P44UsageError(f"scorecard: no column {missing[0]!r} in the KPIs to group by.")
    frame = kpis.assign(
        _on_time=kpis["on_time_delivery"].astype("Float64"),
        _compliant=(kpis["max_gap_hours"] < COMPLIANT_GAP_HOURS).astype(float),
    )
    grouped = frame.groupby(by, dropna=False, sort=True)
    out = pd.DataFrame({"shipments": grouped.size()})
    out["on_time_pct"] = grouped["_on_time"].mean() * 100
    for column, name in (("delivery_delay_min", "delay"), ("dwell_min", "dwell")):
        out[f"{name}_p50_min"] = grouped[column].quantile(0.5)
        out[f"{name}_p90_min"] = grouped[column].quantile(0.9)
    out["tracking_compliance_pct"] = grouped["_compliant"].mean() * 100
    return out.reset_index()


def eta_accuracy(
    history: pd.DataFrame, hours_out: Sequence[float] = (72, 48, 24, 12, 4)
) -> pd.DataFrame:
    """How far the estimate seen N hours before each arrival was from the actual arrival, from
    the snapshots of ``p44_magic.history`` (``--snapshot`` of a shipment's events): one row per
    stop and N with ``estimated_at`` (when the estimate used was made: its
    ``estimateLastCalculatedDateTime``, else when the snapshot was fetched; the last one at
    least N hours before the arrival), ``estimate``, ``arrival`` and ``error_min`` (estimate −
    arrival; NA when no estimate was that early)."""
    columns = ["shipment_id", "stop_id", "hours_out", "estimated_at", "estimate", "arrival"]
    needed = {"fetched_at", "type", "stopId", "estimateDateTime", "dateTime"}
    if history.empty or not needed <= set(history.columns):
        return pd.DataFrame(columns=[*columns, "error_min"])
    events = history[history["type"] == ARRIVAL].copy()
    events["shipment_id"] = _first_present(events, ("shipment.id", "shipment_id"))
    events = events.rename(columns={"stopId": "stop_id"})
    key = ["shipment_id", "stop_id"]
    arrived = events.dropna(subset=["dateTime"]).groupby(key)["dateTime"].last()
    wanted = (
        arrived.rename("arrival")
        .reset_index()
        .merge(pd.DataFrame({"hours_out": list(hours_out)}), how="cross")
    )
    wanted["asked_at"] = wanted["arrival"] - pd.to_timedelta(wanted["hours_out"], unit="h")
    made = events["fetched_at"]
    if "estimateLastCalculatedDateTime" in events:  # when the estimate was made, if it says
        calculated = pd.to_datetime(
            events["estimateLastCalculatedDateTime"], utc=True, errors="coerce"
        )
        made = calculated.fillna(pd.to_datetime(made, utc=True))
    seen = events.assign(estimated_at=pd.to_datetime(made, utc=True)).dropna(
        subset=["estimateDateTime"]
    )[[*key, "estimated_at", "estimateDateTime"]]
    seen = seen.rename(columns={"estimateDateTime": "estimate"})
    for frame in (wanted, seen):  # one dtype each side: merge_asof insists
        frame[key] = frame[key].astype(object)
    wanted["asked_at"] = _utc(wanted["asked_at"])  # naive history (timezone=None) is UTC
    seen["estimated_at"] = _utc(seen["estimated_at"])
    merged = pd.merge_asof(
        wanted.sort_values("asked_at"),
        seen.sort_values("estimated_at"),
        left_on="asked_at",
        right_on="estimated_at",
        by=key,
        direction="backward",
    )
    error = _utc(merged["estimate"]) - _utc(merged["arrival"])
    merged["error_min"] = error.dt.total_seconds() / 60
    return merged.sort_values([*key, "hours_out"], ascending=[True, True, False])[
        [*columns, "error_min"]
    ].reset_index(drop=True)


# -- the pieces ----------------------------------------------------------------------------------


def _minutes(tolerance: str | pd.Timedelta) -> float:
    """A tolerance as minutes: ``"30min"``, ``"2h"``, a Timedelta, or a number of minutes."""
    if isinstance(tolerance, int | float) and not isinstance(tolerance, bool):
        return float(tolerance)
    try:
        return pd.Timedelta(tolerance).total_seconds() / 60
    except (ValueError, TypeError):
        raise P44UsageError(
            f"tolerance = {tolerance!r}: not a duration.", hint='Write it as "30min" or "2h".'
        ) from None


def _utc(values: pd.Series) -> pd.Series:
    """Instants as UTC ``datetime64[ns, UTC]``: naive ones are read as UTC."""
    return pd.to_datetime(values, utc=True).astype("datetime64[ns, UTC]")


def _column(frame: pd.DataFrame, name: str, dtype: str = "object") -> pd.Series:
    if name in frame.columns:
        return frame[name]
    return pd.Series(pd.NA if dtype == "object" else None, index=frame.index, dtype=dtype)


def _times(frame: pd.DataFrame, name: str) -> pd.Series:
    return pd.to_datetime(_column(frame, name), utc=True, errors="coerce")


def _stops(stops: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "shipment_id": _column(stops, "shipment_id"),
            "stop_id": _column(stops, "id"),
            "stop_type": _column(stops, "type"),
            "name": _column(stops, "name"),
            "unlocode": _column(stops, "unlocode"),
            "city": _column(stops, "location.address.city"),
        }
    )
    return out.dropna(subset=["stop_id"])


def _events(events: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "shipment_id": _column(events, "shipment_id"),
            "stop_id": _column(events, "stopId"),
            "type": _column(events, "type"),
            "actual": _times(events, "dateTime"),
            "planned_start": _times(events, "plannedDateTime"),
            "planned_end": _times(events, "plannedEndDateTime"),
            "estimate": _times(events, "estimateDateTime"),
        }
    ).dropna(subset=["stop_id"])


def _last_of(events: pd.DataFrame) -> pd.DataFrame:
    """Per stop, the last value of each time seen (an event reported twice keeps its latest)."""
    columns = ["actual", "planned_start", "planned_end", "estimate"]
    return events.groupby(["shipment_id", "stop_id"], sort=False)[columns].last()


def _dwell(states: pd.DataFrame, stops: pd.DataFrame, key: list[str]) -> pd.Series:
    """Minutes at each stop from its AT_STOP states (NA while one is open), else arrival to
    departure."""
    at_stop = pd.DataFrame(
        {
            "shipment_id": _column(states, "shipment_id"),
            "stop_id": _column(states, "stopId"),
            "type": _column(states, "type"),
            "start": _times(states, "startDateTime"),
            "end": _times(states, "endDateTime"),
        }
    )
    at_stop = at_stop[(at_stop["type"] == "AT_STOP") & at_stop["stop_id"].notna()]
    minutes = (at_stop["end"] - at_stop["start"]).dt.total_seconds() / 60
    from_states = minutes.groupby([at_stop["shipment_id"], at_stop["stop_id"]]).sum(min_count=-1)
    open_state = minutes.isna().groupby([at_stop["shipment_id"], at_stop["stop_id"]]).any()
    from_states = from_states.mask(open_state)
    had_states = stops.set_index(key).index.isin(open_state.index)
    fallback = (stops["departure"] - stops["arrival"]).dt.total_seconds() / 60
    joined = stops.join(from_states.rename("_dwell"), on=key)["_dwell"]
    return pd.Series(np.where(had_states, joined, fallback), index=stops.index, dtype=float)


def _shipment_ids(tables: Any) -> list[Any]:
    ids = []
    for part in (tables.shipment, tables.stops, tables.events):
        if "shipment_id" in part.columns:
            ids.extend(part["shipment_id"].dropna().tolist())
    return list(dict.fromkeys(ids))


def _shipment_field(shipment: pd.DataFrame, name: str) -> pd.Series:
    frame = shipment.drop_duplicates("shipment_id") if "shipment_id" in shipment else shipment
    values = _column(frame, name).astype(object)
    values = values.map(lambda v: str(v).split(", ")[0] if isinstance(v, str) else v)
    return pd.Series(values.to_numpy(), index=_column(frame, "shipment_id").to_numpy())


def _main_mode(segments: pd.DataFrame) -> pd.Series:
    """The mode of each shipment's longest segment (the first one when no distances)."""
    if segments.empty or "transportationMode" not in segments:
        return pd.Series(dtype=object)
    distance = pd.to_numeric(_column(segments, "emissions.distance.value"), errors="coerce")
    ranked = segments.assign(_d=distance.fillna(-1))
    ranked = ranked.sort_values("_d", ascending=False, kind="stable")
    return ranked.groupby("shipment_id", sort=False)["transportationMode"].first()


def _place(stops: pd.DataFrame) -> pd.Series:
    return stops["unlocode"].fillna(stops["city"]).fillna(stops["name"]).fillna("?").astype(str)


def _tracking(positions: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """Positions per shipment, and the largest gap between two (hours; NA below two)."""
    if "shipment_id" not in positions or positions.empty:
        return pd.Series(dtype="int64"), pd.Series(dtype=float)
    when = _times(positions, "dateTime")
    frame = pd.DataFrame({"shipment_id": positions["shipment_id"], "when": when}).dropna()
    frame = frame.sort_values(["shipment_id", "when"])
    gaps = frame.groupby("shipment_id", sort=False)["when"].diff().dt.total_seconds() / 3600
    counts = frame.groupby("shipment_id", sort=False).size()
    return counts, gaps.groupby(frame["shipment_id"], sort=False).max()


def _co2(segments: pd.DataFrame) -> pd.Series:
    if segments.empty or "shipment_id" not in segments:
        return pd.Series(dtype=float)
    value = pd.to_numeric(_column(segments, "emissions.totalCO2Emissions.value"), errors="coerce")
    unit = _column(segments, "emissions.totalCO2Emissions.unit").astype(str).str.upper()
    kg = value * unit.map(_CO2_TO_KG).astype(float)
    known = kg.notna() | value.isna()  # a value in a unit we cannot convert: the sum is unknown
    total = kg.groupby(segments["shipment_id"], sort=False).sum(min_count=1)
    return total.mask(~known.groupby(segments["shipment_id"], sort=False).all())


def _first_present(frame: pd.DataFrame, names: Sequence[str]) -> pd.Series:
    for name in names:
        if name in frame.columns:
            return frame[name]
    return pd.Series(pd.NA, index=frame.index, dtype=object)
