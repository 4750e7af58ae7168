"""How one call uses the cache: a :class:`CacheUse` travels with the call (``Call.cache``), is
consulted by the session before each request is sent and told of each answer after, and counts
what came from where, for the result's line (``from cache, 12 min old``).

Modes: ``use`` (a fresh entry answers; what is fetched is kept), ``refresh`` (fetch, and
overwrite), ``offline`` (only the cache answers; a miss is a short error and nothing is sent).
``snapshot`` fetches as ``refresh`` does and keeps each answer as one more snapshot.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import httpx

from .. import settings as declared
from ..errors import P44Error, P44UsageError
from ..scrub import scrub, scrub_bytes
from .frames import MIN_ANSWER_BYTES, decode_frame, encode_frame
from .rules import (
    age_text,
    canonical_body,
    default_path,
    entry_key,
    kept,
    kept_headers,
    request_target,
    shown_request,
)
from .store import Entry, Store

Mode = Literal["use", "refresh", "offline"]
CHOICES = ("on", "off", "refresh", "snapshot", "offline", "replay")
_stores: dict[Path, Store] = {}
_stores_lock = threading.Lock()


def store_at(path: str | Path | None, max_mb: float) -> Store:
    """The process's one open :class:`Store` for a cache file (``None``/empty: the default)."""
    where = Path(path or default_path()).expanduser().resolve()
    with _stores_lock:
        store = _stores.get(where)
        if store is None:
            store = _stores[where] = Store(where, max_mb)
        store.max_bytes = int(max_mb * (1 << 20))
        return store


@dataclass
class CacheUse:
    """One call's use of the cache, and what it got from it."""

    store: Store
    mode: Mode = "use"
    max_age: float | None = None  # seconds; None: any age
    explicit: bool = False  # the cell asked: keep any POST too
    snapshot: bool = False
    hits: int = 0
    fetched: int = 0
    oldest: float | None = None  # fetched_at of the oldest answer that came from the cache
    newest_fetch: float | None = None
    source: str = "the cache"  # what a miss names: "the cache", "the replay file x.p44replay"
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def answer(self, identity: str, request: httpx.Request) -> httpx.Response | None:
        """The cached answer to ``request``, or None to send it; offline, a miss is an error."""
        if self.mode == "refresh":
            return None
        if self.mode == "use" and not kept(request.method, request.url.path, 200, self.explicit):
            return None  # a create is sent, not answered from a copy (offline reads anything)
        key, target = _key(identity, request)
        entry = self.store.get(key)
        fresh = entry is not None and (self.max_age is None or entry.age <= self.max_age)
        if entry is None or not fresh:
            if self.mode == "offline":
                raise not_cached(request.method, target, entry, self.max_age, self.source)
            return None
        with self._lock:
            self.hits += 1
            self.oldest = min(self.oldest or entry.fetched_at, entry.fetched_at)
        return cached_response(entry, request)

    def keep(
        self,
        identity: str,
        request: httpx.Request,
        response: httpx.Response,
        session: tuple[str, str, str],
    ) -> None:
        """Keep the answer fetched for ``request`` (as built, before any redirect) when the
        rules allow (see :mod:`.rules`)."""
        with self._lock:
            self.fetched += 1
            self.newest_fetch = time.time()
        if not kept(request.method, request.url.path, response.status_code, self.explicit):
            return
        key, target = _key(identity, request)
        entry = Entry(
            key,
            identity,
            request.method,
            scrub(target),
            response.status_code,
            kept_headers(response.headers),
            scrub_bytes(response.content),
            time.time(),
        )
        self.store.put(entry, snapshot=self.snapshot, session=session)
        if entry.body is response.content or entry.body == response.content:
            # Its frame may be kept too: built from exactly what the file holds. An answer
            # that echoed a credential is kept scrubbed, and framed again from that when read.
            response.extensions["p44_cache_key"] = key
            response.extensions["p44_kept_at"] = entry.fetched_at

    def frame_for(
        self, identity: str, request: httpx.Request, shape: str
    ) -> tuple[Any, list[str], Entry] | None:
        """The frame kept beside a fresh cached answer to ``request`` (framed as ``shape``),
        its notes and the answer's entry without its body; None to read the answer."""
        if self.mode == "refresh" or self.store.read_only:  # a replay file holds answers only
            return None
        key, _ = _key(identity, request)
        head = self.store.head(key)
        if head is None or (self.max_age is not None and head.age > self.max_age):
            return None
        data = self.store.get_frame(key, shape, head.fetched_at)
        found = decode_frame(data) if data is not None else None
        if found is None:
            return None
        with self._lock:
            self.hits += 1
            self.oldest = min(self.oldest or head.fetched_at, head.fetched_at)
        return found[0], found[1], head

    def keep_frame(
        self, response: httpx.Response, shape: str, identity: str, frame: Any, notes: list[str]
    ) -> None:
        """Keep the frame of a large answer just kept (or answered) from the cache."""
        key, stamp = response.extensions.get("p44_cache_key"), fetched_stamp(response)
        if key is None or stamp is None or len(response.content) < MIN_ANSWER_BYTES:
            return
        if self.store.read_only:
            return
        data = encode_frame(frame, notes)
        if data is not None:
            self.store.put_frame(key, shape, identity, stamp, data)

    def provenance(self) -> str | None:
        """``from cache, 12 min old`` (every answer from the cache), ``3 of 5 requests from
        cache``, or None when nothing came from it."""
        if not self.hits:
            return None
        if not self.fetched:
            return f"from cache, {age_text(time.time() - (self.oldest or time.time()))}"
        return f"{self.hits:,} of {self.hits + self.fetched:,} requests from cache"


