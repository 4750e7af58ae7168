"""What comes back from a request: the kept ``Exchange``, answer decoding, header masking, and
the ``Result`` (value, exchange, notes for the user) that the client hands to its callers."""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import httpx
import msgspec

from .errors import P44Error, server_text
from .frames import NO_PRESET, Preset
from .gc_pause import gc_paused
from .scrub import MASK, scrub, scrub_json

_JSON_START = re.compile(rb"\s*[\[{]")  # matched in place: no copy of a large body
_JSON = msgspec.json.Decoder()  # fastest, and leanest in memory, of the JSON parsers measured
_UNREAD = object()
DOWNLOAD_PROGRESS_BYTES = 4_000_000  # smaller answers arrive too fast to need a bar
SIZED_READ_BYTES = 1_000_000  # larger answers of known length are read into one buffer
MB = 1 << 20
INFO_ITEMS_SHOWN = 5  # infoMessages shown as notes; the rest are counted
MAX_INFO_ITEMS_READ = 1_000  # infoMessages looked at, at most
HEADER_VALUE_LIMIT = 1_000  # characters of a response header value kept in an Exchange
HEADERS_KEPT = 100  # response headers kept in an Exchange
KEPT_BODY_LIMIT = MB  # an answer up to 1 MB is kept whole in its Exchange
KEPT_EXCERPT = 64 * 1024  # of a larger one, its first 64 KB


@dataclass
class Exchange:
    """The last request and its answer, for inspection; ``Authorization`` is masked.

    ``body`` is parsed from the kept raw answer when first read, so a large answer is not held
    twice (as bytes and as Python objects) after its DataFrame is built.
    """

    method: str
    url: str
    request_headers: dict[str, str]
    request_body: str | None
    status_code: int | None = None
    response_headers: dict[str, str] = field(default_factory=dict)
    elapsed: float | None = None
    error: str | None = None
    attempts: int = 0  # times the request was sent (1 + its retries)
    session: str | None = None  # the notebook session it was sent on (set by the magics)
    from_cache: bool = False  # answered from the cache: nothing was sent
    answer_bytes: int | None = None  # the whole answer's size; more than content when cut
    fetched_at: datetime | None = None  # when the answer was fetched from the API (UTC)
    content: bytes = field(default=b"", repr=False)
    _body: Any = field(default=_UNREAD, repr=False)

    @property
    def truncated(self) -> bool:
        """Whether only the answer's first 64 KB are kept (it was over 1 MB)."""
        return self.answer_bytes is not None and self.answer_bytes > len(self.content)

    @property
    def body(self) -> Any:
        """The answer: JSON as Python objects, text when not JSON, None when empty; for an
        answer over 1 MB, the text of its first 64 KB (:attr:`truncated`)."""
        if self._body is _UNREAD:
            content_type = self.response_headers.get("content-type", "")
            # An error answer's content is kept scrubbed already (record_answer); scrubbed again
            # once decoded, since JSON escapes (\/, \uXXXX) hide a credential from the text.
            body = decode_content(self.status_code or 0, content_type, self.content)
            self._body = scrub_json(body) if (self.status_code or 0) >= 400 else body
        return self._body

    @classmethod
    def of_request(cls, request: httpx.Request, content: bytes | None, **answer: Any) -> Exchange:
        """The exchange of a request about to be sent (or answered): its headers masked, its
        body as text; ``answer`` fields (status, headers, …) when it already has one."""
        return cls(
            method=request.method,
            url=str(request.url),
            request_headers=masked_headers(request.headers),
            request_body=content.decode("utf-8", "replace") if content else None,
            **answer,
        )

    def to_http(self) -> str:
        """This request as ``.http`` text that REST Client, JetBrains and httpyac run:
        ``{{host}}`` for the base URL, ``{{$auth.token("p44")}}`` for the token (never the
        token itself)."""
        from .http_export import SentRequest, request_text

        headers = tuple(self.request_headers.items())
        return request_text(SentRequest(self.method, self.url, headers, self.request_body))

    def __repr__(self) -> str:
        status = self.status_code if self.status_code is not None else "no answer"
        return f"<Exchange {self.method} {self.url} → {status}>"


@dataclass
class Result:
    """One call's outcome: the value for the user, the call's own last exchange, and every
    note to show."""

    value: Any
    exchange: Exchange | None = None
    notes: list[str] = field(default_factory=list)
    answer: Any = field(default=None, repr=False)  # the parsed answer (pages joined), if any


@dataclass(frozen=True)
class Wanted:
    """What a call returns: the response, the parsed answer, or a DataFrame (and how)."""

    kind: Literal["response", "answer", "frame"] = "frame"
    all_pages: bool = False
    max_pages: int | None = None
    record_path: str | None = None
    meta: tuple[str, ...] = ()
    presets: bool = True
    parse_dates: bool = True
    preset: Preset = NO_PRESET  # what of record_path / meta came from the catalogue
    json_required: bool = True  # False (--raw): an answer that is not JSON comes back as text
    frames: str | None = None  # "pandas" or "polars"; None: the session's frames setting


