"""p44_magic: IPython magics for the project44 REST API v4, answers as pandas DataFrames.

``%load_ext p44_magic`` registers ``%p44_login``, ``%p44_logout``, ``%p44_status`` and
``%p44`` / ``%%p44``. The same machinery works without IPython through :class:`P44Client`.
"""

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
from .frames import to_frame
from .request import HttpRequest, parse_request
from .tracking_tables import TrackingTables, tracking_tables

__version__ = "0.1.0"
__all__ = [
    "ENDPOINTS",
    "Endpoint",
    "TrackingTables",
    "find_endpoint",
    "tracking_tables",
    "EachResult",
    "Exchange",
    "HttpRequest",
    "P44AuthError",
    "P44Client",
    "P44ConnectionError",
    "P44Error",
    "P44HTTPError",
    "ServerMessage",
    "P44Interrupted",
    "P44PagingError",
    "P44TimeoutError",
    "P44UsageError",
    "P44Warning",
    "Result",
    "Secret",
    "TokenHolder",
    "load_ipython_extension",
    "parse_request",
    "to_frame",
]


def load_ipython_extension(ipython) -> None:
    """Register the magics and make ``%config P44Magics`` work.

    Loaded again (``%reload_ext``), the new magics take over the session of the old ones, so
    no logged-in client is left behind where ``%p44_logout`` could not reach it.
    """
    from .magics import P44Magics

    previous = ipython.magics_manager.registry.get("P44Magics")
    magics = P44Magics(shell=ipython, config=ipython.config)
    if previous is not None:
        magics.client, previous.client = previous.client, None
        if previous in ipython.configurables:
            ipython.configurables.remove(previous)
    ipython.register_magics(magics)
    if magics not in ipython.configurables:
        ipython.configurables.append(magics)
    from .completion import p44_matcher, show_whole_paths

    completer = getattr(ipython, "Completer", None)
    if completer is not None and p44_matcher not in completer.custom_matchers:
        completer.custom_matchers.append(p44_matcher)
    show_whole_paths()
