"""Properties over arbitrary input: the pure functions either answer or raise P44UsageError.

Nothing else may escape them (a KeyError or an IndexError from a notebook cell is a traceback
the user cannot act on), and the fast frame path must always agree with the general one.
"""

from __future__ import annotations

import json
import re
import string

import pandas as pd
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from p44_magic.errors import P44UsageError
from p44_magic.frames import frame_and_note, to_frame
from p44_magic.frames.arrow_route import native_frame
from p44_magic.frames.uniform import first_record, frame_from_json, shape_of
from p44_magic.request import METHODS, HttpRequest, parse_request, substitute

PROPERTY = settings(
    max_examples=2000,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Text rich in the characters the cell grammar cares about (cheap to draw: 2000 examples each).
CELL_TEXT = st.lists(
    st.sampled_from(
        [*"\n\r \t:#?&{}/\\.%=\"'ax", "###", "//", "HTTP/1.1", "http://h", "{{x}}", "{{ a.b }}"]
        + [*METHODS, "get", "Post", "Content-Type", "\u2028", "\x85", "\x0c"]
    ),
    max_size=30,
).map("".join)


def usage_error_or(call, *args):
    """Call; a P44UsageError must carry a message. Anything else escapes and fails the test."""
    try:
        return call(*args)
    except P44UsageError as error:
        assert error.message.strip()
        assert str(error).strip()
        return error


# -- the request cell grammar --------------------------------------------------------------


@PROPERTY
@given(st.one_of(CELL_TEXT, st.text()))
@example("HTTP/1.1")
@example("  HTTP/2  \n")
@example("GET")
@example("{{x}}")
@example("GET /x\n\n###")
def test_parse_request_answers_or_raises_a_usage_error(text):
    result = usage_error_or(parse_request, text)
    if isinstance(result, HttpRequest):
        assert result.method in METHODS
        # A {{…}} may hold a space ({{$processEnv NAME}}, as REST Client writes it); nothing else
        outside = re.sub(r"\{\{[^{}]*\}\}", "", result.target)
        assert result.target and not any(ch.isspace() for ch in outside)
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in result.headers)
        assert result.body is None or result.body.strip("\n")


METHOD_WORDS = [word for m in METHODS for word in (m, m.lower(), m.capitalize())]
# Header names start with a letter ('#' would make a comment, '&' or '?' a query line).
HEADER_NAMES = ["Content-Type", "Accept", "X-Id", "a", "X-#tag", "h&x", "A.B~", "x-p44_v2"]
HEADER_VALUE = st.text(alphabet=st.characters(exclude_characters="\n\r"), max_size=12)
PATH_CHARS = string.ascii_letters + string.digits + "-_.~%{}/:@!$'()*+,;=é"
QUERY_CHARS = string.ascii_letters + string.digits + "=&%{}-"
BODY = st.text(alphabet=st.characters(exclude_characters="\r"), max_size=40)


@PROPERTY
@given(
    method=st.sampled_from(METHOD_WORDS),
    path=st.text(alphabet=PATH_CHARS, max_size=20),
    query=st.text(alphabet=QUERY_CHARS, max_size=15),
    split_query=st.booleans(),
    version=st.sampled_from(["", " HTTP/1.1", " HTTP/2"]),
    leading=st.sampled_from([[], [""], ["# a comment"], ["", "// another", "   "]]),
    headers=st.lists(st.tuples(st.sampled_from(HEADER_NAMES), HEADER_VALUE), max_size=3),
    comment_between=st.booleans(),
    body=BODY,
    crlf=st.booleans(),
)
def test_a_valid_cell_parses_back_to_what_was_written(
    method, path, query, split_query, version, leading, headers, comment_between, body, crlf
):
    assume(not body.strip("\n").lstrip().startswith("###"))
    path = "/" + path
    target = path + ("?" + query if query else "")
    if query and split_query:  # the .http format lets the query go on over several lines
        first, *rest = query.split("&")
        lines = [*leading, f"{method} {path}{version}", f"    ?{first}"]
        lines += [f"  &{part}" for part in rest]
    else:
        lines = [*leading, f"{method} {target}{version}"]
    header_lines = [f"{name}: {value}" for name, value in headers]
    if comment_between and header_lines:
        header_lines.insert(1, "# not a header")
    lines += header_lines
    if body:
        lines += ["", body]
    text = "\n".join(lines)
    if crlf:
        text = text.replace("\n", "\r\n")

    parsed = parse_request(text)

    assert parsed.method == method.upper()
    assert parsed.target == target
    assert parsed.headers == tuple((name, value.strip()) for name, value in headers)
    assert parsed.body == (body.strip("\n") or None)


# -- {{name}} substitution -----------------------------------------------------------------

NAMES = st.sampled_from(["a", "b", "sid", "x_1", "upper", "_p", "a.b", "1x", ""])
PLACEHOLDER_TEXT = st.text(alphabet="{} .ab_1xsidupper\n$", max_size=30)


