"""The live stream: recorded Jetstream events from a loopback websocket server into the
store, idempotent replay and resume, deletes through the record-key map, the CLI, and
incremental re-scoring against a converged full recompute."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
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
    cursor (as Jetstream does), then closes or, with ``hold``, waits.

    ``plan`` scripts the first connections, one step each: ``("abort", k)`` sends ``k``
    lines then drops the socket without a close frame (a network error), ``("close", k)``
    sends ``k`` lines then closes cleanly (a server restart), ``"refuse"`` answers the
    handshake with HTTP 503. ``after_send`` is called once all lines went out."""

    def __init__(self, lines, hold: threading.Event | None = None, plan=(),
                 after_send=None):
        from websockets.sync.server import serve
        self.lines = lines
        self.hold = hold
        self.plan = list(plan)
        self.after_send = after_send
        self.requests: list[dict] = []
        self._step = None
        self.server = serve(self._handler, "127.0.0.1", 0, process_request=self._process)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"ws://127.0.0.1:{self.server.socket.getsockname()[1]}/subscribe"

    def _process(self, conn, request):
        self.requests.append(parse_qs(urlparse(request.path).query))
        self._step = self.plan.pop(0) if self.plan else None
        if self._step == "refuse":
            return conn.respond(503, "busy\n")
        return None

    def _handler(self, ws):
        step, q = self._step, self.requests[-1]
        cursor = int(q["cursor"][0]) if "cursor" in q else None
        sent = 0
        for line in self.lines:
            t = _time(line)
            if cursor is not None and t is not None and t < cursor:
                continue
            if step is not None and sent == step[1]:
                if step[0] == "abort":
                    ws.close_socket()
                else:
                    ws.close(1012, "service restart")
                return
            ws.send(line)
            sent += 1
        if self.after_send is not None:
            self.after_send()
        if self.hold is not None:
            self.hold.wait(10)

    def close(self):
        self.server.shutdown()
        self.thread.join(5)


@pytest.fixture
def jet():
    servers = []

    def make(lines=LINES, hold=None, plan=(), after_send=None):
        s = FakeJetstream(lines, hold, plan, after_send)
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
        s = watch(store, url=srv.url, batch_events=4, max_reconnects=0)
        follows, inter, accounts = _state(store)
        assert follows == sorted([(ALICE, BOB, True), (ALICE, CAROL, False), (BOB, ALICE, True)])
        assert inter == [(DAVE, ALICE, "repost", f"at://{ALICE}/app.bsky.feed.post/3l3pa5ghb3n2o")]
        assert accounts == 4
        assert s["closed"] and s["messages"] == len(LINES) and s["reconnects"] == 0
        assert s["stopped"] == "reconnects_exhausted" and "closed" in s["error"]
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
        watch(store, url=srv.url, max_reconnects=0)
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
        s = watch(store, url=srv2.url, dids=[ALICE, BOB], max_reconnects=0)
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
                 "--max-events", str(len(LINES)), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["run_id"] == 1 and doc["stopped"] == "max_events" and not doc["closed"]
    assert doc["saves"] == 1 and doc["rescores"] >= 1 and doc["reconnects"] == 0
    with Store(db, read_only=True) as store:
        names = set(store.run_scores(1).column("name").to_pylist())
    assert names == {"pagerank", "truerank", "reach"}
    assert main(["watch", "bluesky", "--db", db, "--collections", "app.bsky.feed.post"]) == 2
    bad = tmp_path / "bad.txt"
    bad.write_text("alice\n")
    assert main(["watch", "bluesky", "--db", db, "--dids", str(bad)]) == 1
    code = main(["watch", "bluesky", "--url", "ws://127.0.0.1:1/subscribe", "--db", db,
                 "--max-reconnects", "0"])
    assert code == 1                              # nothing listens there
    assert "ran out" in capsys.readouterr().err
    for bad in (["--max-reconnects", "-1"], ["--save-every", "-1"], ["--url", "http://x"]):
        assert main(["watch", "bluesky", "--db", db, "--max-reconnects", "0", *bad]) == 2


# -- reconnects, saved scores, signals ------------------------------------------------------
LAST_T = max(t for t in map(_time, LINES) if t)
TOTALS = ("follows_added", "follows_removed", "interactions_added", "interactions_removed")


