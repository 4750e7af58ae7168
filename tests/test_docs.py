"""Docs are tested: every output shown in README.md and docs/*.md is produced here, against the
demo API, by running the cells that precede it.

In the Markdown, a fenced block whose info string holds ``demo`` (```` ```text demo ````) is a
cell: it runs, in order, in one IPython shell per page. A block right after it whose info string
is ``text output`` is what that cell must print (its output, error lines or value, as a
notebook's kernel shows them). A few things differ from run to run and are written as
placeholders: the demo's port (``127.0.0.1:<port>``), a support reference id (``<id>``) and the
age of a cached answer in seconds (``<n> s old``). Each page has a cache file of its own."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from IPython.utils.capture import capture_output

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_BLOCK = re.compile(r"^```([^\n]*)\n(.*?)^```[ \t]*$", re.S | re.M)


def cells_of(page: Path) -> list[tuple[str, str | None, int]]:
    """(cell, expected output or None, line) for every ``demo`` block of a page."""
    text = page.read_text(encoding="utf-8")
    blocks = [(m.group(1).split(), m.group(2), m.start(), m.end()) for m in _BLOCK.finditer(text)]
    cells = []
    for index, (info, body, start, end) in enumerate(blocks):
        if "demo" not in info:
            continue
        expected = None
        if index + 1 < len(blocks):
            next_info, next_body, next_start, _ = blocks[index + 1]
            if next_info[1:2] == ["output"] and not text[end:next_start].strip():
                expected = next_body
        cells.append((body, expected, text[:start].count("\n") + 1))
    return cells


def normalised(text: str) -> str:
    text = re.sub(
        r"The p44_magic extension is already loaded.*\n.*%reload_ext p44_magic\n", "", text
    )
    text = re.sub(r"^Out\[\d+\]: ?\n?", "", text, flags=re.M)
    text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:<port>", text)
    text = re.sub(r"\b[0-9a-f]{32}\b", "<id>", text)
    text = re.sub(r"\b\d+ s old\b", "<n> s old", text)
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def test_every_page_with_output_has_cells():
    assert any(expected for page in PAGES for _, expected, _ in cells_of(page))
    assert (ROOT / "docs").is_dir() and len(PAGES) > 5


SHOWING = [page for page in PAGES if any(expected for _, expected, _ in cells_of(page))]


@pytest.mark.parametrize("page", SHOWING, ids=[page.name for page in SHOWING])
def test_the_outputs_a_page_shows_are_what_its_cells_print(
    page, shell, demo, capsys, monkeypatch, tmp_path
):
    cells = cells_of(page)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # this page's own cache file
    monkeypatch.chdir(tmp_path)  # files a page writes (an export) go to the test's folder
    # As in a notebook's kernel: errors are shown as their P44Error class, as the pages show them
    monkeypatch.setattr(shell, "kernel", object(), raising=False)
    shell.run_cell("%config P44Magics.progress = False")
    for cell, expected, line in cells:
        with capture_output() as captured:
            shell.run_cell(cell)
        if expected is None:
            continue
        shown = normalised(captured.stdout + captured.stderr)
        assert shown == normalised(expected), f"{page.name}, the cell at line {line}"
    capsys.readouterr()
