"""A background job on the page: a live progress bar, and whether a front end shows widgets.

Since ipykernel 7, output printed from a thread no longer lands in the cell that started the
thread (ipykernel #1289, #1451), so a job never prints. Its bar is an ipywidgets model whose
state the job's thread sets (the front end follows the model, wherever the cell is), and when
the job ends the bar's output is replaced, through its display id, by one plain-text line: a
saved notebook holds text, not a dead widget.

Whether a widget front end is attached is found as the login form finds it: the bar is shown
and the cell reads the kernel's messages until a view of it is reported (or any widget
message comes); none within the wait means a headless run (papermill, nbconvert, nbclient).
"""

from __future__ import annotations

import time
from typing import Any

from ..jobs import P44Job
from .login_form import VIEW_WAIT
from .widget_wait import message_pump

WAKE_EVERY = 0.05
UPDATE_EVERY = 0.1  # seconds between two updates of a bar


class JobBar:
    """The live bar of one job (displayed at once; updated from the job's thread)."""

    def __init__(self, job: P44Job | None = None, text: str = "starting in the background") -> None:
        import ipywidgets as widgets
        from IPython.display import display

        title = f"job {job.id}" if job is not None else "p44"
        self.bar = widgets.IntProgress(value=0, min=0, max=1, description=title)
        self.label = widgets.Label(value=job.line() if job is not None else text)
        self.box = widgets.HBox([self.bar, self.label])
        self.box._view_count = 0  # a number, so front ends report the views they render
        self.handle = display(self.box, display_id=True)
        self.closed = False
        self._shown_at = 0.0
        if job is not None:
            job.add_listener(self.update)

    def update(self, job: P44Job) -> None:
        """The job's progress into the bar's state, at most every UPDATE_EVERY seconds (each
        change is a message to the front end); the end, always."""
        now = time.monotonic()
        if self.closed or (not job.done() and now - self._shown_at < UPDATE_EVERY):
            return
        self._shown_at = now
        progress = job.progress
        self.bar.max = max(progress.total, 1)
        self.bar.value = min(progress.done, self.bar.max)
        self.label.value = job.line()
        if job.done():
            self.bar.bar_style = "danger" if job.error is not None else "success"
            self.close(job.line())

    def close(self, line: str) -> None:
        """Replace the bar by ``line`` (in place, through its display id)."""
        if self.closed:
            return
        self.closed = True
        if self.handle is not None:
            self.handle.update({"text/plain": line}, raw=True)
        for widget in (self.bar, self.label, self.box):
            widget.close()

    @property
    def views(self) -> int:
        return self.box._view_count or 0


def front_end_shows(shell: Any, bar: JobBar, wait: float = VIEW_WAIT) -> bool:
    """A front end renders ``bar`` (or talks widgets to the kernel) within ``wait`` seconds."""
    pump = message_pump(shell)
    if pump is None:
        return False
    started = time.monotonic()
    try:
        while not (bar.views or pump.comm_messages):
            if time.monotonic() - started >= wait:
                return False
            pump.handle(WAKE_EVERY)
        return True
    finally:
        pump.finish()


def show_job(job: P44Job) -> bool:
    """IPython's display of a job evaluated in a cell: a live bar (True: displayed)."""
    if job.done():
        return False  # its text repr says it all
    JobBar(job)
    return True
