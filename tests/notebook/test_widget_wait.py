"""Run All with the login form (issue 13, item 1).

``%p44_login`` shows the form and waits, handling the form's widget messages, until someone logs
in; the cells after it run then, in order. With no front end to show it, the cell fails within
about ten seconds and says how to log in without a form. ``login_wait`` bounds the wait.

A real kernel, driven as JupyterLab drives it (tests/widget_front_end.py); the browser test in
tests/e2e does the same through JupyterLab itself.
"""

from __future__ import annotations

import os
import time

import nbformat
import pytest

from p44_magic.demo import DEMO_CLIENT_ID
from p44_magic.notebook.login import NO_INPUT_TEXT
from p44_magic.notebook.login_form import INTERRUPTED_TEXT, NO_VIEW_TEXT, VIEW_WAIT
from tests.widget_front_end import WidgetFrontEnd, text_of

LOAD = (
    "%load_ext p44_magic\n"
    "from p44_magic.demo import start_demo_server\n"
    "print(start_demo_server().base_url)"
)
QUERY = "%%p44 accounts\nGET /api/v4/capacityprovideraccounts"


@pytest.fixture
def no_credentials(monkeypatch):
    for name in list(os.environ):
        if name.startswith("P44_"):
            monkeypatch.delenv(name)


@pytest.fixture
def front_end(no_credentials):
    with WidgetFrontEnd() as front_end:  # the kernel inherits the environment, without P44_*
        yield front_end


def _shown_form(front_end: WidgetFrontEnd) -> str:
    """The form's outer box once the kernel has opened it (it asks for a view count); shown."""
    box = front_end.wait(
        lambda: [
            comm_id
            for comm_id, state in front_end.models.items()
            if state.get("_model_name") == "VBoxModel" and state.get("_view_count") == 0
        ],
        what="the login form",
    )[0]
    front_end.show(box)
    return box


def _choose(front_end: WidgetFrontEnd, label: str) -> None:
    environment = front_end.find("DropdownModel", description="Environment")
    labels = list(front_end.models[environment]["_options_labels"])
    front_end.set(environment, index=labels.index(label))


def _status(front_end: WidgetFrontEnd) -> str:
    status = [
        state["value"]
        for state in front_end.models.values()
        if state.get("_model_name") == "HTMLModel" and "project44 login" not in state["value"]
    ]
    return status[-1] if status else ""


def test_run_all_waits_for_the_form_then_runs_the_next_cells_in_order(front_end):
    load, login, query, count = front_end.run_all(LOAD, "%p44_login", QUERY, "len(accounts)")
    _shown_form(front_end)
    front_end.pump(1.5)  # longer than Run All takes to reach the next cell without a wait
    assert login.reply is None and query.reply is None and query.outputs == []
    _choose(front_end, "Demo")
    front_end.click(front_end.find("ButtonModel", description="Log in"))
    front_end.wait(lambda: count.reply, what="the last cell's reply")
    assert [cell.reply["status"] for cell in (load, login, query, count)] == ["ok"] * 4
    assert [cell.reply["execution_count"] for cell in (load, login, query, count)] == [1, 2, 3, 4]
    assert "Logged in to" in _status(front_end) and DEMO_CLIENT_ID in _status(front_end)
    assert "accounts: 12 rows" in text_of(query)
    assert text_of(count).strip() == "12"


def test_a_refused_login_keeps_the_cell_waiting_for_the_next_try(front_end):
    load, login, query = front_end.run_all(LOAD, "%p44_login", QUERY)
    _shown_form(front_end)
    front_end.wait(lambda: load.reply, what="the demo's URL")
    _choose(front_end, "Custom URL")
    front_end.set(front_end.find("TextModel", description="Base URL"), value=text_of(load).strip())
    front_end.set(front_end.find("TextModel", description="Client ID"), value=DEMO_CLIENT_ID)
    front_end.set(front_end.find("PasswordModel", description="Client secret"), value="wrong")
    button = front_end.find("ButtonModel", description="Log in")
    front_end.click(button)
    front_end.wait(lambda: "invalid" in _status(front_end), what="the refusal")
    front_end.pump(0.5)
    assert login.reply is None and query.reply is None  # still waiting, the form still there
    _choose(front_end, "Demo")
    front_end.click(button)
    front_end.wait(lambda: query.reply, what="the query's reply")
    assert login.reply["status"] == query.reply["status"] == "ok"
    assert "accounts: 12 rows" in text_of(query)


