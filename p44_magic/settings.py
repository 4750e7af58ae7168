"""The values a user sets, checked in one place: ``%config P44Magics.…`` traits and ``P44Client``.

Each check returns the value it accepts (normalised) or raises :class:`P44UsageError` with a
short message naming the setting, so a bad value is refused where it is given, never deep in a
request as a raw ``ValueError``.
"""

from __future__ import annotations

import math
from typing import Any

from .auth import AUTH_STYLES
from .environments import ENVIRONMENT_NAMES, check_base_url
from .errors import P44UsageError


def seconds(name: str, value: Any, *, allow_zero: bool = False, unit: str = "seconds") -> float:
    """A finite number of seconds, above 0 (or at least 0 when ``allow_zero``)."""
    number = _number(name, value, unit)
    if number < 0 or (number == 0 and not allow_zero) or not math.isfinite(number):
        bound = "0 or more" if allow_zero else "more than 0"
        raise P44UsageError(f"{name} = {value!r}: it must be {bound} {unit}.")
    return number


def megabytes(name: str, value: Any) -> float:
    """A finite number of megabytes above 0."""
    return seconds(name, value, unit="MB")


MAX_CONCURRENCY = 64  # requests in flight at once, at most


def count(name: str, value: Any, *, minimum: int = 0, maximum: int | None = None) -> int:
    """A whole number of at least ``minimum`` (and at most ``maximum``)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise P44UsageError(f"{name} = {value!r}: it must be a whole number.")
    if value < minimum:
        raise P44UsageError(f"{name} = {value!r}: it must be {minimum} or more.")
    if maximum is not None and value > maximum:
        raise P44UsageError(f"{name} = {value!r}: it must be {maximum} or less.")
    return value


def concurrency(name: str, value: Any) -> int:
    return count(name, value, minimum=1, maximum=MAX_CONCURRENCY)


def one_of(name: str, value: Any, choices: tuple[str, ...], what: str) -> str:
    """One of ``choices``, case-insensitively."""
    chosen = str(value).strip().lower()
    if chosen not in choices:
        raise P44UsageError(
            f"{name} = {value!r}: unknown {what}.", hint=f"Use one of: {', '.join(choices)}."
        )
    return chosen


def environment(name: str, value: Any) -> str:
    """One of the environment names, case-insensitively."""
    return one_of(name, value, ENVIRONMENT_NAMES, "environment")


def auth_style(name: str, value: Any) -> str:
    """``basic`` or ``form``."""
    return one_of(name, value, AUTH_STYLES, "auth style")


def base_url(name: str, value: Any) -> str:
    """An empty string (use ``env``) or an https:// URL (http:// for loopback hosts only)."""
    text = str(value).strip()
    try:
        return check_base_url(text) if text else ""
    except P44UsageError as error:
        raise P44UsageError(f"{name}: {error.message}", hint=error.hint) from None


def _number(name: str, value: Any, unit: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise P44UsageError(f"{name} = {value!r}: it must be a number of {unit}.")
    return float(value)


def timezone(name: str, value: Any) -> str | None:
    """An IANA time zone name (``"UTC"``, ``"Europe/Berlin"``), or None for naive UTC."""
    if value is None:
        return None
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, TypeError):
        raise P44UsageError(
            f"{name} = {value!r}: not a time zone name.",
            hint='Use an IANA name such as "UTC" or "Europe/Berlin", or None for naive UTC.',
        ) from None
    return value
