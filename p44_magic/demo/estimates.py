"""Estimates that move between fetches, as real ones do: each fetch of a shipment's events after
the first moves every estimate not yet reached by the shipment's own step (−30 to +30 minutes,
fixed per shipment), so ``--snapshot`` and ``history()`` can be tried offline and a test can
tell one fetch from the next. The first fetch gives the data as generated."""

from __future__ import annotations

import hashlib
import threading
from datetime import datetime, timedelta
from typing import Any

from .shipments import ShipmentRecord, iso

MAX_TRACKED = 100_000  # shipments whose fetches are counted (the demo has a few hundred)


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
        moved = timedelta(minutes=fetched * step_minutes(record.id))
        return [_moved(event, moved) for event in record.events]


def step_minutes(shipment_id: str) -> int:
    """The shipment's own step, −30 to +30 minutes and never 0."""
    step = int(hashlib.sha256(shipment_id.encode()).hexdigest()[:6], 16) % 61 - 30
    return step or 20


def _moved(event: dict[str, Any], by: timedelta) -> dict[str, Any]:
    estimate = event.get("estimateDateTime")
    if event.get("dateTime") or not isinstance(estimate, str):
        return event
    when = datetime.fromisoformat(estimate.replace("Z", "+00:00")) + by
    return {**event, "estimateDateTime": iso(when)}
