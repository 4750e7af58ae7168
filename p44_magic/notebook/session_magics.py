"""``%p44_use``, ``%p44_connections``, ``%p44_status`` and ``%p44_logout``: the notebook's named
sessions (the registry is the request magics', :class:`~p44_magic.sessions.Sessions`)."""

from __future__ import annotations

from typing import Any

from IPython.core.magic import line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

from ..sessions import Sessions
from .owned_magics import OwnedMagics
from .text import status_text


@magics_class
class SessionMagics(OwnedMagics):
    """The session commands; ``owner`` is the :class:`~p44_magic.notebook.magics.P44Magics`
    whose sessions (and login form) they act on."""

    @property
    def sessions(self) -> Sessions:
        return self.owner.sessions

    @line_magic
    def p44_use(self, line: str) -> None:
        """Make session NAME the current one: cells without --conn run on it."""
        name = line.strip()
        client = self._shortly(lambda: self.sessions.use(name))
        print(f"Session {name} is current: {client.base_url} as client {client.client_id}.")

    @line_magic
    def p44_connections(self, line: str = "") -> Any:
        """The open sessions, one row each; ``*`` marks the current one."""
        return self.sessions.frame()

    @magic_arguments()
    @argument("--conn", help="The session to show (default: the current one).")
    @line_magic
    def p44_status(self, line: str = "") -> None:
        """Base URL, client id, auth style, token age, requests and token fetches."""
        args = self._shortly(lambda: parse_argstring(self.p44_status, line))
        if not len(self.sessions):
            print("Not logged in. Run %p44_login.")
            return
        name, client = self._shortly(lambda: self.sessions.pick(args.conn))
        text = status_text(client.status())
        print(text if len(self.sessions) == 1 else f"session:       {name}\n{text}")

    @magic_arguments()
    @argument("name", nargs="?", help="The session to close (default: the current one).")
    @argument("--all", action="store_true", help="Close every session.")
    @line_magic
    def p44_logout(self, line: str = "") -> None:
        """Forget the token and the credentials (and close a login form still open)."""
        args = self._shortly(lambda: parse_argstring(self.p44_logout, line))
        form = self.owner.login_form
        if form is not None and not form.done:
            form.close()
        if not len(self.sessions):
            print("Not logged in.")
            return
        if args.all:
            count = self.sessions.close_all()
            print(
                f"Logged out of {count} session{'s' if count != 1 else ''}: tokens and "
                "credentials forgotten."
            )
            return
        name = self._shortly(lambda: self.sessions.pick(args.name)[0])
        self.sessions.close(name)
        which = "" if name == "default" else f" of session {name}"
        print(f"Logged out{which}: token and credentials forgotten.")
