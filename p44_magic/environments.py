"""project44 hosts by environment name, and the rule that credentials only travel over HTTPS."""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from .errors import P44UsageError

#: Documented project44 API hosts. ``demo`` is resolved at login time (a local server).
ENVIRONMENTS: dict[str, str] = {
    "na": "https://na12.api.project44.com",
    "eu": "https://eu12.api.project44.com",
    "sandbox": "https://na12.api.sandbox.p-44.com",
}
ENVIRONMENT_NAMES = (*ENVIRONMENTS, "demo")
TOKEN_PATH = "/api/v4/oauth2/token"


def is_loopback(host: str) -> bool:
    """True for localhost and 127.0.0.0/8 / ::1 literals."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_base_url(url: str) -> str:
    """Validate a base URL and return it without a trailing slash.

    Credentials travel only over HTTPS; plain ``http://`` is allowed for loopback hosts only
    (the demo API and local test servers).
    """
    parts = urlsplit(url.strip())
    try:
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise P44UsageError(
            f"Base URL {url!r} has a port that is not a number.",
            hint="Give e.g. --base-url https://na12.api.project44.com or http://127.0.0.1:8000.",
        ) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise P44UsageError(
            f"Base URL {url!r} is not an http(s) URL.",
            hint="Give e.g. --base-url https://na12.api.project44.com or --env na|eu|sandbox|demo.",
        )
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise P44UsageError(
            f"Refusing plain http:// for {parts.hostname}: credentials travel only over HTTPS.",
            hint="Use an https:// base URL (http:// is allowed for 127.0.0.1/localhost only).",
        )
    if parts.query or parts.fragment:
        raise P44UsageError(f"Base URL {url!r} must not carry a query or fragment.")
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def base_url_for(env: str) -> str:
    """The base URL of a named production/sandbox environment."""
    try:
        return ENVIRONMENTS[env.lower()]
    except KeyError:
        names = ", ".join(ENVIRONMENT_NAMES)
        raise P44UsageError(f"Unknown environment {env!r}.", hint=f"Use one of: {names}.") from None


def check_tenant(env: str, base_url: str | None, tenant: int | None) -> None:
    """``--tenant`` is the demo's: 1 or 2, with ``--env demo`` and no base URL."""
    if tenant is None:
        return
    if env != "demo" or base_url:
        raise P44UsageError(
            f"--tenant {tenant}: tenants are the demo's (--env demo); a real environment's tenant "
            "is the client application you log in with.",
        )
    if tenant not in (1, 2):
        raise P44UsageError(f"--tenant {tenant}: the demo has tenants 1 and 2.")


def session_place(
    env: str, base_url: str | None, client_id: str | None, secret: Any, tenant: int | None = None
) -> tuple[str, str, Any]:
    """The base URL and credentials of a session: a checked base URL, the named environment's,
    or the demo's (started on 127.0.0.1 for ``env='demo'``, with the credentials of its tenant
    1 or 2)."""
    check_tenant(env, base_url, tenant)
    if base_url:
        base_url = check_base_url(base_url)
    elif env == "demo":
        from .demo import TENANTS, start_demo_server

        base_url = start_demo_server().base_url
        demo_id, demo_secret = TENANTS[tenant or 1]
        client_id, secret = client_id or demo_id, secret or demo_secret
    else:
        base_url = base_url_for(env)
    if not client_id or not secret:
        raise P44UsageError(
            "A client id and a client secret are needed.",
            hint="Give them, or set P44_CLIENT_ID and P44_CLIENT_SECRET.",
        )
    return base_url, client_id, secret
