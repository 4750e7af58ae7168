"""The cache from a real IPython shell against the demo API: ``--cache[=AGE]``, ``--refresh``,
``--offline``, ``--snapshot``, ``%config P44Magics.cache``, the lines that say where a result
came from, ``%p44_cache`` (show, clear, export), ``%p44_login --replay`` and ``history()``."""

from __future__ import annotations

import re

import pandas as pd
import pytest

import p44_magic
from p44_magic.demo import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DemoServer, demo_data
from tests.servers import log_in

ACCOUNTS = "GET /api/v4/capacityprovideraccounts"
SEARCH = (
    "POST /api/v4/inventory/orders/search?page=1&pageSize=50\nContent-Type: application/json\n\n{}"
)


@pytest.fixture
def cached(logged_in, tmp_path):
    """The logged-in shell with a cache file of this test's own."""
    logged_in.run_line_magic("config", f"P44Magics.cache_path = {str(tmp_path / 'c.sqlite')!r}")
    return logged_in


def sent(demo: DemoServer, before: int) -> int:
    return len(demo.requests) - before


def error_of(result) -> str:
    assert not result.success
    return str(result.error_in_exec or result.error_before_exec)


def test_a_bare_cache_keeps_the_method_and_the_second_run_says_from_cache(cached, demo, capsys):
    before = len(demo.requests)
    cached.run_cell(f"first = %p44 --cache {ACCOUNTS}")
    cached.run_cell(f"again = %p44 --cache {ACCOUNTS}")
    assert sent(demo, before) == 1
    assert cached.user_ns["first"].equals(cached.user_ns["again"])
    assert "from cache, 0 s old" in capsys.readouterr().err
    last = cached.user_ns["_p44_last"]
    assert last.from_cache and last.fetched_at.tzinfo is not None


def test_a_named_result_from_the_cache_says_so_on_its_line(cached, demo, capsys):
    cached.run_cell(f"%%p44 orders --cache=15m\n{SEARCH}")
    capsys.readouterr()
    before = len(demo.requests)
    cached.run_cell(f"%%p44 orders --cache=15m\n{SEARCH}")
    out = capsys.readouterr().out
    assert re.fullmatch(r"orders: 50 rows × \d+ columns \(from cache, 0 s old\)\n", out), out
    assert sent(demo, before) == 0


def test_a_bad_age_is_refused_by_the_option(cached):
    text = error_of(cached.run_cell(f"%p44 --cache=15x {ACCOUNTS}"))
    assert "--cache = '15x': not an age." in text
    text = error_of(cached.run_cell(f"%p44 --offline --refresh {ACCOUNTS}"))
    assert "--offline and --refresh contradict each other" in text


def test_the_config_setting_caches_every_cell_and_replay_sends_nothing(cached, demo):
    cached.run_line_magic("config", 'P44Magics.cache = "on"')
    before = len(demo.requests)
    for _ in range(2):
        assert cached.run_cell(f"%%p44 orders\n{SEARCH}").success
    assert sent(demo, before) == 1
    cached.run_line_magic("config", 'P44Magics.cache = "replay"')
    assert cached.run_cell(f"%%p44 orders\n{SEARCH}").success
    text = error_of(cached.run_cell(f"x = %p44 {ACCOUNTS}"))
    assert f"{ACCOUNTS} is not in the cache (offline: nothing was sent)." in text
    assert sent(demo, before) == 1
    assert "Traceback" not in text


def test_refresh_and_offline(cached, demo):
    before = len(demo.requests)
    cached.run_cell(f"a = %p44 --cache {ACCOUNTS}")
    cached.run_cell(f"a = %p44 --refresh {ACCOUNTS}")
    assert not cached.user_ns["_p44_last"].from_cache
    cached.run_cell(f"a = %p44 --offline {ACCOUNTS}")
    assert cached.user_ns["_p44_last"].from_cache
    assert sent(demo, before) == 2


def test_each_says_how_many_values_came_from_the_cache(cached, demo, capsys):
    ids = [record.id for record in demo_data().shipments[:5]]
    cached.user_ns.update(first=ids[:3], every=ids)
    path = "GET /api/v4/shipments/{{sid}}/positionhistory"
    cached.run_cell(f"%%p44 pos --cache --each sid=first\n{path}")
    capsys.readouterr()
    before = len(demo.requests)
    cached.run_cell(f"%%p44 pos --cache --each sid=every\n{path}")
    out = capsys.readouterr().out
    assert re.fullmatch(r"pos: [\d,]+ rows × \d+ columns from 5 values \(3 from cache\)\n", out)
    assert sent(demo, before) == 2


