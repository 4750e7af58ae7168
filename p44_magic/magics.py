"""P44Magics: parse the magic line/cell, call the client, display. Nothing else lives here."""

from __future__ import annotations

import getpass
import os
import re
import sys
from collections.abc import Callable
from typing import Any

from IPython.core.error import StdinNotImplementedError, UsageError
from IPython.core.magic import Magics, line_cell_magic, line_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring
from traitlets import Bool, Float, Int, TraitError, Unicode, validate

from . import settings
from .auth import AUTH_STYLES, Secret
from .bulk import (
    FAILURES_NAME,
    PARTIAL_NAME,
    EachResult,
    all_failed,
    check_uses,
    each_summary,
    each_values,
    parse_each,
)
from .client import P44Client, Wanted
from .endpoints import endpoints_frame
from .environments import ENVIRONMENT_NAMES, base_url_for, check_base_url
from .errors import P44Error, P44Interrupted, P44UsageError
from .magic_text import describe_request, status_text, summary
from .progress import Progress, display_progress
from .request import (
    HttpRequest,
    check_request,
    lookup,
    parse_request,
    parse_request_line,
    substitute_request,
)
from .tracking_tables import joined_tables, tracking_tables

LAST_EXCHANGE_NAME = "_p44_last"
#: %config values a logged-in client takes from the next request on.
_LIVE_SETTINGS = (
    "timeout",
    "retries",
    "max_retry_after",
    "max_concurrency",
    "max_pages",
    "max_answer_mb",
    "max_rate",
    "max_each",
    "timezone",
)
_IPYTHON_NAME = re.compile(r"_+|_i+|_i?\d+|_[iod]h|In|Out|exit|quit|get_ipython")
NO_INPUT_TEXT = (
    "Nobody can answer a prompt here (a headless run: papermill, nbconvert, nbclient?). "
    "Set P44_CLIENT_ID and P44_CLIENT_SECRET in the kernel's environment and run %p44_login."
)
_SECRET_HINT = (
    "Put the secret in a variable and pass --client-secret $name, set P44_CLIENT_SECRET, "
    "or run %p44_login without it to get the login form or a prompt."
)


