"""The notebook layer: everything that imports IPython or ipywidgets (the magics, the login
form and its wait, completion, progress bars, the text the magics print). Nothing below this
folder imports it."""

from __future__ import annotations

import re
from typing import Any

_HELP_CELL = re.compile(r"\s*%%p44\b[^\n]*\s(-h|--help)(\s|$)")


def help_cell(lines: list[str]) -> list[str]:
    """``%%p44 --help`` alone in a cell shows the help (IPython refuses a cell magic whose body
    is empty before the magic could)."""
    if lines and _HELP_CELL.match(lines[0]) and not "".join(lines[1:]).strip():
        return ["%p44 --help\n"]
    return lines


def load_ipython_extension(ipython: Any) -> None:
    """Register the magics and make ``%config P44Magics`` work.

    Loaded again (``%reload_ext``), the new magics take over the session of the old ones, so
    no logged-in client is left behind where ``%p44_logout`` could not reach it.
    """
    from ..sessions import Sessions, attach
    from .cache_magics import CacheMagics
    from .completion import p44_matcher, show_whole_paths
    from .export_magics import ExportMagics
    from .file_magics import FileMagics
    from .job_magics import JobMagics
    from .magics import P44Magics
    from .session_magics import SessionMagics

    previous = ipython.magics_manager.registry.get("P44Magics")
    magics = P44Magics(shell=ipython, config=ipython.config)
    if previous is not None:  # every session (and background job) goes over to the new magics
        magics.sessions, previous.sessions = previous.sessions, Sessions()
        magics.background, magics.front_end = previous.background, previous.front_end
        if previous in ipython.configurables:
            ipython.configurables.remove(previous)
        _unhook(ipython, previous)
    attach(magics.sessions)
    ipython.register_magics(magics)
    ipython.register_magics(SessionMagics(ipython, magics))
    ipython.register_magics(CacheMagics(ipython, magics))
    ipython.register_magics(FileMagics(ipython, magics))
    ipython.register_magics(ExportMagics(ipython, magics))
    ipython.register_magics(JobMagics(ipython, magics))
    _hook_jobs(ipython, magics)
    if magics not in ipython.configurables:
        ipython.configurables.append(magics)
    if help_cell not in ipython.input_transformers_cleanup:
        ipython.input_transformers_cleanup.append(help_cell)
    completer = getattr(ipython, "Completer", None)
    if completer is not None and p44_matcher not in completer.custom_matchers:
        completer.custom_matchers.append(p44_matcher)
    show_whole_paths()


def _hook_jobs(ipython: Any, magics: Any) -> None:
    """Finished background jobs are delivered before the next cell runs (on the main thread),
    and a job shown as a cell's value is a live bar in a kernel."""
    from ..jobs import P44Job
    from .background import deliver_finished
    from .job_display import show_job

    def before_cell(*_: Any) -> None:
        deliver_finished(magics)

    magics.before_cell = before_cell
    ipython.events.register("pre_run_cell", before_cell)
    if getattr(ipython, "kernel", None) is not None:
        ipython.display_formatter.ipython_display_formatter.for_type(P44Job, show_job)


def _unhook(ipython: Any, previous: Any) -> None:
    hook = getattr(previous, "before_cell", None)
    if hook is not None:
        try:
            ipython.events.unregister("pre_run_cell", hook)
        except ValueError:
            pass
