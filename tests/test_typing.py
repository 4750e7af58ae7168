"""Typed for editors (issue 19, item 6): mypy over a file that uses the public API as the README
does must pass, and it sees real types (a wrong use is reported), not Any."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
USAGE = ROOT / "tests" / "typed" / "readme_usage.py"
WRONG = """
from p44_magic import P44Client

def wrong(p44: P44Client) -> None:
    text: str = p44.frame("GET", "/api/v4/webhooks")
    p44.frame("GET", "/api/v4/webhooks").head("five")
    p44.each("GET", "/x/{{v}}", [1], name=1)
"""


def mypy(*paths: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--follow-imports=silent",
            "--no-error-summary",
            "--cache-dir",
            str(cache),
            *map(str, paths),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )


def test_the_readme_usage_type_checks(tmp_path):
    checked = mypy(USAGE, cache=tmp_path / "cache")
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_checker_sees_real_types(tmp_path):
    wrong = tmp_path / "wrong_usage.py"
    wrong.write_text(WRONG)
    checked = mypy(wrong, cache=tmp_path / "cache")
    assert checked.returncode == 1
    lines = checked.stdout.splitlines()
    assert any(":5: error: Incompatible types in assignment" in line for line in lines), lines
    assert any(":6: error:" in line and '"head"' in line for line in lines), lines
    assert any(":7: error:" in line and '"name"' in line for line in lines), lines


def test_the_package_says_it_is_typed():
    assert (ROOT / "p44_magic" / "py.typed").is_file()
