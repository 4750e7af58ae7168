"""Environment files of the ``.http`` tools, read for ``%p44_login --env-file``.

- JetBrains' HTTP Client and httpyac: ``http-client.env.json`` with, beside it,
  ``http-client.private.env.json``; an environment's entries of both are merged, the private
  file's winning for every key (it is where secrets belong). Its ``Security.Auth.<ID>`` entry
  (``"Type": "OAuth2"``, ``"Grant Type": "Client Credentials"``, ``"Token URL"``, ``"Client
  ID"``, ``"Client Secret"``, ``"Client Credentials": "basic"`` or ``"in body"``) gives the
  credentials; the base URL is the token URL's origin, else the ``host`` / ``baseUrl`` variable.
- VS Code REST Client: ``.vscode/settings.json``'s ``rest-client.environmentVariables``, with
  ``$shared`` merged first: variables (and ``host`` / ``baseUrl``) only.

The other variables become file variables of the session. A client secret written in the public
file is refused; a private file that other users can read, or that git does not ignore, is
warned about. Nothing here is evaluated; files are bounded in size.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from .auth import Secret
from .errors import P44UsageError

PUBLIC_NAME = "http-client.env.json"
PRIVATE_NAME = "http-client.private.env.json"
MAX_ENV_FILE_BYTES = 1 << 20
_REFERENCE = re.compile(r"\{\{([^{}]*)\}\}")  # linear: no lazy group between spaces
_AUTH_STYLES = {"basic": "basic", "in body": "form"}


@dataclass
class EnvLogin:
    """What an environment file gives a login."""

    source: str
    base_url: str | None = None
    client_id: str | None = None
    secret: Secret | None = None
    auth: str | None = None  # basic or form
    variables: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def read_env_login(path: str | Path, env: str, auth_id: str | None = None) -> EnvLogin:
    """The environment ``env`` of the file at ``path`` (a folder: the file in it)."""
    where = Path(path).expanduser()
    if where.is_dir():
        vscode = where / ".vscode" / "settings.json"
        where = where / PUBLIC_NAME if (where / PUBLIC_NAME).is_file() else vscode
    if not where.is_file():
        raise P44UsageError(f"No environment file at {where}.")
    if where.name == "settings.json":
        return _vscode(where, env)
    return _jetbrains(where, env, auth_id)


def _jetbrains(path: Path, env: str, auth_id: str | None) -> EnvLogin:
    public_path = path.with_name(PUBLIC_NAME)
    private_path = path.with_name(PRIVATE_NAME)
    public = _environments(public_path) if public_path.is_file() else {}
    private = _environments(private_path) if private_path.is_file() else {}
    if env not in public and env not in private:
        names = ", ".join(sorted({*public, *private})) or "none"
        raise P44UsageError(f"{path.name} has no environment {env!r}; it has: {names}.")
    mine, theirs = _object(public.get(env, {})), _object(private.get(env, {}))
    _refuse_public_secrets(mine, env, theirs)
    merged = {**mine, **theirs}
    auths = {
        **_auths(mine),
        **{k: {**_auths(mine).get(k, {}), **v} for k, v in _auths(theirs).items()},
    }
    variables = {k: _text(v) for k, v in merged.items() if k != "Security" and _is_scalar(v)}
    login = EnvLogin(f"{path.name} ({env})", variables=variables)
    if auths:
        _take_auth(login, auths, auth_id, variables)
    login.base_url = login.base_url or _base_of(variables)
    if private_path.is_file():
        login.warnings += private_file_warnings(private_path)
    return login


def _vscode(path: Path, env: str) -> EnvLogin:
    settings = _object(_load(path, comments=True))
    environments = _object(settings.get("rest-client.environmentVariables", {}))
    if env not in environments:
        names = ", ".join(sorted(k for k in environments if k != "$shared")) or "none"
        raise P44UsageError(f"{path.name} has no rest-client environment {env!r}; it has: {names}.")
    merged = {**_object(environments.get("$shared", {})), **_object(environments[env])}
    variables = {k: _text(v) for k, v in merged.items() if _is_scalar(v)}
    return EnvLogin(f"{path.name} ({env})", _base_of(variables), variables=variables)


def _take_auth(
    login: EnvLogin, auths: dict[str, dict[str, Any]], auth_id: str | None, variables: dict
) -> None:
    """The credentials of ``Security.Auth.<ID>`` (the only one when no ID is given)."""
    if auth_id is None and len(auths) > 1:
        raise P44UsageError(
            f"{login.source} has several auth entries ({', '.join(auths)}): pick one with "
            "--auth-id ID."
        )
    auth_id = auth_id or next(iter(auths))
    if auth_id not in auths:
        raise P44UsageError(f"{login.source} has no auth entry {auth_id!r}: {', '.join(auths)}.")
    entry = {key: _filled(_text(value), variables) for key, value in auths[auth_id].items()}
    kind = (entry.get("Type", ""), entry.get("Grant Type", ""))
    if kind[0].lower() != "oauth2" or kind[1].lower() != "client credentials":
        raise P44UsageError(
            f"{login.source}: auth {auth_id!r} is {kind[0]} / {kind[1]}; p44_magic logs in with "
            '"Type": "OAuth2" and "Grant Type": "Client Credentials".'
        )
    style = entry.get("Client Credentials", "basic").strip().lower()
    if style not in _AUTH_STYLES:
        raise P44UsageError(
            f'{login.source}: "Client Credentials": {style!r} is not "basic" or "in body".'
        )
    login.auth = _AUTH_STYLES[style]
    login.client_id = entry.get("Client ID") or None
    secret = entry.get("Client Secret")
    login.secret = Secret(secret) if secret else None
    token_url = entry.get("Token URL")
    if token_url:
        try:
            url = httpx.URL(token_url)
        except (httpx.InvalidURL, ValueError):
            raise P44UsageError(f'{login.source}: "Token URL" is not a URL.') from None
        login.base_url = f"{url.scheme}://{url.netloc.decode('ascii')}"
    for name in _REFERENCE.findall(_text(auths[auth_id].get("Client Secret", ""))):
        login.variables.pop(name.strip(), None)  # a secret is not a variable for requests


def _refuse_public_secrets(
    public_env: dict[str, Any], env: str, private_env: dict[str, Any] | None = None
) -> None:
    """A client secret written in the public file, as itself or as a variable of it that the
    private file does not give, is refused."""
    private_env = private_env or {}
    for auth_id, entry in _auths(public_env).items():
        secret = _text(entry.get("Client Secret", "")).strip()
        named = _REFERENCE.fullmatch(secret)
        public_variable = named is not None and (
            named.group(1).strip() in public_env and named.group(1).strip() not in private_env
        )
        if secret and (named is None or public_variable):
            raise P44UsageError(
                f"{PUBLIC_NAME} holds the client secret of auth {auth_id!r} ({env}): a secret "
                "must not be in the public file, which is meant to be committed.",
                hint=f'Move "Client Secret" to {PRIVATE_NAME} beside it (JetBrains and httpyac '
                "read it from there too), and keep that file out of git.",
            )


def private_file_warnings(path: Path) -> list[str]:
    """What is unsafe about where a private environment file lies."""
    warnings = []
    if os.name == "posix" and stat.S_IMODE(path.stat().st_mode) & 0o077:
        warnings.append(f"{path.name} can be read by other users of this machine: chmod 600 {path}")
    if _not_ignored_by_git(path):
        warnings.append(
            f"{path.name} is not ignored by git: add it to .gitignore so its secrets are "
            "never committed."
        )
    return warnings


def _not_ignored_by_git(path: Path) -> bool:
    """In a git work tree, and ``git check-ignore`` says the file is not ignored."""
    folder = path.resolve().parent
    if not any((parent / ".git").exists() for parent in (folder, *folder.parents)):
        return False
    try:
        done = subprocess.run(
            # The folder's own git config is not trusted: no fsmonitor command, no hooks.
            [
                "git",
                "-c",
                "core.fsmonitor=false",
                "-c",
                "core.hooksPath=/dev/null",
                "check-ignore",
                "-q",
                path.name,
            ],
            cwd=folder,
            capture_output=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 1  # 0: ignored; 128: not a repository (or git failed)


def _environments(path: Path) -> dict[str, Any]:
    return _object(_load(path))


def _load(path: Path, comments: bool = False) -> Any:
    if path.stat().st_size > MAX_ENV_FILE_BYTES:
        raise P44UsageError(f"{path.name} is larger than 1 MB: not an environment file.")
    text = path.read_text(encoding="utf-8", errors="replace")
    try:
        return json.loads(_without_comments(text) if comments else text)
    except (ValueError, RecursionError) as error:
        raise P44UsageError(f"{path.name} is not valid JSON: {str(error)[:120]}.") from None


def _without_comments(text: str) -> str:
    """JSON with ``//`` and ``/* */`` comments and trailing commas (VS Code's settings)."""
    out, index, length = [], 0, len(text)
    while index < length:
        char = text[index]
        if char == '"':
            end = index + 1
            while end < length and text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            out.append(text[index : end + 1])
            index = end + 1
        elif text.startswith("//", index):
            index = text.find("\n", index) if "\n" in text[index:] else length
        elif text.startswith("/*", index):
            end = text.find("*/", index + 2)
            index = length if end < 0 else end + 2
        else:
            out.append(char)
            index += 1
    return re.sub(r",(\s*[}\]])", r"\1", "".join(out))


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _auths(env: dict[str, Any]) -> dict[str, dict[str, Any]]:
    auth = _object(_object(env.get("Security")).get("Auth"))
    return {str(k): v for k, v in auth.items() if isinstance(v, dict)}


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool) or value is None


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _filled(text: str, variables: dict[str, str]) -> str:
    """``{{name}}`` from the environment's variables, ``{{$processEnv NAME}}`` from the
    process; anything else stays as written."""

    def value(found: re.Match[str]) -> str:
        name = found.group(1).strip()
        if name.startswith("$processEnv "):
            return os.environ.get(name.split(None, 1)[1], found.group(0))
        return variables.get(name, found.group(0))

    return _REFERENCE.sub(value, text)


def _base_of(variables: dict[str, str]) -> str | None:
    for name in ("host", "baseUrl", "base_url"):
        if variables.get(name):
            return variables[name].rstrip("/")
    return None
