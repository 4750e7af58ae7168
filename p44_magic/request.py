"""The request-cell grammar (the ``.http`` request-file format) and ``{{name}}`` substitution.

A cell is parsed into a plain :class:`HttpRequest` first; sending it is the client's job, so the
grammar is testable without a network::

    # a comment
    POST /api/v4/inventory/orders/search?page=1
        &pageSize=100
    Content-Type: application/json

    {"shipmentIds": ["{{first_id}}"]}
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import httpx

from .errors import P44UsageError
from .templates import (
    PLACEHOLDER,
    fill_body,
    fill_header,
    fill_target,
    fill_text,
    head_of,
    is_json_body,
    json_of,
    value_of,
)

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
_HEADER = re.compile(r"^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*(.*)$")
# No nested quantifiers: a lazy group between \s* runs was cubic on "{{" and many spaces.
_WORDS = re.compile(r"(?:\{\{[^{}\n]*\}\}|\S)+")  # a {{…}} with spaces is one word
_GRAMMAR = "Write the method and path first, e.g. GET /api/v4/shipments/{{sid}}/tracking/history"


@dataclass(frozen=True)
class HttpRequest:
    """One parsed request: ``target`` is a path (with query) or an absolute URL."""

    method: str
    target: str
    headers: tuple[tuple[str, str], ...] = ()
    body: str | bytes | None = None

    def header(self, name: str) -> str | None:
        """The first value of a header, case-insensitively."""
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None


def parse_request_line(words: list[str]) -> HttpRequest:
    """``[METHOD] TARGET`` from a magic line (already split); the method defaults to GET."""
    words = _WORDS.findall(" ".join(words))  # a {{$processEnv NAME}} is one word
    if not words:
        raise P44UsageError("No request given.", hint=_GRAMMAR)
    if len(words) == 1 and words[0].upper() in METHODS:
        raise P44UsageError(f"{words[0]} has no path.", hint=_GRAMMAR)
    if len(words) == 1:
        words = ["GET", words[0]]
    if len(words) > 2:
        raise P44UsageError(
            f"Too many words in the request: {' '.join(words)!r}.",
            hint="A path cannot contain spaces: write them as %20.",
        )
    return HttpRequest(_method(words[0]), _target(words[1]))


def parse_request(text: str) -> HttpRequest:
    """Parse a cell body in the .http format; raise :class:`P44UsageError` saying which line."""
    lines = text.replace("\r\n", "\n").split("\n")
    index = 0
    while index < len(lines) and is_skippable(lines[index]):
        index += 1
    if index == len(lines):
        raise P44UsageError("The cell holds no request.", hint=_GRAMMAR)
    method, target = _request_line(lines[index], index + 1)
    index += 1
    while index < len(lines) and lines[index].strip()[:1] in ("?", "&"):
        target += lines[index].strip()
        index += 1
    headers, index = _headers(lines, index)
    body = "\n".join(lines[index + 1 :]).strip("\n") if index < len(lines) else ""
    if body.lstrip().startswith("###"):
        raise P44UsageError("One request per cell: '###' separators are not supported.")
    return HttpRequest(method, _target(target), tuple(headers), body or None)


def _request_line(line: str, number: int) -> tuple[str, str]:
    """``METHOD PATH [HTTP/1.1]`` (the method defaults to GET); a ``{{$processEnv NAME}}`` in
    the path keeps its space."""
    words = _WORDS.findall(line)
    if len(words) > 1 and words[-1].upper().startswith("HTTP/"):
        words = words[:-1]
    if len(words) == 1 and words[0].upper() in METHODS:
        raise P44UsageError(f"Line {number}: {words[0]} has no path.", hint=_GRAMMAR)
    if len(words) > 2:
        raise P44UsageError(
            f"Line {number}: expected 'METHOD PATH', got {line.strip()!r}.",
            hint="A path cannot contain spaces: write them as %20.",
        )
    method, target = words if len(words) == 2 else ["GET", words[0]]
    return _method(method, number), target


def _headers(lines: list[str], index: int) -> tuple[list[tuple[str, str]], int]:
    """The ``Name: value`` lines from ``index`` to the blank line, and where they end."""
    headers: list[tuple[str, str]] = []
    while index < len(lines) and lines[index].strip():
        line = lines[index]
        index += 1
        if _is_comment(line):
            continue
        match = _HEADER.match(line.strip())
        if not match:
            raise P44UsageError(
                f"Line {index}: {line.strip()!r} is not a 'Name: value' header.",
                hint="Leave one blank line between the headers and the body.",
            )
        headers.append((match.group(1), match.group(2).strip()))
    return headers, index


def substitute(text: str, namespace: Mapping[str, Any]) -> str:
    """Replace every ``{{name}}`` in plain text with the value's text (see
    :mod:`p44_magic.templates` for the request's places)."""
    return fill_text(text, namespace)


def lookup(expression: str, namespace: Mapping[str, Any], label: str) -> Any:
    """The object ``name``, ``name.attr`` or ``name[0]`` names in ``namespace`` (``label`` names
    it in errors)."""
    return value_of(expression, namespace, label)


def placeholder_names(request: HttpRequest) -> set[str]:
    """The variable names (``sid`` of ``{{sid.x}}``) the request's placeholders use."""
    texts = [request.target, *(value for _, value in request.headers)]
    texts += [request.body] if isinstance(request.body, str) else []
    return {head_of(match.group(1)) for text in texts for match in PLACEHOLDER.finditer(text)}


