"""Scores: PageRank against networkx, TrueRank's resistance to bought followers and
follow-back farms on planted attacks, authentic reach on the simulator, Spearman against
PageRank on SNAP, and the `rank` command."""

from __future__ import annotations

import json

import networkx as nx
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import spearmanr

from trueclout.cli import main
from trueclout.detect.data import DetectionData
from trueclout.kernels.csr import csr_edges as _edges
from trueclout.graph.build import from_edges
from trueclout.graph.toy import random_graph
from trueclout.kernels.pagerank import in_sum, pagerank
from trueclout.score.rank import rank_all, ranking_table, top_percent
from trueclout.score.reach import authentic_reach
from trueclout.score.trust import TrustModel
from trueclout.score.truerank import TrueRank


def _nx(g):
    G = nx.DiGraph()
    G.add_nodes_from(range(g.n))
    src, dst = _edges(g.out_indptr, g.out_indices)
    G.add_edges_from(zip(src.tolist(), dst.tolist()))
    return G


@pytest.mark.parametrize("seed", [0, 1])
def test_pagerank_matches_networkx(seed):
    g = random_graph(400, 3000, seed=seed)
    ours = pagerank(g.in_indptr, g.in_indices)
    ref = nx.pagerank(_nx(g), alpha=0.85, tol=1e-12)
    assert np.allclose(ours, [ref[i] for i in range(g.n)], atol=1e-9)


def test_personalised_pagerank_matches_networkx():
    g = random_graph(300, 2000, seed=4)
    prior = np.zeros(g.n)
    prior[[3, 7, 11]] = 1.0
    ours = pagerank(g.in_indptr, g.in_indices, prior=prior)
    ref = nx.pagerank(_nx(g), alpha=0.85, tol=1e-12,
                      personalization={3: 1, 7: 1, 11: 1}, dangling={3: 1, 7: 1, 11: 1})
    assert np.allclose(ours, [ref[i] for i in range(g.n)], atol=1e-9)


def test_pagerank_rejects_bad_input():
    g = random_graph(10, 20, seed=0)
    with pytest.raises(ValueError):
        pagerank(g.in_indptr, g.in_indices, prior=np.zeros(g.n))
    with pytest.raises(ValueError):
        pagerank(g.in_indptr, g.in_indices, damping=1.0)
    with pytest.raises(ValueError):
        pagerank(g.in_indptr, g.in_indices, give=np.ones(3))


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000))
def test_truerank_is_permutation_equivariant(seed):
    g = random_graph(60, 300, seed=seed % 97)
    perm = np.random.default_rng(seed).permutation(g.n)
    src, dst = _edges(g.out_indptr, g.out_indices)
    g2 = from_edges(perm[src], perm[dst], n=g.n)
    seeds = np.arange(0, g.n, 5)
    a = TrueRank(seeds=seeds).fit(DetectionData.from_graph(g)).scores_
    b = TrueRank(seeds=perm[seeds]).fit(DetectionData.from_graph(g2)).scores_
    assert np.allclose(a, b[perm], atol=1e-10)


def _planted(n=3000, m=30000, customers=20, bought=300, seed=0):
    g = random_graph(n, m, seed=seed)
    rng = np.random.default_rng(seed)
    cust = rng.choice(n, customers, replace=False)
    src, dst = _edges(g.out_indptr, g.out_indices)
    nf = customers * bought
    fakes = n + np.arange(nf)
    fs = np.concatenate([fakes, np.repeat(fakes, 20)])
    fd = np.concatenate([np.repeat(cust, bought), rng.integers(0, n, nf * 20)])
    g2 = from_edges(np.concatenate([src, fs]), np.concatenate([dst, fd]), n=n + nf)
    return g, g2, cust


def test_bought_followers_do_not_lift_truerank_or_reach():
    g, g2, cust = _planted()
    n = g.n
    # seeds: every 10th real account, known before and after (the attack adds none)
    seeds = np.arange(0, n, 10)
    before = {"tr": TrueRank(seeds=seeds).fit(DetectionData.from_graph(g))}
    after = {"tr": TrueRank(seeds=seeds).fit(DetectionData.from_graph(g2))}
    for name, s0, s1 in (
            ("truerank", before["tr"].scores_, after["tr"].scores_[:n]),
            ("reach", authentic_reach(g, np.ones(n), before["tr"].trust_model_),
             authentic_reach(g2, np.ones(g2.n), after["tr"].trust_model_)[:n])):
        lift = np.median(top_percent(s0[cust], s0) - top_percent(s1[cust], s1))
        assert abs(lift) < 1.0, (name, lift)
    # the naive follower count is moved to the top
    f0, f1 = g.in_degree(), g2.in_degree()[:n]
    assert np.median(top_percent(f1[cust], f1)) < 1.0 < np.median(top_percent(f0[cust], f0))
    # bought followers get no vote: no trust reaches them
    assert after["tr"].trust_model_.gate_[n:].max() < 1e-6


