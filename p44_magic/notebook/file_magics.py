"""``.http`` files in the notebook: ``%p44_run FILE.http``, a ``%%p44`` cell of several requests,
and the file-level ``{{…}}`` (``{{host}}``, ``{{$processEnv …}}``, ``{{$dotenv …}}``,
``{{$auth.token(…)}}``) in any cell. The grammar is :mod:`p44_magic.http_files`; each request
runs as a ``%%p44`` cell would (:meth:`P44Magics._run <.magics.P44Magics._run>`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from IPython.core.magic import line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

from ..errors import P44Error, P44UsageError
from ..http_files import MAX_FILE_BYTES, FileContext, HttpBlock, parse_http, resolved
from ..request import HttpRequest
from .cache_magics import with_cache_age
from .cells import check_result_name
from .export_magics import named
from .owned_magics import OwnedMagics

#: Options a request's ``# @p44`` line may give (the others belong to the cell or the run).
PER_REQUEST = "--each --all-pages --max-pages --tables --path --meta --raw --no-presets --strict"


def cell_context(
    magics: Any, conn: str | None, folder: Path | None = None, source: str = "the cell"
):
    """What a cell's (or file's) file-level ``{{…}}`` are filled from: the session's base URL
    and environment-file variables, ``.env`` beside the notebook (or the file)."""
    client = magics.sessions.get(conn) if conn else magics.client
    variables = dict(getattr(client, "file_variables", {}) or {})
    context = FileContext(
        folder=folder or Path.cwd(),
        source=source,
        variables=variables,
        environment=frozenset(variables),
        host=client.base_url if client is not None else None,
    )
    context.filled = magics.file_fills  # one record per notebook, for %p44_export
    return context


def filled(magics: Any, request: HttpRequest, conn: str | None) -> HttpRequest:
    """One cell's request with its file-level ``{{…}}`` filled."""
    if "{{" not in request.target + str(request.headers) + str(request.body or ""):
        return request
    return resolved(HttpBlock(request, 1), cell_context(magics, conn))


def run_blocks(
    magics: Any,
    blocks: list[HttpBlock],
    args: Any,
    context: FileContext,
    names: list[str] | None = None,
    *,
    show_last: bool = False,
) -> tuple[Any, str]:
    """Run the blocks in order (only those ``names`` names, if given), each as a cell: each
    ``# @name`` becomes a variable and each request prints its line, but the last unless
    ``show_last`` (a cell shows it under its own NAME). The last value and provenance."""
    chosen = [block for block in blocks if names is None or block.name in names]
    _check_names(blocks, names, context)
    result: tuple[Any, str] = (None, "")
    for number, block in enumerate(chosen, 1):
        block_args = _args_of(magics, block, args, context)
        start = len(magics.sent)
        try:
            result = _one(magics, block, block_args, context)
            named(magics.sent, start, block.name)
        except P44Error as error:
            raise _in_file(error, block, context) from None
        if block_args.dry_run:
            continue
        if number < len(chosen) or show_last:
            label = block.name or f"request {number} (line {block.line})"
            magics.shown(label, result[0], result[1], block_args, bind=bool(block.name))
        elif block.name:  # the cell's line names it; the variable is set all the same
            magics.shell.user_ns[block.name] = getattr(result[0], "frame", result[0])
    return result


def _check_names(blocks: list[HttpBlock], names: list[str] | None, context: FileContext) -> None:
    missing = sorted(set(names or ()) - {block.name for block in blocks})
    if missing:
        known = ", ".join(block.name for block in blocks if block.name) or "none"
        raise P44UsageError(
            f"{context.source} has no request named {missing[0]}; its names: {known}."
        )


def _one(magics: Any, block: HttpBlock, args: Any, context: FileContext) -> tuple[Any, str]:
    if args.dry_run:
        print(f"### {block.name or f'line {block.line}'}")

    def keep(exchange: Any, answer: Any) -> None:
        if block.name and exchange is not None:
            context.answers[block.name] = Answered(exchange, answer)

    return magics._run(resolved(block, context), args, keep)


class Answered:
    """An earlier request's answer as ``{{NAME.response…}}`` reads it: the parsed answer
    (every page joined for ``--all-pages``) and the response headers."""

    def __init__(self, exchange: Any, answer: Any) -> None:
        self.response_headers = exchange.response_headers
        self._answer, self._exchange = answer, exchange

    @property
    def body(self) -> Any:
        return self._answer if self._answer is not None else self._exchange.body


def _args_of(magics: Any, block: HttpBlock, args: Any, context: FileContext) -> Any:
    """The cell's options with the block's ``# @p44`` options over them."""
    if not block.options:
        return args
    try:
        own = parse_argstring(magics.p44, with_cache_age(block.options))
    except Exception as error:  # argparse's UsageError: say where
        raise P44UsageError(
            f"{context.source}, line {block.line - 1 if block.line > 1 else 1}: # @p44 "
            f"{block.options!r}: {error}",
            hint=f"A request's options: {PER_REQUEST}, --cache, --refresh, --offline.",
        ) from None
    if own.words or own.conn or own.save_as:
        raise P44UsageError(
            f"{context.source}: # @p44 before line {block.line} takes options only "
            "(no NAME, --conn or --save-as: those belong to the cell or the run)."
        )
    merged = vars(args).copy()
    for key, value in vars(own).items():
        if value not in (None, False, [], ()):
            merged[key] = value
    return type(args)(**merged)


def _in_file(error: P44Error, block: HttpBlock, context: FileContext) -> P44Error:
    """The error, saying which request of which file failed."""
    what = f"request {block.name!r}" if block.name else "the request"
    message = error.message
    if not message.startswith(context.source):
        message = f"{context.source}, {what} at line {block.line}: {message}"
    failed = P44Error(message, hint=error.hint)
    failed.failures = error.failures
    return failed


@magics_class
class FileMagics(OwnedMagics):
    """``%p44_run``; ``owner`` is the :class:`~p44_magic.notebook.magics.P44Magics` whose
    sessions and request runner it uses."""

    @magic_arguments()
    @argument("file", help="The .http file.")
    @argument("--name", action="append", help="Run only the request NAME (repeatable).")
    @argument("--conn", help="Run the requests on session NAME.")
    @argument("--dry-run", action="store_true", help="Show each request; send nothing.")
    @line_magic
    def p44_run(self, line: str) -> None:
        """Run the requests of a .http file in order (or only the named ones): each
        ``# @name`` becomes a variable, each request's line is printed; ``# @p44 --all-pages``
        before a request gives it options."""
        self._shortly(lambda: self._run(line))

    def _run(self, line: str) -> None:
        args = parse_argstring(self.p44_run, line)
        path = Path(args.file).expanduser()
        if not path.is_file():
            raise P44UsageError(f"No .http file at {path}.")
        if path.stat().st_size > MAX_FILE_BYTES:
            raise P44UsageError(f"{path.name} is larger than {MAX_FILE_BYTES >> 20} MB.")
        blocks = parse_http(path.read_text(encoding="utf-8", errors="replace"), path.name)
        for block in blocks:
            if block.name:
                check_result_name(block.name, self.shell.user_ns_hidden)
        cell_args = parse_argstring(self.owner.p44, "")
        cell_args.conn, cell_args.dry_run = args.conn, args.dry_run
        self.owner.file_fills = {}
        context = cell_context(self.owner, args.conn, path.parent.resolve(), path.name)
        _check_names(blocks, args.name, context)
        self.owner.sent = []  # this run's, for %p44_export
        run_blocks(self.owner, blocks, cell_args, context, args.name, show_last=True)
