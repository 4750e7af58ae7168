"""P44Job for scripts: ``P44Client.start`` and ``start_each`` against a slow demo, progress,
result, timeout, cancel, failure, closing the client, interpreter exit, and no credential in
what a job holds."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pandas as pd
import pytest

from p44_magic import P44Client, P44HTTPError, P44Interrupted, P44Job
from p44_magic.demo import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DemoServer
from tests.credential_walk import findings
from tests.servers import Reply, ScriptedServer, client_for, with_tokens

HISTORY = "/api/v4/shipments/{{sid}}/tracking/history"
ORDERS = "/api/v4/inventory/orders/search?page=1&pageSize=100"
pytestmark = pytest.mark.filterwarnings("ignore:.*Position data delayed:UserWarning")


@pytest.fixture(scope="module")
def slow():
    with DemoServer(latency=0.05) as demo:
        with P44Client(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, base_url=demo.base_url) as p44:
            orders = p44.frame("POST", ORDERS, json={}, all_pages=True)
            sids = sorted({s for ids in orders["shipmentIds"] for s in ids})[:200]
            yield p44, sids


def without_estimates(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.drop(columns=[c for c in frame.columns if "estimate" in c.lower()])


def test_start_each_reports_progress_and_gives_each_result(slow):
    p44, sids = slow
    p44.configure(max_concurrency=2)
    try:
        job = p44.start_each("GET", HISTORY, sids, name="sid")
        assert isinstance(job, P44Job) and job.state == "running"
        with pytest.raises(TimeoutError, match=f"job {job.id} is still running"):
            job.result(timeout=0.01)
        while job.progress.done == 0:  # the condition, not a fixed time
            job.wait(0.01)
        assert job.progress.total == 200 and not job.done()
        result = job.result(timeout=120)
    finally:
        p44.configure(max_concurrency=8)
    assert job.done() and job.state == "done" and job.error is None
    assert job.progress.done == 200 and job.progress.rows == len(result.frame)
    foreground = p44.each("GET", HISTORY, sids, name="sid")
    pd.testing.assert_frame_equal(
        without_estimates(result.frame), without_estimates(foreground.frame)
    )
    assert "done, 200/200 requests" in repr(job) and "<progress" in job._repr_html_()


def test_start_gives_the_frame_of_all_pages(slow):
    p44, _ = slow
    job = p44.start("POST", ORDERS, json={}, all_pages=True)
    frame = job.result(timeout=120)
    assert job.what == "pages" and job.progress.done == job.progress.total == 10
    pd.testing.assert_frame_equal(frame, p44.frame("POST", ORDERS, json={}, all_pages=True))


def test_cancel_keeps_the_rows_so_far(slow):
    p44, sids = slow
    p44.configure(max_concurrency=2)
    try:
        job = p44.start_each("GET", HISTORY, sids, name="sid")
        while job.progress.done < 10:
            job.wait(0.01)
        job.cancel()
        with pytest.raises(P44Interrupted) as stopped:
            job.result(timeout=60)
    finally:
        p44.configure(max_concurrency=8)
    assert job.state == "cancelled" and isinstance(job.error, P44Interrupted)
    assert 10 <= stopped.value.done < 200
    assert len(stopped.value.partial) > 0 and list(stopped.value.partial.columns)[0] == "sid"


def test_a_failed_job_raises_its_short_error(slow):
    p44, _ = slow
    job = p44.start("GET", "/api/v4/shipments/no-such-shipment/tracking/history")
    with pytest.raises(P44HTTPError, match="HTTP 404"):
        job.result(timeout=60)
    assert job.state == "failed" and "HTTP 404" in job.error.message


def test_closing_the_client_cancels_its_jobs():
    with DemoServer(latency=0.05) as demo:
        p44 = P44Client(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, base_url=demo.base_url)
        ids = [f"x-{n}" for n in range(400)]
        p44.configure(max_concurrency=2)
        job = p44.start_each("GET", HISTORY, ids, name="sid")
        while job.progress.done == 0:
            job.wait(0.01)
        p44.close()
        assert job.done() and job.state == "cancelled"


def test_an_interpreter_that_exits_ends_its_jobs():
    """A kernel shutting down: the job is cancelled, the process ends within the wait."""
    script = textwrap.dedent(
        f"""
        import atexit
        atexit.register(lambda: print("at exit the job is", job.state, flush=True))  # runs last
        from p44_magic import P44Client
        from p44_magic.demo import DemoServer, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
        demo = DemoServer(latency=0.2).__enter__()
        p44 = P44Client(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, base_url=demo.base_url,
                        max_concurrency=1)
        job = p44.start_each("GET", {HISTORY!r}, [f"x-{{n}}" for n in range(500)], name="sid")
        while job.progress.done == 0:
            job.wait(0.01)
        print("started", flush=True)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "started" in done.stdout  # 500 requests at 0.2 s one by one would take 100 s
    assert "at exit the job is cancelled" in done.stdout


def test_a_job_holds_no_credential():
    with ScriptedServer(with_tokens(always_401=True)) as server, client_for(server) as p44:
        failed = p44.start("GET", "/api/v4/x")
        with pytest.raises(Exception):  # noqa: B017 - which one is the next assertion's
            failed.result(timeout=60)
        assert failed.state == "failed"
        assert findings(failed) == []
    with ScriptedServer(with_tokens(Reply(200, [{"ok": 1}]))) as server, client_for(server) as p44:
        done = p44.start_each("GET", "/api/v4/x/{{n}}", [1, 2, 3], name="n")
        done.result(timeout=60)
        assert findings(done) == [] and findings(done.call) == []


def test_a_job_cancelled_while_it_waits_is_cancelled_not_failed():
    """Held at a 429's Retry-After when cancelled: the wait ends, the job says cancelled."""
    with ScriptedServer(with_tokens(Reply(429, {}, headers={"Retry-After": "30"}))) as server:
        with client_for(server) as p44:
            job = p44.start("GET", "/api/v4/x")
            while not server.data_calls():
                job.wait(0.01)
            job.cancel()
            with pytest.raises(P44Interrupted):
                job.result(timeout=10)
    assert job.state == "cancelled" and job.error.total == 1
