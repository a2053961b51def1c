"""The readers on the real public data sets in ../shared/data (skipped when absent)."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from trueclout.ingest import detect_format, expand_sources, iter_chunks

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
CRESCI = DATA / "cresci-2015"
SNAP = DATA / "snap-ego-twitter"

pytestmark = pytest.mark.realdata


@pytest.mark.skipif(not CRESCI.is_dir(), reason="../shared/data/cresci-2015 not present")
@pytest.mark.parametrize("name, rows, label", [("E13_users.csv", 1481, "human"),
                                               ("INT_users.csv", 1337, "fake")])
def test_cresci(name, rows, label):
    path = CRESCI / name
    assert detect_format(path) == "twitter-csv"
    acc, lab = [], []
    for c in iter_chunks(path):
        (acc if c.table == "accounts" else lab).append(c.batch)
    acc = pa.Table.from_batches(acc)
    lab = pa.Table.from_batches(lab)
    assert acc.num_rows == rows and lab.num_rows == rows
    assert acc.column("_error").null_count == rows and lab.column("_error").null_count == rows
    assert set(lab.column("label").to_pylist()) == {label}
    assert set(lab.column("source").to_pylist()) == {"cresci-2015"}
    assert acc.column("account_id").to_pylist() == lab.column("account_id").to_pylist()
    assert pc.count_distinct(acc.column("account_id")).as_py() == rows
    assert acc.column("created_at").null_count == 0
    assert acc.column("observed_at").null_count == 0
    assert acc.column("verified").null_count == 0  # "1" or empty (false)
    assert acc.column("followers_count").null_count == 0
    assert set(acc.column("platform").to_pylist()) == {"twitter"}
    # records with quoted newlines count as one record: the last one is record rows + 1
    assert acc.column("_line").to_pylist()[-1] == rows + 1


@pytest.mark.slow
@pytest.mark.skipif(not SNAP.is_dir(), reason="../shared/data/snap-ego-twitter not present")
def test_snap_ego_twitter():
    assert detect_format(SNAP) == "snap-ego"
    assert [s.format for s in expand_sources([SNAP])] == ["snap-ego"]
    t = time.perf_counter()
    src, dst, acct = [], [], []
    errors: Counter = Counter()
    n_follows = n_terms = 0
    for c in iter_chunks(SNAP):
        b = c.batch
        errors.update(e for e in b.column("_error").to_pylist() if e)
        if c.table == "follows":
            n_follows += b.num_rows
            src.append(b.column("src"))
            dst.append(b.column("dst"))
        else:
            assert c.table == "account_terms"
            n_terms += b.num_rows
            acct.append(b.column("account_id"))
    seconds = time.perf_counter() - t
    assert n_follows == 1_768_149
    assert errors == Counter({"dst: self-follow (src == dst)": 14})
    s = pa.chunked_array(src).combine_chunks().cast(pa.int64()).to_numpy()
    d = pa.chunked_array(dst).combine_chunks().cast(pa.int64()).to_numpy()
    assert len(np.unique(s * (1 << 32) + d)) == n_follows  # each edge once
    ids = np.unique(np.concatenate([s, d, pa.chunked_array(acct).combine_chunks()
                                    .cast(pa.int64()).to_numpy()]))
    assert len(ids) == 81_306
    assert n_terms > 1_000_000
    assert seconds < 30
