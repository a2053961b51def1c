"""Tests of the numba CSR, reciprocity and statistics kernels."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from trueclout.kernels import csr as K
from trueclout.kernels.reciprocity import reciprocated_out_edges, reciprocity
from trueclout.kernels.summary import (count_known, count_self_loops, degree_quantiles,
                                     zero_share)

U = K.TS_UNKNOWN


def _scipy_csr(src, dst, n):
    a = sp.coo_matrix((np.ones(len(src)), (src, dst)), shape=(n, n)).tocsr()
    a.sum_duplicates()
    a.sort_indices()
    return a


@pytest.mark.parametrize("n,m,seed", [(1, 0, 0), (5, 20, 1), (50, 400, 2), (300, 5000, 3)])
def test_csr_from_edges_matches_scipy(n, m, seed):
    rng = np.random.default_rng(seed)
    src = rng.integers(0, n, m)
    dst = rng.integers(0, n, m)
    indptr, indices, ts = K.csr_from_edges(src, dst, n, dedupe=True)
    ref = _scipy_csr(src, dst, n)
    assert ts is None
    assert indptr.dtype == np.int64 and indices.dtype == np.int32
    assert np.array_equal(indptr, ref.indptr) and np.array_equal(indices, ref.indices)


def test_csr_keeps_repeats_without_dedupe():
    indptr, indices, _ = K.csr_from_edges([0, 0, 0, 1], [1, 1, 0, 0], 2)
    assert indptr.tolist() == [0, 3, 4] and indices.tolist() == [0, 1, 1, 0]


def test_long_rows_sorted_with_timestamps():
    # one row longer than the insertion-sort limit, with negative times and unknowns
    rng = np.random.default_rng(7)
    d = 1000
    idx = rng.permutation(d).astype(np.int32)
    ts = rng.integers(-2**31 + 1, 2**31 - 1, d).astype(np.int32)
    ts[::7] = U
    pairs = dict(zip(idx.tolist(), ts.tolist()))
    indptr = np.array([0, d], np.int64)
    K.sort_rows(indptr, idx, ts)
    assert idx.tolist() == list(range(d))
    assert all(pairs[i] == t for i, t in zip(idx.tolist(), ts.tolist()))


def test_sort_orders_repeats_by_time():
    indptr = np.array([0, 30], np.int64)
    idx = np.array([1, 0] * 15, np.int32)
    ts = np.arange(30, 0, -1, dtype=np.int32)
    K.sort_rows(indptr, idx, ts)
    assert idx.tolist() == [0] * 15 + [1] * 15
    assert np.all(np.diff(ts[:15]) > 0) and np.all(np.diff(ts[15:]) > 0)


def test_dedupe_keeps_earliest_known_time():
    p, i, t = K.csr_from_edges([0, 0, 0, 1, 1], [1, 1, 1, 0, 0], 2,
                               ts=np.array([9, U, 4, U, U], np.int32), dedupe=True)
    assert p.tolist() == [0, 1, 2] and i.tolist() == [1, 0] and t.tolist() == [4, U]


def test_count_and_scatter_skip_unknown_keys():
    lut = np.array([2, -1, 0, 1], np.int32)   # key 1 has no vertex
    counts = np.zeros(4, np.int64)
    keys = np.array([0, 1, 3, 9, 3], np.int32)
    assert K.count_degrees(keys, counts, lut) == 2
    assert counts.tolist() == [0, 2, 1, 0]
    with pytest.raises(ValueError, match="name no vertex"):
        K.csr_from_edges([0, 5], [1, 0], 3)


def test_ts_to_int32_clips_and_marks_null():
    v = np.array([0, -2**40, 2**40, np.iinfo(np.int64).min, 1_700_000_000])
    assert K.ts_to_int32(v).tolist() == [0, -2**31 + 1, 2**31 - 1, U, 1_700_000_000]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 9), st.integers(0, 9),
                          st.one_of(st.none(), st.integers(-5, 5))), max_size=60),
       st.randoms(use_true_random=False))
def test_csr_invariant_to_edge_order(edges, rnd):
    def build(rows):
        src = [r[0] for r in rows]
        dst = [r[1] for r in rows]
        ts = np.array([U if r[2] is None else r[2] for r in rows], np.int32)
        return K.csr_from_edges(src, dst, 10, ts=ts, dedupe=True)

    shuffled = list(edges)
    rnd.shuffle(shuffled)
    a, b = build(edges), build(shuffled)
    for x, y in zip(a, b):
        assert np.array_equal(x, y)
    # the earliest known time of each pair survives
    best: dict = {}
    for s, d, t in edges:
        if (s, d) not in best:
            best[(s, d)] = t
        elif t is not None and (best[(s, d)] is None or t < best[(s, d)]):
            best[(s, d)] = t
    p, i, t = a
    got = {(u, int(i[k])): (None if t[k] == U else int(t[k]))
           for u in range(10) for k in range(p[u], p[u + 1])}
    assert got == best


def _nx_graph(src, dst, n):
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    g.add_edges_from(zip(src.tolist(), dst.tolist()))
    return g


@pytest.mark.parametrize("seed", range(5))
def test_reciprocity_matches_networkx(seed):
    rng = np.random.default_rng(seed)
    n = 40
    src = rng.integers(0, n, 300)
    dst = rng.integers(0, n, 300)
    # plant mutual pairs and self-loops
    src = np.concatenate([src, dst[:50], [3, 4]])
    dst = np.concatenate([dst, src[:50], [3, 4]])
    op, oi, _ = K.csr_from_edges(src, dst, n, dedupe=True)
    ip, ii, _ = K.csr_from_edges(dst, src, n, dedupe=True)
    g = _nx_graph(src, dst, n)
    expected = nx.overall_reciprocity(g)
    assert reciprocity(op, oi, ip, ii) == pytest.approx(expected)
    assert reciprocity(op, oi) == pytest.approx(expected)
    per = reciprocated_out_edges(op, oi, ip, ii)
    assert np.array_equal(per, reciprocated_out_edges(op, oi))
    ref = [sum(1 for v in g.successors(u) if v != u and g.has_edge(v, u)) for u in range(n)]
    assert per.tolist() == ref


def test_reciprocity_of_empty_graph_is_nan():
    op, oi, _ = K.csr_from_edges([], [], 3)
    assert np.isnan(reciprocity(op, oi))
    assert reciprocated_out_edges(op, oi).tolist() == [0, 0, 0]


def test_degree_statistics():
    d = np.random.default_rng(0).integers(0, 100, 1001)
    q = degree_quantiles(d)
    assert q["p90"] == pytest.approx(np.quantile(d, 0.9)) and q["max"] == d.max()
    assert zero_share(np.array([0, 0, 1])) == pytest.approx(2 / 3)
    assert count_self_loops(np.array([0, 2, 2, 3]), np.array([0, 1, 2], np.int32)) == 2
    assert count_known(np.array([U, U], np.int32)) == 0
