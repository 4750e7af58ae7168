"""The ``%config P44Magics.<name>`` traits, one per declared setting, and the refusal that fails
a ``%config`` cell (IPython's %config only logs a TraitError)."""

from __future__ import annotations

from traitlets import Bool, Float, Int, TraitType, Unicode

from .. import settings

_TRAITS: dict[type, type[TraitType]] = {bool: Bool, int: Int, float: Float, str: Unicode}


class ConfigRefused(BaseException):
    """A ``%config P44Magics…`` value refused. A BaseException, so that IPython's %config (which
    logs and swallows every Exception) lets it through and the cell fails; shown as one line."""

    def _render_traceback_(self) -> list[str]:
        return [
            f"P44UsageError: {line}" if i == 0 else line
            for i, line in enumerate(str(self).splitlines() or [""])
        ]


def setting_traits() -> dict[str, TraitType]:
    """One ``%config P44Magics.<name>`` trait per declared setting."""
    return {
        s.name: _TRAITS[type(s.default)](s.default, allow_none=s.allow_none, help=s.help).tag(
            config=True
        )
        for s in settings.SETTINGS
    }