def substitute_request(request: HttpRequest, namespace: Mapping[str, Any]) -> HttpRequest:
    """Every ``{{…}}`` of the request filled in as its place needs (:mod:`p44_magic.templates`):
    path segments and query values percent-encoded, header values on one line, a JSON body's
    values as JSON (and the body parsed)."""
    body = request.body
    if isinstance(body, str):
        body = fill_body(body, namespace, is_json_body(body, request.header("content-type")))
    return replace(
        request,
        target=fill_target(request.target, namespace),
        headers=tuple((k, fill_header(k, v, namespace)) for k, v in request.headers),
        body=body,
    )


#: Headers the client sets itself: written in a cell they would lie about the body or the host,
#: or put a credential in the history and the notebook.
RESERVED_HEADERS = frozenset({"host", "authorization", "content-length", "transfer-encoding"})
_HEADER_VALUE = re.compile(r"[\t\x20-\x7e]*")  # what a header value may hold: printable ASCII
_TARGET_BAD = re.compile(r"[\x00-\x20\x7f]")
_DOLLAR = re.compile(r"(?<![\w$])\$([^\W\d]\w*)")  # $sid, as a shell would fill it
_SINGLE_BRACES = re.compile(r"(?<!\{)\{([A-Za-z_]\w*)\}(?!\})")  # {shipmentId}, not {{…}}


def check_request(request: HttpRequest) -> None:
    """Refuse, before anything is sent, what the wire cannot carry or the client must own:
    reserved headers, header values that are not printable ASCII, and a target with spaces or
    control characters (a ``{{name}}`` value holding a newline, say)."""
    for name, value in request.headers:
        if name.lower() in RESERVED_HEADERS:
            raise P44UsageError(
                f"The header {name} is set by p44_magic itself; remove it from the request.",
                hint="The token goes in Authorization by itself (log in with %p44_login).",
            )
        if not isinstance(value, str) or not _HEADER_VALUE.fullmatch(value):
            bad = next((c for c in str(value) if not _HEADER_VALUE.fullmatch(c)), "?")
            raise P44UsageError(
                f"The value of header {name} holds {bad!r}, which cannot be sent in a header "
                "(header values are printable ASCII).",
                hint="Percent-encode it, or send it in the body instead.",
            )
    _check_unfilled(request.target)
    bad = _TARGET_BAD.search(request.target)
    if bad:
        raise P44UsageError(
            f"The path holds {bad.group()!r} (a space or control character), which cannot be "
            "sent in a URL.",
            hint="Check the {{name}} values used in the path; write spaces as %20.",
        )


def _check_unfilled(target: str) -> None:
    """``{sid}`` (the catalogue's spelling) or ``$sid`` (a shell's) in the path is a value the
    user meant to fill in: refused with the ``{{sid}}`` that does it, never sent as written."""
    path = target.partition("?")[0]
    single = _SINGLE_BRACES.search(target) or _DOLLAR.search(path)
    if single is None:
        return
    name = single.group(1)
    written = single.group(0)
    what = "the catalogue's name for a value" if written.startswith("{") else "not filled in"
    raise P44UsageError(
        f"The path holds {written}, {what}, not a value.",
        hint=f"Write {{{{{name}}}}} to take it from a notebook variable {name}, or put the "
        "id itself in the path.",
    )


def _method(word: str, line: int | None = None) -> str:
    method = word.upper()
    if method not in METHODS:
        where = f"Line {line}: " if line else ""
        raise P44UsageError(
            f"{where}{word!r} is not an HTTP method.", hint=f"Use one of {', '.join(METHODS)}."
        )
    return method


def _target(target: str) -> str:
    if not target.startswith(("/", "http://", "https://", "{{")):
        target = "/" + target
    if any(ch.isspace() for ch in PLACEHOLDER.sub("", target)):
        raise P44UsageError("A path cannot contain spaces: write them as %20.")
    return target


def _is_comment(line: str) -> bool:
    stripped = line.lstrip()
    return stripped.startswith("#") and not stripped.startswith("###") or stripped.startswith("//")


def is_skippable(line: str) -> bool:
    """Blank or a comment: a line before the request line that carries nothing."""
    return not line.strip() or _is_comment(line)


def request_of(
    method: str,
    path: str,
    params: Mapping[str, Any] | None = None,
    json_body: Any = None,
    headers: Mapping[str, str] | None = None,
    content: str | bytes | None = None,
) -> HttpRequest:
    """The ``HttpRequest`` for the Python API's loose arguments."""
    target = path
    if params:
        # QueryParams keep repeated parameters already in the path; the path itself is kept as
        # written (a {{name}} in it stays a placeholder, not %7B%7Bname%7D%7D).
        where, _, query = path.partition("?")
        merged = httpx.QueryParams(query).merge({k: str(v) for k, v in params.items()})
        target = f"{where}?{merged}"
    pairs = list((headers or {}).items())
    if json_body is not None:
        content = json_of(json_body, "json=")  # numpy/pandas values and timestamps too
        if not any(key.lower() == "content-type" for key, _ in pairs):
            pairs.insert(0, ("Content-Type", "application/json"))
    return HttpRequest(method.upper(), target, tuple(pairs), content)


def encoded_body(body: str | bytes | None) -> bytes | None:
    """The body as sent: text as UTF-8; a character that cannot be is a usage error."""
    if not isinstance(body, str):
        return body
    try:
        return body.encode("utf-8")
    except UnicodeEncodeError as error:
        raise P44UsageError(
            f"The request body is not valid UTF-8 text (at character {error.start}).",
            hint="Remove or replace that character; JSON bodies are sent as UTF-8.",
        ) from None
