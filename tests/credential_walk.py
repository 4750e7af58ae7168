"""A walk over everything a failure leaves reachable, looking for a credential (issue 11).

The walk follows what a debugger, a traceback printer or a careless ``print`` could reach:
exception chains and attributes, every frame of the library in a traceback and its locals,
objects' attributes and slots, containers, httpx requests and responses. It does not enter the
IPython shell or the user's namespace: the user's own ``secret = getpass()`` variable is theirs.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Iterable

import httpx

from tests.servers import SECRET

OURS = "/p44_magic/"  # frames of the library itself: a test's own frames hold what it sent
#: The test secret, and the part of every token the test servers issue.
TEST_CREDENTIALS = (SECRET, "s3cr3t")
_OPAQUE = ("IPython", "ipykernel", "_pytest", "pytest", "pandas", "numpy", "traitlets")


def findings(
    root: object,
    shell: object = None,
    credentials: Iterable[str] = TEST_CREDENTIALS,
    limit: int = 12,
) -> list[str]:
    """Paths under ``root`` to text holding one of ``credentials``."""
    wanted = tuple(c for c in credentials if c)
    skip = {id(shell), id(getattr(shell, "user_ns", None)), id(sys.modules)}
    seen: set[int] = set()
    found: list[str] = []

    def text_of(value: object) -> str | None:
        if isinstance(value, str):
            return value
        if isinstance(value, bytes | bytearray):
            return bytes(value).decode("latin-1")
        return None

    def children_of(value: object) -> list[tuple[str, object]]:
        children: list[tuple[str, object]] = []
        if isinstance(value, BaseException):
            children += [("__context__", value.__context__), ("__cause__", value.__cause__)]
            children += [("__traceback__", value.__traceback__), ("args", value.args)]
        if isinstance(value, types.TracebackType):
            children += [("tb_frame", value.tb_frame), ("tb_next", value.tb_next)]
        if isinstance(value, types.FrameType) and OURS in value.f_code.co_filename:
            children += [(f"<{value.f_code.co_name}>.{k}", v) for k, v in value.f_locals.items()]
        if isinstance(value, httpx.Request):
            children += [("content", value.content), ("headers", list(value.headers.raw))]
        if isinstance(value, httpx.Response):
            children += [("request", value._request), ("history", value.history)]
        if isinstance(value, dict):
            children += [(f"[{k!r}]", v) for k, v in value.items()]
            children += [(f"key {k!r}", k) for k in value]
        elif isinstance(value, list | tuple | set | frozenset):
            children += [(f"[{i}]", v) for i, v in enumerate(value)]
        for name in getattr(value, "__dict__", {}) or {}:
            children.append((f".{name}", value.__dict__[name]))
        for cls in type(value).__mro__:
            for name in getattr(cls, "__slots__", ()):
                if hasattr(value, name):
                    children.append((f".{name}", getattr(value, name)))
        return children

    def walk(value: object, path: str, depth: int) -> None:
        text = text_of(value)
        if text is not None:
            if any(credential in text for credential in wanted):
                found.append(path)
            return
        if depth > limit or id(value) in seen or id(value) in skip:
            return
        if isinstance(value, type | types.ModuleType | types.FunctionType | types.CodeType):
            return
        if type(value).__module__.startswith(_OPAQUE):
            return
        seen.add(id(value))
        for name, child in children_of(value):
            joined = f"{path}{name}" if name.startswith((".", "[")) else f"{path}.{name}"
            walk(child, joined, depth + 1)

    walk(root, "", 0)
    return found


def walk_last_failure(shell: object, credentials: Iterable[str] = TEST_CREDENTIALS) -> list[str]:
    """Findings under ``sys.last_value`` and ``sys.last_traceback`` (what a shell keeps)."""
    credentials = tuple(credentials)
    last = (getattr(sys, "last_value", None), getattr(sys, "last_traceback", None))
    return [hit for root in last for hit in findings(root, shell, credentials)]
