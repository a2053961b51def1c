"""Topics: the clustering kernels, terms, SimClusters and topic relevance, with quality
floors on the simulator's planted topic communities and coherence on SNAP ego-Twitter."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest
import scipy.sparse as sp
from sklearn.metrics import normalized_mutual_info_score, roc_auc_score

from trueclout.errors import NotFittedError, UsageError
from trueclout.kernels.cluster import cosine_topk, louvain, modularity
from trueclout.score.communities import SimClusters, example_graph, follow_matrix
from trueclout.score.topics import (TopicModel, interest_vectors, list_topics,
                                    normalize_terms, term_matrix, tokenize, topic_model,
                                    topic_relevance)


# -- kernels ------------------------------------------------------------------------------
def test_cosine_topk_matches_brute_force():
    rng = np.random.default_rng(1)
    f = sp.random(300, 40, density=0.08, random_state=2, format="csr")
    f.data[:] = 1.0
    w = rng.random(300)
    nb, val = cosine_topk(f.T.tocsr().indptr, f.T.tocsr().indices, f.indptr, f.indices, w,
                          k=5, min_sim=0.05)
    a = sp.diags(w) @ f
    dense = (a.T @ a).toarray()
    norm = np.sqrt(np.diag(dense))
    cos = dense / np.outer(np.maximum(norm, 1e-300), np.maximum(norm, 1e-300))
    np.fill_diagonal(cos, 0.0)
    for p in range(40):
        want = np.sort(cos[p][cos[p] >= 0.05])[::-1][:5]
        got = val[p][nb[p] >= 0]
        np.testing.assert_allclose(got, want, rtol=1e-5)
        ok = nb[p] >= 0
        np.testing.assert_allclose(cos[p, nb[p][ok]], got, rtol=1e-5)


def _planted(sizes, p_in, p_out, seed=0):
    rng = np.random.default_rng(seed)
    truth = np.repeat(np.arange(len(sizes)), sizes)
    n = truth.shape[0]
    prob = np.where(truth[:, None] == truth[None, :], p_in, p_out)
    upper = np.triu(rng.random((n, n)) < prob, 1)
    adj = sp.csr_matrix((upper | upper.T).astype(float))
    return adj, truth


def test_louvain_recovers_planted_partition_and_matches_networkx():
    nx = pytest.importorskip("networkx")
    adj, truth = _planted([60, 50, 40, 30], 0.25, 0.01)
    lab = louvain(adj.indptr, adj.indices, adj.data, seed=0)
    assert normalized_mutual_info_score(truth, lab) >= 0.95
    ours = modularity(adj.indptr, adj.indices, adj.data, lab)
    g = nx.from_scipy_sparse_array(adj)
    theirs = nx.community.modularity(g, nx.community.louvain_communities(g, seed=0))
    assert ours >= theirs - 0.01
    # the same seed gives the same partition
    assert (louvain(adj.indptr, adj.indices, adj.data, seed=0) == lab).all()


def test_modularity_matches_networkx_on_weighted_graph():
    nx = pytest.importorskip("networkx")
    adj, truth = _planted([20, 20], 0.4, 0.05, seed=3)
    adj = adj.multiply(np.random.default_rng(0).random((40, 40)) + 0.5).tocsr()
    adj = ((adj + adj.T) / 2).tocsr()
    g = nx.from_scipy_sparse_array(adj)
    want = nx.community.modularity(g, [set(np.flatnonzero(truth == c)) for c in (0, 1)])
    assert modularity(adj.indptr, adj.indices, adj.data, truth) == pytest.approx(want)


# -- terms --------------------------------------------------------------------------------
def test_normalize_and_tokenize():
    got = normalize_terms(["#FF", "##Jazz", "@NASA!", "@...", "#2012", "and", "Café", "a",
                           None]).to_pylist()
    assert got == ["ff", "jazz", "@nasa", None, None, None, "café", None, None]
    idx, tok = tokenize(["I love #jazz & @ann.", "Ça va?"])
    assert idx.tolist() == [0, 0, 0, 0, 1, 1]
    assert tok.to_pylist() == ["I", "love", "#jazz", "@ann", "Ça", "va"]


def test_term_matrix_prunes_rare_and_common_terms():
    rows = pa.table({"vertex": [0, 0, 1, 1, 2, 2, 3, 3, 3],
                     "term": ["jazz", "everyone", "#Jazz", "everyone", "chess", "everyone",
                              "chess", "everyone", "solo"],
                     "n": [3.0, 1, 1, 1, 1, 1, 1, 1, 1]})
    x, vocab, df, common = term_matrix(rows, 5, min_df=2, max_df=0.9)
    assert vocab.tolist() == ["chess", "jazz"]
    assert df.tolist() == [2, 2]
    assert common == {"everyone": 1.0}
    assert x.shape == (5, 2) and x.dtype == np.float32
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    np.testing.assert_allclose(norms, [1, 1, 1, 1, 0], atol=1e-6)


# -- SimClusters and the model on the example graph -----------------------------------------
def test_simclusters_example_and_exclusions():
    g = example_graph()
    sc = SimClusters().fit(g)
    assert sc.known_for_[:12].tolist() == [0] * 6 + [1] * 6
    rows = sc.interested_in_.toarray()
    has = rows.sum(axis=1) > 0
    np.testing.assert_allclose(rows.sum(axis=1)[has], 1.0, rtol=1e-6)
    fans = np.arange(12, 52)
    assert (rows[fans, fans % 2] > 0.5).all()
    # excluded (suspicious) accounts are never producers
    excl = np.zeros(g.n, bool)
    excl[[0, 6]] = True
    sc2 = SimClusters().fit(g, exclude=excl)
    assert not np.isin([0, 6], sc2.producers_).any()
    assert sc2.known_for_[0] == -1
    # fake followers (weight 0) make no producer
    w = np.ones(g.n, np.float32)
    w[12:] = 0.0
    assert SimClusters().fit(g, weight=w).producers_.size == 0
    with pytest.raises(NotFittedError):
        SimClusters().interested_in_
    f = follow_matrix(g, sc.producers_)
    assert f.shape == (g.n, 12) and f.sum() == g.m


def test_topic_model_queries_and_errors():
    g = example_graph()
    rows = pa.table({"vertex": np.arange(12, dtype=np.int32),
                     "term": ["#Jazz"] * 6 + ["chess"] * 6, "n": np.ones(12)})
    tm = TopicModel(max_df=1.0).fit(g, terms=rows)
    r = tm.relevance("JAZZ")
    assert r.dtype == np.float32 and r.shape == (g.n,)
    assert 0.0 <= r.min() and r.max() <= 1.0
    fans = np.arange(12, 52)
    assert roc_auc_score(fans % 2 == 0, r[fans]) == 1.0      # followers: no text at all
    assert tm.relevance("community:1")[6:12].min() > 0.9
    for bad, match in [("", "empty"), ("community:5", "unknown community"),
                       ("jaz", "close known terms: jazz"), ("the", "no topic term"),
                       ("xylophone", "no account mentions")]:
        with pytest.raises(UsageError, match=match):
            tm.relevance(bad)
    common = TopicModel(max_df=0.4).fit(g, terms=rows)
    with pytest.raises(UsageError, match="too common"):
        common.relevance("jazz")
    with pytest.raises(NotFittedError):
        TopicModel().relevance("jazz")


class _FakeStore:
    """The two store queries the topics read, over the example graph's uids."""

    def term_counts(self):
        return pa.table({"uid": pa.array(np.arange(6), pa.int32()), "term": ["#Jazz"] * 6,
                         "source": ["test"] * 6, "n": pa.array(np.ones(6, np.int64))})

    def post_texts(self):
        return pa.table({"uid": pa.array([6, 7, 8], pa.int32()),
                         "text": ["chess #ignored @nobody", "Chess!", "chess openings"]})