def test_login_wait_bounds_the_wait_and_the_run_stops_there(front_end):
    _, login, query = front_end.run_all(LOAD, "%config P44Magics.login_wait = 2\n%p44_login", QUERY)
    _shown_form(front_end)
    started = time.monotonic()
    front_end.wait(lambda: query.reply, what="the query's reply")
    assert time.monotonic() - started < 5
    assert login.reply["status"] == "error" and login.reply["ename"] == "P44UsageError"
    assert "nobody logged in within 2 s (%config P44Magics.login_wait)" in login.reply["evalue"]
    assert query.reply["status"] == "aborted"  # Run All stops at the failed cell
    assert not [s for s in front_end.models.values() if s.get("_model_name") == "PasswordModel"]


def test_an_interrupt_stops_the_wait_and_the_form_still_works_after_the_cell(front_end):
    load, login, query = front_end.run_all(LOAD, "%p44_login", QUERY)
    _shown_form(front_end)
    front_end.pump(0.5)
    front_end.manager.interrupt_kernel()
    front_end.wait(lambda: query.reply, what="the query's reply")
    assert login.reply["status"] == "error" and login.reply["evalue"] == INTERRUPTED_TEXT
    assert query.reply["status"] == "aborted"
    _choose(front_end, "Demo")
    front_end.click(front_end.find("ButtonModel", description="Log in"))
    front_end.wait(lambda: "Logged in to" in _status(front_end), what="the login after the cell")
    (again,) = front_end.run_all(QUERY)
    front_end.wait(lambda: again.reply, what="the query's reply")
    assert again.reply["status"] == "ok" and "accounts: 12 rows" in text_of(again)


def _notebook(*sources: str):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    return nb


def test_a_headless_run_fails_within_ten_seconds_saying_how_to_log_in(no_credentials):
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = _notebook("%load_ext p44_magic", "%p44_login", "print('never reached')")
    with pytest.raises(CellExecutionError) as caught:
        NotebookClient(nb, timeout=60, kernel_name="python3", store_widget_state=True).execute()
    assert caught.value.ename == "P44UsageError" and caught.value.evalue == NO_VIEW_TEXT
    for words in ("P44_CLIENT_ID", "P44_CLIENT_SECRET", "%p44_login --prompt", "headless"):
        assert words in NO_VIEW_TEXT
    assert nb.cells[2].outputs == []


def test_a_headless_wait_lasts_about_view_wait_seconds(no_credentials):
    from nbclient import NotebookClient

    nb = _notebook(
        "%load_ext p44_magic",
        "import time\nstarted = time.monotonic()\n"
        "try:\n    %p44_login\nexcept Exception as error:\n    failure = error\n"
        "form = get_ipython().magics_manager.registry['P44Magics'].login_form\n"
        "print(round(time.monotonic() - started, 1), type(failure).__name__, form.done,\n"
        "      form.secret.comm is None)",
    )
    NotebookClient(nb, timeout=60, kernel_name="python3").execute()
    seconds, kind, done, closed = nb.cells[1].outputs[-1]["text"].split()
    assert kind == "P44UsageError"
    assert VIEW_WAIT <= float(seconds) < 10.5
    assert done == closed == "True"  # the inputs are closed: nothing typed can linger


def test_papermill_stops_at_the_login_and_says_why(tmp_path, no_credentials):
    import papermill
    from papermill.exceptions import PapermillExecutionError

    source = tmp_path / "run-all.ipynb"
    nbformat.write(_notebook("%load_ext p44_magic", "%p44_login", QUERY), source)
    with pytest.raises(PapermillExecutionError) as caught:
        papermill.execute_notebook(str(source), str(tmp_path / "out.ipynb"), progress_bar=False)
    assert caught.value.ename == "P44UsageError"
    assert "No front end shows the login form" in str(caught.value)


def test_prompt_in_a_headless_run_says_nobody_can_answer(no_credentials):
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = _notebook("%load_ext p44_magic", "%p44_login --prompt")
    with pytest.raises(CellExecutionError) as caught:
        NotebookClient(nb, timeout=60, kernel_name="python3").execute()
    assert caught.value.ename == "P44UsageError" and caught.value.evalue == NO_INPUT_TEXT