@PROPERTY
@given(
    st.one_of(PLACEHOLDER_TEXT, st.text(max_size=30)),
    st.dictionaries(NAMES, st.text(max_size=10), max_size=4),
)
@example("{{a}}{{b.upper}}{{ sid }}", {"a": "1", "b": "x", "sid": "{{a}}"})
@example("{{a.nope}} {{ }} {{a b}} {{{a}}}", {"a": "1"})
def test_substitute_answers_a_string_or_raises_a_usage_error(text, namespace):
    result = usage_error_or(substitute, text, namespace)
    if isinstance(result, str) and "{{" not in text:
        assert result == text


# -- JSON answers to frames ----------------------------------------------------------------

# JSON values are decoded from drawn bytes: one cheap draw per example (hypothesis' own
# st.recursive costs ~3 ms an example here, too slow for 2000 examples), still shrinkable (fewer,
# smaller bytes decode to simpler values), and biased towards the edges: huge integers, -0.0,
# denormals, dotted and empty keys, timestamps, invalid dates, control characters.
INTS = [0, 1, -1, 7, 2**31, 2**53 + 1, 2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 2**64, 2**70]
FLOATS = [0.0, -0.0, 1.5, 0.1, 1e16, 2.0**53, 1e308, -1e308, 5e-324, 1.7976931348623157e308]
STRINGS = [
    "",
    "x",
    "a.b",
    "2026-11-20T10:00:00Z",
    "2026-11-20T10:00:00.123456789+01:00",
    # issue 14: the spellings real answers use, colon-less offsets included
    "2025-07-07T16:55:07+0000",
    "2019-11-14T12:30:00-0500",
    "2026-11-20T10:00:00.250Z",
    "2026-11-20 10:00",
    "2026-02-30T10:00:00Z",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "NaN",
    "null",
    "é\u2028\x00",
]
KEYS = [
    "a",
    "b",
    "",
    "a.b",
    "c",
    "c.d",
    "d",
    "results",
    "events",
    "shipment",
    "id",
    "value",
    "at",
    "$",
]


class _Bytes:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def next(self) -> int:
        """The next byte, 0 once the bytes run out (so every value ends)."""
        self.pos += 1
        return self.data[self.pos - 1] if self.pos <= len(self.data) else 0


def _scalar(b: _Bytes) -> object:
    op = b.next() % 7
    if op == 0:
        return None
    if op == 1:
        return bool(b.next() & 1)
    if op == 2:
        return INTS[b.next() % len(INTS)]
    if op == 3:
        return int.from_bytes(bytes([b.next(), b.next()]), "big", signed=True)
    if op == 4:
        return FLOATS[b.next() % len(FLOATS)] * (1 if b.next() & 1 else -1)
    if op == 5:
        return STRINGS[b.next() % len(STRINGS)]
    return bytes(b.next() for _ in range(b.next() % 6)).decode("latin-1")  # any characters


def _value(b: _Bytes, depth: int = 0) -> object:
    op = b.next() % 4 if depth < 4 else 0
    if op == 1:
        return [_value(b, depth + 1) for _ in range(b.next() % 4)]
    if op == 2:
        return {KEYS[b.next() % len(KEYS)]: _value(b, depth + 1) for _ in range(b.next() % 4)}
    if op == 3:
        return _records(b, depth)
    return _scalar(b)


def _records(b: _Bytes, depth: int = 0) -> list:
    """Records that share one shape (the usual answer), now and then one that does not."""
    keys = list(dict.fromkeys(KEYS[b.next() % len(KEYS)] for _ in range(b.next() % 3 + 1)))
    nested = b.next() % 3 == 0
    rows = []
    for _ in range(b.next() % 5 + 1):
        row = {key: _scalar(b) for key in keys}
        if nested:
            row["c"] = {"d": _scalar(b), "e": {"f": _scalar(b)}}
        if b.next() % 8 == 7:  # an odd one out
            row = _value(b, depth + 1)
        rows.append(row)
    return rows


def _answer(data: bytes) -> object:
    b = _Bytes(data)
    shape = b.next() % 4
    if shape == 1:
        rows = _records(b)
        return {"paginationInfo": {"total": len(rows)}, "results": rows}
    if shape == 2:
        return {"shipment": {"id": "s"}, "events": _records(b), "positions": [], "x": _value(b)}
    return _value(b) if shape == 0 else _records(b)


ANSWERS = st.binary(max_size=120).map(_answer)
RECORDS = st.binary(max_size=120).map(lambda data: _records(_Bytes(data)))
DOTTED = st.sampled_from(
    [None, "", "a", "b", "events", "results", "shipment.id", "a.b", "c.d", ".", "a..b", "x.y.z"]
)


@PROPERTY
@given(
    answer=ANSWERS,
    record_path=DOTTED,
    meta=st.one_of(DOTTED, st.lists(DOTTED, max_size=2).map(lambda m: [p or "" for p in m])),
    parse_dates=st.booleans(),
)
def test_to_frame_answers_a_frame_or_raises_a_usage_error(answer, record_path, meta, parse_dates):
    result = usage_error_or(frame_and_note, answer, record_path, meta, parse_dates)
    if isinstance(result, tuple):  # the note is for the user: to_frame gives it as a P44Warning
        result, note = result
        assert note is None or note.startswith("The answer holds several lists")
    if isinstance(result, pd.DataFrame):
        assert result.index.equals(pd.RangeIndex(len(result)))
        assert result.columns.is_unique, list(result.columns)


