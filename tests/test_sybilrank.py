"""Tests of the propagation kernel and the SybilRank detector."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from trueclout.detect.data import DetectionData
from trueclout.detect.sybilrank import SybilRankDetector, fallback_seeds, sybilrank
from trueclout.graph.toy import random_graph, toy_graph
from trueclout.kernels.propagate import inverse_degree, mutual_csr, propagate, pull


def _adj(g) -> sp.csr_matrix:
    """A[u, v] = 1 when u follows v."""
    return sp.csr_matrix((np.ones(g.m), g.out_indices, g.out_indptr), shape=(g.n, g.n))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_pull_and_propagate_match_scipy(seed):
    g = random_graph(400, 4000, seed=seed, skew=1.0)
    a = _adj(g)
    rng = np.random.default_rng(seed)
    x0 = rng.random(g.n).astype(np.float32)
    # directed: mass flows along follow edges, split over out-degree
    inv = inverse_degree(g.out_degree())
    ref = x0.astype(np.float64)
    for _ in range(7):
        ref = a.T @ (ref * inv.astype(np.float64))
    got = propagate(g.in_indptr, g.in_indices, x0, inv, 7)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, ref, rtol=2e-5, atol=1e-6)
    # undirected
    u = (a + a.T).tocsr()
    deg = g.in_degree() + g.out_degree()
    invu = inverse_degree(deg)
    ref = x0.astype(np.float64)
    for _ in range(5):
        ref = u @ (ref * invu.astype(np.float64))
    got = propagate(g.in_indptr, g.in_indices, x0, invu, 5, indptr2=g.out_indptr,
                    indices2=g.out_indices)
    np.testing.assert_allclose(got, ref, rtol=2e-5, atol=1e-6)
    assert abs(got.sum() - ref.sum()) / ref.sum() < 1e-5
    # with restart (personalised PageRank) and one plain pull
    ref = x0.astype(np.float64)
    for _ in range(4):
        ref = 0.85 * (a.T @ (ref * inv.astype(np.float64))) + 0.15 * x0
    got = propagate(g.in_indptr, g.in_indices, x0, inv, 4, restart=0.15)
    np.testing.assert_allclose(got, ref, rtol=2e-5, atol=1e-6)
    np.testing.assert_allclose(pull(g.in_indptr, g.in_indices, x0), a.T @ x0, rtol=1e-5)


def test_mutual_csr_matches_scipy():
    g = random_graph(300, 3000, seed=4)
    a = _adj(g)
    m = a.multiply(a.T).tocsr()
    m.setdiag(0)
    m.eliminate_zeros()
    m.sort_indices()
    p, i = mutual_csr(g.out_indptr, g.out_indices, g.in_indptr, g.in_indices)
    assert np.array_equal(p, m.indptr) and np.array_equal(i, m.indices)


def test_toy_sybilrank():
    d = DetectionData.from_graph(toy_graph())
    trust, deg = sybilrank(d, [0], iterations=2)
    assert deg.tolist() == d.graph.in_degree().tolist()
    det = SybilRankDetector(seeds=[0, 4]).fit(d)
    s = det.decision_scores_
    assert np.all((s >= 0) & (s <= 1))
    dan = d.graph.vertex("toy", "dan")                  # nobody follows dan
    assert s[dan] == 1.0 and det.labels_[dan] == 1
    assert det.reasons_[dan].startswith("no trust reaches this account")
    with pytest.raises(Exception, match="graph must be one of"):
        SybilRankDetector(seeds=[0], graph="nope").fit(d)


def test_inactive_without_seeds_or_edges():
    d = DetectionData.from_graph(toy_graph())
    det = SybilRankDetector(seeds=[]).fit(d)
    assert not det.active_ and det.decision_scores_.max() == 0.0
    assert det.labels_.sum() == 0 and all(r == "" for r in det.reasons_)


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    from trueclout.ingest.run import ingest
    from trueclout.simulate import simulate
    from trueclout.store import Store

    out = tmp_path_factory.mktemp("sybil") / "sim"
    simulate(out, accounts=5000, seed=12, fraud_share=0.05)
    store = Store(":memory:")
    ingest(store, [out])
    return DetectionData.from_store(store)


def _auc(pos: np.ndarray, neg: np.ndarray) -> float:
    """Mann-Whitney AUC with ties counted half."""
    allv = np.concatenate([pos, neg])
    order = np.argsort(allv, kind="mergesort")
    ranks = np.empty(allv.size)
    sv = allv[order]
    # average ranks of ties
    _, first, counts = np.unique(sv, return_index=True, return_counts=True)
    avg = first + (counts - 1) / 2.0 + 1
    ranks[order] = np.repeat(avg, counts)
    rp = ranks[:pos.size].sum()
    return (rp - pos.size * (pos.size + 1) / 2) / (pos.size * neg.size)


@pytest.mark.parametrize("graph", ["follow", "mutual"])
def test_fake_vs_human_auc_on_simulator(sim, graph):
    human = sim.label_mask("human")
    rng = np.random.default_rng(0)
    seeds = rng.choice(np.flatnonzero(human), human.sum() // 10, replace=False)
    det = SybilRankDetector(seeds=seeds, graph=graph).fit(sim)
    test = ~det.seeds_
    fake = sim.label_mask("fake")
    auc = _auc(det.decision_scores_[fake & test], det.decision_scores_[human & test])
    assert auc >= (0.97 if graph == "follow" else 0.95)


def test_fallback_seeds_on_simulator(sim):
    # nothing labelled or verified: established reciprocal accounts seed the trust
    d = DetectionData(graph=sim.graph, profiles=sim.profiles.drop(["verified"]),
                      removed=sim.removed, labels={})
    det = SybilRankDetector().fit(d)
    assert det.seed_source_ == "fallback" and det.active_
    assert not (det.seeds_ & sim.label_mask("fake", "farm")).any()
    fake, human = sim.label_mask("fake"), sim.label_mask("human") & ~det.seeds_
    assert _auc(det.decision_scores_[fake], det.decision_scores_[human]) >= 0.95
    assert fallback_seeds(d).sum() == det.seeds_.sum()
