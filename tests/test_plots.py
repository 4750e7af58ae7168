"""The pictures, read by what they draw (each artist's gid and data), on hand-made shipments."""

from __future__ import annotations

import io
import sys

import matplotlib
import pytest

from p44_magic import P44UsageError, tracking_tables
from p44_magic.frames import joined_tables
from tests.test_kpis import answer

matplotlib.use("Agg")

COORDINATES = {"o": (34.05, -118.24), "p": (37.80, -122.27), "d": (47.61, -122.33)}


def located(shipment_id="S1", **options):
    body = answer(shipment_id, **options)
    for stop in body["shipment"]["routeInfo"]["stops"]:
        lat, lon = COORDINATES[stop["id"]]
        stop.setdefault("location", {})["coordinates"] = {"latitude": lat, "longitude": lon}
    return body


def drawn(figure, gid):
    return [artist for artist in figure.axes[0].get_children() if artist.get_gid() == gid]


def test_the_map_of_one_shipment():
    tables = tracking_tables(located())
    figure = tables.map()
    (stops,) = drawn(figure, "stops")
    assert len(stops.get_offsets()) == 3  # one point per stop
    segments = drawn(figure, "segment")
    assert len(segments) == 2  # one line per segment
    assert [line.get_label() for line in segments] == ["TRUCKLOAD", "RAIL"]
    (trail,) = drawn(figure, "breadcrumb")
    assert len(trail.get_xdata()) == 3  # the breadcrumb: every position
    (latest,) = drawn(figure, "latest")
    assert list(latest.get_offsets()[0]) == [-120.0, 40.0]
    assert drawn(figure, "land")  # the shipped outline
    left, right = figure.axes[0].get_xlim()
    assert -130 < left < -122.33 and -118.24 < right < -110  # framed to the data
    names = [text.get_text() for text in figure.axes[0].texts]
    assert names == ["LA DC", "Oakland", "Seattle DC"]
    png = io.BytesIO()
    figure.savefig(png, format="png")
    assert png.getvalue().startswith(b"\x89PNG")


def test_the_map_of_many_shipments_shows_latest_positions_by_state():
    parts = [(f"S{n}", tracking_tables(located(f"S{n}", positions=n != 2))) for n in range(4)]
    figure = joined_tables("sid", parts).map()
    latest = drawn(figure, "latest")
    assert sum(len(points.get_offsets()) for points in latest) == 3  # S2 has no positions
    assert [points.get_label() for points in latest] == ["IN_TRANSIT (3)"]
    assert not drawn(figure, "breadcrumb")
    assert figure.axes[0].get_title() == "4 shipments: latest positions by state"


def test_without_matplotlib_one_clear_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(P44UsageError) as caught:
        tracking_tables(located()).map()
    assert str(caught.value).splitlines()[0] == (
        "Maps and timelines are drawn with matplotlib, which is not installed."
    )
    assert caught.value.hint == "pip install 'p44_magic[plots]'"


def test_interactive_without_folium_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "folium", None)
    with pytest.raises(P44UsageError, match="needs folium") as caught:
        tracking_tables(located()).map(interactive=True)
    assert "p44_magic[maps]" in caught.value.hint


def test_the_timeline_of_one_shipment():
    figure = tracking_tables(located()).timeline()
    axes = figure.axes[0]
    assert [tick.get_text() for tick in axes.get_yticklabels()] == [
        "ORIGIN · LA DC",
        "PORT_OF_LOADING · Oakland",
        "DESTINATION · Seattle DC",
    ]
    assert len(drawn(figure, "plan")) == 2  # the port's window and the destination's plan
    assert len(drawn(figure, "estimate")) == 2
    assert len(drawn(figure, "arrival")) == 2 and len(drawn(figure, "departure")) == 2
    delays = [text.get_text() for text in drawn(figure, "delay")]
    assert delays == ["+0.8 h", "-0.3 h"]
    assert not drawn(figure, "current")  # every stop reached


def test_the_timeline_highlights_the_stop_the_shipment_is_at():
    body = located()
    body["states"].append(
        {"type": "AT_STOP", "stopId": "d", "startDateTime": "2026-11-03T11:40:00Z"}
    )
    (band,) = drawn(tracking_tables(body).timeline(), "current")
    assert band.get_y() == pytest.approx(2 - 0.45)  # the destination's row


def test_the_timeline_draws_one_shipment():
    parts = [(f"S{n}", tracking_tables(located(f"S{n}"))) for n in range(2)]
    tables = joined_tables("sid", parts)
    with pytest.raises(P44UsageError, match="timeline\\(shipment='S0'\\)"):
        tables.timeline()
    assert tables.timeline(shipment="S1").axes[0].get_title() == "Stops of shipment S1"


def test_the_interactive_map_is_folium_and_says_tiles_need_the_internet(capsys):
    import folium  # the maps extra, which the dev extra installs

    world = tracking_tables(located()).map(interactive=True)
    assert isinstance(world, folium.Map)
    kinds = [type(child).__name__ for child in world._children.values()]
    assert kinds.count("CircleMarker") == 3  # the stops
    assert kinds.count("PolyLine") == 3  # two segments and the breadcrumb
    assert "tiles and Leaflet load from the internet" in capsys.readouterr().err
    html = world.get_root().render()
    assert "leaflet" in html.lower()


def test_the_current_stop_is_this_shipments_own():
    other = located("S2")
    other["states"].append(
        {"type": "AT_STOP", "stopId": "p", "startDateTime": "2026-11-03T11:40:00Z"}
    )
    tables = joined_tables(
        "sid", [("S1", tracking_tables(located("S1"))), ("S2", tracking_tables(other))]
    )
    assert not drawn(tables.timeline(shipment="S1"), "current")
    assert drawn(tables.timeline(shipment="S2"), "current")