def json_equal_frames(fast: pd.DataFrame, general: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(fast, general, check_exact=True)


@PROPERTY
@given(answer=st.one_of(RECORDS, ANSWERS), indent=st.sampled_from([None, 1]))
@example(answer=[{"a": 2**70}], indent=None)
@example(answer=[{"a": 1.5, "b": {"c": None}}, {"a": 2, "b": {"c": 1}}], indent=None)
def test_the_fast_frame_path_is_none_or_equals_the_general_path(answer, indent):
    raw = json.dumps(answer, indent=indent).encode()
    fast = frame_from_json(raw)
    if fast is None:
        return
    general = to_frame(json.loads(raw))
    json_equal_frames(fast, general)


def native(raw: bytes, parse_dates: bool = True) -> pd.DataFrame | None:
    """The native route (msgspec slices + pyarrow's JSON reader), at any size."""
    first = first_record(raw)
    if not isinstance(first, dict) or not first:
        return None
    return native_frame(raw, first, shape_of(first, top=True), parse_dates)


@PROPERTY
@given(answer=RECORDS, indent=st.sampled_from([None, 1]), parse_dates=st.booleans())
@example(answer=[{"a": 2**70}], indent=None, parse_dates=True)
@example(answer=[{"a": 1, "b": True}, {"a": 2}], indent=None, parse_dates=True)
@example(answer=[{"a": {"b": 1}}, {"a": None}], indent=None, parse_dates=True)
@example(answer=[{"a": None}, {"a": "2026-01-01"}], indent=None, parse_dates=True)
@example(answer=[{"a": "x"}, {"a": "y", "z": 1}], indent=None, parse_dates=True)
@example(answer=[{"a": [{"b": 1}]}, {"a": [{"c": 2}]}], indent=None, parse_dates=True)
def test_the_native_route_is_none_or_equals_the_general_path(answer, indent, parse_dates):
    raw = json.dumps(answer, indent=indent).encode()
    ours = native(raw, parse_dates)
    if ours is None:
        return
    json_equal_frames(ours, to_frame(json.loads(raw), parse_dates=parse_dates))


# -- real shapes (issue 14): optional keys, mixed spellings, lists inside rows --------------

SPELLINGS = [
    lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ"),
    lambda t: t.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
    lambda t: t.strftime("%Y-%m-%dT%H:%M:%S+0000"),
    lambda t: (t - pd.Timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M:%S-0500"),
]


@st.composite
def real_events(draw):
    """Events as real answers carry them: dateTime only once it happened, stopId now and then,
    dateTimes[] on some, each timestamp spelt one of four ways, all in one column."""
    events = []
    for _ in range(draw(st.integers(1, 8))):
        at = pd.Timestamp("2026-11-01T00:00:00") + pd.Timedelta(
            minutes=draw(st.integers(0, 60 * 24 * 40))
        )
        event = {"type": draw(st.sampled_from(["ARRIVAL_AT_STOP", "LOAD", "DELIVERY"]))}
        spell = SPELLINGS[draw(st.integers(0, 3))]
        if draw(st.booleans()):
            event["dateTime"] = spell(at)
        event["plannedDateTime"] = SPELLINGS[draw(st.integers(0, 3))](at)
        if draw(st.booleans()):
            event["stopId"] = draw(st.sampled_from(["s1", "s2"]))
        if draw(st.booleans()):
            event["dateTimes"] = [{"type": "PLANNED", "dateTime": spell(at)}]
        if draw(st.booleans()):
            event["location"] = {"coordinates": {"latitude": 1.5, "longitude": -2.0}}
        events.append(event)
    return events


@PROPERTY
@given(events=real_events())
def test_real_shapes_flatten_as_json_normalize_and_every_spelling_is_one_instant(events):
    ours = to_frame(events, parse_dates=False)
    theirs = pd.json_normalize(events)
    pd.testing.assert_frame_equal(ours, theirs[list(ours.columns)], check_exact=True)
    assert set(ours.columns) == set(theirs.columns)
    parsed = to_frame(events)
    for column in ("dateTime", "plannedDateTime"):
        if column not in theirs:
            continue
        assert str(parsed[column].dtype).startswith("datetime64") and parsed[column].dt.tz
        expected = [
            pd.NaT if not isinstance(text, str) else pd.Timestamp(text).tz_convert("UTC")
            for text in theirs[column]
        ]
        assert list(parsed[column]) == expected


@PROPERTY
@given(events=real_events())
def test_the_native_route_reads_real_shapes_as_the_general_path(events):
    raw = json.dumps(events).encode()
    ours = native(raw)
    if ours is not None:
        json_equal_frames(ours, to_frame(events))
