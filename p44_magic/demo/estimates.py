"""Estimates that move between fetches, as real ones do, so ``--snapshot``, ``history()`` and
ETA accuracy can be tried offline. The first fetch of a shipment gives the data as generated;
each later one

- moves every estimate not yet reached by the shipment's own step (−30 to +30 minutes, fixed
  per shipment), and
- replays, for milestones already reached, the estimate as it stood further back: the n-th
  later fetch shows it as calculated ``HOURS_OUT[n]`` hours before the milestone
  (``estimateLastCalculatedDateTime``), off by an error that shrinks as the milestone nears.
"""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from .shipments import ShipmentRecord, iso

MAX_TRACKED = 100_000  # shipments whose fetches are counted (the demo has a few hundred)
HOURS_OUT = (72, 24, 4)  # the 2nd, 3rd, 4th… fetch: how far back the reached estimates stood


class EstimateDrift:
    """Fetch counts per shipment, and its events as the n-th fetch sees them."""

    def __init__(self) -> None:
        self._fetches: dict[str, int] = {}
        self._lock = threading.Lock()

    def events(self, record: ShipmentRecord) -> list[dict[str, Any]]:
        """``record``'s events with estimates moved for this fetch (the first: unmoved)."""
        with self._lock:
            fetched = self._fetches.get(record.id, 0)
            if fetched or len(self._fetches) < MAX_TRACKED:
                self._fetches[record.id] = fetched + 1
        if not fetched:
            return record.events
        step = step_minutes(record.id)
        hours = HOURS_OUT[min(fetched, len(HOURS_OUT)) - 1]
        moved = timedelta(minutes=fetched * step)
        return [_moved(event, moved) or _earlier(event, hours, step) for event in record.events]


def step_minutes(shipment_id: str) -> int:
    """The shipment's own step, −30 to +30 minutes and never 0."""
    step = int(hashlib.sha256(shipment_id.encode()).hexdigest()[:6], 16) % 61 - 30
    return step or 20


def _moved(event: dict[str, Any], by: timedelta) -> dict[str, Any] | None:
    """A milestone not reached yet, its estimate moved; None for a reached one."""
    if event.get("dateTime"):
        return None
    estimate = event.get("estimateDateTime")
    if not isinstance(estimate, str):
        return event
    return {**event, "estimateDateTime": iso(_time(estimate) + by)}


def _earlier(event: dict[str, Any], hours: int, step: int) -> dict[str, Any]:
    """A reached milestone with its estimate as calculated ``hours`` before it: off by four
    steps at 72 hours out, less the nearer it was made."""
    happened = _time(event["dateTime"])
    error = timedelta(minutes=4 * step * hours / 72)
    return {
        **event,
        "estimateDateTime": iso(happened + error),
        "estimateLastCalculatedDateTime": iso(happened - timedelta(hours=hours)),
    }


def _time(text: str) -> datetime:
    """An ISO 8601 instant in any of the answer's spellings, in UTC (iso() writes UTC)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
