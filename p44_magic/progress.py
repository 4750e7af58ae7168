"""Progress for long work: an ipywidgets bar in a notebook, a text line on a terminal.

Both displays are callables the client calls as work advances, so the client knows nothing of
where (or whether) progress is shown.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass

PagesCallback = Callable[[int, int, int], None]  # pages done, pages in all, rows so far
BytesCallback = Callable[[int, int], None]  # bytes received, bytes in all


@dataclass(frozen=True)
class Progress:
    """Where one call reports how it advances; passed with the call, never set on a client."""

    pages: PagesCallback | None = None
    download: BytesCallback | None = None


def display_progress(notebook: bool, *, pages: bool = True) -> Progress:
    """Bars for one call: pages (when paging) and the bytes of a large download."""
    return Progress(pages_progress(notebook) if pages else None, bytes_progress(notebook))


def pages_progress(notebook: bool) -> PagesCallback | None:
    """Pages done of total and rows, or None where nobody would see it."""
    bar = _bar(notebook, "pages")
    if bar is None:
        return None

    def show(done: int, pages: int, rows: int) -> None:
        bar(done, pages, f"pages {done}/{pages}, {rows:,} rows")

    return show


def bytes_progress(notebook: bool) -> BytesCallback | None:
    """Megabytes received of the announced Content-Length."""
    bar = _bar(notebook, "download")
    if bar is None:
        return None

    def show(received: int, total: int) -> None:
        bar(received, total, f"{received / 1e6:,.1f} of {total / 1e6:,.1f} MB")

    return show


def _bar(notebook: bool, title: str) -> Callable[[int, int, str], None] | None:
    if notebook:
        return _widget_bar(title)
    if sys.stderr.isatty():
        return _terminal_bar()
    return None


def _widget_bar(title: str) -> Callable[[int, int, str], None]:
    import ipywidgets as widgets
    from IPython.display import display

    parts: list = []  # made on the first update: most requests never need a bar

    def update(done: int, total: int, text: str) -> None:
        if not parts:
            parts.extend(
                [
                    widgets.IntProgress(value=0, min=0, max=1, description=title),
                    widgets.Label(value=""),
                ]
            )
            display(widgets.HBox(parts))
        bar, label = parts
        bar.max = max(total, 1)
        bar.value = min(done, bar.max)
        label.value = text
        if done >= total:
            bar.bar_style = "success"

    return update


def _terminal_bar(width: int = 30) -> Callable[[int, int, str], None]:
    def update(done: int, total: int, text: str) -> None:
        filled = int(width * done / max(total, 1))
        end = "\n" if done >= total else ""
        bar = "#" * filled + "-" * (width - filled)
        print(f"\r[{bar}] {text}", end=end, file=sys.stderr, flush=True)

    return update
