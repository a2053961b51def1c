"""``trueclout watch bluesky --firehose`` against the PDS's real firehose: follows,
unfollows (record deletes), likes and reposts applied idempotently, the cursor resumed
after kill -9, a reconnect after the PDS restarts."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from trueclout.store import Store

pytestmark = pytest.mark.live

W = ["wone", "wtwo", "wthree"]


def _watch(db, live, env, *extra):
    return subprocess.Popen(
        [sys.executable, "-m", "trueclout.cli", "watch", "bluesky", "--firehose", "--url",
         live.urls["pds"], "--db", str(db), "--json", *extra],
        env={**env, "TRUECLOUT_STREAM_BATCH_SECONDS": "0.1",
             "TRUECLOUT_STREAM_RECONNECT_BASE_S": "0.2",
             "TRUECLOUT_STREAM_RECONNECT_CAP_S": "1"},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_streaming(proc, seconds=20.0):
    """Give the watcher time to start (imports, connect) before changes happen."""
    t0 = time.time()
    while time.time() - t0 < seconds:
        if proc.poll() is not None:
            raise AssertionError(proc.communicate()[1])
        time.sleep(0.5)
        if time.time() - t0 > 6:
            return


def _state(db, dids):
    names = {v: k for k, v in dids.items()}
    with Store(db, read_only=True) as s:
        follows = {(names.get(a, a), names.get(b, b), live) for a, b, live in s.con.execute(
            "SELECT s.account_id, d.account_id, f.removed_at IS NULL FROM follows f "
            "JOIN accounts s ON s.uid = f.src JOIN accounts d ON d.uid = f.dst "
            "WHERE s.account_id IN (SELECT unnest(?::VARCHAR[]))",
            [[dids[w] for w in W]]).fetchall()}
        inter = {(names.get(a, a), names.get(b, b), k) for a, b, k in s.con.execute(
            "SELECT s.account_id, d.account_id, i.kind FROM interactions i "
            "JOIN accounts s ON s.uid = i.src JOIN accounts d ON d.uid = i.dst "
            "WHERE s.account_id IN (SELECT unnest(?::VARCHAR[]))",
            [[dids[w] for w in W]]).fetchall()}
        cursor = s.stream_cursor(f"bluesky-firehose {live_host(s)}")
    return follows, inter, cursor


def live_host(store):
    rows = store.con.execute("SELECT source FROM stream_state WHERE source LIKE "
                             "'bluesky-firehose %'").fetchall()
    return rows[0][0].split(" ", 1)[1] if rows else "?"


def test_watch_firehose_applies_resumes_after_kill_and_reconnects(live, live_env, tmp_path):
    db = tmp_path / "watch.duckdb"
    live.ops([{"op": "account", "name": w} for w in W])
    out = live.ops([{"op": "post", "by": "wthree", "key": "wpost", "text": "watch me"}])
    dids = out["dids"]
    # 1. a watch from now on: follows, a like, a repost; then kill -9
    a = _watch(db, live, live_env)
    _wait_streaming(a)
    live.ops([{"op": "follow", "from": "wone", "to": "wtwo"},
              {"op": "follow", "from": "wtwo", "to": "wthree"},
              {"op": "follow", "from": "wthree", "to": "wone"},
              {"op": "like", "by": "wone", "key": "wpost"},
              {"op": "repost", "by": "wtwo", "key": "wpost"}])
    time.sleep(3)
    os.kill(a.pid, signal.SIGKILL)
    a.wait(30)
    follows, inter, cursor1 = _state(db, dids)
    assert follows == {("wone", "wtwo", True), ("wtwo", "wthree", True),
                       ("wthree", "wone", True)}
    assert inter == {("wone", "wthree", "like"), ("wtwo", "wthree", "repost")}
    assert cursor1 is not None
    # 2. while no one watches: an unfollow, an unlike, a new follow
    live.ops([{"op": "unfollow", "from": "wone", "to": "wtwo"},
              {"op": "unlike", "by": "wone", "key": "wpost"},
              {"op": "follow", "from": "wthree", "to": "wtwo"}])
    # 3. the next watch resumes after the saved cursor; the PDS restarts under it
    b = _watch(db, live, live_env)
    _wait_streaming(b)
    time.sleep(2)
    live.restart_pds()
    live.ops([{"op": "follow", "from": "wtwo", "to": "wone"}])
    time.sleep(4)
    b.send_signal(signal.SIGTERM)
    outb, errb = b.communicate(timeout=60)
    assert b.returncode == 0, errb
    summary = json.loads(outb)
    assert summary["resumed_from"] == cursor1 and summary["reconnects"] >= 1
    assert summary["follows_removed"] == 1 and summary["interactions_removed"] == 1
    follows, inter, cursor2 = _state(db, dids)
    want_follows = {("wone", "wtwo", False), ("wtwo", "wthree", True),
                    ("wthree", "wone", True), ("wthree", "wtwo", True),
                    ("wtwo", "wone", True)}
    assert follows == want_follows
    assert inter == {("wtwo", "wthree", "repost")}
    assert cursor2 > cursor1
    # 4. replaying the whole firehose from its start changes nothing for them
    with Store(db) as s:
        s.con.execute("UPDATE stream_state SET cursor = 0 WHERE source LIKE "
                      "'bluesky-firehose %'")
    c = _watch(db, live, live_env)
    _wait_streaming(c)
    time.sleep(4)
    c.send_signal(signal.SIGTERM)
    outc, errc = c.communicate(timeout=60)
    assert c.returncode == 0, errc
    replay = json.loads(outc)
    assert replay["messages"] >= 20 and replay["cursor"] >= cursor2
    assert _state(db, dids)[:2] == (want_follows, {("wtwo", "wthree", "repost")})
