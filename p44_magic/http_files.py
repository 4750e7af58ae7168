"""``.http`` files as VS Code REST Client, JetBrains' HTTP Client and httpyac read them (their
common subset): requests separated by ``###`` lines, ``# @name NAME`` / ``// @name NAME``,
``@var = value`` file variables, ``{{$processEnv NAME}}``, ``{{$dotenv NAME}}``, a body read from
``< ./file``, and later requests using earlier answers (``{{NAME.response.body.$.field}}``,
``{{NAME.response.headers.Header-Name}}``). ``# @p44 --all-pages`` gives one request our
options; ``Authorization: Bearer {{$auth.token("ID")}}`` means the session's own token.

Parsing gives :class:`HttpBlock` s and reads nothing; :func:`resolved` fills one block's
file-level ``{{…}}`` as plain text (REST Client's rule), leaving notebook names for the cell's
own substitution. The text is untrusted: sizes and counts are bounded, files are read only
inside the ``.http`` file's folder, and nothing is evaluated.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .errors import P44UsageError
from .request import HttpRequest, parse_request
from .templates import json_of

MAX_FILE_BYTES = 2 << 20  # a .http file, a .env file
MAX_BODY_FILE_BYTES = 50 << 20  # a body sent from a file
MAX_REQUESTS = 1_000
MAX_VARIABLES = 1_000
_SEPARATOR = re.compile(r"^###(.*)$")
_NAME = re.compile(r"^\s*(?:#|//)\s*@name(?:\s+|\s*=\s*)(\S+)\s*$")
_OPTIONS = re.compile(r"^\s*(?:#|//)\s*@p44\b(.*)$")
# Linear patterns only: a hostile line of spaces must not make a lazy group backtrack.
_VARIABLE = re.compile(r"^[ \t]*@([A-Za-z_][\w.-]*)[ \t]*=(.*)$")
_FILE_BODY = re.compile(r"^<@?[ \t]+(\S.*)$")
_PLACEHOLDER = re.compile(r"\{\{([^{}]*)\}\}")
_AUTH_TOKEN = re.compile(r"""^\$auth\.token\(\s*["']?([^"')]*)["']?\s*\)$""")
_RESPONSE = re.compile(r"^([A-Za-z_][\w-]*)\.response\.(body|headers)(?:\.(.*))?$")
_PATH_PART = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]")


@dataclass(frozen=True)
class HttpBlock:
    """One request of a ``.http`` text: its name, our options, the variables defined before it
    (in order), where it starts, and the request with file-level ``{{…}}`` still unfilled."""

    request: HttpRequest
    line: int  # 1-based line of the request line
    name: str | None = None
    options: str = ""
    variables: tuple[tuple[str, str], ...] = ()
    body_file: str | None = None  # ``< ./body.json``: the file's path as written
    title: str = ""


def parse_http(text: str, source: str = "the cell") -> list[HttpBlock]:
    """Every request of ``text``; an error names ``source``, the line and what was expected."""
    if len(text.encode("utf-8", "replace")) > MAX_FILE_BYTES:
        raise P44UsageError(f"{source} is larger than {MAX_FILE_BYTES >> 20} MB: not a .http file.")
    lines = text.replace("\r\n", "\n").split("\n")
    blocks: list[HttpBlock] = []
    start, title, pending = 0, "", ()
    for number, line in enumerate([*lines, "###"]):
        found = _SEPARATOR.match(line)
        if found is None:
            continue
        variables, block = _block(lines[start:number], start, source, title.strip())
        pending += variables  # variables before a request (or alone) are the next request's
        if block is not None:
            blocks.append(replace(block, variables=pending))
            pending = ()
            if len(blocks) > MAX_REQUESTS:
                raise P44UsageError(f"{source} holds more than {MAX_REQUESTS} requests.")
        start, title = number + 1, found.group(1)
    if not blocks:
        raise P44UsageError(f"{source} holds no request.", hint="Write the method and path first.")
    return blocks


def is_several(text: str) -> bool:
    """Whether a cell uses the file form (``###``, ``@name``, ``@var`` or ``< file``)."""
    return any(
        _SEPARATOR.match(line) or _NAME.match(line) or _VARIABLE.match(line)
        for line in text.splitlines()
    )


def _block(
    lines: list[str], offset: int, source: str, title: str
) -> tuple[tuple[tuple[str, str], ...], HttpBlock | None]:
    """One block's variables and request (None for a block of comments and variables only)."""
    name, options, variables = None, "", []
    for index, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            continue
        if found := _NAME.match(line):
            name = _checked_name(found.group(1), source, offset + index + 1)
        elif found := _OPTIONS.match(line):
            options = found.group(1).strip()
        elif found := _VARIABLE.match(line):
            variables.append((found.group(1), found.group(2).strip()))
            if len(variables) > MAX_VARIABLES:
                raise P44UsageError(f"{source} defines more than {MAX_VARIABLES} variables.")
        elif not stripped.startswith(("#", "//")):
            request, body_file = _request(lines[index:], source, offset + index)
            line = offset + index + 1
            return tuple(variables), HttpBlock(request, line, name, options, (), body_file, title)
    return tuple(variables), None


def _request(lines: list[str], source: str, offset: int) -> tuple[HttpRequest, str | None]:
    try:
        request = parse_request("\n".join(lines))
    except P44UsageError as error:
        message = re.sub(
            r"^Line (\d+)",
            lambda found: f"{source}, line {int(found.group(1)) + offset}",
            error.message,
        )
        if message == error.message:
            message = f"{source}, line {offset + 1}: {error.message}"
        raise P44UsageError(message, hint=error.hint) from None
    body = request.body if isinstance(request.body, str) else None
    found = _FILE_BODY.match(body.strip()) if body and "\n" not in body.strip() else None
    if found is not None:
        return replace(request, body=None), found.group(1).rstrip()
    return request, None


def _checked_name(name: str, source: str, line: int) -> str:
    if not name.isidentifier():
        raise P44UsageError(
            f"{source}, line {line}: @name {name!r} is not a variable name (letters, digits, _)."
        )
    return name


# -- filling a block ---------------------------------------------------------------------------


@dataclass
class FileContext:
    """What a block's file-level ``{{…}}`` are filled from: file and environment variables, the
    answers of earlier named requests, the folder of the file (body files, ``.env``) and the
    session's base URL (``{{host}}``)."""

    folder: Path
    source: str = "the cell"
    variables: dict[str, str] = field(default_factory=dict)
    environment: frozenset[str] = frozenset()  # which variables came from an env file
    answers: dict[str, Any] = field(default_factory=dict)  # NAME → Exchange-like
    host: str | None = None
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    #: value → the {{…}} it came from, for values read from the environment, .env or an env
    #: file: written back as the {{…}} by %p44_export, never as the value.
    filled: dict[str, str] = field(default_factory=dict)
    _dotenv: dict[str, str] | None = None

    def define(self, block: HttpBlock) -> None:
        """The block's ``@var`` lines, each filled with the variables before it."""
        for name, value in block.variables:
            self.variables[name] = self.fill(value, block.line)

    def fill(self, text: str, line: int) -> str:
        """``text`` with every file-level ``{{…}}`` filled; notebook names stay."""
        return _PLACEHOLDER.sub(lambda found: self._value(found, line), text)

    def _value(self, found: re.Match[str], line: int) -> str:
        value = self._lookup(found, line)
        expression = found.group(1).strip()
        if expression.startswith(("$processEnv ", "$dotenv ")) or expression in self.environment:
            if len(value) >= 4:
                self.filled[value] = f"{{{{{expression}}}}}"
        return value

    def _lookup(self, found: re.Match[str], line: int) -> str:
        expression = found.group(1).strip()
        if expression in self.variables:
            return self.variables[expression]
        if expression == "host" and self.host is not None:
            return self.host
        if expression.startswith("$processEnv "):
            return self._environment(expression.split(None, 1)[1], line)
        if expression.startswith("$dotenv "):
            return self._from_dotenv(expression.split(None, 1)[1], line)
        response = _RESPONSE.match(expression)
        if response is not None and response.group(1) in self.answers:
            return self._answer_part(response, line)
        return found.group(0)

    def _environment(self, name: str, line: int) -> str:
        name = name.strip().lstrip("%")
        if name not in self.environ:
            raise P44UsageError(
                f"{self.source}, line {line}: the environment variable {name} is not set."
            )
        return self.environ[name]

    def _from_dotenv(self, name: str, line: int) -> str:
        if self._dotenv is None:
            self._dotenv = read_dotenv(self.folder / ".env")
        name = name.strip()
        if name not in self._dotenv:
            raise P44UsageError(
                f"{self.source}, line {line}: {name} is not in {self.folder / '.env'}."
            )
        return self._dotenv[name]

    def _answer_part(self, found: re.Match[str], line: int) -> str:
        exchange = self.answers[found.group(1)]
        where = f"{self.source}, line {line}: {{{{{found.group(0)}}}}}"
        if found.group(2) == "headers":
            wanted = (found.group(3) or "").lower()
            headers = {k.lower(): v for k, v in (exchange.response_headers or {}).items()}
            if wanted not in headers:
                raise P44UsageError(f"{where}: the answer has no header {found.group(3)!r}.")
            return headers[wanted]
        return _text(json_path(exchange.body, found.group(3) or "$", where))

    def body_of(self, block: HttpBlock) -> bytes:
        """The bytes of a ``< ./file`` body, read only inside the folder (see the module)."""
        assert block.body_file is not None
        path = (self.folder / self.fill(block.body_file, block.line)).resolve()
        where = f"{self.source}, line {block.line}"
        if not path.is_relative_to(self.folder.resolve()):
            raise P44UsageError(
                f"{where}: the body file {block.body_file} is outside {self.folder}; p44_magic "
                "reads body files only in the .http file's folder and below it."
            )
        if not path.is_file():
            raise P44UsageError(f"{where}: no body file {block.body_file} in {self.folder}.")
        if path.stat().st_size > MAX_BODY_FILE_BYTES:
            raise P44UsageError(f"{where}: the body file is larger than 50 MB.")
        return path.read_bytes()


def resolved(block: HttpBlock, context: FileContext) -> HttpRequest:
    """The block's request with file-level ``{{…}}`` filled, a file body read, and the
    session's token meant by ``Authorization: Bearer {{$auth.token(…)}}`` (the header dropped:
    the session sends its own token)."""
    context.define(block)
    request = block.request
    headers = []
    for key, value in request.headers:
        if key.lower() == "authorization" and _is_managed_token(value):
            continue
        headers.append((key, context.fill(value, block.line)))
    body: str | bytes | None = request.body
    if block.body_file is not None:
        body = context.body_of(block)
    elif isinstance(body, str):
        body = context.fill(body, block.line)
    target = context.fill(request.target, block.line)
    return HttpRequest(request.method, target, tuple(headers), body)


def _is_managed_token(value: str) -> bool:
    found = _PLACEHOLDER.search(value)
    return found is not None and _AUTH_TOKEN.match(found.group(1).strip()) is not None


def json_path(value: Any, path: str, where: str) -> Any:
    """``$``, ``$.a.b[0]`` (dotted names and ``[index]``) in a parsed answer."""
    path = path.strip()
    if path in ("$", "*", ""):
        return value
    if not path.startswith("$"):
        raise P44UsageError(f"{where}: write the answer's part as $.field (a JSONPath).")
    position = 1
    for found in _PATH_PART.finditer(path, 1):
        if found.start() != position:
            break
        position = found.end()
        key, index = found.group(1), found.group(2)
        if key is not None and isinstance(value, dict) and key in value:
            value = value[key]
        elif (
            index is not None
            and isinstance(value, list)
            and len(index) < 10
            and int(index) < len(value)
        ):
            value = value[int(index)]
        else:
            raise P44UsageError(f"{where}: the answer has nothing at {path[:position]}.")
    if position != len(path):
        raise P44UsageError(f"{where}: {path!r} is not a path of dotted names and [index].")
    return value


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return json_of(value, "a response value")


def read_dotenv(path: Path) -> dict[str, str]:
    """``NAME=value`` lines of a ``.env`` file (``export``, quotes and comments as dotenv
    writes them); a missing file is no variables."""
    if not path.is_file():
        return {}
    if path.stat().st_size > MAX_FILE_BYTES:
        raise P44UsageError(f"{path} is larger than {MAX_FILE_BYTES >> 20} MB: not a .env file.")
    values: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, _, value = line.removeprefix("export ").partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[name.strip()] = value
    return values


Filler = Callable[[HttpBlock], HttpRequest]
