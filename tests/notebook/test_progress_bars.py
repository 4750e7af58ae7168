"""Progress: bytes of a large download, pages of a paged search."""

from __future__ import annotations

import gzip
import json

from p44_magic import P44Client
from p44_magic.call_state import Progress
from p44_magic.client import Wanted
from p44_magic.notebook.progress_bars import bytes_progress, pages_progress
from p44_magic.request import HttpRequest
from tests.servers import TOKEN_PATH, Received, Reply, ScriptedServer, TokenIssuer

BIG = [{"id": i, "note": "x" * 100} for i in range(50_000)]  # ~6 MB of JSON


def test_a_large_download_reports_bytes_and_arrives_whole():
    issuer = TokenIssuer()
    body = json.dumps(BIG).encode()

    def handle(got: Received) -> Reply:
        return issuer.issue() if got.path == TOKEN_PATH else Reply(200, body)

    seen: list[tuple[int, int]] = []
    with ScriptedServer(handle) as server, P44Client("c", "s", base_url=server.base_url) as p44:
        progress = Progress(download=lambda received, total: seen.append((received, total)))
        frame = p44.call(HttpRequest("GET", "/api/v4/big"), Wanted("frame"), progress).value
    assert len(frame) == 50_000
    assert seen[-1] == (len(body), len(body))
    assert len(seen) > 3 and all(a <= b for (a, _), (b, _) in zip(seen, seen[1:], strict=False))


def test_a_compressed_large_download_is_decoded():
    issuer = TokenIssuer()
    packed = gzip.compress(json.dumps(BIG).encode(), compresslevel=1)
    packed += b" " * max(0, 4_100_000 - len(packed))  # over the progress threshold

    def handle(got: Received) -> Reply:
        if got.path == TOKEN_PATH:
            return issuer.issue()
        return Reply(200, packed, headers={"Content-Encoding": "gzip"})

    seen: list[tuple[int, int]] = []
    with ScriptedServer(handle) as server, P44Client("c", "s", base_url=server.base_url) as p44:
        progress = Progress(download=lambda received, total: seen.append((received, total)))
        answer = p44.call(HttpRequest("GET", "/api/v4/big"), Wanted("answer"), progress).value
    assert len(answer) == 50_000 and seen


def test_notebook_bars_are_widgets_that_advance(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda *objs, **kw: shown.extend(objs))
    pages = pages_progress(notebook=True)
    pages(1, 4, 100)
    pages(4, 4, 400)
    box = shown[0]
    bar, label = box.children
    assert (bar.value, bar.max, bar.bar_style) == (4, 4, "success")
    assert label.value == "4/4, 400 rows"  # "pages" is the bar's description, shown once
    download = bytes_progress(notebook=True)
    download(2_000_000, 8_000_000)
    assert shown[1].children[1].value == "2.0 of 8.0 MB"


def test_no_bar_where_nobody_sees_it():
    # pytest's stderr is not a terminal and this is not a notebook
    assert pages_progress(notebook=False) is None
    assert bytes_progress(notebook=False) is None


def test_a_finished_bar_is_one_text_line_in_the_saved_notebook(tmp_path):
    """Issue 13, item 9: text views of a saved notebook (GitHub, nbconvert --to markdown)
    showed the dead widget as HBox(children=(IntProgress(…), Label(…)))."""
    import re

    import nbformat
    from nbclient import NotebookClient
    from nbconvert import MarkdownExporter

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("%load_ext p44_magic\n%p44_login --env demo"),
        nbformat.v4.new_code_cell(
            "%%p44 orders --all-pages\nPOST /api/v4/inventory/orders/search?page=1&pageSize=50"
            "\nContent-Type: application/json\n\n{}"
        ),
    ]
    kernel = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["kernelspec"] = kernel
    NotebookClient(nb, timeout=120, kernel_name="python3").execute(cwd=str(tmp_path))
    markdown, _ = MarkdownExporter().from_notebook_node(nb)
    assert "HBox(children" not in markdown and "IntProgress" not in markdown
    assert re.search(r"pages (\d+)/\1, [\d,]+ rows in \d+\.\d s", markdown), markdown
