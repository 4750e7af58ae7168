"""The values a user sets, each declared once in :data:`SETTINGS` (name, default, check, help,
scope): the ``%config P44Magics.…`` traits, the ``P44Client`` keywords and what a live session
takes from the next request on are all derived from that one list, so adding a setting is one
edit here.

Each check returns the value it accepts (normalised) or raises :class:`P44UsageError` with a
short message naming the setting, so a bad value is refused where it is given, never deep in a
request as a raw ``ValueError``.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from .auth import AUTH_STYLES
from .environments import ENVIRONMENT_NAMES, check_base_url
from .errors import P44UsageError

MAX_SECONDS = 3_600.0  # an hour: any wait or timeout beyond it is a mistake, and 1e10 overflows
MAX_LOGIN_WAIT = 86_400.0  # a form may wait a day
MAX_MEGABYTES = 100_000.0  # 100 GB: 1e308 MB is no size
MAX_RATE = 10_000.0  # requests per second


def seconds(
    name: str,
    value: Any,
    *,
    allow_zero: bool = False,
    unit: str = "seconds",
    maximum: float = MAX_SECONDS,
) -> float:
    """A finite number of seconds, above 0 (or at least 0 when ``allow_zero``), at most
    ``maximum``: larger ones overflow the waits that use them."""
    number = _number(name, value, unit)
    bound = "0 or more" if allow_zero else "more than 0"
    if number < 0 or (number == 0 and not allow_zero) or math.isnan(number):
        raise P44UsageError(f"{name} = {value!r}: it must be {bound} {unit}.")
    if number > maximum:
        raise P44UsageError(
            f"{name} = {value!r}: it must be at most {maximum:,g} {unit} ({bound})."
        )
    return number


def megabytes(name: str, value: Any) -> float:
    """A finite number of megabytes above 0, at most ``MAX_MEGABYTES``."""
    return seconds(name, value, unit="MB", maximum=MAX_MEGABYTES)


MAX_CONCURRENCY = 64  # requests in flight at once, at most
MAX_RETRIES = 100
MAX_COUNT = 10_000_000  # pages or --each values: beyond any real search, still a number


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


def flag(name: str, value: Any) -> bool:
    """True or False."""
    if not isinstance(value, bool):
        raise P44UsageError(f"{name} = {value!r}: it must be True or False.")
    return value


def _at_least_zero(name: str, value: Any) -> float:
    return seconds(name, value, allow_zero=True)


def _per_second(name: str, value: Any) -> float:
    return seconds(name, value, allow_zero=True, unit="per second", maximum=MAX_RATE)


def _positive_count(name: str, value: Any) -> int:
    return count(name, value, minimum=1, maximum=MAX_COUNT)


def _retries(name: str, value: Any) -> int:
    return count(name, value, maximum=MAX_RETRIES)


def _login_wait(name: str, value: Any) -> float:
    return seconds(name, value, maximum=MAX_LOGIN_WAIT)


_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([smhd])\s*", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3_600, "d": 86_400}
MAX_AGE_DAYS = 3_650  # ten years: any longer age is a typo


def duration_seconds(name: str, value: Any) -> float:
    """``"15m"`` (``s``, ``m``, ``h``, ``d``) as seconds: more than 0, at most ten years."""
    found = _DURATION.fullmatch(value) if isinstance(value, str) and len(value) < 40 else None
    if found is None:
        raise P44UsageError(
            f"{name} = {str(value)[:40]!r}: not an age.",
            hint="Write a number and a unit: 30s, 15m, 2h or 7d.",
        )
    number = float(found.group(1)) * _UNIT_SECONDS[found.group(2).lower()]
    if not 0 < number <= MAX_AGE_DAYS * 86_400:
        raise P44UsageError(f"{name} = {value!r}: it must be more than 0 and at most 3650d.")
    return number


def duration(name: str, value: Any) -> str:
    """An age as written (``"15m"``), checked."""
    duration_seconds(name, value)
    return value.strip().lower()


CACHE_MODES = ("off", "on", "replay")


def cache_mode(name: str, value: Any) -> str:
    """``off``, ``on`` or ``replay`` (True and False stand for on and off)."""
    if isinstance(value, bool):
        return "on" if value else "off"
    return one_of(name, value, CACHE_MODES, "cache mode")


FRAMES = ("pandas", "polars")


def frame_library(name: str, value: Any) -> str:
    """``pandas`` or ``polars`` (which must be installed: the ``polars`` extra)."""
    chosen = one_of(name, value, FRAMES, "frame library")
    if chosen == "polars":
        try:
            import polars  # noqa: F401
        except ImportError:
            raise P44UsageError(
                f"{name} = 'polars': polars is not installed; pip install 'p44_magic[polars]'."
            ) from None
    return chosen


def path_text(name: str, value: Any) -> str:
    """A file path, or an empty string for the default place."""
    if not isinstance(value, str | os.PathLike):
        raise P44UsageError(f"{name} = {value!r}: it must be a file path.")
    text = os.fspath(value).strip()
    if len(text) > 4_096 or "\x00" in text:
        raise P44UsageError(f"{name}: not a usable file path.")
    return text


Scope = Literal["login", "session", "notebook"]


@dataclass(frozen=True)
class Setting:
    """One setting: its name, default, check and help, and where it applies.

    ``scope``: ``login`` (where and how a session logs in: a ``P44Client`` keyword and a
    ``%config`` default for ``%p44_login``), ``session`` (a ``P44Client`` keyword that a live
    session also takes from ``%config`` before its next request) or ``notebook`` (the magics
    only)."""

    name: str
    default: Any
    check: Callable[[str, Any], Any]
    help: str
    scope: Scope = "session"
    allow_none: bool = False


SETTINGS: tuple[Setting, ...] = (
    Setting("env", "na", environment, "Default environment: na, eu, sandbox or demo.", "login"),
    Setting("base_url", "", base_url, "Default base URL (overrides env when set).", "login"),
    Setting(
        "auth", "basic", auth_style, "How the client credentials are sent: basic or form.", "login"
    ),
    Setting("timeout", 30.0, seconds, "Seconds to wait for an answer (more than 0)."),
    Setting("retries", 3, _retries, "Retries for 429 (and 5xx on idempotent requests)."),
    Setting(
        "backoff",
        0.5,
        _at_least_zero,
        "Seconds of the first retry's backoff (doubled for each further retry, with jitter).",
    ),
    Setting(
        "max_retry_after", 60.0, _at_least_zero, "Cap on a server's Retry-After wait, seconds."
    ),
    Setting(
        "max_concurrency",
        8,
        concurrency,
        "Requests in flight at once for --all-pages and --each (1 to 64).",
    ),
    Setting(
        "max_answer_mb", 1024.0, megabytes, "Largest answer, in MB once decoded, that is read."
    ),
    Setting(
        "max_pages",
        1000,
        _positive_count,
        "Most pages one --all-pages fetches without --max-pages.",
    ),
    Setting(
        "max_rate",
        0.0,
        _per_second,
        "Most requests started per second, across threads (0: no limit).",
    ),
    Setting(
        "max_each", 10_000, _positive_count, "Most distinct values one --each sends requests for."
    ),
    Setting(
        "timezone",
        "UTC",
        timezone,
        "Time zone of datetime columns: an IANA name "
        '("Europe/Berlin"), or None for naive UTC (which Excel takes).',
        allow_none=True,
    ),
    Setting(
        "frames",
        "pandas",
        frame_library,
        "What a DataFrame result is: pandas or polars (the polars extra).",
    ),
    Setting(
        "cache",
        "off",
        cache_mode,
        "Cache for every cell: off, on (answer from the cache when fresh, keep what is "
        "fetched) or replay (answer only from the cache; send nothing).",
    ),
    Setting("cache_ttl", "15m", duration, "Age limit of a cached answer (30s, 15m, 2h, 7d)."),
    Setting(
        "cache_path",
        "",
        path_text,
        "The cache file (empty: the user's cache folder, p44_magic/cache.sqlite).",
    ),
    Setting(
        "cache_max_mb", 1024.0, megabytes, "Largest size of the cache file; the oldest go first."
    ),
    Setting(
        "parse_dates", True, flag, "Turn ISO 8601 timestamp columns into datetimes.", "notebook"
    ),
    Setting(
        "progress", True, flag, "Show progress while --all-pages or --each fetches.", "notebook"
    ),
    Setting(
        "login_wait",
        300.0,
        _login_wait,
        "Seconds %p44_login waits for a login through its "
        "form (Run All goes on after it); the form then closes.",
        "notebook",
    ),
)
BY_NAME: dict[str, Setting] = {setting.name: setting for setting in SETTINGS}
#: The settings of one session (``P44Client`` keywords a live session takes from ``%config``).
SESSION_SETTINGS: tuple[str, ...] = tuple(s.name for s in SETTINGS if s.scope == "session")


def checked(name: str, value: Any, prefix: str = "") -> Any:
    """``value`` as the setting ``name`` accepts it; its message names ``prefix + name``."""
    return BY_NAME[name].check(prefix + name, value)


def session_values(
    given: Mapping[str, Any], current: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Every session setting: ``current`` (else the defaults) with ``given`` checked over it.
    None leaves a setting as it is, unless None is one of its values (``timezone``); an
    unknown name is a TypeError, as for any keyword a function does not take."""
    unknown = sorted(set(given) - set(SESSION_SETTINGS))
    if unknown:
        raise TypeError(
            f"unknown setting {unknown[0]!r}; the settings are: {', '.join(SESSION_SETTINGS)}"
        )
    values = dict(current or {name: BY_NAME[name].default for name in SESSION_SETTINGS})
    for name, value in given.items():
        if value is not None or BY_NAME[name].allow_none:
            values[name] = checked(name, value)
    return values


def default(name: str) -> Any:
    """The declared default of a setting."""
    return BY_NAME[name].default
