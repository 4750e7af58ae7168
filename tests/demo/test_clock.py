"""The demo's clock (issue 21, item 7): its data are placed around "today", the same data for
the same day, so in-transit shipments have estimates in the future on any day."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from p44_magic.demo.data import ANCHOR_DAY, demo_today, generate


def parsed(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def test_the_same_day_gives_the_same_data_and_another_day_moves_every_timestamp():
    later = ANCHOR_DAY + timedelta(days=137)
    first, again, anchor = generate(today=later), generate(today=later), generate(today=ANCHOR_DAY)
    assert repr(first) == repr(again)
    moved, kept = first.shipments[5].events[0], anchor.shipments[5].events[0]
    assert parsed(moved["plannedDateTime"]) - parsed(kept["plannedDateTime"]) == timedelta(days=137)
    assert moved["receivedDateTime"][10:] == kept["receivedDateTime"][10:]  # spelling kept
    assert (
        len(first.orders) == len(anchor.orders) and first.orders[0]["id"] == anchor.orders[0]["id"]
    )


def test_in_transit_shipments_have_estimates_after_today_on_any_day():
    for today in (date(2027, 3, 5), date(2031, 1, 1), date(2026, 1, 2)):
        noon = datetime(today.year, today.month, today.day, 12, tzinfo=UTC)
        data = generate(today=today)
        in_transit = [record for record in data.shipments if not record.completed]
        assert in_transit
        ahead = [
            record
            for record in in_transit
            if any(
                e.get("estimateDateTime") and parsed(e["estimateDateTime"]) > noon
                for e in record.events
            )
        ]
        assert len(ahead) == len(in_transit), today


def test_today_is_pinned_by_the_environment_else_the_real_day(monkeypatch):
    monkeypatch.setenv("P44_DEMO_TODAY", "2028-02-29")
    assert demo_today() == date(2028, 2, 29)
    monkeypatch.delenv("P44_DEMO_TODAY")
    assert demo_today() == datetime.now(UTC).date()
