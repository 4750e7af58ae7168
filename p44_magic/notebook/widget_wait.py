"""Wait inside a running cell while the kernel still handles widget messages.

A cell that shows a widget and then blocks (``%p44_login`` waiting for its form, so that Run All
goes on only after the login) stops the kernel's own message loop: the button's click would only
be read after the cell ends. So, as the ``jupyter-ui-poll`` package does, the cell reads the
kernel's shell messages itself while it waits: comm messages (what widgets send) are handled at
once, everything else (the next cells of a Run All, completions, …) is held and handed back to
the kernel, in the order it came, to run after this cell.

Why this mechanism: ipykernel runs one shell message at a time (ipykernel 7 under an asyncio
lock), and a synchronous cell cannot give control back to that loop; a thread cannot take the
messages either, since the kernel reads them on the main thread. Reading the same socket on the
same thread and replaying the rest is the one way that keeps the order of cells and works on
ipykernel 6 and 7. Where the kernel is of another shape, :func:`message_pump` gives ``None`` and
the caller does not wait.
"""

from __future__ import annotations

import asyncio
import inspect
import sys
import threading
from collections.abc import Callable
from typing import Any

#: What widgets (comms) send; handled while the cell waits.
COMM_MESSAGES = frozenset({"comm_open", "comm_msg", "comm_close"})


class MessagePump:
    """Reads one kernel's shell messages from inside a running cell (see the module docstring).

    ``handle(seconds)`` waits up to that long for messages and handles what came; ``finish()``
    takes what is left and schedules every held message to run after the cell, in order.
    """

    def __init__(self, kernel: Any, socket: Any, replay: Callable[[list], None]) -> None:
        self._kernel = kernel
        self._socket = socket
        self._replay = replay
        self._held: list = []
        self.comm_messages = 0  # comm messages handled: a front end is there and talking

    def handle(self, seconds: float) -> None:
        """Wait up to ``seconds`` for a message; handle every one that is waiting."""
        if self._socket.poll(max(0, int(seconds * 1000))):
            self._drain()

    def finish(self) -> None:
        """Take what is still waiting, then give every held message back to the kernel."""
        try:
            self._drain()
        finally:
            held, self._held = self._held, []
            if held:
                self._replay(held)

    def _drain(self) -> None:
        # Only this thread reads the socket, so a message polled for is there to receive.
        while self._socket.poll(0):
            self._take(self._socket.recv_multipart(copy=False))

    def _take(self, frames: list) -> None:
        kernel = self._kernel
        handler = None
        try:
            idents, body = kernel.session.feed_identities(frames, copy=False)
            # A peek at the header first: a whole read records the signature, and the kernel
            # refuses a message it has seen once (replay protection), so only comms get one.
            header = kernel.session.deserialize(body, content=False, copy=False)["header"]
            if header["msg_type"] in COMM_MESSAGES:
                handler = kernel.shell_handlers.get(header["msg_type"])
                msg = kernel.session.deserialize(body, content=True, copy=False)
        except Exception:  # noqa: BLE001 - not ours to judge: the kernel sees it later
            handler = None
        if handler is None or inspect.iscoroutinefunction(handler):
            self._held.append(frames)  # the kernel's own loop deals with it after the cell
            return
        self.comm_messages += 1
        saved = _parent_of(kernel)
        _set_parent(kernel, idents, msg)  # replies and echoes name the message they answer
        # busy / idle as the kernel would send them: a widget sends its next change only once
        # it has seen "idle" for the last one (ipywidgets' message throttle).
        kernel._publish_status("busy", "shell", parent=msg)
        try:
            handler(_reply_stream(kernel), idents, msg)
        except Exception:  # noqa: BLE001 - as the kernel does: a comm's failure is only logged
            kernel.log.error("Exception in comm message handler", exc_info=True)
        finally:
            for stream in (sys.stdout, sys.stderr):
                if stream is not None:
                    stream.flush()  # what the handler printed comes before its "idle"
            kernel._publish_status("idle", "shell", parent=msg)
            _set_parent(kernel, *saved)


def message_pump(shell: Any) -> MessagePump | None:
    """A pump for the kernel running ``shell``'s cells, or ``None`` where waiting cannot work
    (no kernel, not the kernel's main thread, or a kernel of a shape this module does not know)."""
    kernel = getattr(shell, "kernel", None)
    if kernel is None or threading.current_thread() is not threading.main_thread():
        return None
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return None
    try:
        channel = getattr(kernel, "shell_channel_thread", None)
        if channel is not None and hasattr(kernel, "shell_main"):  # ipykernel 7
            pair = channel.manager.get_shell_channel_to_subshell_pair(None)
            return MessagePump(kernel, pair.to_socket, lambda held: _replay_7(channel, pair, held))
        stream = getattr(kernel, "shell_stream", None)
        if stream is not None and hasattr(kernel, "schedule_dispatch"):  # ipykernel 6
            return MessagePump(kernel, stream.socket, lambda held: _replay_6(kernel, held))
    except Exception:  # noqa: BLE001 - an unknown kernel: do not wait, do not break
        return None
    return None


def _replay_7(channel: Any, pair: Any, held: list) -> None:
    """Send the held messages again down the pipe they came by, from the shell channel's
    thread (the socket's owner), as the kernel itself sends its "stop aborting" marker: they
    then reach the kernel the same way as, and after, any message it has already read."""
    copies = [[bytes(frame.buffer) for frame in frames] for frames in held]

    def resend() -> None:
        for frames in copies:
            pair.from_socket.send_multipart(frames)

    channel.io_loop.add_callback(resend)


def _replay_6(kernel: Any, held: list) -> None:
    """Queue them as the kernel's own reader does: behind what it has already read."""
    for frames in held:
        kernel.schedule_dispatch(kernel.dispatch_shell, frames)


def _reply_stream(kernel: Any) -> Any:
    return getattr(kernel, "shell_stream", None)


def _parent_of(kernel: Any) -> tuple[Any, Any]:
    if hasattr(kernel, "_shell_parent_ident"):  # ipykernel 7: context variables
        return kernel._get_shell_context_var(kernel._shell_parent_ident), kernel.get_parent("shell")
    return kernel._parent_ident["shell"], kernel.get_parent("shell")  # ipykernel 6


def _set_parent(kernel: Any, ident: Any, parent: Any) -> None:
    kernel.set_parent(ident, parent, channel="shell")
