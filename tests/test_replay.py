"""Replay files read with P44Client.replay: only their answers, nothing sent, and a file from
someone else treated as hostile (not a replay file, several sessions, escapes, sizes)."""

from __future__ import annotations

import json
import sqlite3
import time

import pytest

from p44_magic import P44Client, P44Error
from p44_magic.cache import Entry, Store
from p44_magic.cache.files import FORMAT
from p44_magic.cache.rules import canonical_body, entry_key
from tests.servers import Reply, ScriptedServer, client_for, with_tokens


def recorded(tmp_path, labels=("default",)) -> str:
    """A replay file holding one answer per session label, for a server now stopped."""
    where = tmp_path / "cache.sqlite"
    replay = tmp_path / "run.p44replay"
    with ScriptedServer(with_tokens()) as server:
        for label in labels:
            with client_for(server, cache="on", cache_path=str(where)) as p44:
                p44.session.client_id = f"client-{label}"
                p44.frame("GET", f"/api/v4/things?who={label}")
                identity = p44.session.cache_identity
            Store(where).export(identity, replay if len(labels) == 1 else tmp_path / label, label)
    if len(labels) > 1:  # join the exports into one file
        with sqlite3.connect(tmp_path / labels[0]) as db:
            for label in labels[1:]:
                db.execute("ATTACH ? AS other", (str(tmp_path / label),))
                db.execute("INSERT INTO entries SELECT * FROM other.entries")
                db.execute("INSERT INTO sessions SELECT * FROM other.sessions")
                db.commit()
                db.execute("DETACH other")
        (tmp_path / labels[0]).rename(replay)
    return str(replay)


def test_a_replay_answers_what_it_holds_and_nothing_else(tmp_path):
    replay = recorded(tmp_path)
    with P44Client.replay(replay) as p44:
        frame = p44.frame("GET", "/api/v4/things?who=default")
        assert p44.last_exchange.from_cache and list(frame.columns) == ["ok"]
        with pytest.raises(P44Error, match="is not in the replay file run.p44replay"):
            p44.frame("GET", "/api/v4/things?who=nobody")
        assert p44.status()["requests"] == 0 and "token held" not in repr(p44)


def test_a_file_with_several_sessions_needs_a_name(tmp_path):
    replay = recorded(tmp_path, ("eu", "na"))
    with pytest.raises(P44Error, match="holds the sessions eu, na; name one with --name"):
        P44Client.replay(replay)
    with P44Client.replay(replay, name="na") as p44:
        assert p44.frame("GET", "/api/v4/things?who=na")["ok"].tolist() == [True]
        with pytest.raises(P44Error):
            p44.frame("GET", "/api/v4/things?who=eu")


def test_what_is_not_a_replay_file_is_a_short_error(tmp_path):
    with pytest.raises(P44Error, match="No replay file at"):
        P44Client.replay(tmp_path / "missing.p44replay")
    junk = tmp_path / "junk.p44replay"
    junk.write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)
    with pytest.raises(P44Error, match="is not a p44_magic replay file"):
        P44Client.replay(junk)
    other = tmp_path / "other.p44replay"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE meta (name TEXT, value TEXT)")
    with pytest.raises(P44Error, match="is not a p44_magic replay file"):
        P44Client.replay(other)


