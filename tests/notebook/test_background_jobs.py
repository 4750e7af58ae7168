"""``%%p44 NAME --bg`` in a real kernel driven as a front end drives it (Run All, widget views):
a job over a slow demo (200 values, 50 ms each) while other cells run, the rebinding at the
next cell, a NAME rebound meanwhile, cancel, wait, two jobs sharing max_rate; and the
headless and terminal cases."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import nbformat
import pytest
from nbclient import NotebookClient

from tests.widget_front_end import WidgetFrontEnd, text_of

SETUP = textwrap.dedent(
    """
    from p44_magic.demo import DemoServer, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET as demo_secret
    demo = DemoServer(latency=0.05)
    demo.__enter__()
    %load_ext p44_magic
    get_ipython().run_line_magic(
        "p44_login", f"--base-url {demo.base_url} --client-id {DEMO_CLIENT_ID} "
        "--client-secret $demo_secret")
    %config P44Magics.progress = False
    %config P44Magics.max_concurrency = 2
    """
)
ORDERS = textwrap.dedent(
    """
    %%p44 orders --all-pages
    POST /api/v4/inventory/orders/search?page=1&pageSize=100
    Content-Type: application/json

    {}
    """
).strip()
SIDS = "sids = sorted({s for ids in orders.shipmentIds for s in ids})[:200]"
# 200 values at 50 ms, 2 at a time: a job of about 5 s; the others take 40 values (about 1 s)
FEW = "few = sids[:40]\nlen(sids)"
HISTORY = "GET /api/v4/shipments/{{sid}}/tracking/history"


def bg_cell(name: str, extra: str = "", values: str = "few") -> str:
    return f"%%p44 {name} --bg --each sid={values} {extra}\n{HISTORY}"


@pytest.fixture(scope="module")
def kernel():
    """One kernel for the module: logged in to a slow demo, 200 shipment ids at hand, and a
    widget front end already found (its probe bar shown)."""
    with WidgetFrontEnd() as front_end:
        cells = front_end.run_all(SETUP, ORDERS, SIDS + "\n" + FEW, bg_cell("warm", "--tables"))
        probe = front_end.wait(
            lambda: [
                comm
                for comm, state in front_end.models.items()
                if state.get("_model_name") == "HBoxModel" and state.get("_view_count") == 0
            ],
            what="the probe bar",
            timeout=60,
        )[0]
        front_end.show(probe)
        front_end.wait(lambda: cells[-1].reply, what="the first --bg cell", timeout=60)
        assert [cell.reply["status"] for cell in cells] == ["ok"] * 4, [text_of(c) for c in cells]
        assert text_of(cells[2]).strip() == "200"
        run(front_end, "_ = warm.result(timeout=120)")
        yield front_end


def run(front_end: WidgetFrontEnd, code: str, timeout: float = 120) -> str:
    """Run one cell and wait for its reply; what it showed."""
    cell = front_end.run_all(code)[0]
    front_end.wait(lambda: cell.reply, what=f"the reply to {code!r}", timeout=timeout)
    return text_of(cell) + ("" if cell.reply["status"] == "ok" else "\nFAILED")


def test_a_job_runs_while_other_cells_run_and_its_name_is_rebound_at_the_next_cell(kernel):
    line = run(kernel, bg_cell("events", values="sids"))
    assert "events: fetching in the background (job " in line
    assert "%p44_jobs to follow it" in line
    # another cell, while the job works: its own output, at once (the job still running)
    other = run(kernel, "print(sum(range(1000)), type(events).__name__, events.done())")
    assert "499500 P44Job False" in other
    table = run(kernel, "jobs = %p44_jobs\nprint(jobs[jobs.name == 'events'].state.item())")
    assert "running" in table
    run(kernel, "_ = events.result(timeout=120)")  # waits in the kernel: no fixed sleep
    delivered = run(kernel, "print(type(events).__name__, len(events))")
    assert "events: " in delivered and "from 200 values (job " in delivered
    assert "in the background)" in delivered
    assert any(line.startswith("DataFrame ") for line in delivered.splitlines())
    last = run(kernel, "print(_p44_last.url.split('/shipments/')[1][:8], len(_p44_failures))")
    assert last.strip().endswith(" 0")


def test_a_name_rebound_meanwhile_is_left_alone(kernel):
    assert "fetching in the background" in run(kernel, bg_cell("mine"))
    run(kernel, "job = mine\nmine = 5")
    run(kernel, "_ = job.result(timeout=120)")
    said = run(kernel, "print(mine)")
    assert "mine was rebound meanwhile, so it is left as it is" in said
    assert "job.result()" in said and said.strip().endswith("5")


def test_wait_blocks_until_done_and_binds_the_result(kernel):
    run(kernel, bg_cell("waited"))
    said = run(kernel, "%p44_wait waited\nprint(type(waited).__name__)")
    assert "waited: " in said and said.strip().endswith("DataFrame")


def test_cancel_keeps_the_rows_so_far_and_wait_then_fails_the_cell(kernel):
    run(kernel, bg_cell("stopped", values="sids"))
    run(kernel, "while stopped.progress.done < 20: stopped.wait(0.01)")
    assert "cancelling" in run(kernel, "%p44_cancel stopped")
    said = run(kernel, "%p44_wait stopped")
    assert said.endswith("FAILED") and "was cancelled after" in said
    assert "_p44_partial" in said
    check = textwrap.dedent(
        """
        from p44_magic import P44Interrupted
        try:
            stopped.result()
        except P44Interrupted as error:
            print(len(error.partial) == len(_p44_partial) > 0, error.done < 200)
        print(stopped.state, type(stopped).__name__)
        """
    )
    assert run(kernel, check).split() == ["True", "True", "cancelled", "P44Job"]


def test_two_jobs_on_one_session_keep_max_rate_together(kernel):
    """max_rate = 5 and two jobs of 6 requests: no 6 requests start within a second, across
    both jobs (arrivals at the demo; 0.1 s allowed for their jitter, as test_bulk does)."""
    run(kernel, "%config P44Magics.max_rate = 5\nimport time\nsince = time.monotonic()")
    run(kernel, "first, second = sids[:6], sids[6:12]\n%config P44Magics.max_concurrency = 8")
    run(kernel, f"%%p44 one --bg --each sid=first\n{HISTORY}")
    run(kernel, f"%%p44 two --bg --each sid=second\n{HISTORY}")
    run(kernel, "_ = one.result(timeout=120), two.result(timeout=120)")
    measure = textwrap.dedent(
        """
        times = sorted(
            r.at for r in demo.requests if r.at >= since and "/tracking/history" in r.path
        )
        gaps = [later - earlier for earlier, later in zip(times, times[5:])]
        print("measured", len(times), min(gaps))
        %config P44Magics.max_rate = 0
        %config P44Magics.max_concurrency = 2
        """
    )
    said = run(kernel, measure)
    line = next(line for line in said.splitlines() if line.startswith("measured "))
    sent, gap = int(line.split()[1]), float(line.split()[2])
    assert sent == 12 and gap > 0.9, line


def test_a_job_shown_as_a_value_is_a_live_bar_then_text(kernel):
    run(kernel, bg_cell("shown"))
    before = len(kernel.models)
    run(kernel, "shown")
    assert len(kernel.models) >= before  # a bar model for it (closed once the job ends)
    run(kernel, "_ = shown.result(timeout=120)")
    assert "job " in run(kernel, "print(repr(shown))")


def test_headless_runs_in_the_foreground_with_a_note(tmp_path):
    """nbclient (as papermill and nbconvert run notebooks): no front end shows the probe, so
    --bg runs in the foreground and the next cell sees the result."""
    notebook = nbformat.v4.new_notebook()
    cells = [SETUP, ORDERS, SIDS + "\n" + FEW, bg_cell("events"), "print(type(events).__name__)"]
    notebook.cells = [nbformat.v4.new_code_cell(code) for code in cells]
    NotebookClient(notebook, timeout=300, kernel_name="python3").execute()
    outputs = notebook.cells[3].outputs
    text = "".join(out.get("text", "") for out in outputs)
    assert "No widget front end is attached" in text and "runs in the foreground" in text
    last = "".join(out.get("text", "") for out in notebook.cells[4].outputs)
    assert last.strip() == "DataFrame"


def test_a_plain_shell_runs_in_the_foreground_with_a_note(logged_in, capsys):
    logged_in.user_ns["sids"] = ["no-such-1", "no-such-2"]
    logged_in.run_cell(f"%%p44 events --bg --each sid=sids\n{HISTORY}")
    assert "runs in the foreground" in capsys.readouterr().err
    assert "P44Job" not in type(logged_in.user_ns.get("events")).__name__


def test_terminal_ipython_runs_the_job_and_says_so_at_the_next_input():
    script = "\n".join(
        [
            "from p44_magic.demo import DemoServer, DEMO_CLIENT_SECRET as demo_secret",
            "demo = DemoServer(latency=0.05); demo.__enter__()",
            "%load_ext p44_magic",
            'get_ipython().run_line_magic("p44_login", f"--base-url {demo.base_url} '
            '--client-id demo-client --client-secret $demo_secret")',
            "%config P44Magics.progress = False",
            "sids = ['a-%d' % n for n in range(40)]",
            "%p44 --bg --each sid=sids GET /api/v4/shipments/{{sid}}/tracking/history",
            "job = _",
            "print('started', type(job).__name__, job.done())",
            "_ = job.wait(120)",
            "print('after')",
            "exit",
        ]
    )
    shown = subprocess.run(
        [sys.executable, "-m", "IPython", "--simple-prompt", "--no-banner", "--colors=NoColor"],
        input=script,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # one stream, in the order it was written
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        text=True,
        timeout=180,
    )
    out = shown.stdout
    assert "fetching in the background (job " in out
    assert "started P44Job False" in out
    assert "failed:" in out  # 40 unknown shipments: the job's line, at the next input
    assert out.index("failed:") < out.index("after")
