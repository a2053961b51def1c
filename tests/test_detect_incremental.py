"""Incremental detection (detect/incremental.py): the per-account part of the ensemble
under follow changes equals a fresh computation of the same members over the changed
counts, and leaves every other account alone."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from trueclout.detect import supervised as classifier_module
from trueclout.detect.base import BaseDetector
from trueclout.detect.supervised import SupervisedDetector
from trueclout.detect.data import DetectionData
from trueclout.detect.ensemble import EnsembleDetector, neutral_ensemble
from trueclout.detect.features import FEATURE_NAMES, account_features
from trueclout.detect.incremental import HELD_FEATURES, UPDATE_SCHEMA, IncrementalDetection
from trueclout.errors import UsageError
from trueclout.graph.build import from_edges
from trueclout.graph.toy import toy_graph
from trueclout.kernels.reciprocity import reciprocated_out_edges
from trueclout.score.context import ScoreContext
from trueclout.detect.weights import authentic_weights


class _Held(BaseDetector):
    """A member whose scores and threshold are given: a fitted member held as it was."""

    def __init__(self, *, scores=None, threshold=None):
        self.scores = scores
        self.threshold = threshold

    def _fit(self, data):
        self.decision_scores_ = np.asarray(self.scores, float)


def _changed_graph(g, rng, n_add=400, n_remove=80):
    """The graph with random follows added and removed; the changed pairs."""
    src = np.repeat(np.arange(g.n), np.diff(g.out_indptr))
    dst = np.asarray(g.out_indices, np.int64)
    ts = np.asarray(g.out_ts) if g.out_ts is not None else None
    keys = src * g.n + dst
    a_src = rng.integers(0, g.n, 3 * n_add)
    a_dst = rng.integers(0, g.n, 3 * n_add)
    a_key = np.unique(a_src * g.n + a_dst)
    a_key = a_key[~np.isin(a_key, keys) & (a_key // g.n != a_key % g.n)][:n_add]
    gone = rng.choice(keys.size, n_remove, replace=False)
    keep = np.ones(keys.size, bool)
    keep[gone] = False
    s2 = np.r_[src[keep], a_key // g.n]
    d2 = np.r_[dst[keep], a_key % g.n]
    t2 = None if ts is None else np.r_[ts[keep], np.full(a_key.size, int(ts.max()) + 60)]
    g2 = from_edges(s2, d2, t2, n=g.n)
    removed = np.stack([src[gone], dst[gone]], 1)
    touched = np.unique(np.r_[a_key // g.n, a_key % g.n, removed.ravel()])
    return g2, touched, removed


def _with_counts(data, g2, counts):
    """Profiles with the followers and following counts moved by the graph's change."""
    prof = data.profiles
    if counts == "keep":
        return prof
    g = data.graph
    for col, d0, d2 in (("followers_count", g.in_degree(), g2.in_degree()),
                        ("following_count", g.out_degree(), g2.out_degree())):
        old = data.column(col)
        new = np.maximum(old + (d2.astype(float) - d0), 0)
        i = prof.column_names.index(col)
        prof = prof.set_column(i, col, pa.array(np.nan_to_num(new).astype(np.int64),
                                                mask=np.isnan(new)))
    return prof


def _fresh(ctx, data2, held_cols, monkeypatch):
    """Recompute the ensemble over ``data2`` with the fitted classifier model and every
    other member held; ``held_cols`` of the features stay as fitted."""
    ens = ctx.ensemble
    X_fit = ens.members_["classifier"].features_
    followed_fit = ctx.data.graph.in_degree() > 0
    cols = [FEATURE_NAMES.index(c) for c in held_cols]
    real_features = classifier_module.account_features

    def features(data):
        X, names = real_features(data)
        X[:, cols] = X_fit[:, cols]
        return X, names

    monkeypatch.setattr(classifier_module, "account_features", features)
    members = {}
    for name, det in ens.members_.items():
        if name == "classifier":
            members[name] = (SupervisedDetector(model=det.model_, prior=det.prior,
                                                threshold=det.threshold),
                             ens._cats[name], ens._judges[name])
        else:
            s = np.asarray(det.decision_scores_, float)
            if name == "sybilrank":     # its evidence counts where it ran with followers
                s = np.where(followed_fit, s, 0.0)
            members[name] = (_Held(scores=s, threshold=det.threshold_), ens._cats[name],
                             ens._judges[name])
    fresh = EnsembleDetector(members=members, threshold=ens.threshold).fit(data2)
    monkeypatch.undo()
    return fresh


