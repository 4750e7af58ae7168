"""The ipywidgets login form: one function builds the widgets, one handler does the work.

The secret box is blanked as soon as it has been used (success or failure), and the form closes
its inputs when it expires (``%config P44Magics.login_wait``), so a secret typed but never
submitted does not stay in the widget state that a notebook saves.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable

import ipywidgets as widgets

from .auth import Secret
from .environments import ENVIRONMENT_NAMES
from .errors import P44Error

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
    ) -> None:
        self._login = login
        self._lock = threading.Lock()  # a submit and the expiry never run at once
        self.done = False  # logged in, expired or closed: the inputs are gone
        wide = {"description_width": "8em"}  # room for "Client secret" and "Environment"
        self.client_id = widgets.Text(value=client_id, description="Client ID", style=wide)
        self.secret = widgets.Password(value="", description="Client secret", style=wide)
        known = {value for _, value in ENVIRONMENT_CHOICES}
        self.environment = widgets.Dropdown(
            options=ENVIRONMENT_CHOICES,
            value=env if env in known else "na",
            description="Environment",
            style=wide,
        )
        self.base_url = widgets.Text(
            value="", description="Base URL", placeholder="https://…", style=wide
        )
        self.auth = widgets.Dropdown(
            options=AUTH_CHOICES,
            value=auth if auth in dict(AUTH_CHOICES).values() else "basic",
            description="Send as",
            style=wide,
        )
        self.button = widgets.Button(description="Log in", button_style="primary")
        self.title = widgets.HTML(value="<b>project44 login</b>")
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
        del secret
        if failure is not None:
            self.status.value = _html_line(failure)
            self.button.disabled = False
            return
        self.status.value = _html_line(line)
        self._finish()

    def expire(self, after: float) -> None:
        """Nobody logged in within ``after`` seconds: close the inputs and say so."""
        with self._lock:
            if not self.done:
                self.status.value = _html_line(expired_text(after))
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
