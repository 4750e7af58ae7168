"""A real ipykernel driven the way JupyterLab drives it, without a browser.

The test plays the front end: it sends execute requests as Run All does (all at once), reads the
widget models the kernel opens on IOPub, reports a rendered view (``_view_count``), and sends what a
person's typing and clicking sends (ipywidgets' comm protocol, version 2). The browser test does
the same through JupyterLab itself; this one is quick enough for every run of the suite.
"""

from __future__ import annotations

import queue
import time
from dataclasses import dataclass, field
from typing import Any

from jupyter_client.manager import KernelManager


@dataclass
class Cell:
    """One execute request and what the kernel said about it."""

    code: str
    msg_id: str
    outputs: list[dict] = field(default_factory=list)
    reply: dict | None = None


class WidgetFrontEnd:
    """A kernel, its IOPub traffic sorted into cells and widget models."""

    def __init__(self) -> None:
        self.manager = KernelManager(kernel_name="python3")
        self.manager.start_kernel()  # with this process's environment
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)
        self.cells: dict[str, Cell] = {}
        self.models: dict[str, dict[str, Any]] = {}  # comm id → widget state
        # ipywidgets sends a model's next update only after "idle" for its last one
        self._unanswered: dict[str, str] = {}  # comm id → msg id of its last update

    def close(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)

    def __enter__(self) -> WidgetFrontEnd:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def run_all(self, *codes: str) -> list[Cell]:
        """Send every cell at once, as Run All does; nothing waits for a reply."""
        cells = []
        for code in codes:
            msg_id = self.client.execute(code, allow_stdin=False, stop_on_error=True)
            cells.append(self.cells.setdefault(msg_id, Cell(code, msg_id)))
        return cells

    def pump(self, seconds: float = 0.05) -> None:
        """Read what the kernel sent (IOPub and shell replies) for up to ``seconds``."""
        deadline = time.monotonic() + seconds
        while True:
            got = False
            for channel in (self.client.iopub_channel, self.client.shell_channel):
                try:
                    msg = channel.get_msg(timeout=0.01)
                except queue.Empty:
                    continue
                got = True
                self._sort(msg)
            if not got and time.monotonic() >= deadline:
                return

    def wait(self, check, timeout: float = 30.0, what: str = "the condition") -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.pump()
            value = check()
            if value:
                return value
        raise AssertionError(f"{what} did not happen within {timeout} s")

    def _sort(self, msg: dict) -> None:
        msg_type = msg["msg_type"]
        parent = msg["parent_header"].get("msg_id")
        content = msg["content"]
        if msg_type == "status" and content["execution_state"] == "idle":
            for comm_id, msg_id in list(self._unanswered.items()):
                if msg_id == parent:
                    del self._unanswered[comm_id]
            return
        if msg_type == "execute_reply":
            if parent in self.cells:
                self.cells[parent].reply = content
            return
        if msg_type == "comm_open" and content.get("target_name") == "jupyter.widget":
            self.models[content["comm_id"]] = dict(content["data"]["state"])
        elif msg_type == "comm_msg" and content["comm_id"] in self.models:
            data = content["data"]
            if data.get("method") in ("update", "echo_update"):
                self.models[content["comm_id"]].update(data["state"])
        elif msg_type == "comm_close":
            self.models.pop(content["comm_id"], None)
        elif msg_type in ("stream", "display_data", "execute_result", "error"):
            if parent in self.cells:
                self.cells[parent].outputs.append({"type": msg_type, **content})

    # -- what a person does in the form --------------------------------------------------

    def find(self, model_name: str, **state: Any) -> str:
        """The comm id of the one open widget model of that name with that state."""
        found = [
            comm_id
            for comm_id, values in self.models.items()
            if values.get("_model_name") == model_name
            and all(values.get(k) == v for k, v in state.items())
        ]
        assert len(found) == 1, f"{len(found)} {model_name} models with {state}"
        return found[0]

    def show(self, comm_id: str) -> None:
        """Say that a view of the widget is rendered, as a browser does once it is displayed."""
        count = (self.models[comm_id].get("_view_count") or 0) + 1
        self.set(comm_id, _view_count=count)

    def set(self, comm_id: str, **state: Any) -> None:
        """Change a widget's state as a person's input does: like ipywidgets' own front end,
        only once the kernel has said "idle" for this widget's previous update."""
        self.wait(
            lambda: comm_id not in self._unanswered,
            timeout=10,
            what=f"'idle' for the previous update of widget {comm_id}",
        )
        self.models[comm_id].update(state)
        msg_id = self._comm_msg(comm_id, {"method": "update", "state": state, "buffer_paths": []})
        self._unanswered[comm_id] = msg_id

    def click(self, comm_id: str) -> None:
        self._comm_msg(comm_id, {"method": "custom", "content": {"event": "click"}})

    def _comm_msg(self, comm_id: str, data: dict) -> str:
        msg = self.client.session.msg("comm_msg", {"comm_id": comm_id, "data": data})
        self.client.shell_channel.send(msg)
        return msg["header"]["msg_id"]


def text_of(cell: Cell) -> str:
    """Everything a cell showed, as text."""
    parts = []
    for output in cell.outputs:
        if output["type"] == "stream":
            parts.append(output["text"])
        elif output["type"] == "error":
            parts.append(f"{output['ename']}: {output['evalue']}")
        else:
            parts.append(output.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)