def record_answer(exchange: Exchange, response: httpx.Response, elapsed: float) -> None:
    """Keep the answer in the exchange (the request headers as finally sent, masked)."""
    exchange.elapsed = elapsed
    exchange.status_code = response.status_code
    exchange.response_headers = {
        server_text(key, 100) or "?": server_text(value, HEADER_VALUE_LIMIT) or ""
        for key, value in list(response.headers.items())[:HEADERS_KEPT]
    }
    exchange.request_headers = masked_headers(response.request.headers)
    content = response.content
    if response.status_code >= 400:  # an error answer may echo a credential: keep it masked
        content = scrub(content.decode("utf-8", "replace")).encode("utf-8")
    exchange.answer_bytes = len(content)
    # A large answer is not kept whole after its frame is built: its first KEPT_EXCERPT bytes
    # are (as text), so _p44_last never holds hundreds of MB for nothing.
    whole = len(content) <= KEPT_BODY_LIMIT or response.status_code >= 400  # errors: read
    exchange.content = content if whole else content[:KEPT_EXCERPT]


def returned_response(response: httpx.Response) -> httpx.Response:
    """A copy of a response to hand to the caller: its request's credentials masked, and no
    history (a 401 renewal would put the token exchange there, secret and new token included)."""
    sent = response.request
    headers = list(masked_headers(sent.headers).items())
    request = httpx.Request(sent.method, sent.url, headers=headers, content=sent.content)
    # The content is decoded already: a Content-Encoding kept here would be applied twice.
    kept = [(k, v) for k, v in response.headers.multi_items() if k.lower() != "content-encoding"]
    return httpx.Response(
        response.status_code,
        headers=kept,
        content=response.content,
        request=request,
        extensions={k: v for k, v in response.extensions.items() if k != "network_stream"},
    )


def read_answer(
    response: httpx.Response,
    report: Callable[[int, int], None] | None,
    max_bytes: int,
) -> httpx.Response:
    """Read the whole answer, reporting bytes received for a large one; an answer that decodes
    to more than ``max_bytes`` (a gzip bomb, an endless stream) is cut off with a P44Error.

    A large answer of known length is read into one buffer of that size, and comes back in a
    new response that nothing else refers to: joining network reads would hold it twice at
    once, and httpx's own response stays alive in a reference cycle (with its stream) until
    the collector runs, so the frame builder could not let go of the bytes (see
    :mod:`p44_magic.frames.body`)."""
    total = int(response.headers.get("Content-Length") or 0)
    plain = "content-encoding" not in response.headers
    if plain and 0 < total <= max_bytes and total < SIZED_READ_BYTES:
        response.read()  # h11 holds the body to its Content-Length
        return response
    shown = report if report is not None and total >= DOWNLOAD_PROGRESS_BYTES else None
    if plain and 0 < total <= max_bytes:
        content = _sized_read(response, total, shown)
    else:
        content = _chunked_read(response, total, shown, max_bytes)
    headers = [(k, v) for k, v in response.headers.multi_items() if k != "content-encoding"]
    return httpx.Response(
        response.status_code,
        headers=headers,
        content=content,
        request=response.request,
        extensions={k: v for k, v in response.extensions.items() if k != "network_stream"},
    )


def _sized_read(
    response: httpx.Response, total: int, report: Callable[[int, int], None] | None
) -> bytes:
    """The body of announced length ``total``, read into one buffer (h11 refuses a body
    longer or shorter than its Content-Length)."""
    buffer = bytearray(total)
    view = memoryview(buffer)
    received = 0
    for chunk in response.iter_raw():
        end = received + len(chunk)
        view[received:end] = chunk
        received = end
        if report is not None:
            report(received, total)
    with view[:received] as done:
        content = bytes(done)
    view.release()
    return content


def _chunked_read(
    response: httpx.Response,
    total: int,
    report: Callable[[int, int], None] | None,
    max_bytes: int,
) -> bytes:
    """A body of unknown (or encoded) length, decoded chunk by chunk up to ``max_bytes``."""
    chunks = []
    received = 0
    for chunk in decoded_chunks(response):
        received += len(chunk)
        if received > max_bytes:
            raise too_large(max_bytes)
        chunks.append(chunk)
        if report is not None:
            report(response.num_bytes_downloaded, total)
    return b"".join(chunks)