@pytest.mark.parametrize("counts,with_rec", [("shift", True), ("shift", False),
                                             ("keep", True)])
def test_update_equals_fresh_computation(sim_ctx, monkeypatch, counts, with_rec):
    ctx = sim_ctx
    data = ctx.data
    g = data.graph
    g2, touched, removed = _changed_graph(g, np.random.default_rng(7))
    data2 = DetectionData(graph=g2, profiles=_with_counts(data, g2, counts),
                          snapshots=data.snapshots, activity=data.activity,
                          removed=pa.table({"src": np.r_[
                              data.removed.column("src").to_numpy(), removed[:, 0]
                          ].astype(np.int32)}), labels=data.labels)
    X_copy = ctx.ensemble.members_["classifier"].features_.copy()
    inc = IncrementalDetection(ctx, counts=counts)
    rec2 = reciprocated_out_edges(g2.out_indptr, g2.out_indices, g2.in_indptr, g2.in_indices)
    table = inc.update(touched, g2.in_degree()[touched], g2.out_degree()[touched],
                       unfollows=np.bincount(removed[:, 0], minlength=g.n)[touched],
                       reciprocated=rec2[touched] if with_rec else None)
    held = [c for c in HELD_FEATURES if not (with_rec and c == "graph_reciprocity")]

    # the feature rows: every column a fresh computation gives, but the held ones
    X2, _ = account_features(data2)
    X_fit = ctx.ensemble.members_["classifier"].features_
    free = [j for j, c in enumerate(FEATURE_NAMES) if c not in held]
    np.testing.assert_allclose(inc.features[np.ix_(touched, free)],
                               X2[np.ix_(touched, free)], rtol=0, atol=1e-6)
    hj = [FEATURE_NAMES.index(c) for c in held]
    np.testing.assert_array_equal(inc.features[np.ix_(touched, hj)],
                                  X_fit[np.ix_(touched, hj)])
    assert (inc.features[touched] != X_fit[touched]).any()

    # the verdicts: those of the same members recomputed over the changed counts
    fresh = _fresh(ctx, data2, held, monkeypatch)
    w_fresh = authentic_weights(fresh.authenticity_, fresh.category_)
    np.testing.assert_allclose(inc.authenticity[touched], fresh.authenticity_[touched],
                               rtol=0, atol=1e-6)
    assert (inc.category[touched] == fresh.category_[touched]).all()
    assert (inc.suspicious[touched] == (fresh.labels_[touched] > 0)).all()
    np.testing.assert_allclose(inc.weight[touched], w_fresh[touched], rtol=0, atol=1e-6)

    # untouched accounts do not change (and the fresh computation agrees)
    rest = np.setdiff1d(np.arange(g.n), touched)
    assert np.array_equal(inc.authenticity[rest], ctx.authenticity[rest])
    assert np.array_equal(inc.category[rest], ctx.ensemble.category_[rest])
    assert np.array_equal(inc.weight[rest], ctx.weight[rest])
    np.testing.assert_allclose(fresh.authenticity_[rest], ctx.authenticity[rest],
                               rtol=0, atol=1e-6)

    # the result lists exactly the touched accounts whose verdict changed
    assert table.schema == UPDATE_SCHEMA
    v = table.column("vertex").to_numpy()
    assert np.isin(v, touched).all() and not table.column("new").to_numpy().any()
    assert np.array_equal(table.column("authenticity").to_numpy(), inc.authenticity[v])
    assert np.array_equal(table.column("authenticity_old").to_numpy(), ctx.authenticity[v])
    assert table.num_rows == int(inc.stats_["changed"]) > 0
    # the fitted detection is not modified
    assert np.array_equal(ctx.ensemble.members_["classifier"].features_, X_copy,
                          equal_nan=True)


