"""``%%p44 NAME --bg``: the request cell's call on a thread of its own, delivered on the main
thread.

The job's thread fetches and builds the value; it never writes into the notebook's namespace
and never prints. When the job has ended, the next cell that runs (IPython's ``pre_run_cell``)
first gets its result: NAME is rebound to it (unless the user rebound NAME meanwhile, then it
is left alone), ``_p44_last`` / ``_p44_failures`` / ``_p44_partial`` are set for that job, and
one line says so. ``%p44_wait`` delivers at once.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

from ..bulk import FAILURES_NAME, PARTIAL_NAME, EachResult, each_summary
from ..call_state import Call, Progress
from ..errors import P44Error, P44Interrupted
from ..frames import as_frames, tracking_tables
from ..jobs import P44Job
from ..request import placeholder_names
from . import cells
from .cache_magics import cell_cache, provenance
from .cells import LAST_EXCHANGE_NAME
from .text import summary


@dataclass
class BackgroundCell:
    """A cell's job and what its delivery needs: the cell's NAME and options, the session."""

    name: str | None
    args: Any
    session: str
    each: bool
    job: Any = None
    result: Any = None  # the call's Result (notes, exchange), set by the job's thread
    each_result: EachResult | None = None
    delivered: bool = False
    notes: list[str] = field(default_factory=list)


def start_job(owner: Any, client: Any, session: str, request: Any, each: Any, args: Any) -> P44Job:
    """Start the cell's call in the background; the job, registered with ``owner``."""
    name = getattr(args, "cell_name", None)
    entry = BackgroundCell(name, args, session, each is not None)
    wanted = cells.wanted_of(args, owner.parse_dates)
    user_ns = owner.shell.user_ns
    used = placeholder_names(request)  # the values as the cell started, and only those
    namespace = {name: user_ns[name] for name in used if name in user_ns}
    shaping = (owner.parse_dates, owner.timezone, "polars" if args.polars else owner.frames)
    call = Call(Progress(), cache=cell_cache(args, client))

    def run(job_call: Call) -> Any:
        if each is None:
            entry.result = client.call(request, wanted, call=job_call)
            return _value(entry.result.value, args, shaping)
        entry.result = client.call_each(
            request,
            each[0],
            each[1],
            wanted,
            namespace=namespace,
            strict=args.strict,
            label=args.each,
            call=job_call,
        )
        entry.each_result = entry.result.value  # its failures, even when every value failed
        return cells.each_joined(entry.each_result, args.tables, *shaping).frame

    what = "pages" if args.all_pages and each is None else "requests"
    job = P44Job(run, call, name=name, session=session, what=what)
    entry.job = job
    owner.background[job.id] = entry
    client._started(job)  # kept with the client: logging out (closing it) cancels the job
    if getattr(owner.shell, "kernel", None) is not None:
        from .job_display import JobBar

        JobBar(job)  # its state follows the job; text once it ends
    return job


FOREGROUND_NOTE = (
    "No widget front end is attached (papermill, nbconvert, nbclient or a plain shell), so "
    "--bg runs in the foreground: the next cell sees the result."
)


def in_background(owner: Any) -> bool:
    """Whether ``--bg`` may run in the background here: in terminal IPython yes; where a
    widget front end shows a probe bar (found once per kernel, as the login form finds it)
    yes; elsewhere (headless runs, a plain InteractiveShell) no, with a note."""
    shell = owner.shell
    if getattr(shell, "kernel", None) is None:
        if type(shell).__name__ == "TerminalInteractiveShell":
            return True
        print(FOREGROUND_NOTE, file=sys.stderr)
        return False
    if owner.front_end is None:
        from .job_display import JobBar, front_end_shows

        probe = JobBar(None)  # a bar with no job yet: does a front end render it?
        owner.front_end = front_end_shows(shell, probe)
        probe.close("")  # its question is answered; the note, if any, is printed below
    if not owner.front_end:
        print(FOREGROUND_NOTE, file=sys.stderr)
    return bool(owner.front_end)


