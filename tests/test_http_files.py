"""The .http file grammar (REST Client, JetBrains and httpyac's common subset) and how one
request's file-level {{…}} are filled: variables, environment, .env, answers, file bodies."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from p44_magic import P44UsageError
from p44_magic.http_files import FileContext, is_several, parse_http, resolved

FILE = """\
@base = /api/v4
@search = {{base}}/inventory/orders/search

### In-transit orders
# @name orders
# @p44 --all-pages
POST {{search}}?page=1&pageSize=100
Content-Type: application/json
Authorization: Bearer {{$auth.token("p44")}}

< ./filter.json

###
// @name track
GET {{host}}{{base}}/shipments/{{orders.response.body.$.results[0].shipmentIds[0]}}/tracking
X-Request: {{orders.response.headers.X-Request-Id}}
X-Who: {{$dotenv WHO}}
X-Home: {{$processEnv P44_TEST_HOME}}

###
GET /api/v4/webhooks?who={{notebook_name}}
"""


@dataclass
class Answer:
    body: object = None
    response_headers: dict = field(default_factory=dict)


def test_blocks_names_options_variables_and_lines():
    blocks = parse_http(FILE, "demo.http")
    assert [b.name for b in blocks] == ["orders", "track", None]
    assert [b.line for b in blocks] == [7, 15, 21]
    assert blocks[0].options == "--all-pages" and blocks[0].title == "In-transit orders"
    search = ("search", "{{base}}/inventory/orders/search")
    assert blocks[0].variables == (("base", "/api/v4"), search)
    assert blocks[0].body_file == "./filter.json" and blocks[0].request.body is None
    assert is_several(FILE) and not is_several("GET /x\nAccept: text/plain")


def test_a_request_is_filled_from_variables_answers_env_files_and_the_session(
    tmp_path, monkeypatch
):
    (tmp_path / "filter.json").write_text('{"statusCodes": ["IN_TRANSIT"]}')
    (tmp_path / ".env").write_text('# comment\nexport WHO="an analyst"\nOTHER=1 # note\n')
    monkeypatch.setenv("P44_TEST_HOME", "/home/x")
    blocks = parse_http(FILE, "demo.http")
    context = FileContext(tmp_path, "demo.http", host="https://api.example.invalid")
    first = resolved(blocks[0], context)
    assert first.target == "/api/v4/inventory/orders/search?page=1&pageSize=100"
    assert first.headers == (("Content-Type", "application/json"),)  # the session's own token
    assert first.body == b'{"statusCodes": ["IN_TRANSIT"]}'
    context.answers["orders"] = Answer(
        {"results": [{"shipmentIds": ["S-1"]}]}, {"X-Request-Id": "r-9"}
    )
    second = resolved(blocks[1], context)
    assert second.target == "https://api.example.invalid/api/v4/shipments/S-1/tracking"
    assert dict(second.headers) == {"X-Request": "r-9", "X-Who": "an analyst", "X-Home": "/home/x"}
    third = resolved(blocks[2], context)
    assert third.target == "/api/v4/webhooks?who={{notebook_name}}"  # left for the notebook


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("###\nGETT /x\n", "demo.http, line 2: 'GETT' is not an HTTP method."),
        ("# a\n\nGET /x\nno header here\n", "demo.http, line 4: 'no header here' is not a"),
        ("# @name 9lives\nGET /x\n", "demo.http, line 1: @name '9lives' is not a variable name"),
        ("@a = 1\n# only comments\n", "demo.http holds no request."),
    ],
)
def test_a_parsing_error_names_the_file_the_line_and_what_was_expected(text, message):
    with pytest.raises(P44UsageError) as caught:
        parse_http(text, "demo.http")
    assert str(caught.value).startswith(message)


def test_what_a_request_refers_to_must_exist(tmp_path, monkeypatch):
    monkeypatch.delenv("NOPE_NOT_SET", raising=False)
    context = FileContext(tmp_path, "x.http")
    context.answers["a"] = Answer({"list": [1]}, {})
    cases = {
        "GET /x/{{$processEnv NOPE_NOT_SET}}": "x.http, line 1: the environment variable NOPE",
        "GET /x/{{$dotenv NOPE}}": "x.http, line 1: NOPE is not in",
        "GET /x/{{a.response.body.$.list[3]}}": "the answer has nothing at $.list[3]",
        "GET /x/{{a.response.headers.X-Nope}}": "the answer has no header 'X-Nope'",
        "POST /x\n\n< ../outside.json": "is outside",
        "POST /x\n\n< ./missing.json": "no body file ./missing.json",
    }
    for text, message in cases.items():
        with pytest.raises(P44UsageError, match=message.replace("[", r"\[").replace("$", r"\$")):
            resolved(parse_http(text, "x.http")[0], context)


def test_variables_chain_and_later_ones_see_earlier_ones(tmp_path):
    text = "@a = 1\n@b = {{a}}2\nGET /{{b}}\n###\n@c = {{b}}3\nGET /{{c}}\n"
    context = FileContext(Path(tmp_path), "x.http")
    assert [resolved(b, context).target for b in parse_http(text)] == ["/12", "/123"]


def test_limits_on_untrusted_text():
    with pytest.raises(P44UsageError, match="larger than 2 MB"):
        parse_http("GET /x\n" + "#" * (3 << 20))
    with pytest.raises(P44UsageError, match="more than 1000 requests"):
        parse_http("\n###\n".join(["GET /x"] * 1001))


def test_hostile_lines_parse_in_linear_time(tmp_path):
    """Lines that made lazy patterns backtrack (a {{ and many spaces, an @var of spaces)."""
    context = FileContext(tmp_path, "x.http")
    for text in (
        "GET /x\nX-A: {{" + " " * 20_000 + "\n",
        "@a =" + " " * 64_000 + "x\nGET /x\n",
        "POST /x\n\n<" + " " * 64_000 + "x",
        "GET /x/{{a.response.body.$[" + "9" * 5_000 + "]}}",
    ):
        try:
            resolved(parse_http(text, "x.http")[0], context)
        except P44UsageError:
            pass
        is_several(text)
