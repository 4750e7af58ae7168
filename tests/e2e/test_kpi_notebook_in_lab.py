"""Issue 25, item 4: notebooks/kpis.ipynb, run with Run All in JupyterLab in a real browser,
shows its map and its timeline as images (decoded pictures, not empty placeholders)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.e2e.test_jupyterlab_login import LAB_PANEL, Steps, _open_in_lab, _run_all, _visible_text

pytestmark = pytest.mark.e2e
NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "kpis.ipynb"
RUN_MS = 240_000  # the whole notebook: 120 shipments tracked, three snapshot runs


def test_the_kpi_notebook_shows_its_map_and_timeline(jupyter_lab, browser_context, screenshots):
    import nbformat
    from playwright.sync_api import expect

    shutil.copy(NOTEBOOK, jupyter_lab.root / NOTEBOOK.name)
    sources = [cell.source for cell in nbformat.read(NOTEBOOK, as_version=4).cells]
    page = browser_context.new_page()
    page.set_default_timeout(30_000)
    steps = Steps(page, screenshots)

    def page_text() -> str:
        return _visible_text(page.locator(LAB_PANEL))

    cells = _open_in_lab(page, steps, jupyter_lab, NOTEBOOK.name, len(sources), "kpis-open")
    first_code = next(i for i, source in enumerate(sources) if source.startswith("%load_ext"))
    last = len(sources) - 1
    with steps.step("kpis-run-all", page_text):
        _run_all(page, cells.nth(first_code), jupyter_lab)
        expect(cells.nth(last).locator(".jp-InputPrompt")).to_contain_text(
            re.compile(r"\[\d+\]"), timeout=RUN_MS
        )
    for start in ("tracked.map()", "tracked.timeline("):
        index = next(i for i, source in enumerate(sources) if source.startswith(start))
        image = cells.nth(index).locator(".jp-OutputArea img")
        with steps.step(f"kpis-image-{index}", page_text):
            expect(image).to_have_count(1)
            image.scroll_into_view_if_needed()
            expect(image).to_be_visible()
            width = image.evaluate("img => img.complete ? img.naturalWidth : 0")
            assert width > 300, f"the picture of {start!r} is {width} px wide"
    errors = page.locator(f"{LAB_PANEL} .jp-OutputArea-output[data-mime-type*='error']")
    assert errors.count() == 0, _visible_text(errors)
    page.close()