def _value(value: Any, args: Any, shaping: tuple) -> Any:
    """The value a foreground cell would give (tables, polars), built on the job's thread."""
    parse_dates, timezone, frames = shaping
    if args.tables:
        return as_frames(tracking_tables(value, parse_dates, timezone), frames)
    return value


def deliver(owner: Any, entry: BackgroundCell) -> None:
    """Show a finished job's result as its cell would have, on the main thread (a failed
    job's line goes to stderr)."""
    failed = delivered(owner, entry)
    if failed:
        print(failed, file=sys.stderr)


def delivered(owner: Any, entry: BackgroundCell) -> str | None:
    """Deliver a finished job (once); the line of a failed job is returned, not printed."""
    if entry.delivered or not entry.job.done():
        return None
    entry.delivered = True
    user_ns, job = owner.shell.user_ns, entry.job
    exchange = job.call.exchange
    if exchange is not None:
        exchange.session = entry.session
    user_ns[LAST_EXCHANGE_NAME] = exchange
    if entry.result is not None:
        for note in entry.result.notes:
            print(note, file=sys.stderr)
    if entry.each_result is not None:
        user_ns[FAILURES_NAME] = entry.each_result.failures
    error = job.error
    try:
        if error is not None:
            return _failed_line(user_ns, entry, error)
        print(_done_line(owner, entry))
        return None
    finally:  # a job's memory is its rows: not the parsed answer nor the per-value answers
        entry.result = entry.each_result = None


def _failed_line(user_ns: dict, entry: BackgroundCell, error: P44Error) -> str:
    job = entry.job
    label = entry.name or f"job {job.id}"
    if error.failures is not None:
        user_ns[FAILURES_NAME] = error.failures
    if isinstance(error, P44Interrupted):
        user_ns[PARTIAL_NAME] = error.partial
        return (
            f"{label}: job {job.id} was cancelled after {error.done:,} of {error.total:,} "
            f"{job.what}; the rows so far are in {PARTIAL_NAME} (and job.result() raises "
            "P44Interrupted with them as .partial)."
        )
    first = error.message.splitlines()[0] if error.message else type(error).__name__
    return f"{label}: job {job.id} failed: {first} (job.result() raises it)."


def _done_line(owner: Any, entry: BackgroundCell) -> str:
    job, name = entry.job, entry.name
    value = job.result()
    each = entry.each_result
    size = each_summary(each, summary(value)) if each is not None else summary(value)
    origin = provenance(job.call, entry.each)
    took = f"job {job.id}, {job.elapsed:.1f} s in the background"
    if name is None:
        return f"job {job.id} finished: {size}{origin} ({took}); job.result() has it."
    user_ns = owner.shell.user_ns
    if user_ns.get(name) is job:
        user_ns[name] = value
        return f"{name}: {size}{origin} ({took})"
    return (
        f"job {job.id} finished: {size}{origin}; {name} was rebound meanwhile, so it is left "
        f"as it is: the result is in job.result() (job {job.id} in %p44_jobs)."
    )


def deliver_finished(owner: Any) -> None:
    """Every finished, undelivered job, in the order they were started."""
    for job_id in sorted(owner.background):
        deliver(owner, owner.background[job_id])


def find_job(owner: Any, word: str) -> BackgroundCell:
    """A job by its id, its cell's NAME or a variable holding it."""
    word = word.strip()
    entries = owner.background
    if word.isdigit() and int(word) in entries:
        return entries[int(word)]
    named = [entry for entry in entries.values() if entry.name == word]
    if named:
        return named[-1]
    held = owner.shell.user_ns.get(word)
    for entry in entries.values():
        if entry.job is held:
            return entry
    known = ", ".join(f"{e.job.id} ({e.name or 'no name'})" for e in entries.values())
    raise P44Error(
        f"No background job {word!r}.",
        hint=f"Jobs: {known}." if known else "Start one with %%p44 NAME --bg.",
    )
