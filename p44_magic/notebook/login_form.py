"""The ipywidgets login form: one function builds the widgets, one handler does the work.

The secret box is blanked as soon as it has been used (success or failure), and the form closes
its inputs when it expires (``%config P44Magics.login_wait``), so a secret typed but never
submitted does not stay in the widget state that a notebook saves.
"""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Callable
from html import escape
from typing import Any

import ipywidgets as widgets

from ..auth import Secret
from ..environments import ENVIRONMENT_NAMES
from ..errors import P44Error, P44UsageError
from ..pacing import DeferredInterrupt
from .widget_wait import MessagePump

#: Dropdown label → environment name; "custom" shows the URL box.
_LABELS = {"na": "NA production", "eu": "EU production", "sandbox": "Sandbox", "demo": "Demo"}
ENVIRONMENT_CHOICES = (
    *((_LABELS.get(name, name), name) for name in ENVIRONMENT_NAMES),
    ("Custom URL", "custom"),
)
NO_WIDGETS_TEXT = (
    "This front end cannot show the p44_magic login form (it needs ipywidgets). "
    "Run %p44_login --prompt to be asked for the client id and secret instead."
)
#: id, secret, env, base URL, auth style → the success line
LoginCallback = Callable[[str, Secret, str, str | None, str], str]
AUTH_CHOICES = (("Basic auth", "basic"), ("Form fields", "form"))
#: Option names of the magic line that a form user never typed, and what the form calls them.
_FOR_THE_FORM = {
    " (and --auth basic|form)": " (and how they are sent: Basic auth or form fields)",
    "check --env / --base-url": "check the environment (or the base URL)",
}
_STATUS_STYLE = "line-height: 1.35; margin: 2px 0"
#: Seconds a waiting login gives a front end to report that it shows the form.
VIEW_WAIT = 8.0
WAKE_EVERY = 0.1  # seconds between looks at the form while waiting
NO_VIEW_TEXT = (
    "No front end shows the login form (a headless run: papermill, nbconvert, nbclient?). "
    "Log in without it: set P44_CLIENT_ID and P44_CLIENT_SECRET in the kernel's environment "
    "and run %p44_login, or run %p44_login --prompt to be asked for them."
)
INTERRUPTED_TEXT = (
    "Stopped waiting for the login form. It stays open: log in there, then run the next cells."
)
CLOSED_TEXT = "The login form was closed before anyone logged in. Run %p44_login again."


class LoginForm:
    """Client id, secret (password box), environment, Log in button and a status line.

    ``login(client_id, secret, env, base_url)`` does the work and returns the success line, or
    raises :class:`P44Error` whose message is shown in the status line.
    """

    def __init__(
        self,
        login: LoginCallback,
        client_id: str = "",
        env: str = "na",
        expires_after: float | None = None,
        auth: str = "basic",
        base_url: str | None = None,
        session: str | None = None,
    ) -> None:
        self._login = login
        self._lock = threading.Lock()  # a submit and the expiry never run at once
        self.done = False  # logged in, expired or closed: the inputs are gone
        self.logged_in = False
        self.closed_because: str | None = None  # why it closed with nobody logged in
        wide = {"description_width": "8em"}  # room for "Client secret" and "Environment"
        self.client_id = widgets.Text(value=client_id, description="Client ID", style=wide)
        self.secret = widgets.Password(value="", description="Client secret", style=wide)
        known = {value for _, value in ENVIRONMENT_CHOICES}
        if base_url:  # the host the line or the settings named, and only it
            env = "custom"
        self.environment = widgets.Dropdown(
            options=ENVIRONMENT_CHOICES,
            value=env if env in known else "na",
            description="Environment",
            style=wide,
        )
        self.base_url = widgets.Text(
            value=base_url or "", description="Base URL", placeholder="https://…", style=wide
        )
        self.auth = widgets.Dropdown(
            options=AUTH_CHOICES,
            value=auth if auth in dict(AUTH_CHOICES).values() else "basic",
            description="Send as",
            style=wide,
        )
        self.button = widgets.Button(description="Log in", button_style="primary")
        which = f" (session <code>{escape(session)}</code>)" if session else ""
        self.title = widgets.HTML(value=f"<b>project44 login</b>{which}")
        self.status = widgets.HTML(value="")
        self.inputs = widgets.VBox(
            [
                self.client_id,
                self.secret,
                self.auth,
                self.environment,
                self.base_url,
                self.button,
            ]
        )
        self.widget = widgets.VBox([self.title, self.inputs, self.status])
        self.widget._view_count = 0  # a number, so front ends report the views they render
        self._show_url_box()
        self.environment.observe(lambda _: self._show_url_box(), names="value")
        self.button.on_click(lambda _: self.submit())
        with warnings.catch_warnings():
            # The suggested replacement (observe value) would also fire when the box loses focus.
            warnings.simplefilter("ignore", DeprecationWarning)
            self.secret.on_submit(lambda _: self.submit())
        self._expiry: threading.Timer | None = None
        if expires_after is not None:
            self._expiry = threading.Timer(expires_after, self.expire, args=(expires_after,))
            self._expiry.daemon = True
            self._expiry.start()

    def _repr_mimebundle_(self, **kwargs: object) -> dict:
        """The widget; a front end that cannot show widgets shows the text instead."""
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = NO_WIDGETS_TEXT
        return bundle

    def _show_url_box(self) -> None:
        """The URL box only for Custom; no id, secret or auth for Demo (it has its own)."""
        env = self.environment.value
        self.base_url.layout.display = None if env == "custom" else "none"
        for box in (self.client_id, self.secret, self.auth):
            box.layout.display = "none" if env == "demo" else None

    def submit(self) -> None:
        """Log in with what the form holds; blank the secret whatever happens.

        Nothing escapes this handler (an exception would print a traceback whose frames hold
        the secret, and leave the form stuck on "Logging in…"); the secret travels as a
        :class:`Secret`, never as a plain string argument.
        """
        with self._lock:
            if not self.done:
                self._submit()

    def _submit(self) -> None:
        secret = Secret(self.secret.value)
        self.secret.value = ""
        self.button.disabled = True
        self.status.value = "Logging in…"
        env = self.environment.value
        base_url = self.base_url.value.strip() or None if env == "custom" else None
        failure = None
        try:
            line = self._login(self.client_id.value.strip(), secret, env, base_url, self.auth.value)
        except P44Error as error:
            failure = _for_the_form(str(error))
        except Exception as error:  # noqa: BLE001 - a widget callback must never raise
            failure = f"Login failed unexpectedly ({type(error).__name__}); check the fields."
        except KeyboardInterrupt:
            self.status.value = _html_line("Login interrupted; log in again.")
            self.button.disabled = False
            raise
        del secret
        if failure is not None:
            self.status.value = _html_line(failure)
            self.button.disabled = False
            return
        self.status.value = _html_line(line)
        self.logged_in = True
        self._finish()

    @property
    def views(self) -> int:
        """How many views of the form front ends say they show (0 in a headless run)."""
        return self.widget._view_count or 0

    def expire(self, after: float) -> None:
        """Nobody logged in within ``after`` seconds: close the inputs and say so."""
        with self._lock:
            if not self.done:
                self.closed_because = expired_text(after)
                self.status.value = _html_line(self.closed_because)
                self._finish()

    def close(self) -> None:
        """Close the form: the typed secret leaves the widget models (and any saved state)."""
        with self._lock:
            self._finish()
            self.widget.close()

    def _finish(self) -> None:
        self.done = True
        if self._expiry is not None:
            self._expiry.cancel()
        self.widget.children = (self.title, self.status)
        self.secret.value = ""
        inputs = (self.client_id, self.secret, self.auth, self.environment, self.base_url)
        for widget in (*inputs, self.button):
            widget.close()
        self.inputs.close()