def cached_response(entry: Entry, request: httpx.Request) -> httpx.Response:
    return httpx.Response(
        entry.status,
        headers=list(entry.headers.items()),
        content=entry.body,
        request=request,
        extensions={"p44_fetched_at": entry.fetched_at, "p44_cache_key": entry.key},
    )


def fetched_stamp(response: httpx.Response) -> float | None:
    """When the cached (or just kept) answer was fetched, as the cache file writes it."""
    stamp = response.extensions.get("p44_fetched_at", response.extensions.get("p44_kept_at"))
    return float(stamp) if isinstance(stamp, int | float) else None


def fetched_at(response: httpx.Response) -> tuple[bool, datetime]:
    """Whether ``response`` came from the cache, and when it was fetched."""
    stamp = response.extensions.get("p44_fetched_at")
    when = float(stamp) if isinstance(stamp, int | float) else time.time()
    return stamp is not None, datetime.fromtimestamp(when, UTC)


def _key(identity: str, request: httpx.Request) -> tuple[str, str]:
    target = request_target(request.url)
    body = canonical_body(request.content)
    return entry_key(identity, request.method, target, body), target


def not_cached(
    method: str, target: str, entry: Entry | None, max_age: float | None, source: str
) -> P44Error:
    what = shown_request(method, target)
    if source != "the cache":
        return P44Error(
            f"{what} is not in {source} (a replay session sends nothing).",
            hint="Run it live with the cache on, then export the cache again.",
        )
    if entry is not None and max_age is not None:
        return P44Error(
            f"{what}: the cached answer is {age_text(entry.age)}, older than the age limit "
            "(offline: nothing was sent).",
            hint="Drop the age (--offline alone takes any age), or run it online with --refresh.",
        )
    return P44Error(
        f"{what} is not in the cache (offline: nothing was sent).",
        hint="Run the cell once online with --cache to keep its answer, then again --offline.",
    )


def cache_use(choice: Any, values: dict[str, Any], max_age: str | None = None) -> CacheUse | None:
    """The cache use of one call: ``choice`` (None: the session's ``cache`` setting; False or
    ``"off"``; True or ``"on"``; an age such as ``"15m"``; ``"refresh"``, ``"snapshot"``,
    ``"offline"``); ``max_age`` an age written with ``--cache=``."""
    if choice is None:
        setting = values["cache"]
        if setting == "off":
            return None
        choice = "offline" if setting == "replay" else "setting"
    choice = _choice(choice)
    if choice == "off":
        return None
    ttl = declared.duration_seconds("cache age", max_age or values["cache_ttl"])
    store = store_at(values["cache_path"], values["cache_max_mb"])
    if choice == "offline":
        return CacheUse(
            store, "offline", declared.duration_seconds("--cache", max_age) if max_age else None
        )
    if choice in ("refresh", "snapshot"):
        return CacheUse(store, "refresh", ttl, explicit=True, snapshot=choice == "snapshot")
    if choice not in ("on", "setting"):  # an age: "15m"
        ttl = declared.duration_seconds("cache", choice)
    return CacheUse(store, "use", ttl, explicit=choice != "setting")


def _choice(choice: Any) -> str:
    if isinstance(choice, bool):
        return "on" if choice else "off"
    if not isinstance(choice, str):
        raise P44UsageError(
            f"cache = {choice!r}: use True, False, an age such as '15m', or one of "
            f"{', '.join(CHOICES)}."
        )
    text = choice.strip().lower()
    if text == "replay":
        return "offline"
    if text in (*CHOICES, "setting"):
        return text
    declared.duration_seconds("cache", text)  # an age, or a short error
    return text
