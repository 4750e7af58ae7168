"""Credentials kept out of the logs of httpx and httpcore.

At INFO httpx logs each status line (a server's reason phrase may echo the token); at DEBUG
httpcore logs the response headers verbatim. While p44_magic is loaded, a filter on their
loggers masks every credential this process has held (:mod:`p44_magic.scrub`) in each record
before any handler formats it.
"""

from __future__ import annotations

import logging

from .scrub import scrub

#: The loggers httpx and httpcore write to (a filter acts only on its own logger's records).
LOGGERS = (
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)


class CredentialFilter(logging.Filter):
    """Masks remembered credentials in a record's message (its arguments merged in first)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = record.getMessage()
        except (TypeError, ValueError):  # a record that cannot format shows nothing of ours
            return True
        clean = scrub(text)
        if clean != text:
            record.msg, record.args = clean, None
        return True


_FILTER = CredentialFilter()


def scrub_http_logs() -> None:
    """Put the filter on every logger of httpx and httpcore (once)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
