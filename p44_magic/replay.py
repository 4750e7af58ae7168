"""A replay session: answered only from a replay file (``%p44_cache export``), read-only, with
no credentials and nothing sent, so a shared notebook, CI or papermill runs with no account."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from . import settings
from .answers import Exchange
from .cache import CacheUse, Store
from .call_state import Call
from .errors import P44UsageError, clean_failures
from .request import HttpRequest, check_request, encoded_body
from .session import Session


class _NoToken:
    """A replay session holds no token and fetches none."""

    has_token = False
    token_age = None
    token_fetches = 0

    def forget(self) -> None:
        pass

    def invalidate(self) -> None:
        pass


class ReplaySession(Session):
    """One session of a replay file (``label``: its name when exported, needed only when the
    file holds several); the settings are those of any session."""

    def __init__(self, path: str | Path, label: str | None = None, **values: Any) -> None:
        self.settings = settings.session_values(values)
        self.store = Store(path, self.settings["max_answer_mb"], read_only=True)
        self.path = Path(path)
        self.identity, self.base_url, self.label = _pick(self.store, self.path.name, label)
        try:
            httpx.URL(self.base_url)
            url_ok = self.base_url.startswith(("http://", "https://"))
        except (httpx.InvalidURL, ValueError):
            url_ok = False
        if not url_ok:
            raise P44UsageError(f"{self.path.name} names no usable base URL.")
        self.env, self.client_id, self.auth_style = "replay", None, "none"
        self.requests_sent = 0
        self.token_holder = _NoToken()  # type: ignore[assignment]
        self._origin = httpx.URL(self.base_url)
        self.host = self._origin.host

    def configure(self, **values: Any) -> None:
        self.settings = settings.session_values(values, self.settings)

    def login(self) -> None:
        """Nothing to log in to."""

    def close(self) -> None:
        self.store.close()

    @property
    def answers(self) -> int:
        return self.store.count(self.identity)

    def status(self) -> dict[str, Any]:
        return {
            "base_url": self.base_url,
            "client_id": None,
            "auth": f"replay of {self.path.name}",
            "token": "none",
            "token_age_s": None,
            "requests": 0,
            "token_fetches": 0,
        }

    @property
    def cache_identity(self) -> str:
        return self.identity

    def call_cache(self, choice: Any = None, max_age: str | None = None) -> CacheUse:
        """Every call of a replay session is answered from its file, whatever it asks."""
        return CacheUse(self.store, "offline", source=f"the replay file {self.path.name}")

    @clean_failures
    def send(
        self,
        request: HttpRequest,
        call: Call,
        idempotent: bool | None = None,
        *,
        download: bool = True,
    ) -> httpx.Response:
        """The recorded answer to ``request``; one it does not hold is a short error."""
        check_request(request)
        content = encoded_body(request.body)
        built = httpx.Request(
            request.method,
            self.url_for(request.target),
            headers=list(request.headers),
            content=content,
        )
        call.exchange = exchange = Exchange.of_request(built, content)
        use = call.cache if call.cache is not None else self.call_cache()
        response = use.answer(self.identity, built)
        assert response is not None  # offline: a miss raised
        return self._answered(exchange, response, 0.0)


def _pick(store: Store, file: str, label: str | None) -> tuple[str, str, str]:
    """The file's one session, or the one exported under ``label``."""
    found = store.replay_sessions()
    if len(found) == 1:
        return found[0]
    for identity, base_url, name in found:
        if name == label:
            return identity, base_url, name
    names = ", ".join(name for _, _, name in found) or "none"
    raise P44UsageError(
        f"{file} holds the sessions {names}; name one with --name.",
        hint=f"For example %p44_login --replay {file} --name {found[0][2] if found else 'default'}",
    )
