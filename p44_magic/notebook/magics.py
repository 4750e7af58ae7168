"""P44Magics: parse the magic line/cell, call the client, display. Nothing else lives here:
where login credentials come from is :mod:`.login`, what a request cell does is :mod:`.cells`,
the one short error is :mod:`.short_errors`, the settings are :mod:`p44_magic.settings`."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from IPython.core.magic import Magics, line_cell_magic, line_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from traitlets import TraitError, validate

from .. import settings
from ..auth import AUTH_STYLES
from ..bulk import FAILURES_NAME, PARTIAL_NAME
from ..call_state import Call, Progress
from ..client import P44Client
from ..endpoints import endpoints_frame
from ..errors import P44Error, P44Interrupted, P44UsageError
from ..frames import as_frames, tracking_tables
from ..http_files import is_several, parse_http
from ..request import HttpRequest, parse_request, parse_request_line, substitute_request
from ..sessions import DEFAULT, Sessions, check_name, masked_id
from . import cells
from .background import in_background, start_job
from .cache_magics import cell_cache, provenance, replay_login, with_cache_age
from .cells import LAST_EXCHANGE_NAME, Each
from .config_traits import ConfigRefused, setting_traits
from .export_magics import named, sent_requests
from .file_magics import cell_context, filled, run_blocks
from .login import (
    LoginPlace,
    already_logged_in,
    check_env_name,
    env_file_login,
    logged_in_client,
    login_place,
    prompt_for,
)
from .login_form import show_form
from .progress_bars import display_progress, end_line
from .result_lines import ResultLines
from .short_errors import shortly


@magics_class
class P44Magics(ResultLines, Magics):
    """``%p44_login``, ``%p44_logout``, ``%p44_status``, ``%p44_endpoints`` and ``%p44`` /
    ``%%p44``. Options set with ``%config P44Magics.<name> = value`` (see
    :data:`p44_magic.settings.SETTINGS`)."""

    locals().update(setting_traits())  # the traits, from the one declaration of each setting

    @validate(*settings.BY_NAME)
    def _check_setting(self, proposal: Any) -> Any:
        """A bad value is refused where it is set: %config prints the short message and keeps
        the old value."""
        name = proposal["trait"].name
        try:
            return settings.checked(name, proposal["value"], "P44Magics.")
        except P44Error as error:
            raise TraitError(str(error)) from None

    def update_config(self, config: Any) -> None:
        """``%config``: a refused value keeps the old one and fails the cell (IPython's %config
        only logs a TraitError, so Run All and papermill would go on with the old value)."""
        try:
            super().update_config(config)
        except TraitError as error:
            raise ConfigRefused(str(error)) from None

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        super().__init__(shell=shell, **kwargs)
        self.sessions = Sessions()  # the named sessions of this notebook
        self.sent: list[Any] = []  # what the last cell or %p44_run sent, for %p44_export
        self.file_fills: dict[str, str] = {}  # environment values → their {{…}}, for export
        self.login_form: Any = None  # the last form shown, for inspection
        self._file_variables: dict[str, dict[str, str]] = {}  # --env-file's, until the login
        self._applied: tuple[int, dict[str, Any]] | None = None  # (client, %config it has)
        self.background: dict[int, Any] = {}  # job id → its cell (see .background)
        self.front_end: bool | None = None  # a widget front end shows bars (found once)

    @property
    def client(self) -> P44Client | None:
        """The session a cell without --conn runs on (the only one, else the current one)."""
        try:
            return self.sessions.pick()[1]
        except P44UsageError:
            return None

    def _shows_widgets(self) -> bool:
        return getattr(self.shell, "kernel", None) is not None

    def _shortly(self, run: Any) -> Any:
        return shortly(run, self._shows_widgets())

    def _session_settings(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in settings.SESSION_SETTINGS}

    # -- login ------------------------------------------------------------------------------

    @no_var_expand
    @magic_arguments()
    @argument(
        "--env",
        help="na (default), eu, sandbox or demo (built-in local demo API); with --env-file: "
        "the file's environment.",
    )
    @argument("--env-file", metavar="PATH", help="http-client.env.json (or .vscode/settings.json).")
    @argument("--auth-id", metavar="ID", help="With --env-file: its Security.Auth entry.")
    @argument("--base-url", help="Base URL instead of --env (https://, or http:// on loopback).")
    @argument("--client-id", help="Client application id (else $P44_CLIENT_ID).")
    @argument("--client-secret", help="$name of a variable holding the secret.")
    @argument("--auth", choices=AUTH_STYLES, help="Send credentials by HTTP Basic or form.")
    @argument("--form", action="store_true", help="Always show the login form.")
    @argument("--prompt", action="store_true", help="Ask with prompts (getpass), not a form.")
    @argument("--name", help="The session's name (an identifier; default: default).")
    @argument("--tenant", type=int, help="With --env demo: the demo's tenant 1 (default) or 2.")
    @argument("--replay", metavar="FILE", help="A read-only session answered from FILE.p44replay.")
    @line_magic
    def p44_login(self, line: str) -> None:
        """Log in to project44: fetch a token now and keep it for this session."""
        args = self._shortly(lambda: parse_argstring(self.p44_login, line))
        line_out = self._shortly(lambda: self._login_from(args))
        if line_out:
            print(line_out)

    def _login_from(self, args: Any) -> str | None:
        """Credentials from the options, the environment, the form or prompts; log in."""
        name = check_name(args.name or DEFAULT)
        if args.replay:
            return replay_login(self.sessions, args.replay, name, self._session_settings())
        from_file = None
        if args.env_file:
            args, from_file = env_file_login(args)
            self._file_variables[name] = from_file.variables
        check_env_name(args.env)
        place = login_place(args, self.shell.user_ns, self.env, self.base_url, name)
        if from_file is not None and from_file.secret is not None and not args.client_secret:
            place.secret = from_file.secret
        existing = self.sessions.get(name)
        if not (args.form or args.prompt) and existing is not None:
            changes = (args.env, args.base_url, args.client_id, args.client_secret, args.auth)
            changes += (args.tenant,)
            held = already_logged_in(existing, place, args.auth or self.auth, not any(changes))
            if held is not None:
                self.sessions.current = name
                return held
        if args.form or (place.must_ask and not args.prompt and self._shows_widgets()):
            show_form(self, place.client_id or "", place.env, args.auth, place.base_url, name)
            return None
        if place.must_ask:
            place.client_id, place.secret = prompt_for(place.client_id, place.env, place.base_url)
        return self._login(place, args.auth, name)

    def _login(self, place: LoginPlace, auth: str | None, name: str = DEFAULT) -> str:
        """Build a client, fetch its first token, keep it as session ``name``; the line."""
        client, line = logged_in_client(place, auth or self.auth, self._session_settings())
        client.file_variables = self._file_variables.pop(name, {})
        replaced = self.sessions.open(name, client)
        if name != DEFAULT:
            line = line.replace("for this session.", f"for session {name}.")
        if replaced is not None:
            line += (
                f"\nSession {name} replaced: it was {replaced.base_url} as client "
                f"{masked_id(replaced.client_id)} (its token and secret are forgotten)."
            )
        return line

    @line_magic
    def p44_endpoints(self, line: str = "") -> Any:
        """The project44 endpoints p44_magic knows: %p44_endpoints [word] filters them."""
        return endpoints_frame(line.strip() or None)

    # -- requests ---------------------------------------------------------------------------

    @no_var_expand
    @magic_arguments()
    @argument("words", nargs="*", help="Cell: [NAME] to store the result. Line: [METHOD] PATH.")
    @argument("--path", dest="record_path", help="The list that holds the rows (dotted).")
    @argument("--meta", action="append", help="Parent field carried onto every row (repeatable).")
    @argument("--raw", action="store_true", help="Return the parsed JSON, not a DataFrame.")
    @argument("--all-pages", action="store_true", help="Fetch and join every page of a search.")
    @argument("--max-pages", type=int, help="With --all-pages: fetch at most N pages.")
    @argument("--tables", action="store_true", help="A tracking answer as linked tables.")
    @argument("--no-presets", action="store_true", help="Ignore the catalogue's row presets.")
    @argument("--polars", action="store_true", help="A polars DataFrame (p44_magic[polars]).")
    @argument("--bg", action="store_true", help="Fetch in the background: NAME is a job at once.")
    @argument(
        "--each",
        metavar="NAME=VARIABLE",
        help="One request per value of the list VARIABLE, {{NAME}} replaced by each.",
    )
    @argument("--strict", action="store_true", help="With --each: any failure fails the cell.")
    @argument(
        "--save-as",
        metavar="FILE",
        help="Also write the result to FILE (.xlsx, .csv or .parquet) as Excel and pandas read it.",
    )
    @argument("--conn", help="Run this cell on session NAME (the current one stays current).")
    @argument(
        "--cache",
        action="store_true",
        help="Answer from the cache when fresh (--cache=15m: the age limit); keep what is fetched.",
    )
    @argument("--cache-age", help=argparse.SUPPRESS)  # --cache=AGE, rewritten
    @argument("--refresh", action="store_true", help="Fetch, and overwrite the cached answer.")
    @argument("--offline", action="store_true", help="Answer only from the cache; send nothing.")
    @argument("--snapshot", action="store_true", help="Fetch, and keep a time-stamped copy.")
    @argument("--dry-run", action="store_true", help="Show the request; send nothing.")
    @argument("-h", "--help", action="store_true", help="Show this help and examples.")
    @line_cell_magic
    def p44(self, line: str, cell: str | None = None) -> Any:
        """Send a project44 API request; the JSON answer comes back as a pandas DataFrame.

        Line form:  df = %p44 [options] [METHOD] PATH
        Cell form:  %%p44 [NAME] [options]      (NAME stores the result and prints its size)
                    METHOD PATH                 (lines starting with ? or & continue the query)
                    Header: value
                                                (a blank line, then the body, sent as written)
                    {"json": "body"}
        {{name}} takes a value from the notebook; lines starting with # are comments.
        Known endpoints pick their rows by themselves (%p44_endpoints lists them); --path and
        --meta always win.

        Examples:
            positions = %p44 GET /api/v4/shipments/{{sid}}/positionhistory
            tables = %p44 --tables GET /api/v4/shipments/{{sid}}/tracking/history
            quotes = %p44 --dry-run POST /api/v4/ltl/quotes/rates/query

            %%p44 orders --all-pages
            POST /api/v4/inventory/orders/search?page=1&pageSize=100
            Content-Type: application/json

            {"statusCodes": ["IN_TRANSIT"]}
        """
        args = self._shortly(lambda: parse_argstring(self.p44, with_cache_age(line)))
        if args.help:
            print(self.p44.__doc__)
            return None
        self.sent, self.file_fills = [], {}  # this cell's, for %p44_export
        name, (result, origin) = self._shortly(lambda: self._parsed_and_run(args, cell))
        named(self.sent, 0, name)
        if args.save_as and not args.dry_run:
            self._shortly(lambda: self._save(result, args.save_as))
        return self.shown(name, result, origin, args)

    def _parsed_and_run(self, args: Any, cell: str | None) -> tuple[str | None, tuple[Any, str]]:
        if cell is None:
            request = parse_request_line(args.words)
            return None, self._run(filled(self, request, args.conn), args)
        if len(args.words) > 1:
            raise P44UsageError(
                f"%%p44 takes at most one NAME on its line, got {' '.join(args.words)!r}.",
                hint="Put the request on the next line of the cell.",
            )
        name = args.words[0] if args.words else None
        if name is not None:
            cells.check_result_name(name, self.shell.user_ns_hidden)
        args.cell_name = name  # for --bg: the name its result is bound to later
        if is_several(cell) and args.bg:
            raise P44UsageError("--bg runs one request per cell; this cell holds several.")
        if is_several(cell):  # the file form: ###, @name, @var, < ./body.json
            blocks = parse_http(cell)
            last = run_blocks(self, blocks, args, cell_context(self, args.conn))
            return name or blocks[-1].name, last
        return name, self._run(filled(self, parse_request(cell), args.conn), args)

    def _logged_in(self, conn: str | None = None) -> tuple[str, P44Client]:
        """The cell's session, name and client (``--conn``, else the only or current one;
        nothing switches), with the %config values changed since its last request."""
        session, client = self.sessions.pick(conn)
        live = self._session_settings()
        if (id(client), live) != self._applied:
            client.configure(**live)
            self._applied = (id(client), live)
        return session, client

    def _run(self, request: HttpRequest, args: Any, on_answer: Any = None) -> tuple[Any, str]:
        """The cell's value, and where it came from (`` (from cache, 12 min old)`` or "");
        ``on_answer(exchange, answer)`` is given the parsed answer (for later requests)."""
        if args.dry_run and not len(self.sessions):  # a dry run sends nothing: no login needed
            where = cells.planned_base_url(self.env, self.base_url)
            return self._dry_run(lambda target: cells.url_on(target, where), request, args), ""
        session, client = self._logged_in(args.conn)
        if args.dry_run:
            return self._dry_run(client.url_for, request, args), ""
        user_ns = self.shell.user_ns
        each = cells.each_of(request, args.each, user_ns, self.max_each)
        if each is None:
            request = substitute_request(request, user_ns)
        self.sent += sent_requests(client.url_for, request, each, args, user_ns)
        if args.bg and in_background(self):
            return start_job(self, client, session, request, each, args), ""
        progress = (
            display_progress(self._shows_widgets(), pages=args.all_pages, each=bool(each))
            if self.progress
            else Progress()
        )
        call = Call(progress, cache=cell_cache(args, client))
        try:
            result = self._call(
                client, request, each, cells.wanted_of(args, self.parse_dates), call, args
            )
        finally:
            end_line()  # an error or interrupt message starts on a line of its own
            if call.exchange is not None:
                call.exchange.session = session
            user_ns[LAST_EXCHANGE_NAME] = call.exchange  # this cell's own, never another's
        for note in result.notes:
            print(note, file=sys.stderr)
        if on_answer is not None:
            on_answer(call.exchange, result.answer)
        return self._value(result.value, each is not None, args), provenance(call, each is not None)

    def _value(self, value: Any, each: bool, args: Any) -> Any:
        """What the cell gives back: --each joined, --tables as tables, or the value."""
        frames = "polars" if args.polars else self.frames
        if each:
            try:
                return cells.each_joined(
                    value, args.tables, self.parse_dates, self.timezone, frames
                )
            finally:
                self.shell.user_ns[FAILURES_NAME] = value.failures  # this run's, whatever happened
        if args.tables:
            return as_frames(tracking_tables(value, self.parse_dates, self.timezone), frames)
        return cells.shown(value, raw=args.raw)

    def _dry_run(self, url_for: Any, request: HttpRequest, args: Any) -> None:
        """The request as it would be sent (with --each: the first value's); nothing is sent."""
        user_ns = self.shell.user_ns
        each = cells.each_of(request, args.each, user_ns, self.max_each)
        if each is None:
            request = substitute_request(request, user_ns)
        print(cells.dry_run_text(url_for, request, each, user_ns, args.each))

    def _call(
        self,
        client: P44Client,
        request: HttpRequest,
        each: Each | None,
        wanted: Any,
        call: Call,
        args: Any,
    ) -> Any:
        """One call, or one per value with --each; an interrupt keeps the rows so far."""
        try:
            if each is None:
                return client.call(request, wanted, call=call)
            name, values = each
            return client.call_each(
                request,
                name,
                values,
                wanted,
                namespace=self.shell.user_ns,
                strict=args.strict,
                label=args.each,
                call=call,
            )
        except P44Error as error:
            if error.failures is not None:  # an --each run that ended early: its failures
                self.shell.user_ns[FAILURES_NAME] = error.failures
            if not isinstance(error, P44Interrupted):
                raise
            self.shell.user_ns[PARTIAL_NAME] = error.partial
            message = f"{error.message.rstrip('.')}; the rows so far are in {PARTIAL_NAME}."
        raise P44Error(message)
