"""One short error out of a magic: whatever fails in a magic's work leaves it as one line, with
no traceback of its own and no exception chain (whose frames hold requests and credentials), and
the cell fails, so Run All and papermill stop."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from IPython.core.error import UsageError

from ..errors import P44Error, P44UsageError


def shortly(run: Callable[[], Any], in_kernel: bool) -> Any:
    """Run a magic's work; any failure fails the cell with one short error, raised outside the
    handler and without a traceback of its own.

    In a kernel it is the P44Error itself: IPython shows it through
    :meth:`P44Error._render_traceback_` (class and message, no frames) and the kernel sends that
    as the cell's error output, which papermill, nbclient and nbconvert report. In a terminal it
    is IPython's UsageError line, as for any magic."""
    value, failure = short_failure(run)
    if failure is None:
        return value
    if in_kernel:
        raise failure
    raise UsageError(str(failure))


def short_failure(run: Callable[[], Any]) -> tuple[Any, P44Error | None]:
    """Run a magic's work: its value, or the one short P44Error any failure becomes."""
    try:
        return run(), None
    except P44Error as error:
        failure = error
    except UsageError as error:  # magic_arguments' own: a bad option
        failure = P44UsageError(str(error))
    except KeyboardInterrupt:  # its traceback's frames hold the requests, token included
        failure = P44Error("Interrupted; nothing was returned.")
    except Exception as error:  # noqa: BLE001 - never a raw traceback out of a magic
        failure = P44Error(
            f"p44_magic failed unexpectedly ({type(error).__name__}); nothing more is shown, "
            "so that no credential can be. Please report it with the cell that caused it."
        )
    failure.__traceback__ = failure.__context__ = failure.__cause__ = None
    return None, failure
