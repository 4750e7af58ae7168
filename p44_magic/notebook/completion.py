"""Tab completion for ``%p44`` lines and the request line of ``%%p44`` cells.

A context matcher for IPython's completion API: first the HTTP method, then the catalogue's
paths, with each ``{placeholder}`` written ``{{placeholder}}`` so that running the completed
line asks for a notebook variable instead of sending the braces.
"""

from __future__ import annotations

import re

from IPython.core.completer import (
    CompletionContext,
    SimpleCompletion,
    SimpleMatcherResult,
    context_matcher,
)

from ..endpoints import ENDPOINTS
from ..request import METHODS, is_skippable

_CATALOGUE_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def as_template(path: str) -> str:
    """``/shipments/{shipmentId}/x`` → ``/shipments/{{shipmentId}}/x``."""
    return _CATALOGUE_PLACEHOLDER.sub(r"{{\1}}", path)


@context_matcher()
def p44_matcher(context: CompletionContext) -> SimpleMatcherResult:
    """Methods, then catalogue paths, wherever a p44 request line is being typed."""
    words = _request_words(context)
    if words is None:
        return {"completions": [], "suppress": False}
    token = context.token
    if len(words) <= 1:  # typing the method
        found = [SimpleCompletion(m, type="method") for m in METHODS if m.startswith(token.upper())]
    else:
        method = words[0].upper()
        paths = sorted(
            {as_template(e.path) for e in ENDPOINTS if e.method == method or method not in METHODS}
        )
        found = [SimpleCompletion(p, type="path") for p in paths if p.startswith(token)]
    return {"completions": found, "suppress": bool(found)}


def _request_words(context: CompletionContext) -> list[str] | None:
    """The words of the request typed so far (method first), or None outside a p44 request."""
    current = context.text_until_cursor  # the cursor's line only
    lines = context.full_text.split("\n")[: context.cursor_line] + [current]
    if current.lstrip().startswith("%p44 ") or _assigned_magic(current):
        words = current.split("%p44", 1)[1].split()
        words = [w for w in words if not w.startswith("-")]
    elif len(lines) >= 2 and lines[0].startswith("%%p44") and _first_request_line(lines):
        words = current.split()
    else:
        return None
    if current.endswith((" ", "\t")):
        words.append("")
    return words or [""]


def _assigned_magic(line: str) -> bool:
    return "= %p44 " in line or "=%p44 " in line


def _first_request_line(lines: list[str]) -> bool:
    """True when every line between the magic line and the cursor is blank or a comment."""
    return all(is_skippable(line) for line in lines[1:-1])


def show_whole_paths() -> None:
    """Terminal IPython shortens long completions with three slashes to ``/a…}/tracking``;
    for an API path the whole path is the information, so it is shown whole."""
    try:
        from IPython.terminal import ptutils
    except ImportError:  # no terminal front end installed
        return
    original = getattr(ptutils, "_elide", None)
    if original is None or getattr(original, "p44_whole_paths", False):
        return

    def elide(string: str, typed: str, *args: object, **kwargs: object) -> str:
        if string.startswith("/api/"):
            return string
        return original(string, typed, *args, **kwargs)

    elide.p44_whole_paths = True  # type: ignore[attr-defined]
    ptutils._elide = elide
