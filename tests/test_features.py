"""Account features: shape, missing values, per-source handling, permutation-equivariance."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from trueclout.detect.data import DetectionData
from trueclout.detect.features import (FEATURE_NAMES, FEATURES,
                                       account_features, burst_counts, feature_table,
                                       profile_counts, with_counts)
from trueclout.graph.build import from_edges
from trueclout.graph.toy import toy_graph
from trueclout.kernels.csr import TS_UNKNOWN

COL = {n: j for j, n in enumerate(FEATURE_NAMES)}


def _random_data(seed: int, n: int = 60, perm: np.ndarray | None = None) -> DetectionData:
    """A random platform with profiles, timed follows, unfollows and posts; ``perm``
    renames vertex v to perm[v]."""
    rng = np.random.default_rng(seed)
    m = n * 5
    src = rng.integers(0, n, m)
    dst = rng.integers(0, n, m)
    ts = 1_700_000_000 + rng.integers(0, 90 * 86_400, m)
    ts = np.where(rng.random(m) < 0.1, TS_UNKNOWN, ts)
    handles = [f"user{i}" if i % 3 else f"User_{i}x" for i in range(n)]
    prof = {
        "platform": ["p"] * n,
        "handle": handles,
        "name": [f"Name {i}" if i % 4 else None for i in range(n)],
        "description": [("about me " * (i % 5)) or None for i in range(n)],
        "url": [None if i % 2 else "https://x" for i in range(n)],
        "location": [None if i % 3 else "Rome" for i in range(n)],
        "followers_count": rng.integers(0, 1000, n),
        "following_count": rng.integers(0, 1000, n),
        "posts_count": rng.integers(0, 5000, n),
        "listed_count": rng.integers(0, 10, n),
        "likes_count": rng.integers(0, 100, n),
        "default_profile_image": rng.random(n) < 0.1,
        "protected": rng.random(n) < 0.05,
        "created_at": 1_500_000_000 - rng.integers(0, 10**8, n),
        "observed_at": np.full(n, 1_710_000_000),
    }
    posts = rng.integers(0, 5, n)
    first = np.where(posts > 0, 1_700_000_000 + rng.integers(0, 10**6, n), np.nan)
    act = {"posts": posts, "first_post": first, "last_post": first + 1000.0,
           "tagged_share": np.where(posts > 0, rng.random(n), 0.0)}
    rem_src = rng.integers(0, n, 20)
    rem_dst = rng.integers(0, n, 20)
    if perm is not None:
        src, dst, rem_src, rem_dst = perm[src], perm[dst], perm[rem_src], perm[rem_dst]
        inv = np.argsort(perm)
        prof = {k: [v[i] for i in inv] if isinstance(v, list) else np.asarray(v)[inv]
                for k, v in prof.items()}
        act = {k: np.asarray(v)[inv] for k, v in act.items()}
    g = from_edges(src, dst, ts=ts, n=n)
    removed = pa.table({"src": rem_src.astype(np.int32), "dst": rem_dst.astype(np.int32),
                        "created": np.zeros(20, np.int64), "removed": np.ones(20, np.int64)})
    return DetectionData(graph=g, profiles=pa.table(prof), activity=pa.table(act),
                         removed=removed)


def test_shape_names_dtype():
    X, names = account_features(DetectionData.from_graph(toy_graph()))
    assert X.shape == (6, len(FEATURES)) and X.dtype == np.float32
    assert names == list(FEATURE_NAMES)
    assert len(set(names)) == len(names)
    assert feature_table().count("\n") == len(FEATURES) + 1


def test_no_nan_only_columns_with_every_source_field():
    X, names = account_features(_random_data(0))
    known = ~np.isnan(X).all(axis=0)
    assert known.all(), [n for n, k in zip(names, known) if not k]


def test_no_nan_only_columns_on_simulator(tmp_path):
    from trueclout.ingest.run import ingest
    from trueclout.simulate import simulate
    from trueclout.store import Store

    simulate(tmp_path / "p", accounts=1500, seed=2)
    with Store(":memory:") as s:
        ingest(s, [tmp_path / "p"])
        data = DetectionData.from_store(s)
    X, names = account_features(data)
    empty = [n for j, n in enumerate(names) if np.isnan(X[:, j]).all()]
    assert not empty
    assert np.isfinite(X[~np.isnan(X)]).all()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_permutation_equivariant(seed):
    n = 60
    perm = np.random.default_rng(100 + seed).permutation(n)
    X, _ = account_features(_random_data(seed, n))
    Xp, _ = account_features(_random_data(seed, n, perm))
    np.testing.assert_array_equal(np.isnan(Xp[perm]), np.isnan(X))
    np.testing.assert_allclose(np.nan_to_num(Xp[perm]), np.nan_to_num(X), rtol=1e-6)


def test_missing_values_are_explicit():
    g = toy_graph()
    prof = pa.table({"platform": ["a", "a", "a", "b", "b", "b"],
                     "handle": ["ana", "ben", "cat", "dan", "eve", "fay"],
                     "description": ["hi", None, "", "x", "y", "z"],
                     "followers_count": pa.array([1, 2, 3, None, 5, 6], pa.int64()),
                     "following_count": [1, 2, 3, 4, 5, 6]})
    X, _ = account_features(DetectionData.from_graph(g, prof))
    # the source has no likes, no creation time, no URL column at all
    assert np.isnan(X[:, COL["log_likes"]]).all() and (X[:, COL["missing_likes"]] == 1).all()
    assert np.isnan(X[:, COL["posts_per_day"]]).all() and (X[:, COL["missing_age"]] == 1).all()
    assert np.isnan(X[:, COL["has_url"]]).all()
    # an empty description is "no description" where the platform carries descriptions
    assert X[:3, COL["has_description"]].tolist() == [1.0, 0.0, 0.0]
    # unknown followers count: NaN and flagged
    assert np.isnan(X[3, COL["follower_ratio"]]) and X[3, COL["missing_counts"]] == 1
    assert X[4, COL["missing_counts"]] == 0


def test_text_unknown_when_the_platform_never_has_it():
    g = toy_graph()
    prof = pa.table({"platform": ["a", "a", "a", "b", "b", "b"],
                     "handle": ["ana", "ben", "cat", "dan", "eve", "fay"],
                     "location": ["Rome", None, None, None, None, None],
                     "followers_count": [1, 2, 3, 4, 5, 6]})
    X, _ = account_features(DetectionData.from_graph(g, prof))
    loc = X[:, COL["has_location"]]
    assert loc[:3].tolist() == [1.0, 0.0, 0.0]
    assert np.isnan(loc[3:]).all()          # platform b never gives a location
    assert (X[3:, COL["missing_text"]] == 1).all()


def test_graph_features_on_toy():
    X, _ = account_features(DetectionData.from_graph(toy_graph()))
    ana, dan = 0, 3
    assert X[ana, COL["graph_reciprocity"]] == 1.0      # ana follows ben and cat: both back
    assert X[dan, COL["graph_reciprocity"]] == 0.0
    assert X[dan, COL["missing_graph"]] == 0.0
    assert np.isnan(X[:, COL["activity_tagged_share"]]).all()   # no posts
    assert (X[:, COL["missing_activity"]] == 1).all()


def test_no_graph_means_nan_graph_features():
    from trueclout.graph.build import from_edges as fe
    g = fe([], [], n=3)
    X, _ = account_features(DetectionData.from_graph(g))
    graph_cols = [COL[f.name] for f in FEATURES if f.kind == "graph"]
    assert np.isnan(X[:, graph_cols]).all()
    assert (X[:, COL["missing_graph"]] == 1).all()


def test_burst_counts():
    indptr = np.array([0, 4, 6, 6])
    day = 86_400
    ts = np.array([0, 10, 20, 5 * day, TS_UNKNOWN, 3 * day], np.int32)
    best, known = burst_counts(indptr, ts, day)
    assert best.tolist() == [3, 1, 0] and known.tolist() == [4, 1, 0]


def test_with_counts_recomputes_consistently():
    X, _ = account_features(_random_data(4))
    c = profile_counts(X)
    Z = with_counts(X, **c)
    np.testing.assert_allclose(np.nan_to_num(Z), np.nan_to_num(X), rtol=1e-4, atol=1e-4)
    Z = with_counts(X, followers=(c["followers"] + 1) * 10 - 1,
                    following=(c["following"] + 1) * 10 - 1)
    np.testing.assert_allclose(Z[:, COL["follower_ratio"]], X[:, COL["follower_ratio"]],
                               rtol=1e-4, atol=1e-4)
