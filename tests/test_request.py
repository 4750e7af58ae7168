"""The .http cell grammar and {{name}} substitution: text in, HttpRequest out, no network."""

from __future__ import annotations

import pytest

from p44_magic import HttpRequest, P44UsageError, parse_request
from p44_magic.request import parse_request_line, substitute, substitute_request

CELL = """\
# find the orders of two shipments
POST /api/v4/inventory/orders/search?page=1
    &pageSize=100
Content-Type: application/json
X-Trace: {{trace}}

{"shipmentIds": ["{{first_id}}", "{{second_id}}"]}
"""


def test_full_cell_parses_into_method_target_headers_body():
    request = parse_request(CELL)
    assert request == HttpRequest(
        method="POST",
        target="/api/v4/inventory/orders/search?page=1&pageSize=100",
        headers=(("Content-Type", "application/json"), ("X-Trace", "{{trace}}")),
        body='{"shipmentIds": ["{{first_id}}", "{{second_id}}"]}',
    )
    assert request.header("content-type") == "application/json"


def test_substitution_fills_line_headers_and_body_from_the_namespace():
    namespace = {"first_id": "A-1", "second_id": "B-2", "trace": "t9"}
    request = substitute_request(parse_request(CELL), namespace)
    assert request.body == '{"shipmentIds": ["A-1", "B-2"]}'
    assert request.header("X-Trace") == "t9"


def test_substitution_of_the_path_and_attributes():
    class Shipment:
        id = "S-9"

    assert (
        substitute("/shipments/{{ s.id }}/tracking", {"s": Shipment()}) == "/shipments/S-9/tracking"
    )
    # IPython's own {} syntax is left alone
    assert substitute("/shipments/{id}", {}) == "/shipments/{id}"


def test_unknown_name_is_a_clear_error():
    with pytest.raises(P44UsageError, match="no variable named 'missing'"):
        substitute("/x/{{missing}}", {})
    with pytest.raises(P44UsageError, match="not a variable name"):
        substitute("/x/{{1 + 2}}", {})


def test_comments_blank_lines_http_version_and_default_get():
    request = parse_request("\n# comment\n// another\nGET /api/v4/webhooks HTTP/1.1\nAccept: */*\n")
    assert (request.method, request.target, request.body) == ("GET", "/api/v4/webhooks", None)
    assert parse_request("/api/v4/webhooks").method == "GET"
    assert parse_request("get api/v4/webhooks").target == "/api/v4/webhooks"


def test_body_is_sent_as_written():
    body = '{\n  "a": 1,\n\n  "b": "# not a comment"\n}'
    assert parse_request("POST /x\n\n" + body + "\n\n").body == body


@pytest.mark.parametrize(
    "cell, message",
    [
        ("", "holds no request"),
        ("# only a comment", "holds no request"),
        ("FETCH /x", "not an HTTP method"),
        ("POST", "has no path"),
        ("GET /a path/with spaces", "cannot contain spaces"),
        ("GET /x\nnot a header\n\nbody", "not a 'Name: value' header"),
        ("GET /x\n\n###\nGET /y", "One request per cell"),
    ],
)
def test_bad_cells_say_what_is_wrong(cell, message):
    with pytest.raises(P44UsageError, match=message):
        parse_request(cell)


def test_line_form():
    assert parse_request_line(["GET", "/api/v4/webhooks"]) == HttpRequest("GET", "/api/v4/webhooks")
    assert parse_request_line(["/api/v4/webhooks"]).method == "GET"
    with pytest.raises(P44UsageError, match="Too many words"):
        parse_request_line(["GET", "/a", "b"])
    with pytest.raises(P44UsageError, match="No request"):
        parse_request_line([])
