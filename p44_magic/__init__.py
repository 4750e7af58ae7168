"""p44_magic: IPython magics for the project44 REST API v4, answers as pandas DataFrames.

``%load_ext p44_magic`` registers ``%p44_login``, ``%p44_logout``, ``%p44_status``,
``%p44_endpoints`` and ``%p44`` / ``%%p44`` (the notebook layer, :mod:`p44_magic.notebook`).
The same machinery works without IPython through :class:`P44Client`.
"""

from typing import Any

from .answers import Exchange, Result
from .auth import Secret, TokenHolder
from .bulk import EachResult
from .client import P44Client
from .endpoints import ENDPOINTS, Endpoint, find_endpoint
from .errors import (
    P44AuthError,
    P44ConnectionError,
    P44Error,
    P44HTTPError,
    P44Interrupted,
    P44PagingError,
    P44TimeoutError,
    P44UsageError,
    P44Warning,
    ServerMessage,
)
from .export import save
from .frames import TrackingTables, to_frame, tracking_tables
from .history import history
from .jobs import JobProgress, P44Job
from .request import HttpRequest, parse_request
from .sessions import session, sessions

__version__ = "0.1.0"
__all__ = [
    "ENDPOINTS",
    "EachResult",
    "Endpoint",
    "Exchange",
    "HttpRequest",
    "JobProgress",
    "P44AuthError",
    "P44Client",
    "P44ConnectionError",
    "P44Error",
    "P44HTTPError",
    "P44Interrupted",
    "P44Job",
    "P44PagingError",
    "P44TimeoutError",
    "P44UsageError",
    "P44Warning",
    "Result",
    "Secret",
    "ServerMessage",
    "TokenHolder",
    "TrackingTables",
    "find_endpoint",
    "history",
    "load_ipython_extension",
    "parse_request",
    "save",
    "session",
    "sessions",
    "to_frame",
    "tracking_tables",
]


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext p44_magic``: register the magics (see :mod:`p44_magic.notebook`)."""
    from .notebook import load_ipython_extension as load

    load(ipython)