def test_terms_from_a_store_and_cache_refit(monkeypatch):
    monkeypatch.setenv("TRUECLOUT_TOPIC_MAX_DF", "1.0")      # 9 accounts with terms

    class Ctx:
        graph, cache = example_graph(), {}
    ctx = Ctx()
    bare = topic_model(ctx)
    assert bare.term_sources_ == [] and bare.terms_.shape[1] == 0
    assert topic_model(ctx) is bare
    full = topic_model(ctx, _FakeStore())          # a store now: refit with its terms
    assert full is not bare and ctx.cache["topics"] is full
    assert full.term_sources_ == ["store"]
    assert full.vocabulary_.tolist() == ["chess", "jazz"]
    assert topic_model(ctx, _FakeStore()) is full
    r = topic_relevance(ctx, "chess")
    assert r[6:12].min() > r[:6].max()


# -- the simulator: planted topic communities ----------------------------------------------
def _planted_communities(ctx) -> np.ndarray:
    extra = ctx.data.profiles.column("extra").to_pylist()
    return np.array([json.loads(e)["community"] if e else -1 for e in extra])


@pytest.fixture(scope="module")
def sim_topics(sim_ctx, sim_score_store):
    return topic_model(sim_ctx, sim_score_store)


def test_sim_model_is_cached_and_shapes(sim_ctx, sim_score_store, sim_topics):
    assert sim_ctx.cache["topics"] is sim_topics
    assert topic_model(sim_ctx) is sim_topics
    assert sim_topics.term_sources_ == ["bios", "store"]
    assert "topic1" in sim_topics.vocabulary_          # post hashtags came from the store
    n, c = sim_ctx.n, sim_topics.n_communities_
    x = interest_vectors(sim_ctx)
    assert x.shape == (n, c) and x.dtype == np.float32 and sp.isspmatrix_csr(x)
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    assert np.allclose(norms[norms > 0], 1.0, atol=1e-5)
    assert (norms > 0).mean() > 0.95
    top = list_topics(sim_ctx, 5)
    assert len(top) == 5
    assert [t["audience"] for t in top] == sorted((t["audience"] for t in top), reverse=True)
    assert all(t["terms"] and t["producers"] >= 5 for t in top)
    # suspicious accounts are never producers
    assert not sim_ctx.suspicious[sim_topics.communities_.producers_].any()