def test_follow_back_farm_loses_its_returned_follows():
    g = random_graph(2000, 16000, seed=2)
    n = g.n
    farmer = 5
    rng = np.random.default_rng(0)
    targets = rng.choice(np.arange(10, n), 600, replace=False)
    back = targets[:180]
    src, dst = _edges(g.out_indptr, g.out_indices)
    src = np.concatenate([src, np.full(back.size, farmer), back])
    dst = np.concatenate([dst, back, np.full(back.size, farmer)])
    g2 = from_edges(src, dst, n=n)
    t0 = 1.6e9
    gone = targets[180:]
    removed = pa.table({"src": np.full(gone.size, farmer, np.int32),
                        "dst": gone.astype(np.int32), "created": np.full(gone.size, t0),
                        "removed": np.full(gone.size, t0 + 3 * 86400)})
    from trueclout.detect.ensemble import EnsembleDetector
    from trueclout.detect.farm import FarmDetector
    data = DetectionData.from_graph(g2, removed=removed)
    ens = EnsembleDetector(members={"farm": (FarmDetector(), "farm")}).fit(data)
    assert ens.labels_[farmer] == 1
    seeds = np.arange(10, n, 7)
    tm = TrustModel(seeds=seeds).fit(data, ens.authenticity_, ens)
    row = slice(g2.in_indptr[farmer], g2.in_indptr[farmer + 1])
    assert tm.edge_weights_[row].sum() < 0.05 * (g2.in_indptr[farmer + 1] - g2.in_indptr[farmer])
    s0 = TrueRank(seeds=seeds).fit(DetectionData.from_graph(g)).scores_
    s1 = TrueRank(trust=tm).fit(data, ens.authenticity_, ens).scores_
    assert top_percent(s1[[farmer]], s1)[0] >= top_percent(s0[[farmer]], s0)[0]


def test_in_sum_weights():
    g = random_graph(50, 200, seed=1)
    w = np.random.default_rng(0).random(g.m).astype(np.float32)
    vals = np.random.default_rng(1).random(g.n)
    ref = np.zeros(g.n)
    for v in range(g.n):
        for k in range(g.in_indptr[v], g.in_indptr[v + 1]):
            ref[v] += vals[g.in_indices[k]] * w[k]
    assert np.allclose(in_sum(g.in_indptr, g.in_indices, vals, w), ref, atol=1e-5)


def test_simulator_customers_and_fakes_fall(sim_ctx):
    r = rank_all(sim_ctx)
    labels = sim_ctx.data.labels
    fakes = labels["fake"]
    assert np.median(top_percent(r["truerank"])[fakes]) > 90
    assert np.median(top_percent(r["reach"])[fakes]) > 90
    cust = labels["customer"]
    # customers who bought followers rank lower by TrueRank and reach than by followers
    assert np.median(top_percent(r["truerank"])[cust]) > np.median(top_percent(r["followers"])[cust]) + 5
    assert np.median(top_percent(r["reach"])[cust]) > np.median(top_percent(r["followers"])[cust]) + 5
    # pods: their engagement among themselves does not count
    pods = labels["pod"]
    assert np.median(top_percent(r["truerank"])[pods]) > np.median(top_percent(r["pagerank"])[pods])
    # honest accounts keep their places
    human = labels["human"]
    assert spearmanr(r["truerank"][human], r["pagerank"][human]).correlation >= 0.8
    t = ranking_table(sim_ctx, "truerank", top=5, scores=r)
    assert t.num_rows == 5 and t.column("rank").to_pylist() == [1, 2, 3, 4, 5]
    assert t.column("truerank").to_pylist() == sorted(t.column("truerank").to_pylist(),
                                                      reverse=True)


@pytest.mark.realdata
def test_snap_truerank_keeps_honest_order(snap_ctx):
    r = rank_all(snap_ctx, which=("truerank", "pagerank", "reach"))
    assert spearmanr(r["truerank"], r["pagerank"]).correlation >= 0.8
    assert spearmanr(r["reach"], r["pagerank"]).correlation >= 0.7
    # an account seen to follow one account cannot hand it its whole mass: in plain
    # PageRank a 4-follower account is #2 through the one observed follow of a
    # 3,383-follower account (and the follow back); in TrueRank no account with fewer
    # than 20 followers reaches the top 100
    indeg = snap_ctx.graph.in_degree()
    small_pr = indeg[np.argsort(-r["pagerank"])[:100]] < 20
    small_tr = indeg[np.argsort(-r["truerank"])[:100]] < 20
    assert small_pr.sum() >= 1 and small_tr.sum() == 0


def test_rank_command(capsys, sim_score_store, tmp_path):
    db = sim_score_store.path
    sim_score_store.close()
    try:
        code = main(["rank", "--db", str(db), "--top", "3", "--json",
                     "--out", str(tmp_path / "r.csv")])
        res = json.loads(capsys.readouterr().out)
        assert code == 0 and len(res["top"]) == 3 and res["run_id"] >= 1
        assert (tmp_path / "r.csv").read_text().count("\n") == res["accounts"] + 1
        assert main(["rank", "--db", str(db), "--by", "nope"]) == 2
        assert main(["rank", "--db", str(db), "--out", str(tmp_path / "x.txt")]) == 2
        assert main(["rank", "--db", str(db), "--top", "0"]) == 2
        code = main(["rank", "--db", str(db), "--by", "followers", "--no-save", "--top", "2"])
        assert code == 0
        assert "top 2 by followers" in capsys.readouterr().out
    finally:
        sim_score_store.__init__(db)
    runs = sim_score_store.runs_table()
    assert runs.num_rows >= 1 and runs.column("kind").to_pylist()[-1] == "rank"
    assert sim_score_store.run_scores(runs.column("run_id").to_pylist()[-1]).num_rows \
        == 5 * res["accounts"]