def test_mass_following(sim_ctx):
    ctx = sim_ctx
    g = ctx.data.graph
    din, dout = g.in_degree(), g.out_degree()
    inc = IncrementalDetection(ctx)
    # a real account with a few hundred followers starts following 5,000 accounts
    humans = ctx.data.labels["human"]
    v = int(humans[(ctx.ensemble.category_[humans] == "real")
                   & (ctx.data.column("followers_count")[humans] < 300)][0])
    t = inc.update([v], [din[v]], [dout[v] + 5000])
    assert inc.category[v] == "mass_follower" and not inc.suspicious[v]
    assert inc.authenticity[v] < ctx.authenticity[v]
    assert t.column("category_old").to_pylist() == ["real"]
    assert t.column("category").to_pylist() == ["mass_follower"]
    # back to the fitted counts: back to the fitted verdict
    inc.update([v], [din[v]], [dout[v]])
    assert inc.category[v] == "real"
    assert abs(inc.authenticity[v] - ctx.authenticity[v]) < 1e-12

    # a planted follow-back farm does the same: it stays a flagged farm (the farm member
    # is held until the next full run), though the classifier's own evidence changes
    f = int(ctx.data.labels["farm"][0])
    assert ctx.ensemble.category_[f] == "farm"
    before = inc._aligned["classifier"][f]
    inc.update([f], [din[f]], [dout[f] + 5000])
    assert inc.category[f] == "farm" and inc.suspicious[f] and inc.authenticity[f] < 0.5
    assert inc._aligned["classifier"][f] != before


def test_new_accounts_and_arguments(sim_ctx):
    ctx = sim_ctx
    n = ctx.n
    inc = IncrementalDetection(ctx)
    t = inc.update([n + 2, 5], [3, ctx.data.graph.in_degree()[5]],
                   [0, ctx.data.graph.out_degree()[5]])
    assert inc.n == n + 3 and inc.weight.shape == (n + 3,)
    assert t.column("vertex").to_pylist() == [n, n + 1, n + 2]      # 5 did not change
    assert t.column("new").to_pylist() == [True] * 3
    assert t.column("authenticity_old").null_count == 3
    assert set(t.column("category").to_pylist()) == {"inactive"}   # the store knows posts
    assert not inc.suspicious[n:].any() and (inc.authenticity[n:] == 1).all()
    with pytest.raises(UsageError):
        inc.update([1, 2], [1], [1, 2])
    with pytest.raises(UsageError):
        inc.update([-1], [1], [1])
    with pytest.raises(UsageError):
        IncrementalDetection(ctx, counts="guess")


def test_toy_graph_without_classifier():
    ctx = ScoreContext.from_data(DetectionData.from_graph(toy_graph()), neutral_ensemble())
    inc = IncrementalDetection(ctx, counts="keep")
    t = inc.update([3], [0], [2500])
    assert t.num_rows == 0 and inc.category[3] == "real"            # profiles kept
    inc = IncrementalDetection(ctx)
    t = inc.update([3, 3], [0, 0], [2500, 2])                       # the last counts win
    assert t.num_rows == 0 and inc.category[3] == "real"


def test_rows_that_cross_no_split_are_not_predicted_and_nothing_changes(sim_ctx):
    """Only rows whose changed features cross a split threshold of the trees are
    predicted again; the verdicts equal those of predicting every row."""
    from trueclout.detect.incremental import split_cuts
    ctx = sim_ctx
    g = ctx.data.graph
    cuts = split_cuts(ctx.ensemble.members_["classifier"])
    assert cuts and all(np.all(np.diff(t) > 0) for t in cuts.values())
    fast, every = IncrementalDetection(ctx), IncrementalDetection(ctx)
    every._cuts = None
    rng = np.random.default_rng(11)
    v = rng.choice(g.n, 2000, replace=False)
    din, dout = g.in_degree()[v], g.out_degree()[v]
    for step in range(3):                       # small and large count changes
        fo = din + rng.integers(0, 2 + 40 * step, v.size)
        fi = dout + rng.integers(0, 2 + 400 * step, v.size)
        a, b = fast.update(v, fo, fi), every.update(v, fo, fi)
        assert a.equals(b)
        assert np.array_equal(fast.authenticity, every.authenticity)
        assert np.array_equal(fast.weight, every.weight)
        assert every.stats_["predicted"] == v.size
        assert 0 < fast.stats_["predicted"] < v.size