@magics_class
class P44Magics(Magics):
    """``%p44_login``, ``%p44_logout``, ``%p44_status`` and ``%p44`` / ``%%p44``.

    Options set with ``%config P44Magics.<name> = value``.
    """

    env = Unicode("na", help="Default environment: na, eu, sandbox or demo.").tag(config=True)
    base_url = Unicode("", help="Default base URL (overrides env when set).").tag(config=True)
    auth = Unicode("basic", help="How the client credentials are sent: basic or form.").tag(
        config=True
    )
    timeout = Float(30.0, help="Seconds to wait for an answer (more than 0).").tag(config=True)
    retries = Int(3, help="Retries for 429 (and 5xx on idempotent requests).").tag(config=True)
    max_retry_after = Float(60.0, help="Cap on a server's Retry-After wait, seconds.").tag(
        config=True
    )
    max_concurrency = Int(8, help="Pages fetched at once by --all-pages (1 to 64).").tag(
        config=True
    )
    max_answer_mb = Float(1024.0, help="Largest answer, in MB once decoded, that is read.").tag(
        config=True
    )
    max_pages = Int(1000, help="Most pages one --all-pages fetches without --max-pages.").tag(
        config=True
    )
    parse_dates = Bool(True, help="Turn ISO 8601 timestamp columns into datetimes.").tag(
        config=True
    )
    timezone = Unicode(
        "UTC",
        allow_none=True,
        help='Time zone of datetime columns: an IANA name ("Europe/Berlin"), or None for naive '
        "UTC (which Excel takes).",
    ).tag(config=True)
    progress = Bool(True, help="Show progress while --all-pages fetches pages.").tag(config=True)
    max_rate = Float(
        0.0, help="Most requests started per second, across threads (0: no limit)."
    ).tag(config=True)
    max_each = Int(10_000, help="Most distinct values one --each sends requests for.").tag(
        config=True
    )
    login_wait = Float(
        300.0,
        help="Seconds %p44_login waits for a login through its form (Run All goes on after "
        "it); the form then closes.",
    ).tag(config=True)

    # Each trait is checked where it is declared: %config prints the short message and keeps
    # the old value.
    _checks: dict[str, Any] = {
        "env": settings.environment,
        "base_url": settings.base_url,
        "auth": settings.auth_style,
        "timeout": settings.seconds,
        "retries": settings.count,
        "max_retry_after": lambda name, value: settings.seconds(name, value, allow_zero=True),
        "max_concurrency": settings.concurrency,
        "max_pages": lambda name, value: settings.count(name, value, minimum=1),
        "max_answer_mb": settings.megabytes,
        "login_wait": settings.seconds,
        "timezone": settings.timezone,
        "max_rate": lambda name, value: settings.seconds(
            name, value, allow_zero=True, unit="per second"
        ),
        "max_each": lambda name, value: settings.count(name, value, minimum=1),
    }

    @validate(*_checks)
    def _check_setting(self, proposal: Any) -> Any:
        name = proposal["trait"].name
        try:
            return self._checks[name](f"P44Magics.{name}", proposal["value"])
        except P44Error as error:
            raise TraitError(str(error)) from None

    def __init__(self, shell: Any = None, **kwargs: Any) -> None:
        super().__init__(shell=shell, **kwargs)
        self.client: P44Client | None = None
        self.login_form: Any = None  # the last form shown, for inspection
        self._applied: tuple[int, dict[str, Any]] | None = None  # (client, %config it has)

    # -- login ------------------------------------------------------------------------------

    @no_var_expand
    @magic_arguments()
    @argument(
        "--env",
        type=str.lower,
        choices=ENVIRONMENT_NAMES,
        help="na (default), eu, sandbox or demo (built-in local demo API).",
    )
    @argument("--base-url", help="Base URL instead of --env (https://, or http:// on loopback).")
    @argument("--client-id", help="Client application id (else $P44_CLIENT_ID).")
    @argument("--client-secret", help="$name of a variable holding the secret.")
    @argument("--auth", choices=AUTH_STYLES, help="Send credentials by HTTP Basic or form.")
    @argument("--form", action="store_true", help="Always show the login form.")
    @argument("--prompt", action="store_true", help="Ask with prompts (getpass), not a form.")
    @line_magic
    def p44_login(self, line: str) -> None:
        """Log in to project44: fetch a token now and keep it for this session."""
        args = self._shortly(lambda: parse_argstring(self.p44_login, line))
        line_out = self._shortly(lambda: self._login_from(args))
        if line_out:
            print(line_out)

    def _login_from(self, args: Any) -> str | None:
        """Credentials from the options, the environment, the form or prompts; log in."""
        env = (args.env or os.environ.get("P44_ENV") or self.env).lower()
        base_url = args.base_url or os.environ.get("P44_BASE_URL") or self.base_url or None
        if args.env:
            base_url = args.base_url  # an explicit --env beats a configured base URL
        # The demo takes only credentials given on the line: real ones from the environment
        # must not be sent to it.
        from_env = os.environ if env != "demo" or base_url else {}
        client_id = args.client_id or from_env.get("P44_CLIENT_ID")
        secret = self._secret_from(args.client_secret)
        if secret is None and from_env.get("P44_CLIENT_SECRET"):
            secret = Secret(from_env["P44_CLIENT_SECRET"])
        must_ask = not (client_id and secret) and env != "demo"
        if args.form or (must_ask and not args.prompt and self._shows_widgets()):
            self._show_form(client_id or "", env, args.auth)
            return None
        if must_ask:
            client_id, secret = self._prompt(client_id, env, base_url)
        return self._login(client_id, secret, env, base_url, args.auth)

    @line_magic
    def p44_logout(self, line: str = "") -> None:
        """Forget the token and the credentials (and close a login form still open)."""
        if self.login_form is not None and not self.login_form.done:
            self.login_form.close()
        if self.client is not None:
            self.client.close()
            self.client = None
        print("Logged out: token and credentials forgotten.")

    @line_magic
    def p44_status(self, line: str = "") -> None:
        """Base URL, client id, auth style, token age, requests and token fetches."""
        if self.client is None:
            print("Not logged in. Run %p44_login.")
            return
        print(status_text(self.client.status()))

    @line_magic
    def p44_endpoints(self, line: str = "") -> Any:
        """The project44 endpoints p44_magic knows: %p44_endpoints [word] filters them."""
        return endpoints_frame(line.strip() or None)

    def _login(
        self,
        client_id: str | None,
        secret: Secret | str | None,
        env: str,
        base_url: str | None,
        auth: str | None = None,
    ) -> str:
        """Build a client, fetch its first token, keep it; return the success line."""
        if env == "custom" and not base_url:
            raise P44UsageError("Enter a base URL for a custom environment.")
        client = P44Client(
            client_id or None,
            secret or None,
            env=env,
            base_url=base_url,
            auth=auth or self.auth,
            timeout=self.timeout,
            retries=self.retries,
            max_retry_after=self.max_retry_after,
            max_concurrency=self.max_concurrency,
            max_pages=self.max_pages,
            max_answer_mb=self.max_answer_mb,
        )
        try:
            client.login()
        except P44Error:
            client.close()
            raise
        if self.client is not None:
            self.client.close()
        self.client = client
        where = client.base_url + (f" ({client.env})" if client.env != "custom" else "")
        return (
            f"Logged in to {where} as client {client.client_id} "
            f"({client.auth_style} auth): a token is held for this session."
        )

    def _secret_from(self, option: str | None) -> Secret | None:
        if option is None:
            return None
        name = option[1:] if option.startswith("$") else None
        if not name or not name.isidentifier():
            raise P44UsageError(
                "--client-secret takes $name, not the secret itself.", hint=_SECRET_HINT
            )
        if name not in self.shell.user_ns:
            raise P44UsageError(
                f"--client-secret ${name}: no variable named {name!r}.", hint=_SECRET_HINT
            )
        value = self.shell.user_ns[name]
        if not isinstance(value, str | Secret) or not value:
            raise P44UsageError(
                f"--client-secret ${name}: the variable must hold a non-empty string."
            )
        return Secret(value)

    def _shortly(self, run: Callable[[], Any]) -> Any:
        """Run a magic's work; any failure fails the cell with one short error, raised outside
        the handler and without a traceback of its own, so it drags no exception chain (and
        none of the frames or requests in it) along.

        In a kernel it is the P44Error itself: IPython shows it through
        :meth:`P44Error._render_traceback_` (class and message, no frames) and the kernel sends
        that as the cell's error output, which papermill, nbclient and nbconvert report. In a
        terminal it is IPython's UsageError line, as for any magic."""
        value, failure = _short_failure(run)
        if failure is None:
            return value
        if self._shows_widgets():
            raise failure
        raise UsageError(str(failure))

    def _shows_widgets(self) -> bool:
        return getattr(self.shell, "kernel", None) is not None

    def _show_form(self, client_id: str, env: str, auth: str | None) -> None:
        from IPython.display import display

        from .login_form import LoginForm, wait_for_login
        from .widget_wait import message_pump

        def login(
            form_id: str, secret: Secret, form_env: str, base_url: str | None, form_auth: str
        ) -> str:
            if form_env == "demo":  # the demo has its own credentials
                return self._login(None, None, form_env, None, None)
            return self._login(form_id, secret or None, form_env, base_url, form_auth)

        if self.login_form is not None and not self.login_form.done:
            self.login_form.close()  # an older form still open would keep its typed secret
        self.login_form = LoginForm(
            login,
            client_id=client_id,
            env=env,
            expires_after=self.login_wait,
            auth=auth or self.auth,
        )
        display(self.login_form)
        pump = message_pump(self.shell)
        if pump is None:  # a kernel this cell cannot wait in: the form works after the cell
            print("Log in with the form, then run the next cells.")
            return
        wait_for_login(self.login_form, pump)

    def _prompt(self, client_id: str | None, env: str, base_url: str | None) -> tuple[str, Secret]:
        """Ask for what is missing, saying first where the credentials will go; Ctrl-C (or the
        end of input) at a prompt cancels the login in one line."""
        where = check_base_url(base_url) if base_url else base_url_for(env)
        print(f"Logging in to {where} ({'custom' if base_url else env})…")
        try:
            if not client_id:
                client_id = input("Client ID: ").strip()
            return client_id, Secret(getpass.getpass("Client secret (not echoed): "))
        except (KeyboardInterrupt, EOFError):
            print()  # the prompt's line stays open otherwise
        except StdinNotImplementedError:  # a headless run: nobody can answer
            raise P44UsageError(NO_INPUT_TEXT) from None
        raise P44UsageError("Login cancelled.")

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
    @argument(
        "--each",
        metavar="NAME=VARIABLE",
        help="One request per value of the list VARIABLE, {{NAME}} replaced by each.",
    )
    @argument("--strict", action="store_true", help="With --each: any failure fails the cell.")
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

            {"statuses": ["IN_TRANSIT"]}
        """
        args = self._shortly(lambda: parse_argstring(self.p44, line))
        if args.help:
            print(self.p44.__doc__)
            return None
        name, result = self._shortly(lambda: self._parsed_and_run(args, cell))
        if isinstance(result, EachResult):
            return self._each_done(name, result, tables=args.tables)
        if name is None:
            return result
        self.shell.user_ns[name] = result
        print(f"{name}: {summary(result)}")
        return None

    def _each_done(self, name: str | None, each: EachResult, tables: bool) -> Any:
        """Keep the failures, print the summary line; the joined result is the cell's."""
        self.shell.user_ns[FAILURES_NAME] = each.failures
        line = each_summary(each, summary(each.frame) if not tables else "tables")
        print(f"{name}: {line}" if name else line)
        if name is None:
            return each.frame
        self.shell.user_ns[name] = each.frame
        return None

    def _parsed_and_run(self, args: Any, cell: str | None) -> tuple[str | None, Any]:
        if cell is None:
            return None, self._run(parse_request_line(args.words), args)
        if len(args.words) > 1:
            raise P44UsageError(
                f"%%p44 takes at most one NAME on its line, got {' '.join(args.words)!r}.",
                hint="Put the request on the next line of the cell.",
            )
        name = args.words[0] if args.words else None
        if name is not None:
            self._check_result_name(name)
        return name, self._run(parse_request(cell), args)

    def _check_result_name(self, name: str) -> None:
        if not name.isidentifier():
            raise P44UsageError(f"{name!r} is not a valid variable name for the result.")
        if name in self.shell.user_ns_hidden or _IPYTHON_NAME.fullmatch(name):
            raise P44UsageError(
                f"{name} is one of IPython's own names; store the result under another name."
            )

    def _run(self, request: HttpRequest, args: Any) -> Any:
        client = self.client
        if client is None:
            raise P44UsageError(
                "Not logged in.", hint="Run %p44_login first (or %p44_login --env demo)."
            )
        each = self._each_of(request, args)
        if each is None:
            request = substitute_request(request, self.shell.user_ns)
        live = {name: getattr(self, name) for name in _LIVE_SETTINGS}
        if (id(client), live) != self._applied:  # only when changed since the last request
            client.configure(**live)
            self._applied = (id(client), live)
        if args.dry_run:
            return self._dry_run(client, request, each, args)
        wanted = Wanted(
            kind="answer" if args.raw or args.tables else "frame",
            all_pages=args.all_pages,
            max_pages=args.max_pages if args.all_pages else None,
            record_path=args.record_path,
            meta=tuple(args.meta or ()),
            presets=not args.no_presets,
            parse_dates=self.parse_dates,
            json_required=not args.raw,
        )
        progress = (
            display_progress(self._shows_widgets(), pages=args.all_pages, each=bool(each))
            if self.progress
            else Progress()
        )
        try:
            result = self._call(client, request, each, wanted, progress, args)
        finally:
            self.shell.user_ns[LAST_EXCHANGE_NAME] = client.last_exchange
        for note in result.notes:
            print(note, file=sys.stderr)
        if each is not None:
            return self._joined(result.value, args)
        if args.tables:
            return tracking_tables(result.value, self.parse_dates, self.timezone)
        return _shown(result.value, raw=args.raw)

    def _call(
        self,
        client: P44Client,
        request: HttpRequest,
        each: tuple[str, list[Any]] | None,
        wanted: Wanted,
        progress: Progress,
        args: Any,
    ) -> Any:
        """One call, or one per value with --each; an interrupt keeps the rows so far."""
        try:
            if each is None:
                return client.call(request, wanted, progress)
            name, values = each
            return client.call_each(
                request,
                name,
                values,
                wanted,
                progress,
                namespace=self.shell.user_ns,
                strict=args.strict,
                label=args.each,
            )
        except P44Interrupted as stop:
            self.shell.user_ns[PARTIAL_NAME] = stop.partial
            message = f"{stop.message.rstrip('.')}; the rows so far are in {PARTIAL_NAME}."
        raise P44Error(message)

    def _dry_run(
        self, client: P44Client, request: HttpRequest, each: tuple[str, list[Any]] | None, args: Any
    ) -> None:
        """The request as it would be sent (with --each: the first value's)."""
        if each is not None:
            name, values = each
            request = substitute_request(request, {**self.shell.user_ns, name: values[0]})
        check_request(request)
        print(describe_request(client.url_for(request.target), request))
        if each is not None and len(each[1]) > 1:
            print(f"(the first of {len(each[1]):,} requests, one per value of {args.each})")

    def _each_of(self, request: HttpRequest, args: Any) -> tuple[str, list[Any]] | None:
        """``--each NAME=VARIABLE``: the name and the distinct values; nothing sent yet."""
        if not args.each:
            return None
        name, variable = parse_each(args.each)
        label = f"{name}={variable}"
        check_uses(request, name, label)
        found = lookup(variable, self.shell.user_ns, f"--each {label}")
        return name, each_values(found, label, self.max_each)

    def _joined(self, each: EachResult, args: Any) -> EachResult:
        if args.tables:
            parts = [
                (v, tracking_tables(a, self.parse_dates, self.timezone))
                for v, a in each.answers.items()
            ]
            each.frame = joined_tables(each.name, parts)
        if not len(each.answers) and len(each.failures):
            self.shell.user_ns[FAILURES_NAME] = each.failures
            raise all_failed(each.name, each)
        return each


def _short_failure(run: Callable[[], Any]) -> tuple[Any, P44Error | None]:
    """Run a magic's work: its value, or the one short P44Error any failure becomes."""
    try:
        return run(), None
    except P44Error as error:
        failure = error
    except UsageError as error:  # magic_arguments' own: a bad option
        failure = P44UsageError(str(error))
    except KeyboardInterrupt:  # its traceback's frames hold the requests, token included
        failure = P44Error("Interrupted; nothing was returned.")
    except Exception as error:  # noqa: BLE001 - never a raw traceback out of a magic
        failure = P44Error(
            f"p44_magic failed unexpectedly ({type(error).__name__}); nothing more is shown, "
            "so that no credential can be. Please report it with the cell that caused it."
        )
    failure.__traceback__ = failure.__context__ = failure.__cause__ = None
    return None, failure


def _shown(value: Any, raw: bool) -> Any:
    """The value, after a line about an empty or non-JSON answer."""
    if raw:
        return value
    if value is None:
        print("The answer has no content.", file=sys.stderr)
    elif isinstance(value, str):
        print(
            f"The answer is not JSON, so here is its text (full exchange in {LAST_EXCHANGE_NAME}).",
            file=sys.stderr,
        )
    return value
