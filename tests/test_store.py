"""The store: schema, transactional loads, rejects, idempotence, crash safety, locking."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trueclout.errors import StoreBusyError, StoreError, UsageError
from trueclout.ingest.base import Chunk
from trueclout.model import conform
from trueclout.store import Store
from trueclout.store.schema import SCHEMA_VERSION

DOMAIN = ("accounts", "profile_snapshots", "follows", "posts", "interactions", "labels",
          "account_terms")


def follows_chunk(pairs, source="f.txt", platform="p", lines=None, errors=None):
    n = len(pairs)
    cols = {"platform": [platform] * n, "src": [a for a, _ in pairs],
            "dst": [b for _, b in pairs],
            "_line": lines if lines is not None else list(range(1, n + 1))}
    if errors is not None:
        cols["_error"] = errors
    return Chunk("follows", conform("follows", cols, n), source)


def snapshot(store):
    return {t: store.sql_rows(f"SELECT * FROM {t} ORDER BY ALL") for t in
            (*DOMAIN, "ingests", "rejects")}


def test_schema_version_and_reopen(tmp_path):
    path = tmp_path / "s.duckdb"
    with Store(path) as s:
        assert s.schema_version() == SCHEMA_VERSION
    with Store(path, read_only=True) as s:
        assert s.counts()["accounts"] == 0


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "s.duckdb"
    Store(path).close()
    con = duckdb.connect(str(path))
    con.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    con.close()
    with pytest.raises(StoreError, match="newer"):
        Store(path)


def test_foreign_duckdb_file_is_refused(tmp_path):
    path = tmp_path / "other.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE x (a INT)")
    con.close()
    with pytest.raises(StoreError, match="not a trueclout store"):
        Store(path)


def test_read_only_missing_store(tmp_path):
    with pytest.raises(StoreError, match="does not exist"):
        Store(tmp_path / "missing.duckdb", read_only=True)


def test_rejects_and_duplicates():
    s = Store(":memory:")
    chunk = follows_chunk([("a", "b"), ("a", "b"), ("b", "c"), ("c", "c")],
                          errors=[None, None, None, "dst: self-follow (src == dst)"])
    r = s.load([chunk], source="f.txt", fmt="edgelist", content_hash="h")
    assert (r.read, r.accepted, r.rejected) == (4, 2, 2)
    assert r.read == r.accepted + r.rejected
    rows = s.sql_rows("SELECT line, field, reason FROM rejects ORDER BY line")
    assert rows == [(2, "platform,src,dst", "duplicate of f.txt:1"),
                    (4, "dst", "self-follow (src == dst)")]
    assert s.counts()["follows"] == 2
    assert s.counts()["accounts"] == 3
    ing = s.sql_rows("SELECT rows_read, rows_accepted, rows_rejected FROM ingests")
    assert ing == [(4, 2, 2)]


def test_same_content_twice_is_skipped_and_overlap_adds_nothing():
    s = Store(":memory:")
    r1 = s.load([follows_chunk([("a", "b"), ("b", "c")])], source="f", fmt="e",
                content_hash="h1")
    before = snapshot(s)
    r2 = s.load([follows_chunk([("a", "b"), ("b", "c")])], source="f", fmt="e",
                content_hash="h1")
    assert r2.skipped and r2.ingest_id == r1.ingest_id
    assert snapshot(s) == before
    r3 = s.load([follows_chunk([("b", "c"), ("a", "b")])], source="g", fmt="e",
                content_hash="h2")
    assert r3.tables["follows"]["new"] == 0 and r3.new_accounts == 0
    assert s.counts()["follows"] == 2


def test_accounts_profile_update_and_snapshots():
    s = Store(":memory:")
    ts = pa.array([1_600_000_000_000_000, 1_700_000_000_000_000], pa.int64()).cast(
        pa.timestamp("us", tz="UTC"))
    b = conform("accounts", {"platform": ["t", "t"], "account_id": ["1", "1"],
                             "handle": ["old", "new"], "followers_count": [5, 9],
                             "observed_at": ts, "_line": [2, 3]}, 2)
    r = s.load([Chunk("accounts", b, "u.csv")], source="u.csv", fmt="csv", content_hash="x")
    assert r.rejected == 0
    assert s.sql_rows("SELECT handle, followers_count FROM accounts") == [("new", 9)]
    assert s.counts()["profile_snapshots"] == 2
    # an older observation does not overwrite the newer profile
    b2 = conform("accounts", {"platform": ["t"], "account_id": ["1"], "handle": ["older"],
                              "observed_at": ts.slice(0, 1).cast(pa.int64()).to_numpy()
                              .astype("datetime64[us]") - np.timedelta64(1, "D")}, 1)
    s.load([Chunk("accounts", b2, "v.csv")], source="v.csv", fmt="csv", content_hash="y")
    assert s.sql_rows("SELECT handle FROM accounts") == [("new",)]


def test_label_option_and_unknown_label():
    s = Store(":memory:")
    b = conform("accounts", {"platform": ["t"] * 2, "account_id": ["1", "2"]}, 2)
    s.load([Chunk("accounts", b, "h.csv")], source="h.csv", fmt="csv", content_hash="a",
           label="human", label_source="mine")
    assert s.label_counts() == {"human": 2}
    with pytest.raises(UsageError, match="unknown label"):
        s.load([], source="x", fmt="csv", content_hash="b", label="celebrity")


def test_uids_do_not_depend_on_row_order():
    a, b = Store(":memory:"), Store(":memory:")
    pairs = [("x", "y"), ("y", "z"), ("z", "w"), ("w", "x")]
    a.load([follows_chunk(pairs)], source="f", fmt="e", content_hash="1")
    b.load([follows_chunk(pairs[::-1])], source="f", fmt="e", content_hash="1")
    q = "SELECT uid, account_id FROM accounts ORDER BY uid"
    assert a.sql_rows(q) == b.sql_rows(q)
    assert a.sql_rows("SELECT src, dst FROM follows ORDER BY ALL") == \
        b.sql_rows("SELECT src, dst FROM follows ORDER BY ALL")


def test_two_platforms_keep_ids_apart():
    s = Store(":memory:")
    s.load([follows_chunk([("1", "2")], platform="twitter"),
            follows_chunk([("1", "2")], platform="bluesky", source="g")],
           source="f", fmt="e", content_hash="1")
    assert s.counts()["accounts"] == 4 and s.counts()["follows"] == 2


def test_failed_reader_rolls_back():
    s = Store(":memory:")
    s.load([follows_chunk([("a", "b")])], source="f", fmt="e", content_hash="1")
    before = snapshot(s)

    def broken():
        yield follows_chunk([("c", "d")])
        raise StoreError("reader broke")

    with pytest.raises(StoreError):
        s.load(broken(), source="g", fmt="e", content_hash="2")
    assert snapshot(s) == before


settings.register_profile("store", deadline=None, max_examples=30,
                          suppress_health_check=[HealthCheck.too_slow])

edge_lists = st.lists(st.tuples(st.sampled_from("abcdefg"), st.sampled_from("abcdefg")),
                      min_size=1, max_size=40)


@settings(settings.get_profile("store"))
@given(edge_lists, st.randoms(use_true_random=False))
def test_property_reload_is_idempotent_and_counts_add_up(pairs, rnd):
    s = Store(":memory:")
    errors = ["dst: self-follow (src == dst)" if a == b else None for a, b in pairs]
    r = s.load([follows_chunk(pairs, errors=errors)], source="f", fmt="e", content_hash="1")
    assert r.read == r.accepted + r.rejected == len(pairs)
    assert s.counts()["follows"] == len({p for p in pairs if p[0] != p[1]})
    assert s.counts()["rejects"] == r.rejected
    before = {t: s.sql_rows(f"SELECT * EXCLUDE (ingest_id) FROM {t} ORDER BY ALL")
              for t in DOMAIN}
    shuffled = list(pairs)
    rnd.shuffle(shuffled)
    errors = ["dst: self-follow (src == dst)" if a == b else None for a, b in shuffled]
    r2 = s.load([follows_chunk(shuffled, errors=errors)], source="g", fmt="e",
                content_hash="2")
    assert r2.read == r2.accepted + r2.rejected
    after = {t: s.sql_rows(f"SELECT * EXCLUDE (ingest_id) FROM {t} ORDER BY ALL")
             for t in DOMAIN}
    assert after == before


# -- crash safety and locking -------------------------------------------------------------
_LOADER = textwrap.dedent("""
    import sys, time, numpy as np, pyarrow as pa
    from pathlib import Path
    from trueclout.store import Store
    from trueclout.model import conform
    from trueclout.ingest.base import Chunk
    path, marker, stage = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    def chunks():
        for i in range(12):
            n = 250_000
            ids = np.arange(i * n, (i + 1) * n)
            yield Chunk("follows", conform("follows", {
                "platform": pa.array(np.full(n, "p")).cast(pa.string()),
                "src": pa.array(ids.astype(str)), "dst": pa.array((ids + 7).astype(str)),
                "_line": pa.array(ids)}, n), "big.txt")
    def progress(s, rows):
        if s == stage and not marker.exists():
            marker.write_text(s)
            if s == "staging":
                time.sleep(30)
    with Store(path) as st:
        st.load(chunks(), source="big.txt", fmt="edgelist", content_hash="big",
                progress=progress)
    print("finished")