def _full_state(store):
    return _state(store) + (
        store.sql_rows("SELECT repo, collection, rkey, removed_at IS NULL "
                       "FROM record_subjects ORDER BY 1, 2, 3"),
        store.sql_rows("SELECT count(*) FROM follows")[0][0])


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The store and summary after the recorded stream with no drop."""
    srv = FakeJetstream(LINES)
    try:
        with Store(tmp_path_factory.mktemp("ref") / "s.duckdb") as store:
            s = watch(store, url=srv.url, max_reconnects=0)
            return _full_state(store), s
    finally:
        srv.close()


def _until_end(stop):
    def progress(s):
        if s["cursor"] == LAST_T:
            stop.set()
    return progress


def test_reconnects_after_drops_apply_each_event_once(jet, tmp_path, reference):
    hold = threading.Event()
    # a network error after 5 lines, a refused handshake, a server restart after 9 lines,
    # a network error after 10, then the rest
    srv = jet(hold=hold, plan=[("abort", 5), "refuse", ("close", 9), ("abort", 10)])
    stop, waits, notes = threading.Event(), [], []
    with Store(tmp_path / "s.duckdb") as store:
        s = watch(store, url=srv.url, stop=stop, progress=_until_end(stop), batch_events=3,
                  batch_seconds=0.05, sleep=waits.append, on_reconnect=notes.append,
                  rng=random.Random(0), reconnect_base_s=1.0, reconnect_cap_s=1.5)
        hold.set()
        got = _full_state(store)
        cursor = store.stream_cursor(SOURCE)
    ref_state, ref = reference
    assert got == ref_state                      # every event applied once, as with no drop
    assert got[4] == 3                           # three follow rows, none twice
    assert s["reconnects"] == 4 and len(waits) == 4 and s["stopped"] == "stop"
    assert {k: s[k] for k in TOTALS} == {k: ref[k] for k in TOTALS}
    assert cursor == LAST_T == s["cursor"]
    # backoff: the refused handshake came second in a row (the cursor had not moved), so
    # its wait doubled, capped; a connection that moved the cursor resets it
    assert [n["in_row"] for n in notes] == [1, 2, 1, 1]
    assert 0.5 <= waits[0] <= 1.0 and 0.75 <= waits[1] <= 1.5 and 0.5 <= waits[2] <= 1.0
    assert notes[0]["reason"].startswith("connection closed")
    assert notes[1]["reason"] == "handshake refused: HTTP 503"
    # every reconnect resumed stream_resume_back_s before the cursor saved at the drop
    for note, q in zip(notes, srv.requests[1:]):
        assert int(q["cursor"][0]) == note["cursor"] - 5_000_000
    assert len(srv.requests) == 5


def test_reconnects_run_out_then_a_second_run_completes(jet, tmp_path, capsys, reference):
    db = str(tmp_path / "s.duckdb")
    srv = jet(plan=[("abort", 6)])
    code = main(["watch", "bluesky", "--url", srv.url, "--db", db, "--max-reconnects", "0",
                 "--json"])
    assert code == 1
    cap = capsys.readouterr()
    doc = json.loads(cap.out)
    assert doc["stopped"] == "reconnects_exhausted" and doc["closed"]
    assert doc["reconnects"] == 0 and doc["error"].startswith("connection closed")
    assert "--max-reconnects 0 ran out" in cap.err and "run the same command" in cap.err
    with Store(db, read_only=True) as store:
        assert store.stream_cursor(SOURCE) == doc["cursor"] == _time(LINES[5])
        assert _full_state(store) != reference[0]
    # the second run resumes 5 s before it: the whole recorded stream, applied once
    srv2 = jet(hold=threading.Event())
    assert main(["watch", "bluesky", "--url", srv2.url, "--db", db, "--max-events",
                 str(len(LINES)), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["resumed_from"] == _time(LINES[5]) - 5_000_000
    with Store(db, read_only=True) as store:
        assert _full_state(store) == reference[0]
        assert store.stream_cursor(SOURCE) == LAST_T


class FakeScorer:
    """The public face of IncrementalScores: follower counts per uid as the "score"."""

    def __init__(self):
        self.counts: dict[int, int] = {}
        self.queue: list = []
        self.rescores = 0

    def observe(self, res):
        if res["added"].size or res["removed"].size or res["new_uids"].size:
            self.queue.append((res["added"], res["removed"], res["new_uids"]))

    @property
    def pending(self):
        return len(self.queue)

    def rescore(self):
        for added, removed, new in self.queue:
            for u in new:
                self.counts.setdefault(int(u), 0)
            for sign, pairs in ((1, added), (-1, removed)):
                for src, dst in pairs:
                    self.counts[int(dst)] = self.counts.get(int(dst), 0) + sign
                    self.counts.setdefault(int(src), 0)
        self.queue = []
        self.rescores += 1

    @property
    def uids(self):
        return np.array(sorted(self.counts), np.int64)

    @property
    def n(self):
        return len(self.counts)

    def scores(self):
        return {"followers": np.array([self.counts[u] for u in sorted(self.counts)], float)}


def _run_scores(store, run_id):
    t = store.run_scores(run_id)
    return dict(zip(t.column("account_id").to_pylist(), t.column("value").to_pylist()))


class Killed(Exception):
    pass


def test_save_every_keeps_one_run_and_a_kill_loses_little(jet, tmp_path):
    srv = jet()
    with Store(tmp_path / "s.duckdb") as store:
        sc = FakeScorer()
        s = watch(store, url=srv.url, scorer=sc, batch_events=3, rescore_events=1,
                  save_every=0, max_reconnects=0)
        assert s["rescores"] == sc.rescores == 5 and s["saves"] == 6  # each, and the end
        runs = store.runs_table().to_pylist()
        assert [r["kind"] for r in runs] == ["stream"] and runs[0]["run_id"] == s["run_id"]
        summary = json.loads(runs[0]["summary"])
        assert summary["saves"] == 6 and summary["final"] and summary["cursor"] == LAST_T
        assert runs[0]["status"] == "ok"
        assert _run_scores(store, s["run_id"]) == {ALICE: 1.0, BOB: 1.0, CAROL: 0.0,
                                                   DAVE: 0.0}
    # a watch killed after its third batch keeps the scores of its last save
    for every, kept in ((0.0, True), (1e9, False)):
        sc, seen = FakeScorer(), []

        def progress(s):
            seen.append(s["saves"])
            if len(seen) == 3:
                raise Killed
        with Store(tmp_path / f"k{every}.duckdb") as store:
            with pytest.raises(Killed):
                watch(store, url=jet().url, scorer=sc, batch_events=3, rescore_events=1,
                      save_every=every, max_reconnects=0, progress=progress)
            runs = store.runs_table().to_pylist()
            assert len(runs) == int(kept)
            if kept:
                assert json.loads(runs[0]["summary"])["final"] is False
                assert runs[0]["status"] == "running"     # killed: not marked complete
                # nine lines in three batches; the ninth is a replay of the first
                assert json.loads(runs[0]["summary"])["cursor"] == _time(LINES[7])
                assert _run_scores(store, runs[0]["run_id"]) == {
                    ALICE: 1.0, BOB: 1.0, CAROL: 1.0, DAVE: 0.0}


def test_ctrl_c_saves_cursor_and_scores(jet, tmp_path, capsys):
    before = signal.getsignal(signal.SIGINT)   # whatever an earlier test set
    db = str(tmp_path / "s.duckdb")
    # a first watch fills the store, so the scores cover its four accounts however many
    # events the second one applies before the signal lands
    assert main(["watch", "bluesky", "--url", jet().url, "--db", db, "--max-events", "9",
                 "--json"]) == 0
    capsys.readouterr()
    hold = threading.Event()
    srv = jet(hold=hold, after_send=lambda: os.kill(os.getpid(), signal.SIGINT))
    try:
        code = main(["watch", "bluesky", "--url", srv.url, "--db", db, "--rescore",
                     "--save-every", "0", "--json"])
    finally:
        hold.set()
    assert code == 0
    cap = capsys.readouterr()
    doc = json.loads(cap.out)
    assert doc["stopped"] == "stop" and doc["saves"] >= 1 and "stopped; the cursor" in cap.err
    assert signal.getsignal(signal.SIGINT) is before  # put back
    with Store(db, read_only=True) as store:
        assert store.stream_cursor(SOURCE) == doc["cursor"]
        runs = store.runs_table().to_pylist()
        assert [r["run_id"] for r in runs] == [doc["run_id"]]
        assert json.loads(runs[0]["summary"])["final"]
        t = store.run_scores(doc["run_id"])
    assert t.num_rows == 3 * 4
    assert set(t.column("name").to_pylist()) == {"pagerank", "truerank", "reach"}


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
    inc = IncrementalScores(sim_ctx, tol=1e-7, recompute_share=1.0)
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
    inc = IncrementalScores(sim_ctx, local=1e-2, recompute_share=1.0)
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
    inc = IncrementalScores(sim_ctx, tol=1e-7, recompute_share=1.0)
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


def test_full_every_refits_from_the_store(jet, tmp_path):
    """With a schedule, a re-score is a new fit from the store: the new scorer sees every
    applied follow, and the summary counts the fits."""
    from trueclout.errors import UsageError
    srv = jet()
    fits, seen = [], []

    def refit():                                   # reads the store, as the CLI's does
        seen.append(store.counts()["follows"])
        sc = FakeScorer()
        fits.append(sc)
        return sc
    with Store(tmp_path / "s.duckdb") as store:
        first = FakeScorer()
        s = watch(store, url=srv.url, scorer=first, batch_events=3, rescore_events=1,
                  save_every=0, max_reconnects=0, refit=refit, full_every=1e-9)
        assert s["refits"] == len(fits) == s["rescores"] >= 2
        assert first.rescores == 0                 # every re-score was a new fit
        assert seen[0] > 0 and seen == sorted(seen)  # each fit saw the applied batches
        # no schedule: plain re-scores
        sc = FakeScorer()
        s = watch(store, url=jet().url, scorer=sc, batch_events=3, rescore_events=1,
                  max_reconnects=0, refit=refit, full_every=0)
        assert s["refits"] == 0
    with pytest.raises(UsageError):
        with Store(tmp_path / "t.duckdb") as store:
            watch(store, url=srv.url, full_every=-1)


# -- the firehose's frames ------------------------------------------------------------------
def _car(records: list[dict]) -> tuple[bytes, list[bytes]]:
    """A CAR file of DAG-CBOR ``records`` and their CIDs (v1, dag-cbor, sha2-256)."""
    import hashlib

    import libipld

    def varint(n: int) -> bytes:
        out = b""
        while True:
            b, n = n & 0x7F, n >> 7
            out += bytes([b | (0x80 if n else 0)])
            if not n:
                return out
    blocks = [libipld.encode_dag_cbor(r) for r in records]
    cids = [b"\x01\x71\x12\x20" + hashlib.sha256(b).digest() for b in blocks]
    header = libipld.encode_dag_cbor({"version": 1, "roots": [libipld.decode_cid(
        libipld.encode_cid(cids[0]))] if cids else []})
    car = varint(len(header)) + header
    for cid, b in zip(cids, blocks):
        car += varint(len(cid) + len(b)) + cid + b
    return car, cids


def test_firehose_frames_become_events_with_the_seq_as_cursor():
    import libipld
    from trueclout.stream.firehose import FirehoseError, frame_events
    follow = {"$type": "app.bsky.graph.follow", "subject": "did:plc:b",
              "createdAt": "2024-05-01T00:00:00Z"}
    like = {"$type": "app.bsky.feed.like", "createdAt": "2024-05-01T00:00:02Z",
            "subject": {"uri": "at://did:plc:c/app.bsky.feed.post/3p", "cid": "bafyx"}}
    post = {"$type": "app.bsky.feed.post", "text": "hi", "createdAt": "2024-05-01T00:00:03Z"}
    car, (c1, c2, c3) = _car([follow, like, post])
    head = libipld.encode_dag_cbor({"op": 1, "t": "#commit"})
    body = {"seq": 41, "repo": "did:plc:a", "time": "2024-05-01T00:00:05Z", "tooBig": False,
            "blocks": car, "ops": [
                {"action": "create", "path": "app.bsky.graph.follow/3f", "cid": c1},
                {"action": "create", "path": "app.bsky.feed.like/3l", "cid": c2},
                {"action": "create", "path": "app.bsky.feed.post/3p", "cid": c3},
                {"action": "delete", "path": "app.bsky.graph.follow/3old", "cid": None}]}
    seq, events = frame_events(head + libipld.encode_dag_cbor(body))
    assert seq == 41 and [e["kind"] for e in events] == ["commit", "commit", "filtered",
                                                           "commit"]
    assert events[0]["commit"]["record"] == follow and events[1]["commit"]["record"] == like
    assert events[3]["commit"] == {"operation": "delete", "collection": "app.bsky.graph.follow",
                                   "rkey": "3old"}
    assert events[0]["time_us"] == 1714521605000000
    # only some accounts: the rest are filtered, and still move the cursor
    _, events = frame_events(head + libipld.encode_dag_cbor(body), dids=["did:plc:z"])
    assert {e["kind"] for e in events} == {"filtered"}
    # into the store through the same applier as Jetstream, the seq as the cursor
    with Store(":memory:") as s:
        a = StreamApplier(s, source="fh")
        for ev in frame_events(head + libipld.encode_dag_cbor(body))[1]:
            a.add(ev, cursor=41)
        r = a.flush()
        assert r["follows_added"] == 1 and r["interactions_added"] == 1
        assert s.stream_cursor("fh") == 41
    err = libipld.encode_dag_cbor({"op": -1}) + libipld.encode_dag_cbor(
        {"error": "FutureCursor", "message": "cursor in the future"})
    with pytest.raises(FirehoseError, match="FutureCursor"):
        frame_events(err)
    big = dict(body, tooBig=True, blocks=b"")
    assert frame_events(head + libipld.encode_dag_cbor(big))[1][0]["kind"] == "too_big"
