"""The base of the magics that act on :class:`~p44_magic.notebook.magics.P44Magics`' sessions
and settings (``%p44_use`` …, ``%p44_cache``, ``%p44_run``, ``%p44_export``): the owner they
act for, and the one short error a failure of theirs becomes."""

from __future__ import annotations

from typing import Any

from IPython.core.magic import Magics

from .short_errors import shortly


class OwnedMagics(Magics):
    """Magics of ``owner``, the :class:`~p44_magic.notebook.magics.P44Magics` whose sessions,
    settings and request runner they use."""

    def __init__(self, shell: Any, owner: Any) -> None:
        super().__init__(shell=shell)
        self.owner = owner

    def _shortly(self, run: Any) -> Any:
        """``run()``, any failure as one short error (a widget-aware one in a kernel)."""
        return shortly(run, getattr(self.shell, "kernel", None) is not None)
