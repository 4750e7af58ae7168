"""End-to-end fixtures: a private JupyterLab server and headless Debian Chromium via playwright.

Nothing is installed at run time. The README's test command installs the prerequisites first:
``.ci/install-browser`` (Debian's chromium) and the dev extra (``jupyterlab``, ``notebook``,
``playwright``);
playwright never downloads a browser here. When an e2e test is selected and they are missing,
the run stops saying what is missing; ``-m "not e2e"`` runs the rest without them.
"""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
REPO = Path(__file__).resolve().parents[2]
SERVER_START_TIMEOUT = 30.0


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "e2e: end-to-end test that drives JupyterLab in headless Chromium "
        "(needs /usr/bin/chromium, jupyterlab, notebook and playwright: see .ci/install-browser)",
    )


def _missing_prerequisites() -> list[str]:
    missing = []
    if not os.access(CHROMIUM, os.X_OK):
        missing.append(f"{CHROMIUM} (apt-get install chromium)")
    packages = (
        ("playwright", "playwright"),
        ("jupyterlab", "jupyterlab"),
        ("notebook", "notebook"),
    )
    for module, package in packages:
        if importlib.util.find_spec(module) is None:
            missing.append(f"Python package {package}")
    return missing


@pytest.hookimpl(trylast=True)  # after -m / -k deselection: only selected tests count
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    e2e = [item for item in items if item.get_closest_marker("e2e")]
    missing = _missing_prerequisites() if e2e else []
    if not missing:
        return
    raise pytest.UsageError(
        "e2e prerequisites missing: " + ", ".join(missing) + " (run bash .ci/install-browser)"
    )


# -- the JupyterLab server -------------------------------------------------------------------


@dataclass
class LabServer:
    """A JupyterLab server this test session started, with its own root and config dirs."""

    base_url: str
    token: str
    root: Path
    home: Path
    log: Path
    process: subprocess.Popen
    started: list[tuple[int, str]] = field(default_factory=list)

    def api(self, method: str, path: str, timeout: float = 5.0) -> object:
        request = urllib.request.Request(
            f"{self.base_url}{path}",
            method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            body = answer.read()
        return json.loads(body) if body else None

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return "<no server log>"
        return "\n".join(text.splitlines()[-lines:])


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_time(pid: int) -> str | None:
    """The kernel's start time of a process (field 22 of /proc/PID/stat), to spot pid reuse."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def _descendants(root_pid: int) -> list[tuple[int, str]]:
    """(pid, start time) of every process below ``root_pid``, read from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found: list[tuple[int, str]] = []
    todo = [root_pid]
    while todo:
        for pid in children.get(todo.pop(), []):
            started = _start_time(pid)
            if started is not None:
                found.append((pid, started))
                todo.append(pid)
    return found


def _write_config(home: Path) -> dict[str, str]:
    """Config, data, runtime and settings dirs under ``home``; the environment naming them."""
    dirs = {
        "HOME": home,
        "JUPYTER_CONFIG_DIR": home / "jupyter-config",
        "JUPYTER_DATA_DIR": home / "jupyter-data",
        "JUPYTER_RUNTIME_DIR": home / "jupyter-runtime",
        "JUPYTERLAB_SETTINGS_DIR": home / "lab-user-settings",
        "JUPYTERLAB_WORKSPACES_DIR": home / "lab-workspaces",
        "IPYTHONDIR": home / "ipython",
        "XDG_CACHE_HOME": home / "cache",
        "XDG_CONFIG_HOME": home / "config",
        "MPLCONFIGDIR": home / "matplotlib",
    }
    for path in dirs.values():
        path.mkdir(parents=True, exist_ok=True)
    # No announcements feed, no update check: nothing leaves the machine, no news toast.
    (dirs["JUPYTER_CONFIG_DIR"] / "jupyter_server_config.json").write_text(
        json.dumps(
            {
                "LabApp": {
                    "news_url": None,
                    "check_for_updates_class": "jupyterlab.NeverCheckForUpdate",
                    "extension_manager": "readonly",
                }
            }
        )
    )
    settings = dirs["JUPYTERLAB_SETTINGS_DIR"]
    user_settings = {
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
            "fetchNews": "false",
            "checkForUpdates": False,
        },
        # Save widget state into the notebook, so the test sees what a user who turned this on
        # would save: the secret must not be in there either.
        "@jupyter-widgets/jupyterlab-manager/plugin.jupyterlab-settings": {"saveState": True},
    }
    for name, value in user_settings.items():
        path = settings / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value))
    return {name: str(path) for name, path in dirs.items()}


def _stop(server: LabServer) -> None:
    """Shut down the kernels, then the server's process group, then any straggler we started."""
    try:
        for kernel in server.api("GET", "/api/kernels") or []:
            server.api("DELETE", f"/api/kernels/{kernel['id']}", timeout=10.0)
    except (OSError, urllib.error.URLError, ValueError):
        pass  # the server may already be gone; the signals below still apply
    started = server.started + _descendants(server.process.pid)
    if server.process.poll() is None:
        try:
            os.killpg(server.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait(timeout=10)
    # Kernels run in sessions of their own, so the group signal does not reach them.
    for pid, start_time in started:
        if _start_time(pid) == start_time:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def _start(tmp: Path) -> LabServer:
    home = tmp / "home"
    root = tmp / "root"
    root.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("P44_", "JUPYTER"))}
    env.update(_write_config(home))
    env["PYTHONUNBUFFERED"] = "1"
    token = secrets.token_hex(24)
    log = tmp / "jupyterlab.log"
    for _attempt in range(3):  # another process may take the free port before the server does
        port = _free_port()
        command = [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
            "--ServerApp.open_browser=False",
        ]
        if os.geteuid() == 0:
            command.append("--allow-root")  # CI runs as root
        with open(log, "ab") as out:
            process = subprocess.Popen(
                command,
                cwd=root,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        server = LabServer(f"http://127.0.0.1:{port}", token, root, home, log, process)
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline and process.poll() is None:
            try:
                server.api("GET", "/api/status", timeout=2.0)
                return server
            except (OSError, urllib.error.URLError, ValueError):
                time.sleep(0.2)
        if process.poll() is None:
            _stop(server)
            raise AssertionError(
                f"JupyterLab did not answer within {SERVER_START_TIMEOUT:.0f} s; its log:\n"
                + server.log_tail()
            )
        if "address already in use" not in server.log_tail().lower():
            break
    raise AssertionError(
        f"JupyterLab exited with code {process.returncode}; its log:\n{server.log_tail()}"
    )


@pytest.fixture
def jupyter_lab(tmp_path: Path) -> Iterator[LabServer]:
    server = _start(tmp_path)
    try:
        yield server
    finally:
        _stop(server)


# -- the browser -----------------------------------------------------------------------------


@pytest.fixture
def screenshots() -> Path:
    folder = Path(os.environ.get("P44_E2E_SCREENSHOTS") or REPO / "test-artifacts" / "e2e")
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("login-*.png"):  # only this test's own files from an earlier run
        old.unlink()
    return folder


@pytest.fixture
def browser_context(tmp_path: Path):
    from playwright.sync_api import sync_playwright

    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
                # Only loopback resolves: the page cannot reach any other host.
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            ],
            viewport={"width": 1280, "height": 1000},
            timeout=20_000,
        )
        try:
            yield context
        finally:
            context.close()
