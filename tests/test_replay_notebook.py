"""A notebook run live against the demo with the cache on and exported, then run again in a new
kernel with ``%p44_login --replay`` and the demo stopped, gives equal frames (issue 23)."""

from __future__ import annotations

from pathlib import Path

import nbclient
import nbformat
import pandas as pd

from p44_magic.demo import DEMO_CLIENT_SECRET, DemoServer

QUERIES = [
    "%%p44 orders --all-pages\n"
    "POST /api/v4/inventory/orders/search?page=1&pageSize=50\n"
    "Content-Type: application/json\n\n"
    '{"statusCodes": ["IN_TRANSIT"]}',
    'sids = orders["shipmentIds"].explode().dropna().unique().tolist()[:6]\nsid = sids[0]',
    "%%p44 events --each sid=sids\nGET /api/v4/shipments/{{sid}}/tracking/history",
    "tables = %p44 --tables GET /api/v4/shipments/{{sid}}/tracking/history",
]


def run_notebook(folder: Path, login: str, last: list[str]) -> None:
    """Execute the notebook (setup, ``login``, the queries, ``last``) in a new kernel."""
    setup = (
        "%load_ext p44_magic\n"
        f"%config P44Magics.cache_path = {str(folder / 'cache.sqlite')!r}\n"
        '%config P44Magics.cache = "on"\n'
        "%config P44Magics.progress = False"
    )
    save = (
        "orders.to_pickle('orders.pkl'); events.to_pickle('events.pkl'); "
        "tables.events.to_pickle('stops.pkl')"
    )
    cells = [setup, login, *QUERIES, save, *last]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    client = nbclient.NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    )
    client.execute()


def test_a_notebook_replayed_without_the_demo_gives_equal_frames(tmp_path):
    live, replayed = tmp_path / "live", tmp_path / "replayed"
    live.mkdir()
    replayed.mkdir()
    replay_file = tmp_path / "run.p44replay"
    with DemoServer() as demo:
        login = (
            "from p44_magic.demo import DEMO_CLIENT_SECRET as demo_secret\n"
            f"%p44_login --base-url {demo.base_url} --client-id demo-client "
            "--client-secret $demo_secret"
        )
        run_notebook(live, login, [f"%p44_cache export {replay_file}"])
        sent_live = len(demo.requests)
        seen = {r.headers.get("authorization", "") for r in demo.requests}
    tokens = [value.removeprefix("Bearer ") for value in seen if value.startswith("Bearer ")]
    assert not demo.running and sent_live > 6
    run_notebook(replayed, f"%p44_login --replay {replay_file}", [])
    for name in ("orders", "events", "stops"):
        pd.testing.assert_frame_equal(
            pd.read_pickle(replayed / f"{name}.pkl"), pd.read_pickle(live / f"{name}.pkl")
        )
    data = replay_file.read_bytes()
    assert tokens and all(c.encode() not in data for c in (DEMO_CLIENT_SECRET, *tokens))
