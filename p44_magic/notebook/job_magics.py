"""``%p44_jobs``, ``%p44_wait`` and ``%p44_cancel``: following and controlling the background
jobs of ``%%p44 NAME --bg`` (see :mod:`.background`)."""

from __future__ import annotations

import sys
from typing import Any

import pandas as pd
from IPython.core.magic import line_magic, magics_class

from ..errors import P44Error
from ..pacing import DeferredInterrupt
from .background import delivered, find_job
from .owned_magics import OwnedMagics

JOB_COLUMNS = (
    "id",
    "name",
    "session",
    "state",
    "done",
    "total",
    "rows",
    "failures",
    "elapsed",
    "error",
)
WAKE_EVERY = 0.05


@magics_class
class JobMagics(OwnedMagics):
    """The background jobs of this notebook."""

    @line_magic
    def p44_jobs(self, line: str = "") -> pd.DataFrame:
        """A table of the background jobs: id, name, session, state, done / total, rows,
        failures, elapsed seconds and the error a job ended with."""
        rows = []
        for entry in self.owner.background.values():
            job, progress = entry.job, entry.job.progress
            error = job.error.message.splitlines()[0] if job.error is not None else None
            rows.append(
                (
                    job.id,
                    entry.name,
                    entry.session,
                    job.state,
                    progress.done,
                    progress.total,
                    progress.rows,
                    progress.failures,
                    round(job.elapsed, 1),
                    error,
                )
            )
        return pd.DataFrame(rows, columns=list(JOB_COLUMNS))

    @line_magic
    def p44_wait(self, line: str) -> None:
        """%p44_wait NAME: block until the job is done, then deliver it (NAME: the cell's
        name, the job's id, or a variable holding the job). An interrupt cancels the job and
        keeps the rows so far in _p44_partial, as it does to --each."""
        entry = self._shortly(lambda: find_job(self.owner, line))
        job = entry.job
        with DeferredInterrupt() as interrupt:
            while not job.wait(WAKE_EVERY) and not interrupt.requested:
                pass
        if interrupt.requested and not job.done():
            job.cancel()  # a second interrupt ends this wait as interrupts do
            if not job.wait(self.owner.timeout):
                print(
                    f"job {job.id}: still cancelling (a request on the wire); it is delivered "
                    "at the next cell once it ends.",
                    file=sys.stderr,
                )
                return
        failed = delivered(self.owner, entry)
        if failed is None and job.error is not None:  # delivered before, by the next cell
            failed = f"job {job.id} ended: {job.error.message.splitlines()[0]}"
        if failed is not None:  # the cell fails, so Run All stops here
            self._shortly(lambda: _raise(P44Error(failed)))

    @line_magic
    def p44_cancel(self, line: str) -> None:
        """%p44_cancel NAME: send no new request for the job (those on the wire finish); the
        rows so far stay in the job (its result() raises P44Interrupted with them)."""
        entry = self._shortly(lambda: find_job(self.owner, line))
        entry.job.cancel()
        print(
            f"job {entry.job.id}: cancelling; the requests on the wire finish, and the rows so "
            "far stay in the job (delivered at the next cell, or with %p44_wait)."
        )


def _raise(error: Any) -> None:
    raise error
