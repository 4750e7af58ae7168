"""What ``%p44_login`` needs besides the magic itself: where the credentials come from (the line,
the environment, a variable), the terminal prompts, and the new client's success line."""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from IPython.core.error import StdinNotImplementedError

from ..auth import Secret
from ..client import P44Client
from ..env_files import read_env_login
from ..environments import ENVIRONMENT_NAMES, base_url_for, check_base_url, check_tenant
from ..errors import P44Error, P44UsageError

NO_INPUT_TEXT = (
    "Nobody can answer a prompt here (a headless run: papermill, nbconvert, nbclient?). "
    "Set P44_CLIENT_ID and P44_CLIENT_SECRET in the kernel's environment and run %p44_login."
)
SECRET_HINT = (
    "Put the secret in a variable and pass --client-secret $name, set P44_CLIENT_SECRET, "
    "or run %p44_login without it to get the login form or a prompt."
)


@dataclass
class LoginPlace:
    """Where and as whom a login goes, from the line, the environment and ``%config``."""

    client_id: str | None
    secret: Secret | None
    env: str
    base_url: str | None
    tenant: int | None = None  # the demo's tenant (1 or 2)

    @property
    def must_ask(self) -> bool:
        """The id or secret is missing (the demo has its own)."""
        return not (self.client_id and self.secret) and self.env != "demo"


def session_environ(name: str) -> dict[str, str]:
    """``P44_*`` variables for session ``name``: its own ``P44_<NAME>_*`` first, then the plain
    ones (for the default session, the plain ones)."""
    plain = {key: os.environ[key] for key in _VARIABLES if key in os.environ}
    if name == "default":
        return plain
    prefix = f"P44_{name.upper()}_"
    own = {
        key: os.environ[prefix + key[4:]] for key in _VARIABLES if prefix + key[4:] in os.environ
    }
    return {**plain, **own}


_VARIABLES = ("P44_CLIENT_ID", "P44_CLIENT_SECRET", "P44_ENV", "P44_BASE_URL")


def login_place(
    args: Any, user_ns: Mapping[str, Any], env: str, base_url: str, name: str = "default"
) -> LoginPlace:
    """The options of the line first, then the session's ``P44_<NAME>_*`` and the plain
    ``P44_*`` environment variables, then ``%config``."""
    environ = session_environ(name)
    env = (args.env or environ.get("P44_ENV") or env).lower()
    url = args.base_url or environ.get("P44_BASE_URL") or base_url or None
    if args.env:
        url = args.base_url  # an explicit --env beats a configured base URL
    # The demo takes only credentials given on the line: real ones from the environment must
    # not be sent to it.
    from_env = environ if env != "demo" or url else {}
    client_id = args.client_id or from_env.get("P44_CLIENT_ID")
    secret = secret_from(args.client_secret, user_ns)
    if secret is None and from_env.get("P44_CLIENT_SECRET"):
        secret = Secret(from_env["P44_CLIENT_SECRET"])
    tenant = getattr(args, "tenant", None)
    check_tenant(env, url, tenant)  # before any prompt or form
    return LoginPlace(client_id, secret, env, url, tenant)


def secret_from(option: str | None, user_ns: Mapping[str, Any]) -> Secret | None:
    """``--client-secret $name``: the secret held by the notebook variable ``name``."""
    if option is None:
        return None
    name = option[1:] if option.startswith("$") else None
    if not name or not name.isidentifier():
        raise P44UsageError("--client-secret takes $name, not the secret itself.", hint=SECRET_HINT)
    if name not in user_ns:
        raise P44UsageError(
            f"--client-secret ${name}: no variable named {name!r}.", hint=SECRET_HINT
        )
    value = user_ns[name]
    if not isinstance(value, str | Secret) or not value:
        raise P44UsageError(f"--client-secret ${name}: the variable must hold a non-empty string.")
    return Secret(value)


