"""Requests handed back to the ``.http`` tools: what the last cell or ``%p44_run`` sent (kept by
the magics as :class:`~p44_magic.http_export.SentRequest` s), written by ``%p44_export FILE.http
[--with-env]``."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from IPython.core.magic import line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

from ..errors import P44UsageError
from ..http_export import CLIENT_HEADERS, SentRequest, write_env, write_http
from ..request import HttpRequest, substitute_request
from ..scrub import scrub
from .owned_magics import OwnedMagics

MAX_KEPT = 1_000  # requests of one cell kept for export (an --each over more keeps the first)
_KEPT_OPTIONS = (("all_pages", "--all-pages"), ("tables", "--tables"), ("raw", "--raw"))


def sent_requests(
    url_for: Any, request: HttpRequest, each: Any, args: Any, namespace: Any
) -> list[SentRequest]:
    """The requests a cell is about to send (one per value with --each), as sent."""
    if each is None:
        requests = [request]
    else:
        name, values = each
        requests = [
            substitute_request(request, {**namespace, name: value}) for value in values[:MAX_KEPT]
        ]
    options = " ".join(flag for attribute, flag in _KEPT_OPTIONS if getattr(args, attribute))
    if args.record_path:
        options += f" --path {args.record_path}"
    return [
        SentRequest(
            one.method,
            str(url_for(one.target)),
            tuple((k, scrub(v)) for k, v in one.headers if k.lower() not in CLIENT_HEADERS),
            scrub(_text(one.body)) if one.body else None,
            None,
            options.strip(),
        )
        for one in requests
    ]


def named(sent: list[SentRequest], start: int, name: str | None) -> None:
    """Name the one request sent since ``start`` (not the many of an --each)."""
    if name and len(sent) == start + 1:
        sent[start] = replace(sent[start], name=name)


def _text(body: str | bytes) -> str:
    return body if isinstance(body, str) else body.decode("utf-8", "replace")


@magics_class
class ExportMagics(OwnedMagics):
    """``%p44_export``; ``owner`` is the :class:`~p44_magic.notebook.magics.P44Magics` that keeps
    what was sent."""

    @magic_arguments()
    @argument("file", help="The .http file to write.")
    @argument("--with-env", action="store_true", help="Also write http-client.env.json beside it.")
    @argument("--conn", help="The session whose host and client id go in the env file.")
    @line_magic
    def p44_export(self, line: str) -> None:
        """Write the requests of the last cell or %p44_run as a .http file that REST Client,
        JetBrains and httpyac run: {{host}} for the base URL, {{$auth.token("p44")}} for the
        token, long bodies in files beside it; --with-env adds http-client.env.json (host and
        a p44 auth entry, without its secret)."""
        self._shortly(lambda: self._export(line))

    def _export(self, line: str) -> None:
        args = parse_argstring(self.p44_export, line)
        sent = list(self.owner.sent)
        if not sent:
            raise P44UsageError(
                "Nothing to export yet: run a %%p44 cell or %p44_run first.",
            )
        path = Path(args.file).expanduser()
        if path.suffix != ".http":
            raise P44UsageError(f"{path.name}: the file must end in .http.")
        written = write_http(path, sent, self.owner.file_fills)
        if args.with_env:
            name, client = self.owner.sessions.pick(args.conn)
            env = write_env(path.parent, name, client.base_url, client.client_id, client.auth_style)
            written.append(env)
        count = f"{len(sent)} request{'s' if len(sent) != 1 else ''}"
        print(f"Wrote {count} to {', '.join(str(p) for p in written)}")