def test_p44_cache_shows_clears_and_names_the_session(cached, capsys):
    cached.run_cell(f"a = %p44 --cache {ACCOUNTS}")
    cached.run_cell(f"%%p44 orders --cache\n{SEARCH}")
    capsys.readouterr()
    table = cached.run_line_magic("p44_cache", "")
    assert list(table.columns) == [
        "session",
        "base_url",
        "client_id",
        "entries",
        "snapshots",
        "size_mb",
        "oldest",
        "newest",
    ]
    row = table.iloc[0]
    assert (row["session"], row["entries"], row["snapshots"]) == ("default", 2, 0)
    assert row["client_id"] == "…" + DEMO_CLIENT_ID[-4:]
    assert capsys.readouterr().out.startswith("cache: ")
    cached.run_line_magic("p44_cache", "clear --older 7d")
    assert capsys.readouterr().out == "Cleared 0 answers older than 7d (0.0 MB) from the cache.\n"
    cached.run_line_magic("p44_cache", "clear --conn default")
    assert capsys.readouterr().out.startswith("Cleared 2 answers of session default (")
    assert cached.run_line_magic("p44_cache", "").empty


def test_export_then_replay_without_the_demo_gives_equal_frames(shell, tmp_path, capsys):
    shell.run_line_magic("config", f"P44Magics.cache_path = {str(tmp_path / 'c.sqlite')!r}")
    replay_file = tmp_path / "run.p44replay"
    cells = [
        f"%%p44 orders --all-pages\n{SEARCH}",
        "sids = [r.id for r in demo_data().shipments[:4]]",
        "%%p44 pos --each sid=sids\nGET /api/v4/shipments/{{sid}}/positionhistory",
        "%%p44 tables --tables\nGET /api/v4/shipments/{{sid}}/tracking/history",
    ]
    shell.user_ns.update(demo_data=demo_data, sid=demo_data().shipments[0].id)
    with DemoServer() as own_demo:
        assert log_in(shell, own_demo.base_url, DEMO_CLIENT_ID, DEMO_CLIENT_SECRET).success
        shell.run_line_magic("config", 'P44Magics.cache = "on"')
        for cell in cells:
            assert shell.run_cell(cell).success, cell
        live = {name: shell.user_ns[name] for name in ("orders", "pos", "tables")}
        shell.run_line_magic("p44_cache", f"export {replay_file}")
        assert f"replay them with %p44_login --replay {replay_file}" in capsys.readouterr().out
    shell.run_line_magic("p44_logout", "")
    shell.run_line_magic("config", 'P44Magics.cache = "off"')
    shell.run_line_magic("config", f"P44Magics.cache_path = {str(tmp_path / 'other.sqlite')!r}")
    assert shell.run_cell(f"%p44_login --replay {replay_file}").success
    assert "nothing will be sent" in capsys.readouterr().out
    for cell in cells:
        assert shell.run_cell(cell).success, cell
    pd.testing.assert_frame_equal(shell.user_ns["orders"], live["orders"])
    pd.testing.assert_frame_equal(shell.user_ns["pos"], live["pos"])
    pd.testing.assert_frame_equal(shell.user_ns["tables"].events, live["tables"].events)
    text = error_of(shell.run_cell(f"x = %p44 {ACCOUNTS}"))
    assert (
        "GET /api/v4/capacityprovideraccounts is not in the replay file run.p44replay "
        "(a replay session sends nothing)." in text
    )


def test_snapshots_keep_every_fetch_and_history_shows_estimates_moving(cached):
    record = next(r for r in demo_data().shipments if not r.completed)
    cached.user_ns["sid"] = record.id
    for _ in range(3):
        cell = "%%p44 events --snapshot\nGET /api/v4/shipments/{{sid}}/eventhistory"
        assert cached.run_cell(cell).success
    kept = p44_magic.history(record.id)
    assert list(kept.columns[:2]) == ["fetched_at", "request"]
    assert kept["fetched_at"].nunique() == 3
    assert set(kept["request"]) == {f"GET /api/v4/shipments/{record.id}/eventhistory"}
    ahead = kept[kept["dateTime"].isna()]
    moved = ahead.groupby(["type", "stopId"])["estimateDateTime"].nunique()
    assert (moved == 3).all()  # each estimate not yet reached moved between the fetches
    by_request = p44_magic.history(f"GET /api/v4/shipments/{record.id}/eventhistory")
    pd.testing.assert_frame_equal(by_request, kept)
    assert p44_magic.history("no-such-shipment").empty