""")


@pytest.mark.slow
@pytest.mark.parametrize("stage", ["staging", "checking", "moving"])
def test_kill_9_during_load_leaves_store_unchanged(tmp_path, stage):
    path = tmp_path / "s.duckdb"
    with Store(path) as s:
        s.load([follows_chunk([("a", "b"), ("b", "c")])], source="f", fmt="e",
               content_hash="small")
        before = snapshot(s)
    marker = tmp_path / "marker"
    proc = subprocess.Popen([sys.executable, "-c", _LOADER, str(path), str(marker), stage],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not marker.exists():
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    with Store(path) as s:
        assert snapshot(s) == before
        # and the store still works: the same load now goes through
        r = s.load([follows_chunk([("x", "y")])], source="g", fmt="e", content_hash="g")
        assert r.accepted == 1


_HOLDER = textwrap.dedent("""
    import sys, time
    from trueclout.store import Store
    with Store(sys.argv[1]) as s:
        print("locked", flush=True)
        time.sleep(float(sys.argv[2]))
""")


@pytest.mark.slow
def test_second_writer_waits_or_gets_a_clear_error(tmp_path):
    path = tmp_path / "s.duckdb"
    Store(path).close()
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, str(path), "3"],
                              stdout=subprocess.PIPE)
    assert holder.stdout.readline().strip() == b"locked"
    t0 = time.monotonic()
    with pytest.raises(StoreBusyError, match="in use by another process"):
        Store(path, lock_wait_s=0.5)
    assert time.monotonic() - t0 < 3
    # a patient writer waits its turn and then works
    with Store(path, lock_wait_s=30) as s:
        s.load([follows_chunk([("a", "b")])], source="f", fmt="e", content_hash="1")
        assert s.counts()["follows"] == 1
    holder.wait()
    assert holder.returncode == 0
