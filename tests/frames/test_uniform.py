"""The fast path (JSON bytes of same-shaped records → DataFrame) equals the general path."""

from __future__ import annotations

import json

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from p44_magic.frames import to_frame
from p44_magic.frames.uniform import frame_from_json


def both(records) -> tuple[pd.DataFrame | None, pd.DataFrame]:
    raw = json.dumps(records).encode()
    return frame_from_json(raw), to_frame(json.loads(raw))


def test_uniform_records_take_the_fast_path_and_match():
    records = [
        {
            "id": i,
            "at": f"2026-11-{i % 28 + 1:02d}T10:00:00Z",
            "stop": {"city": "Rotterdam", "geo": {"lat": 1.5 * i, "lon": None}, "empty": {}},
            "tags": ["a", "b"],
            "from": "x.y",  # a keyword and a dot are fine as JSON keys
        }
        for i in range(50)
    ]
    fast, general = both(records)
    assert fast is not None
    pd.testing.assert_frame_equal(fast, general)
    assert list(fast.columns) == [
        "id",
        "at",
        "tags",
        "from",
        "stop.city",
        "stop.geo.lat",
        "stop.geo.lon",
    ]
    assert str(fast["at"].dtype).startswith("datetime64")


def test_records_of_other_shapes_fall_back():
    for records in (
        [{"a": 1}, {"a": 2, "b": 3}],  # an extra key
        [{"a": 1, "b": 3}, {"a": 2}],  # a missing key
        [{"a": {"x": 1}}, {"a": 5}],  # an object, then a plain value
        [{"a": 5}, {"a": {"x": 1}}],  # a plain value, then an object
        [{"a": {"x": 1}}, {"a": {"y": 1}}],  # nested keys differ
    ):
        fast, general = both(records)
        assert fast is None, records
        assert len(general) == 2


def test_not_a_list_of_objects_is_not_for_the_fast_path():
    for raw in (b"{}", b"[]", b"[1, 2]", b'  [ "x" ]', b"[{}]", b"not json", b"[{"):
        assert frame_from_json(raw) is None


def test_strings_with_braces_and_escapes_in_the_first_record():
    records = [{"note": 'a } ] \\" { [ b', "n": i} for i in range(3)]
    fast, general = both(records)
    assert fast is not None
    pd.testing.assert_frame_equal(fast, general)


scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.text(max_size=3))
objects = st.recursive(
    st.dictionaries(st.sampled_from("abc"), scalars, max_size=3),
    lambda inner: st.dictionaries(st.sampled_from("abcd"), st.one_of(scalars, inner), max_size=3),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(objects, min_size=1, max_size=5), st.booleans())
def test_fast_path_is_none_or_the_same_frame(records, repeat_first):
    if repeat_first:
        records = [records[0]] * len(records)  # uniform: the fast path must answer
    raw = json.dumps(records).encode()
    fast = frame_from_json(raw, parse_dates=False)
    if fast is None:
        assert not (repeat_first and records[0] and _has_leaf(records[0]))
        return
    pd.testing.assert_frame_equal(fast, to_frame(json.loads(raw), parse_dates=False))


def _has_leaf(record) -> bool:
    return any(not isinstance(v, dict) or _has_leaf(v) for v in record.values())
