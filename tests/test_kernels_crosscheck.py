"""Kernels against plain scipy / numpy computations on small graphs (issue 6), and the
vertex orders: results must not depend on how vertices are numbered."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from trueclout.errors import UsageError
from trueclout.graph import reorder
from trueclout.graph.rmat import rmat_graph
from trueclout.graph.toy import random_graph
from trueclout.kernels.csr import csr_from_edges, edge_blocks
from trueclout.kernels.pagerank import out_weight, pagerank
from trueclout.kernels.propagate import inverse_degree, propagate
from trueclout.kernels.salsa import salsa


def _adj(g) -> sp.csr_matrix:
    """A[u, v] = 1 when u follows v."""
    return sp.csr_matrix((np.ones(g.m), g.out_indices, g.out_indptr), shape=(g.n, g.n))


def _stationary(G: np.ndarray) -> np.ndarray:
    """The eigenvector of a column-stochastic matrix for eigenvalue 1, summing to 1."""
    w, V = np.linalg.eig(G)
    x = np.real(V[:, np.argmin(np.abs(w - 1.0))])
    return x / x.sum()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_weighted_pagerank_with_give_norm_and_layers_matches_dense_eigenvector(seed):
    rng = np.random.default_rng(seed)
    g = random_graph(40, 200, seed=seed)
    n, d = g.n, 0.85
    # two layers: follows with random weights, and a second weighted graph (scaled)
    w1 = rng.uniform(0.1, 2.0, g.m).astype(np.float32)
    src2, dst2 = rng.integers(0, n, 80), rng.integers(0, n, 80)
    ip2, ix2, _ = csr_from_edges(dst2, src2, n)            # receiving CSR of layer 2
    w2 = rng.uniform(0.1, 1.0, ix2.shape[0]).astype(np.float32)
    give = rng.uniform(0.0, 1.0, n)
    prior = rng.uniform(0.0, 1.0, n)
    layers = [(g.in_indptr, g.in_indices, w1, 1.0), (ip2, ix2, w2, 0.5)]
    # divide by more than the edges hold (a discount): the rest returns by teleport
    norm = out_weight(layers, n) * rng.uniform(1.0, 2.0, n)
    x = pagerank(layers=[(g.in_indptr, g.in_indices, w1, 1.0), (ip2, ix2, w2, 0.5)],
                 prior=prior, give=give, norm=norm, tol=1e-14, max_iter=2000)
    # dense: A[v, u] = d * give[u] * w(u, v) / norm[u]; the rest teleports by prior
    A = np.zeros((n, n))
    for v in range(n):
        for k in range(g.in_indptr[v], g.in_indptr[v + 1]):
            u = g.in_indices[k]
            A[v, u] += w1[k] / norm[u]
        for k in range(ip2[v], ip2[v + 1]):
            u = ix2[k]
            A[v, u] += 0.5 * w2[k] / norm[u]
    A *= d * give[None, :]
    p = prior / prior.sum()
    G = A + np.outer(p, 1.0 - A.sum(axis=0))
    assert np.abs(x - _stationary(G)).sum() < 1e-6


def test_pagerank_float32_shares_keep_float64_accuracy():
    # R-MAT with hubs: the float32 gather must not cost more than about 1e-7 in L1
    g = rmat_graph(13, 120_000, seed=3)
    x = pagerank(g.in_indptr, g.in_indices, tol=0, max_iter=60)
    A = _adj(g)
    outdeg = np.asarray(A.sum(axis=1)).ravel()
    coef = np.divide(0.85, outdeg, out=np.zeros(g.n), where=outdeg > 0)
    ref = np.full(g.n, 1.0 / g.n)
    AT = A.T.tocsr()
    for _ in range(60):
        y = AT @ (ref * coef)
        ref = y + (1.0 - y.sum()) / g.n
    assert np.abs(x - ref).sum() < 2e-7
    assert x.dtype == np.float64 and abs(x.sum() - 1.0) < 1e-12


@pytest.mark.parametrize("seed", [0, 4])
def test_propagate_matches_scipy_iteration(seed):
    g = random_graph(60, 300, seed=seed)
    rng = np.random.default_rng(seed)
    x0 = rng.uniform(0, 1, g.n).astype(np.float32)
    deg = g.in_degree() + g.out_degree()
    x = propagate(g.in_indptr, g.in_indices, x0, inverse_degree(deg), 7, restart=0.2,
                  indptr2=g.out_indptr, indices2=g.out_indices)
    A = _adj(g)
    U = (A + A.T).tocsr()                                   # the undirected walk
    inv = np.divide(1.0, deg, out=np.zeros(g.n), where=deg > 0)
    ref = x0.astype(np.float64)
    for _ in range(7):
        ref = 0.8 * (U @ (ref * inv)) + 0.2 * x0
    assert np.allclose(x, ref, rtol=1e-5, atol=1e-6)


def _salsa_dense(g, prior, restart):
    A = _adj(g).toarray()
    indeg, outdeg = A.sum(axis=0), A.sum(axis=1)
    Wr = np.divide(A, outdeg[:, None], out=np.zeros_like(A), where=outdeg[:, None] > 0)
    Wc = np.divide(A, indeg[None, :], out=np.zeros_like(A), where=indeg[None, :] > 0)
    T = Wr.T @ Wc                 # authority v -> hub u -> authority w, as a column map
    p = prior / prior.sum()
    G = (1 - restart) * T + np.outer(p, 1.0 - (1 - restart) * T.sum(axis=0))
    return _stationary(G)


@pytest.mark.parametrize("seed", [0, 1])
def test_salsa_authorities_are_in_degree_per_component(seed):
    # Lempel and Moran: from the uniform start over authorities, each component keeps
    # its share of authorities and splits it in proportion to in-degree
    g = random_graph(80, 150, seed=seed)
    h, a = salsa(g.out_indptr, g.out_indices, g.in_indptr, g.in_indices, tol=1e-13,
                 max_iter=5000)
    A = _adj(g)
    # components of the authority graph: authorities sharing a hub
    B = (A.T @ A).tocsr()
    ncomp, lab = sp.csgraph.connected_components(B, directed=False)
    indeg = g.in_degree().astype(float)
    auth = indeg > 0
    ref = np.zeros(g.n)
    for c in range(ncomp):
        members = (lab == c) & auth
        if members.any():
            ref[members] = members.sum() / auth.sum() * indeg[members] / indeg[members].sum()
    # float32 shares: rounding moves a little mass between components (about 2e-6 here)
    assert np.abs(a - ref).sum() < 1e-5
    assert abs(h.sum() - 1) < 1e-9 and np.all(h[g.out_degree() == 0] == 0)


def test_personalised_salsa_matches_dense():
    g = random_graph(50, 250, seed=7)
    rng = np.random.default_rng(1)
    prior = rng.uniform(0, 1, g.n)
    _, a = salsa(g.out_indptr, g.out_indices, g.in_indptr, g.in_indices, prior=prior,
                 restart=0.3, tol=1e-13, max_iter=5000)
    assert np.abs(a - _salsa_dense(g, prior, 0.3)).sum() < 1e-6


@pytest.mark.parametrize("method", ["degree", "bfs", "rcm"])
def test_orders_do_not_change_results(method):
    g = random_graph(300, 2500, seed=2)
    p = reorder.order(g, method)
    assert np.array_equal(np.sort(p), np.arange(g.n))
    h = reorder.relabel(g, p)
    h.check()
    x, y = pagerank(g.in_indptr, g.in_indices), pagerank(h.in_indptr, h.in_indices)
    assert np.abs(y[p] - x).sum() < 1e-9
    for v in (0, 17, 299):
        assert h.name(int(p[v])) == g.name(v)
        assert sorted(h.out_neighbors(int(p[v])).tolist()) == sorted(p[g.out_neighbors(v)])
    if method == "degree":
        deg = h.in_degree() + h.out_degree()
        assert np.all(np.diff(deg) <= 0)


def test_relabel_carries_timestamps_and_interactions():
    from trueclout.graph.toy import toy_graph
    g = toy_graph()
    p = reorder.order(g, "bfs")
    h = reorder.relabel(g, p)
    inv = np.argsort(p)
    for v in range(h.n):
        o = inv[v]
        a, b = g.out_indptr[o], g.out_indptr[o + 1]
        old = sorted(zip(p[g.out_indices[a:b]].tolist(),
                         (g.out_ts[a:b] if g.out_ts is not None else [0] * (b - a))))
        a, b = h.out_indptr[v], h.out_indptr[v + 1]
        new = list(zip(h.out_indices[a:b].tolist(),
                       (h.out_ts[a:b] if h.out_ts is not None else [0] * (b - a))))
        assert old == new
    assert set(h.interactions) == set(g.interactions)
    for kind, (_ip, ix, _) in g.interactions.items():
        assert h.interactions[kind][1].shape == ix.shape


def test_rmat_degree_order_at_build_is_the_same_graph():
    g = rmat_graph(10, 20_000, seed=5)
    h = rmat_graph(10, 20_000, seed=5, order="degree")
    assert h.m == g.m
    h.check()
    # h's vertex v is R-MAT vertex uids[v]: map its edges back and compare edge sets
    src = np.repeat(np.arange(h.n), np.diff(h.out_indptr))
    back = set(zip(h.uids[src].tolist(), h.uids[h.out_indices].tolist()))
    src = np.repeat(np.arange(g.n), np.diff(g.out_indptr))
    assert back == set(zip(src.tolist(), g.out_indices.tolist()))
    with pytest.raises(UsageError):
        rmat_graph(4, 10, order="random")


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 50), min_size=0, max_size=40), st.integers(1, 12))
def test_edge_blocks_cover_rows_in_order(degrees, parts):
    indptr = np.concatenate([[0], np.cumsum(degrees)]).astype(np.int64)
    b = edge_blocks(indptr, parts)
    n = len(degrees)
    assert b[0] == 0 and b[-1] == n and np.all(np.diff(b) >= 0)
    assert len(b) <= parts + 2
    if n and indptr[-1]:
        # no block holds more than its share plus one row
        biggest = max(int(indptr[b[i + 1]] - indptr[b[i]]) for i in range(len(b) - 1))
        assert biggest <= indptr[-1] / parts + max(degrees) + 1