def test_a_hostile_replay_file_is_read_with_care(tmp_path):
    """Escapes in its labels are not shown; a body over max_answer_mb is not read; a row of
    the wrong types is no answer."""
    replay = tmp_path / "hostile.p44replay"
    with sqlite3.connect(replay) as db:
        db.executescript(
            "CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT);"
            "CREATE TABLE entries (key TEXT PRIMARY KEY, identity TEXT, method TEXT, target TEXT,"
            " status INTEGER, headers TEXT, body BLOB, fetched_at REAL, size INTEGER);"
            "CREATE TABLE frames (key TEXT, shape TEXT, identity TEXT, fetched_at REAL,"
            " data BLOB, size INTEGER);"
            "CREATE TABLE sessions (identity TEXT, base_url TEXT, client TEXT, label TEXT);"
        )
        db.execute("INSERT INTO meta VALUES ('format', ?)", (FORMAT,))
        db.execute(
            "INSERT INTO sessions VALUES ('id', 'http://127.0.0.1:9', '', ?)",
            ("\x1b]52;c;aGk=\x07evil\x1b[31m",),
        )
        big = b'{"a": "' + b"x" * (2 << 20) + b'"}'
        for target, status, body in (("/big", 200, big), ("/odd", "two hundred", b"{}")):
            key = entry_key("id", "GET", target, canonical_body(b""))
            db.execute(
                "INSERT INTO entries VALUES (?,?,?,?,?,?,?,?,?)",
                (key, "id", "GET", target, status, "{}", body, time.time(), len(body)),
            )
    with P44Client.replay(replay, max_answer_mb=1) as p44:
        assert p44.session.label == "evil"
        for target in ("/big", "/odd"):
            with pytest.raises(P44Error, match="is not in the replay file"):
                p44.answer("GET", target)
    entry = Entry("k", "id", "GET", "/x", 200, {}, b"{}", time.time())
    with pytest.raises(P44Error, match="nothing is written"):
        Store(replay, read_only=True).put(entry)


def test_a_large_answer_replays_as_it_was_framed(tmp_path):
    rows = [{"id": n, "pad": "q" * 600} for n in range(2_000)]  # over 1 MB: a frame is kept
    where, replay = tmp_path / "cache.sqlite", tmp_path / "big.p44replay"
    with ScriptedServer(with_tokens(Reply(200, rows))) as server:
        with client_for(server, cache="on", cache_path=str(where)) as p44:
            live = p44.frame("GET", "/api/v4/big")
            Store(where).export(p44.session.cache_identity, replay, "default")
    with P44Client.replay(replay) as p44:
        import pandas as pd

        pd.testing.assert_frame_equal(p44.frame("GET", "/api/v4/big"), live)


def test_a_replay_file_is_not_trusted_with_encodings_views_or_urls(tmp_path):
    import gzip

    where, replay = tmp_path / "cache.sqlite", tmp_path / "x.p44replay"
    with ScriptedServer(with_tokens()) as server:
        with client_for(server, cache="on", cache_path=str(where)) as p44:
            p44.frame("GET", "/api/v4/things")
            Store(where).export(p44.session.cache_identity, replay, "default")
    bomb = gzip.compress(b"[" + b"0," * 1_000_000 + b"0]")
    with sqlite3.connect(replay) as db:
        db.execute(
            "UPDATE entries SET body = ?, headers = ?",
            (bomb, json.dumps({"content-encoding": "gzip", "content-type": "text/plain"})),
        )
    with P44Client.replay(replay) as p44:
        assert len(p44.answer("GET", "/api/v4/things")) <= len(bomb)  # never inflated
    with sqlite3.connect(replay) as db:
        db.execute("DROP TABLE entries")
        db.execute("CREATE VIEW entries AS SELECT * FROM sessions")
    with pytest.raises(P44Error, match="is not a p44_magic replay file"):
        P44Client.replay(replay)


def test_history_reads_a_replay_files_snapshots(tmp_path):
    import p44_magic

    where, replay = tmp_path / "cache.sqlite", tmp_path / "h.p44replay"
    events = {"shipment": {"id": "S1"}, "events": [{"type": "ARRIVAL_AT_STOP", "stopId": "d"}]}
    with ScriptedServer(with_tokens(Reply(200, events))) as server:
        with client_for(server, cache_path=str(where)) as p44:
            for _ in range(2):
                p44.frame("GET", "/api/v4/shipments/S1/eventhistory", cache="snapshot")
            Store(where).export(p44.session.cache_identity, replay, "default")
    with P44Client.replay(replay) as p44:
        kept = p44_magic.history("S1", conn=p44)
    assert kept["fetched_at"].nunique() == 2