def wait_for_login(form: LoginForm, pump: MessagePump, view_wait: float = VIEW_WAIT) -> None:
    """Block until someone logs in through ``form`` while ``pump`` keeps its widgets working.

    Raises :class:`P44UsageError` when the form expires or closes first, or when after
    ``view_wait`` seconds no front end shows it (a headless run); the form is closed then.
    An interrupt stops the wait (after a login already under way); the form stays, and works
    once the cell has ended.
    """
    started = time.monotonic()
    with DeferredInterrupt() as interrupt:  # never between reading a message and keeping it
        try:
            while not form.done and not interrupt.requested:
                if time.monotonic() - started >= view_wait and not _shown(form, pump):
                    form.close()
                    raise P44UsageError(NO_VIEW_TEXT)
                pump.handle(WAKE_EVERY)
        finally:
            pump.finish()
    if form.logged_in:
        return
    if interrupt.requested:  # the loop ends only when the form is done or this is set
        raise P44UsageError(INTERRUPTED_TEXT)
    raise P44UsageError(form.closed_because or CLOSED_TEXT)


def _shown(form: LoginForm, pump: MessagePump) -> bool:
    """A front end renders the form, or at least talks to the kernel about widgets."""
    return form.views > 0 or pump.comm_messages > 0


def expired_text(after: float) -> str:
    return (
        f"The login form closed: nobody logged in within {after:g} s "
        "(%config P44Magics.login_wait). Run %p44_login again."
    )


def _for_the_form(text: str) -> str:
    """A message written for the magic line, said in the form's words."""
    for line_words, form_words in _FOR_THE_FORM.items():
        text = text.replace(line_words, form_words)
    return text


def _html_line(text: str) -> str:
    """The status: the lines of ``text``, escaped, set close together."""
    from html import escape

    lines = "<br>".join(escape(part) for part in text.splitlines())
    return f'<div style="{_STATUS_STYLE}">{lines}</div>'


def show_form(
    magics: Any,
    client_id: str,
    env: str,
    auth: str | None,
    base_url: str | None = None,
    name: str = "default",
) -> None:
    """``%p44_login``'s form for session ``name``, shown by ``magics`` (the
    :class:`~p44_magic.notebook.magics.P44Magics`); the cell waits for it where it can."""
    from IPython.display import display

    from .login import LoginPlace
    from .widget_wait import message_pump

    def login(
        form_id: str, secret: Secret, form_env: str, base_url: str | None, form_auth: str
    ) -> str:
        if form_env == "demo":  # the demo has its own credentials
            return magics._login(LoginPlace(None, None, form_env, None), None, name)
        place = LoginPlace(form_id, secret or None, form_env, base_url)
        return magics._login(place, form_auth, name)

    if magics.login_form is not None and not magics.login_form.done:
        magics.login_form.close()  # an older form still open would keep its typed secret
    magics.login_form = LoginForm(
        login,
        client_id=client_id,
        env=env,
        expires_after=magics.login_wait,
        auth=auth or magics.auth,
        base_url=base_url,
        session=None if name == "default" else name,
    )
    display(magics.login_form)
    pump = message_pump(magics.shell)
    if pump is None:  # a kernel this cell cannot wait in: the form works after the cell
        print("Log in with the form, then run the next cells.")
        return
    wait_for_login(magics.login_form, pump)
