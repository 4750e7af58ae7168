"""notebooks/quickstart.ipynb runs top to bottom in a real kernel against the demo API."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import nbclient
import nbformat
import pytest

from p44_magic.demo import demo_data

CellExecutionError = nbclient.exceptions.CellExecutionError

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "quickstart.ipynb"
TOKENS_CELL = """\
import json
from p44_magic.demo import start_demo_server
_seen = {r.headers.get("authorization", "") for r in start_demo_server().requests}
_tokens = sorted(v.removeprefix("Bearer ") for v in _seen if v.startswith("Bearer "))
with open("issued-tokens.json", "w") as _file:
    json.dump(_tokens, _file)
"""
UNMASKED_BEARER = re.compile(r"Bearer\s+(?!\*{8}(?!\*))\S")


class Executed:
    """The executed notebook and the error nbclient raised, if any."""

    def __init__(self, nb, error: Exception | None, tokens: list[str]) -> None:
        self.nb = nb
        self.error = error
        self.tokens = tokens

    def code_cells(self):
        return [cell for cell in self.nb.cells if cell.cell_type == "code"]

    def cell(self, starts_with: str):
        found = [cell for cell in self.code_cells() if cell.source.startswith(starts_with)]
        assert len(found) == 1, f"expected one code cell starting with {starts_with!r}"
        return found[0]


def output_text(output) -> str:
    """Every piece of text one output carries: streams, text mimetypes, error fields."""
    if output.output_type == "stream":
        return output.text
    if output.output_type == "error":
        return "\n".join([output.ename, output.evalue, *output.traceback])
    parts = []
    for mimetype, value in output.get("data", {}).items():
        if mimetype.startswith("text/") or mimetype.endswith("json"):
            parts.append(value if isinstance(value, str) else json.dumps(value))
    return "\n".join(parts)


def cell_text(cell) -> str:
    return "\n".join(output_text(output) for output in cell.get("outputs", []))


@pytest.fixture(scope="module")
def executed(tmp_path_factory) -> Executed:
    """Execute a copy of the notebook once for every test in this module."""
    workdir = tmp_path_factory.mktemp("quickstart")
    copy = workdir / NOTEBOOK.name
    shutil.copy(NOTEBOOK, copy)
    nb = nbformat.read(copy, as_version=4)
    # One extra cell, in this copy only, writes down every token the kernel's demo API issued.
    nb.cells.append(nbformat.v4.new_code_cell(TOKENS_CELL))
    client = nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(workdir)}}
    )
    error = None
    try:
        client.execute()
    except CellExecutionError as exc:
        error = exc
    nb.cells.pop()
    tokens = json.loads((workdir / "issued-tokens.json").read_text()) if error is None else []
    return Executed(nb, error, tokens)


def test_committed_notebook_has_no_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == []
            assert cell.execution_count is None


def test_every_cell_runs_without_unexpected_errors(executed):
    assert executed.error is None, str(executed.error)
    for cell in executed.code_cells():
        tags = cell.metadata.get("tags", [])
        if "raises-exception" not in tags:
            assert cell.execution_count is not None, cell.source
            errors = [o for o in cell.outputs if o.output_type == "error"]
            assert not errors, f"{cell.source!r} failed: {cell_text(cell)}"


def test_orders_summary_shows_every_page_joined(executed):
    cell = executed.cell("%%p44 orders --all-pages")
    statuses = set(json.loads(cell.source.split("\n\n", 1)[1])["statusCodes"])
    expected = sum(order["statusCode"] in statuses for order in demo_data().orders)
    assert expected > 100  # several pages of 50
    assert re.search(rf"^orders: {expected:,} rows × \d+ columns$", cell_text(cell), re.MULTILINE)


def test_chart_renders_as_png(executed):
    images = [
        output
        for cell in executed.code_cells()
        for output in cell.outputs
        if "image/png" in output.get("data", {})
    ]
    assert images


def test_error_cell_shows_short_http_404(executed):
    cell = executed.cell("%p44 GET /api/v4/shipments/no-such-shipment/tracking")
    assert "raises-exception" in cell.metadata.get("tags", [])
    text = cell_text(cell)
    assert "P44HTTPError: HTTP 404" in text  # an error output: class and message, no frames
    errors = [o for o in cell.outputs if o.output_type == "error"]
    assert len(errors) == 1 and errors[0].ename == "P44HTTPError"
    assert errors[0].evalue.startswith("HTTP 404 Not Found from GET")
    assert "supportReferenceId" in text
    assert "Traceback" not in text


def test_last_exchange_keeps_the_404(executed):
    cell = executed.cell("_p44_last.status_code")
    assert re.search(r"\(404, '[0-9a-f]+'\)", cell_text(cell))


def test_dry_run_masks_authorization(executed):
    text = cell_text(executed.cell("%%p44 --dry-run"))
    assert "Authorization: Bearer ********" in text
    assert "(dry run: nothing was sent)" in text


def test_no_output_leaks_a_token(executed):
    for cell in executed.code_cells():
        text = cell_text(cell)
        assert "access_token" not in text, cell.source
        assert not UNMASKED_BEARER.search(text), cell.source
        for line in text.splitlines():
            if "Authorization" in line and "Bearer" in line:
                assert "Bearer ********" in line, line


def test_saved_notebook_holds_neither_the_secret_nor_any_issued_token(executed):
    from p44_magic.demo import DEMO_CLIENT_SECRET

    assert executed.tokens, "the demo issued no token, so this check would prove nothing"
    saved = nbformat.writes(executed.nb)
    assert "Logged in to" in saved
    for secret in [DEMO_CLIENT_SECRET, *executed.tokens]:
        assert secret not in saved


def test_each_joins_every_shipment_of_the_orders_and_charts_them(executed):
    cell = executed.cell("%%p44 all_events --each sid=orders.shipmentIds")
    text = cell_text(cell)
    match = re.search(r"^all_events: ([\d,]+) rows × \d+ columns from ([\d,]+) values$", text, re.M)
    assert match, text
    assert int(match.group(2).replace(",", "")) > 50  # every shipment of the orders, none failed
    chart = executed.cell("# Where the orders' shipments are now")
    assert any("image/png" in output.get("data", {}) for output in chart.outputs)
    failures = cell_text(executed.cell("_p44_failures"))
    assert "Empty DataFrame" in failures or "<table" in failures
