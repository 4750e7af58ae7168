"""A short error is a real error output (issue 13, item 2): papermill, nbclient and nbconvert
show the message, the cell still fails, and IPython shows the same few lines, no frames."""

from __future__ import annotations

import nbformat
import pytest

from tests.servers import CLIENT_ID, Received, Reply, ScriptedServer

WRONG = {"error": "invalid_client", "error_description": "The client secret is not right"}


def wrong_secret(got: Received) -> Reply:
    return Reply(401, WRONG)


def login_notebook(base_url: str):
    cells = [
        "%load_ext p44_magic",
        "secret = 'not-the-secret-value'",
        f"%p44_login --base-url {base_url} --client-id {CLIENT_ID} --client-secret $secret",
        "print('never reached')",
    ]
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return nb


def test_nbclient_gets_an_error_output_with_the_class_and_the_message(tmp_path):
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    with ScriptedServer(wrong_secret) as server:
        nb = login_notebook(server.base_url)
        client = NotebookClient(nb, timeout=60, kernel_name="python3")
        with pytest.raises(CellExecutionError) as caught:
            client.execute(cwd=str(tmp_path))
    assert caught.value.ename == "P44AuthError"
    assert "The client secret is not right" in caught.value.evalue
    errors = [o for o in nb.cells[2].outputs if o.output_type == "error"]
    assert len(errors) == 1 and errors[0].ename == "P44AuthError"
    assert errors[0].traceback[0].startswith("P44AuthError: ")
    assert not any("File " in line for line in errors[0].traceback)  # no frames
    assert nb.cells[3].outputs == []  # the run stopped at the failed cell
    outputs = [str(output) for cell in nb.cells for output in cell.outputs]
    assert "not-the-secret-value" not in "".join(outputs)


def test_papermill_says_what_went_wrong(tmp_path):
    import papermill
    from papermill.exceptions import PapermillExecutionError

    with ScriptedServer(wrong_secret) as server:
        source = tmp_path / "login.ipynb"
        nbformat.write(login_notebook(server.base_url), source)
        with pytest.raises(PapermillExecutionError) as caught:
            papermill.execute_notebook(
                str(source), str(tmp_path / "out.ipynb"), kernel_name="python3", progress_bar=False
            )
    error = caught.value
    assert error.ename == "P44AuthError"
    assert "The client secret is not right" in error.evalue
    assert "The client secret is not right" in str(error)  # it read only 'Exception at …'


def test_a_terminal_still_shows_the_usage_error_line_and_no_frames(shell, capsys):
    with ScriptedServer(wrong_secret) as server:
        shell.user_ns["secret"] = "not-the-secret-value"
        result = shell.run_cell(
            f"%p44_login --base-url {server.base_url} --client-id x --client-secret $secret"
        )
    assert not result.success
    out = capsys.readouterr()
    assert (
        out.err.startswith("UsageError: Login failed")
        and "The client secret is not right" in out.err
    )
    assert "Traceback" not in out.out + out.err and "File " not in out.out + out.err


def test_in_a_kernel_the_error_is_the_p44_error_shown_in_a_few_lines(shell, capsys, monkeypatch):
    monkeypatch.setattr(shell, "kernel", object(), raising=False)  # as ipykernel's shell has
    with ScriptedServer(wrong_secret) as server:
        shell.user_ns["secret"] = "not-the-secret-value"
        result = shell.run_cell(
            f"%p44_login --base-url {server.base_url} --client-id x --client-secret $secret"
        )
    assert not result.success
    assert type(result.error_in_exec).__name__ == "P44AuthError"
    out = capsys.readouterr()
    shown = out.out + out.err
    assert shown.count("P44AuthError: Login failed") == 1
    assert "The client secret is not right" in shown
    assert "Traceback" not in shown and "File " not in shown
    assert len([line for line in shown.splitlines() if line.strip()]) <= 4
    result = shell.run_cell("%p44 --no-such-option GET /api/v4/webhooks")
    assert type(result.error_in_exec).__name__ == "P44UsageError"
    assert "unrecognized arguments: --no-such-option" in capsys.readouterr().out
