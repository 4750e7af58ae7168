"""The native route (msgspec slices + pyarrow's JSON reader) gives the general path's frame,
or gives up; a large answer fetched over HTTP takes it and its bytes are let go."""

from __future__ import annotations

import copy
import gc
import json
import tracemalloc

import pandas as pd
import pytest

from benchmarks.server import make_records
from p44_magic.frames import to_frame
from p44_magic.frames.arrow_route import MIN_BYTES, json_frame, native_frame
from p44_magic.frames.body import Body
from p44_magic.frames.uniform import first_record, frame_from_json, shape_of
from tests.servers import Reply, ScriptedServer, client_for, with_tokens


def native(raw: bytes) -> pd.DataFrame | None:
    first = first_record(raw)
    return native_frame(raw, first, shape_of(first, top=True), True)


@pytest.fixture(scope="module")
def events() -> list[dict]:
    return make_records(3_000)  # about 1.6 MB: over MIN_BYTES


def test_events_take_the_native_route_and_equal_the_other_paths(events):
    raw = json.dumps(events).encode()
    assert len(raw) > MIN_BYTES
    ours = native(raw)
    assert ours is not None
    pd.testing.assert_frame_equal(ours, frame_from_json(raw), check_exact=True)
    pd.testing.assert_frame_equal(ours, to_frame(events), check_exact=True)
    assert str(ours["dateTime"].dtype) == "datetime64[us, UTC]"
    assert ours["identifiers"][0] == [{"type": "BILL_OF_LADING", "value": "MAEU000000000"}]
    assert list(ours.columns) == list(to_frame(events).columns)


def test_the_body_is_released_once_decoded(events):
    body = Body(json.dumps(events).encode())
    first = first_record(body.raw)
    assert native_frame(body, first, shape_of(first, top=True), True) is not None
    assert body.raw == b""


def variants(events):
    """Answers the native route must give up on (each is read by the general path)."""
    extra = copy.deepcopy(events)
    extra[-1]["late"] = "a key only the last record has"
    null_object = copy.deepcopy(events)
    null_object[5]["carrier"] = None
    missing_object = copy.deepcopy(events)
    del missing_object[7]["weight"]
    bool_gap = [dict(e, flag=True) for e in events]
    del bool_gap[9]["flag"]
    wider = copy.deepcopy(events)
    wider[11]["weight"]["value"] = 2.5  # an int column meets a float
    late_object = [dict(e, note=None) for e in events]
    late_object[3]["note"] = {"text": "an object where the first record had null"}
    not_object = [*events, None]
    return {
        "extra key": extra,
        "null object": null_object,
        "missing object": missing_object,
        "true/false gap": bool_gap,
        "int then float": wider,
        "object after null": late_object,
        "not an object": not_object,
    }


@pytest.mark.parametrize(
    "name",
    ["extra key", "null object", "missing object", "true/false gap", "int then float"]
    + ["object after null", "not an object"],
)
def test_answers_it_cannot_read_exactly_are_given_up(events, name):
    answer = variants(events)[name]
    raw = json.dumps(answer).encode()
    assert native(raw) is None
    found = json_frame(raw)
    if found is not None:  # the struct reader, or else the general path
        pd.testing.assert_frame_equal(found, to_frame(answer), check_exact=True)


def test_pretty_printed_answers_are_given_up(events):
    raw = json.dumps(events[:2_000], indent=2).encode()
    assert len(raw) > MIN_BYTES
    assert native(raw) is None


def test_missing_plain_values_read_as_the_general_path(events):
    answer = copy.deepcopy(events)
    del answer[4]["type"]  # a missing text: NaN on both paths
    answer[6]["weight"]["value"] = None  # a missing number: the column turns float
    answer[8]["dateTime"] = None
    raw = json.dumps(answer).encode()
    ours = native(raw)
    assert ours is not None
    pd.testing.assert_frame_equal(ours, to_frame(answer), check_exact=True)


def test_a_large_answer_fetched_takes_the_route_and_is_not_kept(events):
    """Nothing holds the answer's bytes once its frame is built: no block as large as the
    answer, allocated where answers are read, is still alive (tracemalloc)."""
    raw = json.dumps(events).encode()
    with ScriptedServer(with_tokens(Reply(200, raw))) as server, client_for(server) as p44:
        tracemalloc.start(1)
        try:
            frame = p44.frame("GET", "/api/v4/events")
            gc.collect()
            alive = tracemalloc.take_snapshot().filter_traces(
                [tracemalloc.Filter(True, "*p44_magic*")]
            )
        finally:
            tracemalloc.stop()
        exchange = p44.last_exchange
    pd.testing.assert_frame_equal(frame, to_frame(events), check_exact=True)
    assert exchange.truncated and len(exchange.content) == 64 * 1024
    large = [trace for trace in alive.traces if trace.size >= len(raw)]
    assert large == [], "the answer's bytes outlived its frame"


def test_text_that_is_not_utf8_is_given_up(events):
    raw = json.dumps(events).encode().replace(b"Chicago", b"Chic\xffgo", 1)  # not the first
    assert native(raw) is None


def test_a_whole_number_beyond_64_bits_in_a_float_column_is_given_up(events):
    answer = copy.deepcopy(events)
    answer[9]["stop"]["location"]["coordinates"]["latitude"] = 123456789012345678901234567890
    raw = json.dumps(answer).encode()
    assert native(raw) is None
    pd.testing.assert_frame_equal(json_frame(raw), to_frame(answer), check_exact=True)
