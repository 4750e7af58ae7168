"""notebooks/kpis.ipynb runs top to bottom in a real kernel against the demo API: a carrier
scorecard, the map and a timeline as images (what survives a saved notebook, nbconvert and
GitHub's viewer), and ETA accuracy from three snapshot runs."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbclient
import nbformat
import pytest

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "kpis.ipynb"


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("kpis")
    copy = folder / NOTEBOOK.name
    shutil.copy(NOTEBOOK, copy)
    nb = nbformat.read(copy, as_version=4)
    nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    ).execute()
    return nb


def outputs(nb, starts_with: str) -> list:
    (cell,) = [c for c in nb.cells if c.cell_type == "code" and c.source.startswith(starts_with)]
    return cell.outputs


def plain(outputs_: list) -> str:
    return "\n".join(str(o.get("data", {}).get("text/plain", "")) for o in outputs_)


def test_committed_notebook_has_no_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    assert all(c.outputs == [] for c in nb.cells if c.cell_type == "code")


def test_no_cell_fails(executed):
    errors = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in errors if o.output_type == "error"]


def test_the_scorecard_has_a_row_per_carrier(executed):
    text = plain(outputs(executed, "from p44_magic import kpis"))
    for column in (
        "carrier",
        "shipments",
        "on_time_pct",
        "delay_p50_min",
        "tracking_compliance_pct",
    ):
        assert column in text


def test_the_map_and_the_timeline_are_images(executed):
    for start in ("tracked.map()", "tracked.timeline("):
        (image,) = [o for o in outputs(executed, start) if "image/png" in o.get("data", {})]
        assert len(image["data"]["image/png"]) > 10_000  # a drawn picture, kept in the file


def test_eta_accuracy_from_snapshot_runs(executed):
    text = plain(outputs(executed, "import warnings"))
    lines = [line.split()[0] for line in text.splitlines()[2:]]
    assert lines == ["72", "48", "24", "12", "4"]


def test_the_pictures_survive_nbconvert_html(executed):
    from nbconvert import HTMLExporter

    html, _ = HTMLExporter().from_notebook_node(executed)
    assert html.count("data:image/png;base64,") >= 2  # the map and the timeline, embedded
