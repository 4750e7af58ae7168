"""Progress for long work: an ipywidgets bar in a notebook, a text line on a terminal.

Both displays are callables the client calls as work advances, so the client knows nothing of
where (or whether) progress is shown.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from ..call_state import BytesCallback, EachCallback, PagesCallback, Progress
from ..words import counted


def display_progress(notebook: bool, *, pages: bool = True, each: bool = False) -> Progress:
    """Bars for one call: requests (for --each; its pages and downloads show none), or pages
    (when paging) and the bytes of a large download."""
    if each:
        return Progress(each=each_progress(notebook))
    return Progress(pages_progress(notebook) if pages else None, bytes_progress(notebook))


def pages_progress(notebook: bool) -> PagesCallback | None:
    """Pages done of total and rows, or None where nobody would see it."""
    bar = _bar(notebook, "pages")
    if bar is None:
        return None

    def show(done: int, pages: int, rows: int) -> None:
        bar(done, pages, f"{done}/{pages}, {counted(rows, 'row')}")

    return show


def each_progress(notebook: bool) -> EachCallback | None:
    """Requests done of total, rows and failures, for ``--each``."""
    bar = _bar(notebook, "requests", vanish=True)  # the summary line takes its place
    if bar is None:
        return None

    def show(done: int, total: int, rows: int, failures: int) -> None:
        failed = f", {failures:,} failed" if failures else ""
        bar(done, total, f"{done:,}/{total:,}, {counted(rows, 'row')}{failed}")

    return show


def bytes_progress(notebook: bool) -> BytesCallback | None:
    """Megabytes received of the announced Content-Length."""
    bar = _bar(notebook, "download")
    if bar is None:
        return None

    def show(received: int, total: int) -> None:
        bar(received, total, f"{received / 1e6:,.1f} of {total / 1e6:,.1f} MB")

    return show


def _bar(
    notebook: bool, title: str, vanish: bool = False
) -> Callable[[int, int, str], None] | None:
    """A bar; with ``vanish`` it disappears when the work is done."""
    if notebook:
        return _widget_bar(title, vanish)
    if sys.stderr.isatty():
        return _terminal_bar(title, vanish=vanish)
    return None


def _widget_bar(title: str, vanish: bool = False) -> Callable[[int, int, str], None]:
    """An ipywidgets bar; when the work is done its output is replaced (in place, through its
    display id) by one plain-text line, or by nothing when ``vanish``, so a saved notebook
    holds text, not a dead widget's ``HBox(children=…)``."""
    import ipywidgets as widgets
    from IPython.display import display

    parts: list = []  # made on the first update: most requests never need a bar
    shown: list = []  # the display handle, and when the bar appeared

    def update(done: int, total: int, text: str) -> None:
        if not parts:
            parts.extend(
                [
                    widgets.IntProgress(value=0, min=0, max=1, description=title),
                    widgets.Label(value=""),
                ]
            )
            parts.append(widgets.HBox(parts[:2]))
            shown.extend([display(parts[2], display_id=True), time.monotonic()])
        bar, label = parts[:2]
        bar.max = max(total, 1)
        bar.value = min(done, bar.max)
        label.value = text
        if done >= total:
            bar.bar_style = "success"
            handle, started = shown
            if handle is not None:
                line = "" if vanish else f"{title} {text} in {time.monotonic() - started:.1f} s"
                handle.update({"text/plain": line}, raw=True)
            for widget in parts:
                widget.close()

    return update


def _terminal_bar(
    title: str, width: int = 30, vanish: bool = False
) -> Callable[[int, int, str], None]:
    """A text bar on stderr; when the work is done, one plain line (or nothing, ``vanish``).
    A bar left unfinished (an error, an interrupt) has its line ended by :func:`end_line`."""
    started: list[float] = []

    def update(done: int, total: int, text: str) -> None:
        started[:] = started or [time.monotonic()]
        filled = int(width * done / max(total, 1))
        bar = f"[{'#' * filled}{'-' * (width - filled)}] {title} {text}"
        if done < total:
            _OPEN_LINE[0] = True
            print(f"\r{bar}", end="", file=sys.stderr, flush=True)
            return
        _OPEN_LINE[0] = False
        line = "" if vanish else f"{title} {text} in {time.monotonic() - started[0]:.1f} s"
        print("\r" + line.ljust(len(bar)), end="\n" if line else "\r", file=sys.stderr, flush=True)

    return update


_OPEN_LINE = [False]  # a terminal bar's line is open (no newline yet)


def end_line() -> None:
    """End a terminal bar's open line, so a message printed next starts on a line of its own."""
    if _OPEN_LINE[0]:
        _OPEN_LINE[0] = False
        print(file=sys.stderr, flush=True)
