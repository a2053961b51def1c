"""Tests of the simulated platform (trueclout.simulate)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trueclout.errors import InputError, UsageError
from trueclout.model import INGEST_SCHEMAS, LABELS, data_columns
from trueclout.simulate import SimParams, calibration_report, format_report, simulate
from trueclout.simulate.core import ACCOUNT_BASE

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
TABLES = ("accounts", "profile_snapshots", "follows", "posts", "interactions", "labels")
US = 1_000_000


def read(folder: Path, table: str) -> pa.Table:
    path = folder / f"{table}.parquet"
    if not path.exists():
        path = folder / table
    return pq.read_table(path)


def idx(ids: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Account index from an id string like u1000123."""
    s = pc.utf8_slice_codeunits(ids, 1)
    return pc.cast(s, pa.int64()).to_numpy() - ACCOUNT_BASE


def ts(col: pa.ChunkedArray) -> np.ndarray:
    return pc.cast(col, pa.int64()).to_numpy(zero_copy_only=False)


@pytest.fixture(scope="module")
def sim(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("sim") / "platform"
    seed = int(os.environ.get("TC_SIM_TEST_SEED", "11"))   # to try other seeds by hand
    summary = simulate(out, accounts=3000, seed=seed)
    return out, summary


@pytest.fixture(scope="module")
def labels(sim) -> dict[str, np.ndarray]:
    out, _ = sim
    lab = read(out, "labels")
    return {name: idx(lab.filter(pc.equal(lab["label"], name))["account_id"])
            for name in LABELS}


# --- running ---------------------------------------------------------------------------

def test_toy_runs_in_a_second_or_two(tmp_path):
    simulate(tmp_path / "warm", accounts=300, seed=0)   # numba caches, imports
    t0 = time.perf_counter()
    s = simulate(tmp_path / "toy", accounts=2000, seed=5)
    elapsed = time.perf_counter() - t0
    assert s["rows"]["accounts"] == 2000
    assert 20 * 2000 <= s["rows"]["follows"] <= 40 * 2000
    assert elapsed < 6.0, f"2,000 accounts took {elapsed:.1f}s"


def test_files_and_manifest(sim):
    out, summary = sim
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["format"] == "trueclout-dir" and manifest["version"] == 1
    assert manifest["seed"] == int(os.environ.get("TC_SIM_TEST_SEED", "11")) and manifest["parameters"]["accounts"] == 3000
    assert manifest["platform"] == "sim"
    for table in TABLES:
        assert read(out, table).num_rows == manifest["rows"][table], table
    assert (out / "accounts.parquet").is_file() and (out / "labels.parquet").is_file()
    for table in ("profile_snapshots", "follows", "posts", "interactions"):
        parts = sorted(p.name for p in (out / table).iterdir())
        assert parts and all(p.startswith("part-") and p.endswith(".parquet") for p in parts)
    text = (out / "manifest.json").read_text()
    assert str(out) not in text and str(out.parent) not in text   # no machine paths
    assert {k: v for k, v in summary.items() if k not in ("out_dir", "elapsed_s")} == manifest
    assert not list(out.parent.glob(".*partial*"))


def test_schemas_are_the_data_columns_of_the_model(sim):
    out, _ = sim
    for table in TABLES:
        schema = read(out, table).schema
        expected = [f for f in INGEST_SCHEMAS[table] if f.name in data_columns(table)]
        assert schema.names == data_columns(table), table
        assert [f.type for f in schema] == [f.type for f in expected], table
        assert "_line" not in schema.names and "_error" not in schema.names


def test_ids_and_platform(sim):
    out, _ = sim
    acc = read(out, "accounts")
    assert pc.all(pc.equal(acc["platform"], "sim")).as_py()
    assert max(len(x) for x in acc["account_id"].to_pylist()) <= 12
    assert pc.count_distinct(acc["account_id"]).as_py() == acc.num_rows
    assert pc.count_distinct(pc.utf8_lower(acc["handle"])).as_py() == acc.num_rows
    for table in ("follows", "interactions", "posts", "labels", "profile_snapshots"):
        assert pc.all(pc.equal(read(out, table)["platform"], "sim")).as_py()


# --- determinism -------------------------------------------------------------------------

def _content(folder: Path) -> dict[str, pa.Table]:
    return {t: read(folder, t) for t in TABLES}


def test_same_seed_same_rows_whatever_the_chunking(tmp_path):
    a = simulate(tmp_path / "a", accounts=1500, seed=3, workers=1)
    b = simulate(tmp_path / "b", accounts=1500, seed=3, workers=2, part_rows=5000,
                 row_group_rows=1234)
    ca, cb = _content(tmp_path / "a"), _content(tmp_path / "b")
    for t in TABLES:
        assert ca[t].equals(cb[t]), t
    assert len(list((tmp_path / "b" / "follows").iterdir())) > 1
    assert a["rows"] == b["rows"]
    c = simulate(tmp_path / "c", accounts=1500, seed=4)
    assert not _content(tmp_path / "c")["follows"].equals(ca["follows"])
    assert c["rows"]["accounts"] == 1500


# --- follows -----------------------------------------------------------------------------

def test_no_duplicate_or_self_follows_and_times_in_order(sim):
    out, summary = sim
    f = read(out, "follows")
    acc = read(out, "accounts")
    s, d = idx(f["src"]), idx(f["dst"])
    assert not (s == d).any()
    assert len(np.unique(s * 10**7 + d)) == len(s)
    created = ts(acc["created_at"])
    t = ts(f["created_at"])
    end = ts(acc["observed_at"])[0]
    assert (t >= np.maximum(created[s], created[d])).all()
    assert (t <= end).all() and (ts(f["observed_at"]) == end).all()
    rm = f["removed_at"]
    has = pc.is_valid(rm).to_numpy(zero_copy_only=False)
    assert has.any()
    assert (ts(rm)[has] > t[has]).all() and (ts(rm)[has] <= end).all()
    mean_following = len(s) / acc.num_rows
    assert 20 <= mean_following <= 40
    # follows span years, and a good share falls within the observed span
    start = end - summary["parameters"]["span_days"] * 86_400 * US
    assert 0.05 < (t >= start).mean() < 0.6


def test_counts_consistent_with_follows_and_snapshots(sim):
    out, summary = sim
    scale = summary["count_scale"]
    acc = read(out, "accounts")
    n = acc.num_rows
    f = read(out, "follows")
    live = pc.is_null(f["removed_at"]).to_numpy(zero_copy_only=False)
    indeg = np.bincount(idx(f["dst"])[live], minlength=n)
    outdeg = np.bincount(idx(f["src"])[live], minlength=n)
    assert (acc["followers_count"].to_numpy() == np.rint(indeg * scale)).all()
    assert (acc["following_count"].to_numpy() == np.rint(outdeg * scale)).all()
    posts = read(out, "posts")
    assert (acc["posts_count"].to_numpy()
            >= np.bincount(idx(posts["author"]), minlength=n)).all()
    x = read(out, "interactions")
    likes = x.filter(pc.equal(x["kind"], "like"))
    assert (acc["likes_count"].to_numpy() >= np.bincount(idx(likes["src"]), minlength=n)).all()
    # the last snapshot is the account row; every snapshot matches the follows up to then
    snap = read(out, "profile_snapshots")
    who, at = idx(snap["account_id"]), ts(snap["observed_at"])
    end = ts(acc["observed_at"])[0]
    last = at == end
    for c in ("followers_count", "following_count", "posts_count", "listed_count",
              "likes_count"):
        assert (snap[c].to_numpy()[last] == acc[c].to_numpy()[who[last]]).all(), c
    created = ts(acc["created_at"])
    assert (at >= created[who]).all()
    t, rm = ts(f["created_at"]), ts(f["removed_at"])
    dst = idx(f["dst"])
    for k in np.unique(at)[::7]:
        alive = (t <= k) & (~np.asarray(pc.is_valid(f["removed_at"])) | (rm > k))
        expect = np.rint(np.bincount(dst[alive], minlength=n) * scale)
        sel = at == k
        assert (snap["followers_count"].to_numpy()[sel] == expect[who[sel]]).all()
    # posts counts never decrease
    order = np.lexsort((at, who))
    pcnt = snap["posts_count"].to_numpy()[order]
    same = who[order][1:] == who[order][:-1]
    assert (np.diff(pcnt)[same] >= 0).all()


# --- posts and interactions --------------------------------------------------------------

def test_posts_and_interactions(sim):
    out, _ = sim
    acc = read(out, "accounts")
    posts = read(out, "posts")
    x = read(out, "interactions")
    assert set(x["kind"].to_pylist()) == {"like", "repost", "reply", "mention", "quote"}
    pid = {p: i for i, p in enumerate(posts["post_id"].to_pylist())}
    assert len(pid) == posts.num_rows
    where = np.array([pid[p] for p in x["post_id"].to_pylist()])
    author = idx(posts["author"])
    not_mention = pc.not_equal(x["kind"], "mention").to_numpy(zero_copy_only=False)
    assert (idx(x["dst"])[not_mention] == author[where[not_mention]]).all()
    assert (ts(x["created_at"]) >= ts(posts["created_at"])[where]).all()
    assert (ts(posts["created_at"]) >= ts(acc["created_at"])[author]).all()
    tags = posts["hashtags"].to_pylist()
    assert all(t and all(not s.startswith("#") for s in t) for t in tags)
    assert all(f"#{t[0]}" in txt for t, txt in zip(tags, posts["text"].to_pylist()))
    # a share of accounts never posts; interactions stay below one per follow
    n_posting = len(np.unique(author))
    assert 0.3 < n_posting / acc.num_rows < 0.9
    assert x.num_rows < read(out, "follows").num_rows
    # mostly from followers
    f = read(out, "follows")
    edges = set(zip(idx(f["src"]).tolist(), idx(f["dst"]).tolist()))
    pairs = list(zip(idx(x["src"])[not_mention].tolist(), idx(x["dst"])[not_mention].tolist()))
    assert np.mean([p in edges for p in pairs]) > 0.8


# --- ground truth and attacks ------------------------------------------------------------

def test_every_account_has_one_class_label(sim, labels):
    out, summary = sim
    n = summary["accounts"]
    classes = np.concatenate([labels[c] for c in ("human", "fake", "farm", "pod", "bot")])
    assert sorted(classes.tolist()) == list(range(n))
    lab = read(out, "labels")
    assert set(lab["source"].to_pylist()) == {"simulator"}
    assert set(lab["label"].to_pylist()) <= set(LABELS)
    for role in ("fake", "farm", "pod", "customer", "fast_growth"):
        assert len(labels[role]), role
    assert set(labels["customer"]) <= set(labels["human"])
    assert set(labels["fast_growth"]) <= set(labels["human"])
    fraud = len(labels["fake"]) + len(labels["farm"]) + len(labels["pod"])
    assert 0.005 < fraud / n < 0.03


def test_bought_followers_arrive_in_bursts_from_fakes(sim, labels):
    out, summary = sim
    f = read(out, "follows")
    s, d, t = idx(f["src"]), idx(f["dst"]), ts(f["created_at"])
    fake = np.isin(s, labels["fake"])
    to_cust = np.isin(d, labels["customer"])
    assert (fake & to_cust).sum() == summary["ground_truth"]["purchased_follows"] > 0
    # camouflage about 1:1
    ratio = (fake & ~to_cust & ~np.isin(d, labels["fake"])).sum() / (fake & to_cust).sum()
    assert 0.5 < ratio < 2.0
    burst = summary["parameters"]["burst_hours"] * 3600 * US
    for c in labels["customer"][:5]:
        times = np.sort(t[fake & (d == c)])
        assert len(times) >= 10
        gaps = np.diff(times)
        assert (gaps > burst).sum() <= 2      # delivered in one to three tight bursts
    acc = read(out, "accounts")
    fol = acc["followers_count"].to_numpy()[labels["fake"]]
    fing = acc["following_count"].to_numpy()[labels["fake"]]
    assert np.median(fing) > 5 * np.median(fol)
    assert pc.is_null(acc["url"]).to_numpy(zero_copy_only=False)[labels["fake"]].all()


def test_follow_back_farms_churn(sim, labels):
    out, _ = sim
    f = read(out, "follows")
    s, d = idx(f["src"]), idx(f["dst"])
    removed = pc.is_valid(f["removed_at"]).to_numpy(zero_copy_only=False)
    t = ts(f["created_at"])
    acc = read(out, "accounts")
    for farm in labels["farm"]:
        out_e = s == farm
        back = d == farm
        assert out_e.sum() >= 100 and back.sum() > 0
        assert removed[out_e].sum() > 0 and not removed[back].any()
        # each follow-back comes after the farm's follow
        first = dict(zip(d[out_e].tolist(), t[out_e].tolist()))
        assert all(t[i] > first[s[i]] for i in np.flatnonzero(back))
        ratio = acc["following_count"][int(farm)].as_py() / max(
            acc["followers_count"][int(farm)].as_py(), 1)
        assert ratio > 1.5


def test_pods_follow_each_other_and_engage_within_minutes(sim, labels):
    out, _ = sim
    f = read(out, "follows")
    s, d = idx(f["src"]), idx(f["dst"])
    pods = labels["pod"]
    inside = np.isin(s, pods) & np.isin(d, pods)
    m = len(pods)
    assert inside.sum() >= m * 9          # pods of 10-30, everyone follows everyone
    x = read(out, "interactions")
    posts = read(out, "posts")
    pt = dict(zip(posts["post_id"].to_pylist(), ts(posts["created_at"]).tolist()))
    xs, xd = idx(x["src"]), idx(x["dst"])
    sel = np.flatnonzero(np.isin(xs, pods) & np.isin(xd, pods))
    assert len(sel) > 0
    delay = np.array([ts(x["created_at"])[i] - pt[x["post_id"][int(i)].as_py()] for i in sel])
    assert np.median(delay) < 10 * 60 * US
    humans = np.isin(xs, labels["human"]) & (pc.equal(x["kind"], "like")
                                             .to_numpy(zero_copy_only=False))
    hd = np.array([ts(x["created_at"])[i] - pt[x["post_id"][int(i)].as_py()]
                   for i in np.flatnonzero(humans)[:2000]])
    assert np.median(hd) > 3 * np.median(delay)


def test_fast_growth_is_organic_and_spread_over_days(sim, labels):
    out, summary = sim
    f = read(out, "follows")
    s, d, t = idx(f["src"]), idx(f["dst"]), ts(f["created_at"])
    end = summary["observed"]
    for v in labels["fast_growth"]:
        into = d == v
        srcs = s[into]
        assert np.isin(srcs, labels["human"]).mean() > 0.95
        recent = np.sort(t[into])
        # a burst: the busiest week holds many follows, spread over several days
        week = 7 * 86_400 * US
        counts = np.searchsorted(recent, recent + week) - np.arange(len(recent))
        busiest = int(np.argmax(counts))
        window = recent[busiest:busiest + counts[busiest]]
        in_span = recent[recent >= recent[-1] - 182 * 86_400 * US]
        assert counts[busiest] >= 20
        assert counts[busiest] > 4 * len(in_span) / 26       # far above the weekly mean
        assert window[-1] - window[0] > 86_400 * US
    assert end["snapshot_times"]


# --- calibration -------------------------------------------------------------------------

@pytest.mark.realdata
def test_calibration_against_cresci(tmp_path):
    if not (DATA / "cresci-2015" / "E13_users.csv").is_file():
        pytest.skip("cresci-2015 data not present")
    out = tmp_path / "cal"
    simulate(out, accounts=20_000, seed=7)
    r = calibration_report(out, DATA)
    assert r["reference"] == "csv"
    for g in ("human", "fake"):
        e = r["groups"][g]
        assert e["n"] > 50
        for m, q in e["quantiles"].items():
            assert 0.5 <= q["median_ratio"] <= 2.0, (g, m, q)
        for k, v in e["shares"].items():
            assert abs(v["diff"]) <= 0.15, (g, k, v)
    assert r["ok"], format_report(r)


def test_calibration_report_without_data(sim):
    out, _ = sim
    r = calibration_report(out, cresci_dir="/nonexistent")
    assert r["reference"] == "embedded"
    assert "human" in format_report(r)
    with pytest.raises(InputError):
        calibration_report(out / "nope")


# --- parameters and the output folder ----------------------------------------------------

def test_parameters_and_folder_errors(tmp_path):
    with pytest.raises(UsageError, match="unknown simulator parameter"):
        simulate(tmp_path / "x", accounts=100, colour="red")
    with pytest.raises(UsageError):
        simulate(tmp_path / "x", accounts=100, fraud_share=0.9)
    assert not (tmp_path / "x").exists()
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("mine")
    with pytest.raises(UsageError, match="not empty"):
        simulate(other, accounts=100, overwrite=True)
    assert (other / "keep.txt").read_text() == "mine"
    s1 = simulate(tmp_path / "y", accounts=200, seed=1)
    with pytest.raises(UsageError, match="overwrite"):
        simulate(tmp_path / "y", accounts=200, seed=2)
    s2 = simulate(tmp_path / "y", accounts=300, seed=2, overwrite=True)
    assert s1["rows"]["accounts"] == 200 and s2["rows"]["accounts"] == 300
    empty = tmp_path / "empty"
    empty.mkdir()
    assert simulate(empty, accounts=50)["rows"]["accounts"] == 50


def test_params_defaults_are_documented():
    src = (Path(__file__).resolve().parents[1] / "src" / "trueclout" / "simulate"
           / "params.py").read_text()
    for name in SimParams.__dataclass_fields__:
        line = next(i for i, l in enumerate(src.splitlines()) if l.strip().startswith(
            f"{name}:"))
        assert src.splitlines()[line - 1].strip().startswith("#"), name


def test_mean_following_parameter(tmp_path):
    s = simulate(tmp_path / "m", accounts=2000, seed=1, mean_following=12, fraud_share=0)
    assert 9 <= s["rows"]["follows"] / 2000 <= 14


@settings(max_examples=8, deadline=None)
@given(n=st.integers(2, 400), seed=st.integers(0, 2**32))
def test_invariants_hold_for_any_small_platform(tmp_path_factory, n, seed):
    out = tmp_path_factory.mktemp("h") / "p"
    s = simulate(out, accounts=n, seed=seed, workers=1)
    f = read(out, "follows")
    src, dst = idx(f["src"]), idx(f["dst"])
    assert not (src == dst).any() and len(set(zip(src.tolist(), dst.tolist()))) == len(src)
    assert ((src < n) & (dst < n) & (src >= 0) & (dst >= 0)).all()
    assert s["rows"]["accounts"] == n == read(out, "labels").filter(
        pc.is_in(read(out, "labels")["label"], pa.array(["human", "fake", "farm", "pod"]))
    ).num_rows
