"""The named sessions a notebook holds: ``default``, ``eu``, ``sandbox``… each a
:class:`~p44_magic.client.P44Client` with its own token holder, credentials, pool and counters.

A :class:`Sessions` registry is owned by its user (the magics own theirs). Picking a session for
one cell (``--conn NAME``) never changes which one is current; only a login and ``%p44_use`` do.
:func:`session` and :func:`sessions` give Python code the notebook's sessions.
"""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd

from .client import P44Client
from .errors import P44UsageError
from .words import masked_id

DEFAULT = "default"
CONNECTION_COLUMNS = (
    "current",
    "name",
    "env",
    "base_url",
    "client_id",
    "auth",
    "token_age_s",
    "requests",
)


class Sessions:
    """Sessions by name, and which one is current."""

    def __init__(self) -> None:
        self._open: dict[str, P44Client] = {}
        self.current: str | None = None

    def __len__(self) -> int:
        return len(self._open)

    def __iter__(self) -> Iterator[tuple[str, P44Client]]:
        return iter(list(self._open.items()))

    def __contains__(self, name: object) -> bool:
        return name in self._open

    def names(self) -> list[str]:
        return list(self._open)

    def get(self, name: str) -> P44Client | None:
        return self._open.get(name)

    def open(self, name: str, client: P44Client) -> P44Client | None:
        """Keep ``client`` as session ``name`` and make it current; the session it replaces is
        closed (its token and secret forgotten) and returned."""
        check_name(name)
        replaced = self._open.get(name)
        if replaced is not None and replaced is not client:
            replaced.close()
        self._open[name] = client
        self.current = name
        return replaced if replaced is not client else None

    def use(self, name: str) -> P44Client:
        """Make ``name`` current (``%p44_use``)."""
        client = self.pick(name)[1]
        self.current = name
        return client

    def pick(self, name: str | None = None) -> tuple[str, P44Client]:
        """The session a cell runs on: ``name`` (``--conn``), else the only one, else the
        current one. Nothing changes: picking is not switching."""
        if name is not None:
            if name not in self._open:
                raise unknown(name, self.names())
            return name, self._open[name]
        if len(self._open) == 1:
            return next(iter(self._open.items()))
        if self.current in self._open:
            return self.current, self._open[self.current]
        if self._open:
            raise P44UsageError(
                f"Several sessions are open ({', '.join(self._open)}) and none is current.",
                hint="Pick one for this cell with --conn NAME, or make one current: %p44_use NAME.",
            )
        raise P44UsageError(
            "Not logged in.", hint="Run %p44_login first (or %p44_login --env demo)."
        )

    def close(self, name: str) -> None:
        """Close session ``name``: its token and secret are forgotten."""
        client = self._open.pop(name, None)
        if client is None:
            raise unknown(name, self.names())
        client.close()
        if self.current == name:
            self.current = None

    def close_all(self) -> int:
        count = len(self._open)
        for name in self.names():
            self.close(name)
        return count

    def frame(self) -> pd.DataFrame:
        """One row per session: current (``*``), name, env, base URL, the client id masked
        but for its last 4 characters, auth style, token age and requests sent."""
        rows = []
        current = self.current if self.current in self._open else None
        if current is None and len(self._open) == 1:
            current = self.names()[0]
        for name, client in self:
            status = client.status()
            rows.append(
                {
                    "current": "*" if name == current else "",
                    "name": name,
                    "env": client.env,
                    "base_url": client.base_url,
                    "client_id": masked_id(client.client_id),
                    "auth": client.auth_style,
                    "token_age_s": status["token_age_s"],
                    "requests": status["requests"],
                }
            )
        return pd.DataFrame(rows, columns=list(CONNECTION_COLUMNS))


def check_name(name: str) -> str:
    if not name.isidentifier():
        raise P44UsageError(
            f"--name {name!r}: a session's name must be an identifier (letters, digits, _).",
            hint="For example --name eu or --name sandbox.",
        )
    return name


def unknown(name: str, names: list[str]) -> P44UsageError:
    listed = ", ".join(names) if names else "none"
    return P44UsageError(
        f"No session named {name!r}; the open sessions: {listed}.",
        hint=f"Open it with %p44_login --name {name} …, or pick one of the open names.",
    )


# -- the notebook's sessions, for Python code -----------------------------------------------------

_notebook: list[Sessions] = []  # the registry of the loaded magics (set by the notebook layer)


def attach(registry: Sessions) -> None:
    """Make ``registry`` the one :func:`session` and :func:`sessions` read (``%load_ext``)."""
    _notebook[:] = [registry]


def session(name: str = DEFAULT) -> P44Client:
    """The notebook's session ``name`` as a :class:`P44Client` (a short error when none)."""
    return (_notebook[0] if _notebook else Sessions()).pick(name)[1]


def sessions() -> list[str]:
    """The names of the notebook's open sessions."""
    return _notebook[0].names() if _notebook else []
