"""The live stream: recorded Jetstream events from a loopback websocket server into the
store, idempotent replay and resume, deletes through the record-key map, the CLI, and
incremental re-scoring against a converged full recompute."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import numpy as np
import pytest

from trueclout.cli import main
from trueclout.store import Store
from trueclout.stream.apply import SOURCE, StreamApplier, parse_event
from trueclout.stream.jetstream import watch

FIX = Path(__file__).parent / "fixtures" / "stream" / "jetstream.jsonl"
LINES = FIX.read_text().splitlines()
ALICE = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
BOB = "did:plc:z72i7hdynmk6r22z27h6tvur"
CAROL = "did:plc:vc7f4oafdgxsihk4cry2xpze"
DAVE = "did:web:dave.example.com"


def _time(line: str) -> int | None:
    try:
        return json.loads(line)["time_us"]
    except (ValueError, KeyError):
        return None


class FakeJetstream:
    """A Jetstream stand-in on loopback: replays the recorded lines from the requested
    cursor (as Jetstream does), then closes or, with ``hold``, waits."""

    def __init__(self, lines, hold: threading.Event | None = None):
        from websockets.sync.server import serve
        self.lines = lines
        self.hold = hold
        self.requests: list[dict] = []
        self.server = serve(self._handler, "127.0.0.1", 0)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"ws://127.0.0.1:{self.server.socket.getsockname()[1]}/subscribe"

    def _handler(self, ws):
        q = parse_qs(urlparse(ws.request.path).query)
        self.requests.append(q)
        cursor = int(q["cursor"][0]) if "cursor" in q else None
        for line in self.lines:
            t = _time(line)
            if cursor is not None and t is not None and t < cursor:
                continue
            ws.send(line)
        if self.hold is not None:
            self.hold.wait(10)

    def close(self):
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture
def jet():
    servers = []

    def make(lines=LINES, hold=None):
        s = FakeJetstream(lines, hold)
        servers.append(s)
        return s
    yield make
    for s in servers:
        s.close()


def _state(store):
    return (store.sql_rows("SELECT s.account_id, d.account_id, f.removed_at IS NULL "
                           "FROM follows f JOIN accounts s ON s.uid = f.src "
                           "JOIN accounts d ON d.uid = f.dst ORDER BY 1, 2"),
            store.sql_rows("SELECT s.account_id, d.account_id, i.kind, i.post_id "
                           "FROM interactions i JOIN accounts s ON s.uid = i.src "
                           "JOIN accounts d ON d.uid = i.dst ORDER BY 1, 2, 3"),
            store.counts()["accounts"])


def test_parse_event_never_raises():
    kinds = [parse_event(line)[0] for line in LINES]
    assert kinds.count("ok") == 9            # 5 creates, the duplicate, 3 deletes
    assert kinds.count("malformed") == 2
    assert kinds.count("unknown_collection") == 2
    assert kinds.count("other_kind") == 2
    for bad in ([], "null", b"\xff\xfe", '{"kind": 3}', {"kind": "commit", "did": 1},
                {"kind": "commit", "did": "d", "time_us": 1, "commit": {
                    "operation": "create", "collection": "app.bsky.feed.like", "rkey": "k",
                    "record": {"subject": {"uri": "https://x"}}}}):
        assert parse_event(bad)[0] == "malformed"


def test_watch_applies_the_recorded_stream(jet, tmp_path):
    srv = jet()
    with Store(tmp_path / "s.duckdb") as store:
        s = watch(store, url=srv.url, batch_events=4)
        follows, inter, accounts = _state(store)
        assert follows == sorted([(ALICE, BOB, True), (ALICE, CAROL, False), (BOB, ALICE, True)])
        assert inter == [(DAVE, ALICE, "repost", f"at://{ALICE}/app.bsky.feed.post/3l3pa5ghb3n2o")]
        assert accounts == 4
        assert s["closed"] and s["messages"] == len(LINES)
        assert s["skipped"] == {"malformed": 2, "unknown_collection": 2, "other_kind": 2,
                                "unresolved_delete": 1}
        assert s["follows_added"] == 3 and s["follows_removed"] == 1
        # the delete of alice -> carol was resolved through the record-key map
        rec = store.record_subject(ALICE, "app.bsky.graph.follow", "3l3qo2vv2x72c")
        assert rec["removed_at"] is not None and rec["post_id"] is None
        assert store.stream_cursor(SOURCE) == max(t for t in map(_time, LINES) if t)
        q = srv.requests[0]
        assert q["wantedCollections"] == ["app.bsky.graph.follow", "app.bsky.feed.like",
                                          "app.bsky.feed.repost"]
        assert "cursor" not in q


def test_replay_is_idempotent_and_resume_goes_back(jet, tmp_path):
    srv = jet()
    with Store(tmp_path / "s.duckdb") as store:
        watch(store, url=srv.url)
        before = _state(store)
        cursor = store.stream_cursor(SOURCE)
        # the whole stream again, twice, in other batchings: nothing changes
        for b in (1, 3):
            a = StreamApplier(store, batch_events=b)
            for line in LINES:
                a.add(line)
            a.flush()
            assert _state(store) == before
            assert a.totals["follows_added"] == 0 and a.totals["interactions_added"] == 0
        # a restart resumes stream_resume_back_s (5 s) before the saved cursor
        srv2 = jet()
        s = watch(store, url=srv2.url, dids=[ALICE, BOB])
        assert int(srv2.requests[0]["cursor"][0]) == cursor - 5_000_000
        assert srv2.requests[0]["wantedDids"] == [ALICE, BOB]
        assert s["resumed_from"] == cursor - 5_000_000
        assert 0 < s["messages"] < len(LINES)     # only the last five seconds came again
        assert _state(store) == before
        assert store.stream_cursor(SOURCE) == cursor


def test_refollow_after_unfollow_and_delete_in_one_batch(tmp_path):
    mk = lambda t, op, rkey, subj=BOB: json.dumps({  # noqa: E731
        "did": ALICE, "time_us": t, "kind": "commit", "commit": {
            "rev": "r", "operation": op, "collection": "app.bsky.graph.follow", "rkey": rkey,
            **({"record": {"subject": subj, "createdAt": "2024-01-01T00:00:00Z"}}
               if op != "delete" else {})}})
    with Store(tmp_path / "s.duckdb") as store:
        a = StreamApplier(store, batch_events=100)
        for ev in (mk(1, "create", "k1"), mk(2, "delete", "k1"), mk(3, "create", "k2")):
            a.add(ev)
        a.flush()
        assert store.edge_count() == 1           # followed again under a new key
        a.add(mk(2, "delete", "k1"))             # a replayed old delete: no effect
        a.flush()
        assert store.edge_count() == 1
        a.add(mk(4, "delete", "k2"))
        a.flush()
        assert store.edge_count() == 0


def test_stop_saves_the_cursor(jet, tmp_path):
    hold = threading.Event()
    srv = jet(LINES[:5], hold=hold)
    stop = threading.Event()
    seen = []

    def progress(s):
        seen.append(s["messages"])
        if s["messages"] >= 5:
            stop.set()
    with Store(tmp_path / "s.duckdb") as store:
        s = watch(store, url=srv.url, stop=stop, progress=progress, batch_events=5)
        hold.set()
        assert not s["closed"] and s["applied"] == 5
        assert store.stream_cursor(SOURCE) == _time(LINES[4])
        assert store.edge_count() == 3


def test_cli_watch(jet, tmp_path, capsys):
    srv = jet()
    db = str(tmp_path / "s.duckdb")
    dids = tmp_path / "dids.txt"
    dids.write_text(f"# accounts\n{ALICE}\n")
    code = main(["watch", "bluesky", "--url", srv.url, "--db", db, "--dids", str(dids),
                 "--collections", "app.bsky.graph.follow", "--max-events", "3", "--json"])
    assert code == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["messages"] == 3 and doc["follows_added"] == 3
    assert srv.requests[0]["wantedCollections"] == ["app.bsky.graph.follow"]
    # with --rescore: detection once, incremental scores, saved as a run
    srv2 = jet()
    assert main(["watch", "bluesky", "--url", srv2.url, "--db", db, "--rescore",
                 "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["run_id"] == 1 and doc["closed"]
    with Store(db, read_only=True) as store:
        names = set(store.run_scores(1).column("name").to_pylist())
    assert names == {"pagerank", "truerank", "reach"}
    assert main(["watch", "bluesky", "--db", db, "--collections", "app.bsky.feed.post"]) == 2
    bad = tmp_path / "bad.txt"
    bad.write_text("alice\n")
    assert main(["watch", "bluesky", "--db", db, "--dids", str(bad)]) == 1
    code = main(["watch", "bluesky", "--url", "ws://127.0.0.1:1/subscribe", "--db", db])
    assert code == 1                              # nothing listens there


# -- incremental re-scoring ---------------------------------------------------------------
def _random_changes(g, rng, n_add, n_remove, n_new=0):
    src = np.repeat(np.arange(g.n), np.diff(g.out_indptr))
    k = rng.choice(src.size, n_remove, replace=False)
    removed = np.stack([src[k], g.out_indices[k]], 1)
    a = rng.integers(0, g.n + n_new, size=(n_add, 2))
    # follows into the planted attack's targets and from new accounts, like a live stream
    return a[a[:, 0] != a[:, 1]], removed


def _close(inc, full, tol=1e-6):
    got = inc.scores()
    for k in ("pagerank", "truerank"):
        assert float(np.abs(got[k] - full[k]).max()) <= tol, k
        assert abs(float(got[k].sum()) - 1.0) < 1e-9
    rel = np.abs(got["reach"] - full["reach"]) / np.maximum(np.abs(full["reach"]), 1.0)
    assert float(rel.max()) <= 1e-9


def test_incremental_matches_full_recompute(sim_ctx):
    from trueclout.score.incremental import IncrementalScores
    from trueclout.score.rank import rank_all
    inc = IncrementalScores(sim_ctx, tol=1e-7)
    base = rank_all(sim_ctx, which=("pagerank", "truerank", "reach"))
    got = inc.scores()
    for k in base:                               # it starts from the full run's scores
        assert float(np.abs(got[k] - base[k]).max()) <= 1e-6
    rng = np.random.default_rng(0)
    g = sim_ctx.graph
    for step in range(2):
        added, removed = _random_changes(g, rng, 400, 150, n_new=10 * (step + 1))
        st = inc.apply(added, removed)
        assert st["changes"] > 0
        _close(inc, inc.full_scores(max_iter=120))
    assert inc.n > g.n
    t = inc.touched_table()
    assert t.num_rows > 0 and set(t.column_names) >= {"uid", "followers_seen"}
    # merging the overlay into the CSR changes no score
    before = inc.scores()
    inc.merge()
    assert inc.ov_keys.size == 0
    added, removed = _random_changes(g, rng, 100, 50)
    inc.apply(added, removed)
    _close(inc, inc.full_scores(max_iter=120))
    assert float(np.abs(before["reach"]).sum()) > 0


def test_local_mode_keeps_within_its_reported_bound(sim_ctx):
    from trueclout.score.incremental import IncrementalScores
    inc = IncrementalScores(sim_ctx, local=1e-2)
    added, removed = _random_changes(sim_ctx.graph, np.random.default_rng(5), 300, 100)
    st = inc.apply(added, removed)
    full, got = inc.full_scores(max_iter=120), inc.scores()
    for k in ("pagerank", "truerank"):
        assert st[k]["rounds"] == 1
        assert float(np.abs(got[k] - full[k]).sum()) <= st[k]["bound_l1"] + 1e-9


def test_stream_to_incremental_matches_store_graph(sim_score_store, sim_ctx, tmp_path):
    """Events through the store's apply, then the scores against a full recompute over
    the graph rebuilt from the store."""
    from trueclout.graph.build import build_graph
    from trueclout.score.incremental import IncrementalScores
    sim_score_store.con.execute("CHECKPOINT")
    path = tmp_path / "copy.duckdb"
    shutil.copy(sim_score_store.path, path)
    inc = IncrementalScores(sim_ctx, tol=1e-7)
    ids = sim_ctx.graph.names.column("account_id").to_pylist()
    rng = np.random.default_rng(1)
    with Store(path) as store:
        plat = sim_ctx.graph.names.column("platform")[0].as_py()
        a = StreamApplier(store, platform=plat, on_batch=inc.observe, batch_events=250)
        made = []
        for i in range(1200):
            if i % 6 == 5 and made:
                did, rk = made.pop(int(rng.integers(len(made))))
                c = {"operation": "delete", "collection": "app.bsky.graph.follow", "rkey": rk}
            else:
                u, v = rng.integers(len(ids), size=2)
                subj = ids[v] if i % 40 else f"did:plc:new{i}"
                rk = f"3l{i:011d}"
                did = ids[u]
                made.append((did, rk))
                c = {"operation": "create", "collection": "app.bsky.graph.follow", "rkey": rk,
                     "record": {"subject": subj, "createdAt": "2024-01-01T00:00:00Z"}}
            a.add({"did": did, "time_us": 10**15 + i, "kind": "commit",
                   "commit": {"rev": "r", **c}})
        a.flush()
        assert inc.pending > 0
        inc.rescore()
        g = build_graph(store)
    assert g.n == inc.n
    _close(inc, inc.full_scores(g, max_iter=120))