def decoded_chunks(response: httpx.Response) -> Iterator[bytes]:
    """The body, decoded a megabyte at a time at most: httpx inflates each network read whole,
    so 200 KB of gzip could become 200 MB at once before any size check."""
    encoding = response.headers.get("content-encoding", "").strip().lower()
    if encoding not in ("gzip", "x-gzip", "deflate"):
        yield from response.iter_bytes()
        return
    inflate = zlib.decompressobj(zlib.MAX_WBITS | (16 if "gzip" in encoding else 0))
    try:
        for raw in response.iter_raw():
            data = inflate.decompress(raw, MB)
            while data:
                yield data
                data = inflate.decompress(inflate.unconsumed_tail, MB)
        yield inflate.flush()
    except zlib.error as error:
        raise httpx.DecodingError(f"the {encoding} body does not decode") from error


def too_large(max_bytes: int) -> P44Error:
    return P44Error(
        f"The answer is larger than {max_bytes / MB:,.0f} MB once decoded, so it was cut off.",
        hint="Narrow the request (page it, filter it), or raise %config P44Magics.max_answer_mb.",
    )


def decode_body(response: httpx.Response, strict: bool = False) -> Any:
    """JSON as Python objects; None for an empty answer; text when the answer is not JSON.

    ``strict``: a successful answer that says it is JSON but does not parse (cut off on the
    way, malformed) is a :class:`P44Error`, not text that a Run All would pass over."""
    return decode_content(
        response.status_code, response.headers.get("Content-Type", ""), response.content, strict
    )


def decode_content(status_code: int, content_type: str, raw: bytes, strict: bool = False) -> Any:
    """:func:`decode_body` for an answer already taken apart."""
    if status_code == 204 or not raw or raw.isspace():
        return None
    says_json = "json" in content_type.lower()
    if says_json or _JSON_START.match(raw) is not None:
        found = parse_json(raw)
        if not isinstance(found, NotJson):
            return found
        if strict and says_json and status_code < 400:
            raise broken_json(raw, content_type, found.problem)
    return raw.decode("utf-8", "replace")


def broken_json(raw: bytes, content_type: str, problem: str) -> P44Error:
    """The error for an answer that says it is JSON and is not: what is wrong, and what to do."""
    kind = content_type.split(";")[0].strip()[:60] or "JSON"
    return P44Error(
        f"The answer says it is JSON ({kind}) but is not valid JSON: {problem} "
        f"({len(raw):,} bytes).",
        hint="It may have been cut off on the way: run the cell again. "
        "--raw (or P44Client.answer) shows the text as it came.",
    )


@dataclass(frozen=True)
class NotJson:
    """What :func:`parse_json` gives for bytes that are not JSON: the parser's reason (such as
    "Input data was truncated"), which quotes no answer text."""

    problem: str


def parse_json(raw: bytes) -> Any:
    """Parsed JSON, or a :class:`NotJson`; an answer nested too deeply to read is a P44Error."""
    try:
        with gc_paused():
            return _JSON.decode(raw)
    except msgspec.ValidationError:
        # A number out of float range (1e400) is valid JSON; the standard parser reads it as inf.
        try:
            return json.loads(raw)
        except (ValueError, RecursionError) as error:
            return NotJson(str(error).split(":")[0])
    except msgspec.DecodeError as error:
        return NotJson(str(error).rstrip("."))
    except RecursionError:
        raise P44Error(
            "The answer nests lists or objects too deeply to read (over a thousand levels).",
            hint="This is not a project44 answer shape; check the path and the base URL.",
        ) from None


def info_notes(body: Any) -> list[str]:
    """project44's ``infoMessages`` on a successful answer, one line each: server text, so each
    is scrubbed and bounded (:func:`~p44_magic.errors.server_text`), and at most
    ``INFO_ITEMS_SHOWN`` are shown, then how many more there are."""
    if not isinstance(body, dict):
        return []
    items = body.get("infoMessages")
    if not isinstance(items, list):
        return []
    notes = []
    for item in items[:MAX_INFO_ITEMS_READ]:
        message = server_text(item.get("message")) if isinstance(item, dict) else None
        if message:
            severity = server_text(item.get("severity"), 20) or "INFO"
            notes.append(f"project44 {severity}: {message}")
    notes = list(dict.fromkeys(notes))
    if len(notes) > INFO_ITEMS_SHOWN:
        more = len(items) - INFO_ITEMS_SHOWN
        notes = notes[:INFO_ITEMS_SHOWN] + [f"project44: {more:,} more infoMessages in the answer."]
    return notes


def masked_headers(
    headers: httpx.Headers | Mapping[str, str] | Iterable[tuple[str, str]],
) -> dict[str, str]:
    """Headers with the credentials in Authorization / Proxy-Authorization masked."""
    out = {}
    for key, value in headers.items() if hasattr(headers, "items") else headers:
        if key.lower() in ("authorization", "proxy-authorization"):
            scheme = value.split(" ", 1)[0]
            value = f"{scheme} {MASK}"
        out[key] = value
    return out
