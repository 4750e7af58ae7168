"""The stop timeline of one shipment (``TrackingTables.timeline()``): one row per stop in route
order; the planned window as a hollow bar, the latest estimate as a tick, the actual arrival and
departure as filled marks joined by the time at the stop, the delay written in hours, and the
stop the shipment is at (or heading to) highlighted. Artists carry a ``gid`` (``plan``,
``estimate``, ``arrival``, ``departure``, ``delay``, ``current``) for the tests."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..errors import P44UsageError
from ..kpis import stop_performance
from .maps import pyplot

POINT_PLAN = pd.Timedelta(minutes=30)  # a plan without a window is drawn this wide


def stop_timeline(tables: Any, shipment: str | None = None, tolerance: str = "30min") -> Any:
    """A matplotlib figure of one shipment's stops (``shipment``: which one, when the tables
    hold several)."""
    plt = pyplot()
    stops = _one_shipment(stop_performance(tables, tolerance), shipment)
    figure = plt.figure(figsize=(10, 1.2 + 0.6 * max(len(stops), 1)))
    plt.close(figure)  # shown once, as the value of the cell
    axes = figure.add_subplot()
    rows = range(len(stops))
    labels = [
        f"{kind} · {str(name)[:30]}"
        for kind, name in zip(stops["stop_type"], stops["name"], strict=True)
    ]
    current = _current_row(stops, tables.states)
    if current is not None:
        band = axes.axhspan(current - 0.45, current + 0.45, color="#fff3bf", zorder=0)
        band.set_gid("current")
    for row, stop in zip(rows, stops.itertuples(index=False), strict=True):
        _stop_row(axes, row, stop)
    axes.set_yticks(list(rows), labels, fontsize="small")
    axes.set_ylim(len(stops) - 0.5, -0.5)  # route order, top to bottom
    axes.xaxis_date()
    figure.autofmt_xdate()
    axes.grid(axis="x", color="#e9ecef")
    axes.set_title(f"Stops of shipment {stops['shipment_id'].iloc[0] if len(stops) else ''}")
    _legend(axes)
    figure.tight_layout()
    return figure


def _one_shipment(stops: pd.DataFrame, shipment: str | None) -> pd.DataFrame:
    ids = list(dict.fromkeys(stops["shipment_id"].dropna()))
    if shipment is None:
        if len(ids) > 1:
            raise P44UsageError(
                f"The tables hold {len(ids):,} shipments: timeline() draws one.",
                hint=f"Name it: tables.timeline(shipment={ids[0]!r}).",
            )
        return stops
    if shipment not in ids:
        raise P44UsageError(f"No shipment {shipment!r} in the tables.")
    return stops[stops["shipment_id"] == shipment].reset_index(drop=True)


def _stop_row(axes: Any, row: int, stop: Any) -> None:
    """One stop: the plan (hollow), the estimate (tick), arrival and departure (filled), delay."""
    if pd.notna(stop.planned_start):
        end = stop.planned_end if pd.notna(stop.planned_end) else stop.planned_start + POINT_PLAN
        bars = axes.barh(
            row,
            end - stop.planned_start,
            left=stop.planned_start,
            height=0.5,
            fill=False,
            edgecolor="#1971c2",
            linewidth=1.5,
            zorder=2,
        )
        for bar in bars:
            bar.set_gid("plan")
    if pd.notna(stop.estimate):
        (tick,) = axes.plot(
            [stop.estimate],
            [row],
            marker="|",
            markersize=18,
            color="#7048e8",
            zorder=3,
            linestyle="",
        )
        tick.set_gid("estimate")
    if pd.notna(stop.arrival) and pd.notna(stop.departure):
        axes.plot(
            [stop.arrival, stop.departure], [row, row], color="#2b8a3e", linewidth=3, zorder=3
        )
    for when, gid, marker in ((stop.arrival, "arrival", "o"), (stop.departure, "departure", "s")):
        if pd.notna(when):
            (mark,) = axes.plot(
                [when], [row], marker=marker, color="#2b8a3e", markersize=8, zorder=4, linestyle=""
            )
            mark.set_gid(gid)
    if pd.notna(stop.delay_min):
        late = stop.delay_min > 0
        text = axes.annotate(
            f"{stop.delay_min / 60:+.1f} h",
            (stop.arrival, row),
            xytext=(8, -12),
            textcoords="offset points",
            fontsize="small",
            color="#c92a2a" if late and not stop.on_time else "#2b8a3e",
        )
        text.set_gid("delay")


def _current_row(stops: pd.DataFrame, states: pd.DataFrame) -> int | None:
    """The stop the shipment is at (an open AT_STOP state), else the first not yet reached
    (neither arrived at nor left); None once every stop is reached."""
    if "endDateTime" in states and "stopId" in states and "type" in states:
        mine = states["shipment_id"].isin(stops["shipment_id"]) if "shipment_id" in states else True
        open_states = states[mine & (states["type"] == "AT_STOP") & states["endDateTime"].isna()]
        at = stops.index[stops["stop_id"].isin(open_states["stopId"])]
        if len(at):
            return int(at[-1])
    ahead = stops.index[stops["arrival"].isna() & stops["departure"].isna()]
    return int(ahead[0]) if len(ahead) else None


def _legend(axes: Any) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = [
        Patch(fill=False, edgecolor="#1971c2", label="planned"),
        Line2D(
            [],
            [],
            marker="|",
            color="#7048e8",
            linestyle="",
            markersize=12,
            label="latest estimate",
        ),
        Line2D([], [], marker="o", color="#2b8a3e", linestyle="", label="arrived"),
        Line2D([], [], marker="s", color="#2b8a3e", linestyle="", label="departed"),
        Patch(color="#fff3bf", label="current"),
    ]
    axes.legend(handles=handles, loc="upper right", fontsize="x-small", ncols=5)