def prompt_for(client_id: str | None, env: str, base_url: str | None) -> tuple[str, Secret]:
    """Ask for what is missing, saying first where the credentials will go; Ctrl-C (or the end
    of input) at a prompt cancels the login in one line."""
    where = check_base_url(base_url) if base_url else base_url_for(env)
    print(f"Logging in to {where} ({'custom' if base_url else env})…")
    try:
        if not client_id:
            client_id = input("Client ID: ").strip()
        return client_id, Secret(getpass.getpass("Client secret (not echoed): "))
    except (KeyboardInterrupt, EOFError):
        print()  # the prompt's line stays open otherwise
    except StdinNotImplementedError:  # a headless run: nobody can answer
        raise P44UsageError(NO_INPUT_TEXT) from None
    raise P44UsageError("Login cancelled.")


def already_logged_in(
    client: P44Client, place: LoginPlace, auth: str, bare: bool = False
) -> str | None:
    """The line for a login that would change nothing, else None: a ``bare`` ``%p44_login``
    (no option on its line), or one naming the same host, client id, auth style and (when
    given) secret. The session and its token are kept, so running the login cell again (Run
    All) goes on without a new token or a form."""
    line = (
        f"Already logged in to {client.base_url} as client {client.client_id} "
        f"({client.auth_style} auth): the session and its token are kept."
    )
    if bare:
        return line
    if client.auth_style != auth:
        return None
    if place.env == "demo" and not place.base_url:
        url, client_id = _demo_place(place.client_id, place.tenant)
    else:
        url = check_base_url(place.base_url) if place.base_url else base_url_for(place.env)
        client_id = place.client_id
    same_secret = place.secret is None or client.session.token_holder.holds_secret(place.secret)
    if url != client.base_url or client_id not in (None, client.client_id) or not same_secret:
        return None
    return line


def _demo_place(client_id: str | None, tenant: int | None) -> tuple[str, str | None]:
    from ..demo import TENANTS, start_demo_server

    return start_demo_server().base_url, client_id or TENANTS.get(tenant or 1, ("",))[0]


def logged_in_client(
    place: LoginPlace, auth: str, settings: Mapping[str, Any]
) -> tuple[P44Client, str]:
    """A new client that holds its first token, and the line that says so."""
    if place.env == "custom" and not place.base_url:
        raise P44UsageError("Enter a base URL for a custom environment.")
    client = P44Client(
        place.client_id or None,
        place.secret or None,
        env=place.env,
        base_url=place.base_url,
        auth=auth,
        tenant=place.tenant,
        **settings,
    )
    try:
        client.login()
    except P44Error:
        client.close()
        raise
    where = client.base_url + (f" ({client.env})" if client.env != "custom" else "")
    return client, (
        f"Logged in to {where} as client {client.client_id} "
        f"({client.auth_style} auth): a token is held for this session."
    )


def env_file_login(args: Any) -> tuple[Any, Any]:
    """``--env-file PATH --env ENV [--auth-id ID]``: the line's options with the file's base
    URL, client id and auth style (the line's own win), and what the file gives (its secret,
    variables and warnings)."""
    from argparse import Namespace

    if not args.env:
        raise P44UsageError("--env-file needs --env NAME: the environment of the file to use.")
    found = read_env_login(args.env_file, args.env, args.auth_id)
    for warning in found.warnings:
        print(f"Warning: {warning}", file=sys.stderr)
    options = Namespace(**vars(args))
    options.env = None
    options.base_url = args.base_url or found.base_url
    options.client_id = args.client_id or found.client_id
    options.auth = args.auth or found.auth
    if not options.base_url:
        raise P44UsageError(
            f"{found.source} gives no base URL: no Token URL and no host or baseUrl variable.",
            hint="Add a host variable to the environment, or pass --base-url.",
        )
    return options, found


def check_env_name(env: str | None) -> None:
    """``--env`` without ``--env-file`` is one of the environments (as argparse says it)."""
    if env is not None and env.lower() not in ENVIRONMENT_NAMES:
        choices = ", ".join(repr(name) for name in ENVIRONMENT_NAMES)
        raise P44UsageError(f"argument --env: invalid choice: {env!r} (choose from {choices})")
