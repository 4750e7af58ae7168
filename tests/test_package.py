"""A package that looks maintained (issue 21, item 5): a built wheel carries the licence, the
metadata and a console script that starts the demo API."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from email.parser import Parser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_wheel_has_the_licence_metadata_and_the_demo_script(tmp_path):
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr[-2000:]
    wheel = next(tmp_path.glob("p44_magic-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        meta_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
        meta = Parser().parsestr(archive.read(meta_name).decode())
        entry_points = archive.read(meta_name.replace("METADATA", "entry_points.txt")).decode()
    assert any(n.endswith("licenses/LICENSE") or n.endswith("/LICENSE") for n in names)
    assert "p44_magic/py.typed" in names
    assert meta["License-Expression"] == "MIT" and meta["Author"]
    assert meta.get_all("Project-URL") and len(meta.get_all("Classifier")) >= 5
    assert "p44-demo = p44_magic.demo.__main__:main" in entry_points
    assert ".venv/" in (ROOT / ".gitignore").read_text().splitlines()


def test_the_demo_script_starts_the_demo_api():
    script = Path(sys.executable).with_name("p44-demo")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "p44_magic.demo"]
    shown = subprocess.run([*command, "--help"], capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0 and "demo API" in shown.stdout
