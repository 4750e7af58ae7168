"""The lines a request cell prints for its result, as a mixin of
:class:`~p44_magic.notebook.magics.P44Magics`: ``NAME: 124 rows × 13 columns``, with where the
result came from (`` (from cache, 12 min old)``) and, when several sessions are open, which one
(`` (eu)``); ``--each``'s summary; ``--save-as``'s files."""

from __future__ import annotations

import sys
from typing import Any

from ..bulk import EachResult, each_summary
from ..errors import P44UsageError
from ..export import save
from ..jobs import P44Job
from .text import summary


class ResultLines:
    """Printing and binding results; the magics provide ``shell`` and ``sessions``."""

    shell: Any
    sessions: Any

    def shown(
        self, name: str | None, result: Any, origin: str, args: Any, bind: bool = True
    ) -> Any:
        """Bind ``name`` to the result (unless not ``bind``) and print its line, or give the
        result back when there is no name."""
        where = self._where(args.conn)
        if isinstance(result, P44Job):
            return self._started(name, result, where, bind)
        if isinstance(result, EachResult):
            return self._each_done(name, result, args.tables, origin + where, bind)
        if name is None:
            if origin:
                print(origin.strip(" ()"), file=sys.stderr)
            return result
        if bind:
            self.shell.user_ns[name] = result
        print(f"{name}: {summary(result)}{origin}{where}")
        return None

    def _started(self, name: str | None, job: P44Job, where: str, bind: bool) -> Any:
        """``events: fetching in the background (job 3); %p44_jobs to follow it``."""
        label = name or "the request"
        print(f"{label}: fetching in the background (job {job.id}){where}; %p44_jobs to follow it")
        if name is None:
            return job
        if bind:
            self.shell.user_ns[name] = job
        return None

    def _where(self, conn: str | None) -> str:
        """`` (eu)`` after a result line when several sessions are open, else nothing."""
        if len(self.sessions) < 2:
            return ""
        try:
            return f" ({self.sessions.pick(conn)[0]})"
        except P44UsageError:
            return ""

    def _save(self, result: Any, where: str) -> None:
        """``--save-as``: the files written, one line."""
        written = save(result, where)
        print(f"saved to {', '.join(str(path) for path in written)}")

    def _each_done(
        self, name: str | None, each: EachResult, tables: bool, where: str, bind: bool = True
    ) -> Any:
        """Print the summary line; the joined result is the cell's."""
        line = each_summary(each, summary(each.frame) if not tables else "tables") + where
        print(f"{name}: {line}" if name else line)
        if name is None:
            return each.frame
        if bind:
            self.shell.user_ns[name] = each.frame
        return None