def test_sim_known_for_recovers_planted_communities(sim_ctx, sim_topics):
    planted = _planted_communities(sim_ctx)
    sc = sim_topics.communities_
    p, lab = sc.producers_, sc.labels_
    ok = (lab >= 0) & (planted[p] >= 0)
    assert ok.mean() > 0.95
    assert normalized_mutual_info_score(planted[p][ok], lab[ok]) >= 0.95
    # each community is named by its planted hashtag
    tags = {f"topic{k}" for k in range(planted.max() + 1)}
    named = sum(any(t in tags for t in terms) for terms in sim_topics.community_labels_)
    assert named >= 0.9 * sc.n_communities_


def test_sim_relevance_recovers_planted_topics(sim_ctx, sim_topics):
    planted = _planted_communities(sim_ctx)
    posts = sim_ctx.data.activity.column("posts").to_numpy() > 0
    sc = sim_topics.communities_
    auc, auc_silent, auc_comm = [], [], []
    for k in range(planted.max() + 1):
        y = planted == k
        if y.sum() < 20:
            continue
        r = sim_topics.relevance(f"#topic{k}")
        assert r.dtype == np.float32 and 0.0 <= r.min() and r.max() <= 1.0
        auc.append(roc_auc_score(y, r))
        auc_silent.append(roc_auc_score(y[~posts], r[~posts]))   # no hashtag of their own
        lab, pk = sc.labels_, planted[sc.producers_]
        c = int(np.bincount(lab[(pk == k) & (lab >= 0)], minlength=sc.n_communities_).argmax())
        auc_comm.append(roc_auc_score(y, sim_topics.relevance(f"community:{c}")))
    assert len(auc) >= 10
    assert np.mean(auc) >= 0.95 and np.min(auc) >= 0.85
    assert np.mean(auc_silent) >= 0.9
    assert np.mean(auc_comm) >= 0.95


def test_sim_unknown_topic_lists_close_terms(sim_topics):
    with pytest.raises(UsageError, match="close known terms: .*topic1"):
        sim_topics.relevance("topic1x")


# -- SNAP ego-Twitter: coherent communities ---------------------------------------------------
@pytest.mark.realdata
def test_snap_communities_are_coherent(snap_ctx, snap_store):
    tm = topic_model(snap_ctx, snap_store)
    sc = tm.communities_
    assert sc.n_communities_ >= 30
    g = snap_ctx.graph
    kf = sc.known_for_
    src = np.repeat(np.arange(g.n), np.diff(g.out_indptr))
    dst = g.out_indices
    both = (kf[src] >= 0) & (kf[dst] >= 0)
    inside = float((kf[src] == kf[dst])[both].mean())
    rng = np.random.default_rng(0)
    shuffled = kf.copy()
    idx = np.flatnonzero(kf >= 0)
    shuffled[idx] = rng.permutation(kf[idx])
    chance = float((shuffled[src] == shuffled[dst])[both].mean())
    assert inside >= 0.6 and inside >= 10 * chance        # measured 0.80 vs 0.02
    assert all(len(t) >= 5 for t in tm.community_labels_[:20])
    # the space community is found and named, and its relevance favours its producers
    space = [c for c, t in enumerate(tm.community_labels_) if "@nasa" in t[:3]]
    assert space
    r = topic_relevance(snap_ctx, "@nasa", snap_store)
    members = sc.producers_[sc.labels_ == space[0]]
    assert np.median(r[members]) > 0.5 > np.median(r)


# -- the command ------------------------------------------------------------------------------
def test_topics_command(capsys, tmp_path):
    import trueclout.cli.topics  # noqa: F401  (registers the command)
    from trueclout.cli import main
    db = str(tmp_path / "t.duckdb")
    assert main(["simulate", "-n", "1500", "--seed", "1", "--db", db]) == 0
    capsys.readouterr()
    assert main(["topics", "--db", db, "--top", "3", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["communities"] >= 3 and len(doc["topics"]) == 3
    assert doc["topics"][0]["terms"] and doc["top_terms"]
    assert main(["topics", "--db", db, "--top", "0"]) == 2
