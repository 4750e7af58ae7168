"""Frames kept beside large cached answers: the same frame back (dtypes included), the answer
not read again, and a frame that cannot be kept exactly is built again from the answer."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd

from p44_magic.cache.frames import MIN_ANSWER_BYTES, decode_frame, encode_frame
from tests.servers import Reply, ScriptedServer, client_for, with_tokens


def mixed_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": pd.Series(["a", "b", None], dtype="str"),
            "when": pd.to_datetime(["2026-11-20T10:00:00Z", None, "2026-11-21T00:00:00Z"]),
            "weight": [1.5, np.nan, 3.0],
            "count": [1, 2, 3],
            "flag": [True, False, True],
            "identifiers": pd.Series([[{"type": "BOL", "value": "1"}], [], None], dtype=object),
            "mixed": pd.Series(["x", 2, 3.5], dtype=object),
            "stop.name": pd.Series([None, None, None], dtype=object),
        }
    )


def test_a_frame_comes_back_the_same():
    frame = mixed_frame()
    data = encode_frame(frame, ["a note"])
    assert data is not None
    back, notes = decode_frame(data)
    pd.testing.assert_frame_equal(back, frame)
    assert notes == ["a note"]
    assert isinstance(back["identifiers"][0], list)


def test_what_cannot_be_kept_exactly_is_not_kept():
    frame = mixed_frame()
    frame["mixed"] = pd.Series([pd.Timestamp("2026-01-01"), "x", None], dtype=object)
    assert encode_frame(frame, []) is None
    assert encode_frame(frame.set_axis([1, 2, 3]), []) is None  # not a 0-based RangeIndex
    assert decode_frame(b"not a frame") is None
    assert decode_frame(encode_frame(mixed_frame(), [])[:-50]) is None


def test_without_pyarrow_no_frame_is_kept(monkeypatch):
    monkeypatch.setitem(sys.modules, "pyarrow", None)  # import pyarrow raises ImportError
    assert encode_frame(mixed_frame(), []) is None


def large_answer(got) -> Reply:
    rows = [{"id": f"r{n}", "note": "x" * 40, "tags": [n, {"k": "v"}]} for n in range(20_000)]
    return Reply(200, {"results": rows})


def test_a_large_answer_runs_again_from_its_kept_frame_without_reading_the_answer(tmp_path):
    with ScriptedServer(with_tokens(large_answer)) as server:
        with client_for(server, cache_path=str(tmp_path / "c.sqlite")) as p44:
            fetched = p44.frame("GET", "/big", record_path="results", cache=True)
            assert p44.last_exchange.answer_bytes >= MIN_ANSWER_BYTES
            again = p44.frame("GET", "/big", record_path="results", cache=True)
            last = p44.last_exchange
            assert last.from_cache and last.content == b"" and last.status_code == 200
            # framed another way: from the answer
            other = p44.frame("GET", "/big", record_path="results", parse_dates=False, cache=True)
            assert p44.last_exchange.content != b""
            p44.frame("GET", "/big", record_path="results", cache="refresh")
            refreshed = p44.frame("GET", "/big", record_path="results", cache=True)
    pd.testing.assert_frame_equal(again, fetched)
    pd.testing.assert_frame_equal(refreshed, fetched)
    assert len(other) == 20_000
    assert len(server.data_calls()) == 2
